/*
 * SCIM /Groups: IdP groups and their members.  A group's displayName maps
 * to app roles (role_mappings), so each membership change becomes an
 * update job for the users whose roles or groups changed.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "scim.h"

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static cJSON *item_ci(const cJSON *o, const char *k)
{
	cJSON *f;
	cJSON_ArrayForEach(f, o)
		if (f->string && !strcasecmp(f->string, k))
			return f;
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int fail(struct scim_ctx *x, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct scim_ctx *x, int status, const char *type, const char *fmt, ...)
{
	struct scim_err e = { status, type, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	return scim_reply_err(x->req, &e);
}

static int exists(struct scim_ctx *x, const char *id)
{
	return cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_groups WHERE integration = ? AND"
		       " id = ?", "tt", x->integ, id) > 0;
}

static cJSON *group_json(struct scim_ctx *x, struct cstore_rows *st, int with_members)
{
	/* columns: id, display_name, external_id, version, created_ms, updated_ms */
	const char *id = cstore_text(st, 0);
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas");
	char loc[500];

	cJSON_AddItemToArray(sc, cJSON_CreateString(SCIM_URN_GROUP));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "displayName", cstore_text(st, 1));
	if (cstore_text(st, 2))
		cJSON_AddStringToObject(o, "externalId", cstore_text(st, 2));
	if (with_members) {
		cJSON *m = cJSON_AddArrayToObject(o, "members");
		struct cstore_rows *ms = cstore_query(x->c->store, "SELECT m.user_id, u.user_name FROM scim_members m"
					     " JOIN scim_users u ON u.integration = m.integration AND"
					     " u.id = m.user_id WHERE m.integration = ? AND"
					     " m.group_id = ? ORDER BY u.user_name", "tt", x->integ, id);
		while (ms && cstore_next(ms)) {
			cJSON *e = cJSON_CreateObject();
			char ref[500];
			cJSON_AddStringToObject(e, "value", cstore_text(ms, 0));
			cJSON_AddStringToObject(e, "display", cstore_text(ms, 1));
			snprintf(ref, sizeof(ref), "%s/Users/%s", x->base,
				 cstore_text(ms, 0));
			cJSON_AddStringToObject(e, "$ref", ref);
			cJSON_AddStringToObject(e, "type", "User");
			cJSON_AddItemToArray(m, e);
		}
		cstore_done(ms);
	}
	snprintf(loc, sizeof(loc), "%s/Groups/%s", x->base, id);
	scim_meta(o, "Group", loc, cstore_int64(st, 4), cstore_int64(st, 5),
		  (int)cstore_int64(st, 3));
	return o;
}

#define GROUP_COLS "g.id, g.display_name, g.external_id, g.version, g.created_ms, g.updated_ms"

/* excludedAttributes=members: Entra asks for groups without their
 * (possibly huge) member lists. */
static int members_wanted(struct scim_ctx *x)
{
	const char *ex = httpd_req_query(x->req, "excludedAttributes");
	return !ex || !strcasestr(ex, "members");
}

static int reply_group(struct scim_ctx *x, int status, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT " GROUP_COLS " FROM scim_groups g"
				     " WHERE g.integration = ? AND g.id = ?", "tt", x->integ, id);
	cJSON *o = NULL;
	int rc;

	if (st && cstore_next(st))
		o = group_json(x, st, members_wanted(x));
	cstore_done(st);
	if (!o)
		return fail(x, 404, NULL, "no group \"%s\"", id);
	if (status == 201)
		httpd_add_header(x->req, "location",
				 jstr(cJSON_GetObjectItem(o, "meta"), "location"));
	rc = scim_reply(x->req, status, o);
	cJSON_Delete(o);
	return rc;
}

static int list(struct scim_ctx *x)
{
	const char *ftext = httpd_req_query(x->req, "filter");
	struct scim_filter f = { 0 };
	struct scim_err e;
	char where[1200] = " WHERE g.integration = ?", err[300], sql[1600], fmt[SCIM_ARGS_MAX + 1];
	const char *args[SCIM_ARGS_MAX];
	char lc[SCIM_FILTER_MAX_TERMS][SCIM_VALUE_MAX];
	int start, count, nargs = 1, total, with_members = members_wanted(x);
	struct cstore_rows *st;
	cJSON *res, *out;

	if (scim_paging(x->req, &start, &count, &e))
		return scim_reply_err(x->req, &e);
	args[0] = x->integ;
	if (ftext && scim_filter_parse(ftext, &f, err, sizeof(err))) {
		scim_fail(&e, 400, "invalidFilter", "filter %s: %s", ftext, err);
		return scim_reply_err(x->req, &e);
	}
	for (int i = 0; i < f.n; i++) {
		const char *cond;
		snprintf(lc[i], sizeof(lc[i]), "%s", f.term[i].value);
		switch (f.term[i].attr) {
		case SCIM_F_ID: cond = "g.id = ?"; break;
		case SCIM_F_DISPLAY_NAME: cond = "g.display_name_lc = ?"; lower(lc[i]); break;
		case SCIM_F_EXTERNAL_ID: cond = "g.external_id = ?"; break;
		case SCIM_F_MEMBER:
			cond = "EXISTS (SELECT 1 FROM scim_members m WHERE m.integration = g.integration"
			       " AND m.group_id = g.id AND m.user_id = ?)";
			break;
		default:
			scim_fail(&e, 400, "invalidFilter", "groups cannot be filtered on \"%s\"",
				  scim_fattr_name(f.term[i].attr));
			return scim_reply_err(x->req, &e);
		}
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " AND %s", cond);
		args[nargs++] = lc[i];
	}
	scim_args_fmt(fmt, args, nargs);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM scim_groups g%s", where);
	total = (int)cstore_int(x->c->store, 0, sql, fmt, SCIM_ARGS(args));
	res = cJSON_CreateArray();
	if (count > 0 && start <= total) {
		snprintf(sql, sizeof(sql), "SELECT " GROUP_COLS " FROM scim_groups g%s%s"
			 " LIMIT %d OFFSET %d", where, f.n ? "" : " ORDER BY g.id", count, start - 1);
		st = cstore_query(x->c->store, sql, fmt, SCIM_ARGS(args));
		while (st && cstore_next(st))
			cJSON_AddItemToArray(res, group_json(x, st, with_members));
		cstore_done(st);
	}
	out = scim_list(total, start, res);
	scim_reply(x->req, 200, out);
	cJSON_Delete(out);
	return 0;
}

/* ------------------------------------------------------------ members */

/* The user ids of members: [{"value": id}, …] (a bare id is taken too). */
static int member_ids(struct scim_ctx *x, const cJSON *members, cJSON *ids, struct scim_err *e)
{
	const cJSON *m;

	if (!members || cJSON_IsNull(members))
		return 0;
	if (cJSON_IsObject(members)) {
		/* one member where a list belongs */
		const char *v = cJSON_GetStringValue(item_ci(members, "value"));
		if (!v)
			return scim_fail(e, 400, "invalidValue", "a member needs a \"value\" (a user id)");
		if (!cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_users WHERE integration = ? AND"
			     " id = ?", "tt", x->integ, v))
			return scim_fail(e, 400, "invalidValue", "member \"%s\" is not a user of this "
					 "integration", v);
		cJSON_AddItemToArray(ids, cJSON_CreateString(v));
		return 0;
	}
	if (!cJSON_IsArray(members))
		return scim_fail(e, 400, "invalidValue", "\"members\" must be an array of {\"value\": "
				 "user id}");
	cJSON_ArrayForEach(m, members)
		if (member_ids(x, m, ids, e))
			return -1;
	return 0;
}

static void add_unique(cJSON *set, const char *s)
{
	cJSON *e;
	cJSON_ArrayForEach(e, set)
		if (!strcmp(e->valuestring, s))
			return;
	cJSON_AddItemToArray(set, cJSON_CreateString(s));
}

static cJSON *current_members(struct scim_ctx *x, const char *gid)
{
	cJSON *a = cJSON_CreateArray();
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT user_id FROM scim_members WHERE"
				     " integration = ? AND group_id = ?", "tt", x->integ, gid);
	while (st && cstore_next(st))
		cJSON_AddItemToArray(a, cJSON_CreateString(cstore_text(st, 0)));
	cstore_done(st);
	return a;
}

/* After membership or a name changed: each touched user's jobs. */
static int regroup(struct scim_ctx *x, const cJSON *touched)
{
	const cJSON *u;
	cJSON_ArrayForEach(u, touched)
		if (scim_user_regroup(x, u->valuestring))
			return -1;
	return 0;
}

static int set_members(struct scim_ctx *x, const char *gid, const cJSON *ids, int add,
		       cJSON *touched)
{
	const cJSON *u;
	cJSON_ArrayForEach(u, ids) {
		if (add)
			cstore_exec(x->c->store, "INSERT INTO scim_members (integration, group_id, user_id)"
				 " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "ttt", x->integ, gid,
				 u->valuestring);
		else
			cstore_exec(x->c->store, "DELETE FROM scim_members WHERE integration = ? AND"
				 " group_id = ? AND user_id = ?", "ttt", x->integ, gid, u->valuestring);
		if (cstore_changes(x->c->store))
			add_unique(touched, u->valuestring);
	}
	return 0;
}

/* ------------------------------------------------------------ writes */

static int name_taken(struct scim_ctx *x, const char *name, const char *self)
{
	char lc[300];
	snprintf(lc, sizeof(lc), "%s", name);
	lower(lc);
	return cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_groups WHERE integration = ? AND"
		       " display_name_lc = ? AND id <> ?", "ttt", x->integ, lc, self ? self : "") > 0;
}

static int check_group(const cJSON *b, struct scim_err *e)
{
	const cJSON *f, *s;
	cJSON_ArrayForEach(f, b) {
		if (!strcasecmp(f->string, "schemas")) {
			cJSON_ArrayForEach(s, f)
				if (!cJSON_IsString(s) || strcasecmp(s->valuestring, SCIM_URN_GROUP))
					return scim_fail(e, 400, "invalidValue", "unknown schema \"%s\" "
							 "for a Group (use " SCIM_URN_GROUP ")",
							 cJSON_IsString(s) ? s->valuestring : "?");
			continue;
		}
		if (strcasecmp(f->string, "displayName") && strcasecmp(f->string, "externalId") &&
		    strcasecmp(f->string, "members") && strcasecmp(f->string, "id") &&
		    strcasecmp(f->string, "meta"))
			return scim_fail(e, 400, "invalidValue", "unknown attribute \"%s\" (a Group has "
					 "displayName, externalId, members)", f->string);
	}
	if (!cJSON_GetStringValue(item_ci(b, "displayName")) ||
	    !*cJSON_GetStringValue(item_ci(b, "displayName")))
		return scim_fail(e, 400, "invalidValue", "\"displayName\" is required: a non-empty string");
	if (item_ci(b, "externalId") && !cJSON_IsString(item_ci(b, "externalId")) &&
	    !cJSON_IsNull(item_ci(b, "externalId")))
		return scim_fail(e, 400, "invalidValue", "\"externalId\" must be a string");
	return 0;
}

/* POST (gid NULL) or PUT: the whole group. */
static int write_group(struct scim_ctx *x, const char *gid_in)
{
	struct scim_err e;
	cJSON *b = scim_parse_body(x->req, &e), *ids = cJSON_CreateArray(), *touched = NULL;
	const char *name, *ext;
	char gid[40], lc[300];
	int64_t now = cdb_now_ms();
	int rc;

	if (!b || check_group(b, &e) || member_ids(x, item_ci(b, "members"), ids, &e))
		goto fail;
	name = cJSON_GetStringValue(item_ci(b, "displayName"));
	ext = cJSON_GetStringValue(item_ci(b, "externalId"));
	if (name_taken(x, name, gid_in)) {
		scim_fail(&e, 409, "uniqueness", "a group named \"%s\" exists already", name);
		goto fail;
	}
	snprintf(lc, sizeof(lc), "%s", name);
	lower(lc);
	if (gid_in)
		snprintf(gid, sizeof(gid), "%s", gid_in);
	else
		scim_new_id(gid);
	if (cstore_begin(x->c->store)) {
		scim_fail(&e, 503, NULL, "cannot store group \"%s\" now: %s", name,
			  cstore_errmsg(x->c->store));
		goto fail;
	}
	if (gid_in) {
		touched = current_members(x, gid);	/* old members may lose roles */
		rc = cstore_exec(x->c->store, "UPDATE scim_groups SET display_name = ?, display_name_lc = ?,"
			 " external_id = ?, version = version + 1, updated_ms = ? WHERE"
			 " integration = ? AND id = ?", "tttitt", name, lc, ext, now, x->integ, gid);
		rc = rc || cstore_exec(x->c->store, "DELETE FROM scim_members WHERE integration = ? AND"
				       " group_id = ?", "tt", x->integ, gid);
	} else {
		touched = cJSON_CreateArray();
		rc = cstore_exec(x->c->store, "INSERT INTO scim_groups (integration, id, display_name,"
			 " display_name_lc, external_id, version, created_ms, updated_ms)"
			 " VALUES (?, ?, ?, ?, ?, 1, ?, ?)", "tttttii", x->integ, gid, name, lc, ext,
			 now, now);
	}
	if (rc) {
		/* a name another coordinator process stored since name_taken()
		 * looked: the unique index has the last word */
		int conflict = cstore_conflict(x->c->store);
		cstore_rollback(x->c->store);
		if (conflict)
			scim_fail(&e, 409, "uniqueness", "a group named \"%s\" exists already", name);
		else
			scim_fail(&e, 500, NULL, "cannot store group \"%s\"", name);
		goto fail;
	}
	set_members(x, gid, ids, 1, touched);
	{
		const cJSON *u;
		cJSON_ArrayForEach(u, ids)
			add_unique(touched, u->valuestring);
	}
	if (regroup(x, touched) || cstore_commit(x->c->store)) {
		if (cstore_in_tx(x->c->store))
			cstore_rollback(x->c->store);
		scim_fail(&e, 500, NULL, "cannot queue the jobs for group \"%s\"", name);
		goto fail;
	}
	coord_jobs_added(x->c);
	cJSON_Delete(b);
	cJSON_Delete(ids);
	cJSON_Delete(touched);
	return reply_group(x, gid_in ? 200 : 201, gid);
fail:
	cJSON_Delete(b);
	cJSON_Delete(ids);
	cJSON_Delete(touched);
	return scim_reply_err(x->req, &e);
}

/*
 * PATCH a group: Okta and Entra add and remove members
 * ({"op":"add","path":"members","value":[{"value":id}]},
 * {"op":"remove","path":"members[value eq \"id\"]"}), replace the whole
 * list, or rename the group (path displayName, or no path).
 */
static int patch_op(struct scim_ctx *x, const char *gid, int i, const cJSON *op, cJSON *touched,
		    struct scim_err *e)
{
	const char *name = cJSON_GetStringValue(item_ci(op, "op"));
	const char *path = cJSON_GetStringValue(item_ci(op, "path"));
	const cJSON *value = item_ci(op, "value");
	enum scim_op o = scim_op_parse(name);
	struct scim_path p;
	char perr[300];
	cJSON *ids;
	int rc = 0;

	if (!o)
		return scim_fail(e, 400, "invalidSyntax", "Operations[%d]: unknown op \"%s\" (use add, "
				 "remove or replace)", i, name ? name : "(none)");
	if (!path) {
		const cJSON *f;
		if (o == SCIM_OP_REMOVE)
			return scim_fail(e, 400, "noTarget", "Operations[%d]: remove needs a \"path\"", i);
		if (!cJSON_IsObject(value))
			return scim_fail(e, 400, "invalidValue", "Operations[%d]: without a \"path\", "
					 "\"value\" must be an object", i);
		cJSON_ArrayForEach(f, value) {
			cJSON *fake;
			if (!strcasecmp(f->string, "id") || !strcasecmp(f->string, "schemas") ||
			    !strcasecmp(f->string, "meta"))
				continue;
			/* each key is an operation of its own on that path */
			fake = cJSON_CreateObject();
			cJSON_AddStringToObject(fake, "op", name);
			cJSON_AddStringToObject(fake, "path", f->string);
			cJSON_AddItemToObject(fake, "value", cJSON_Duplicate(f, 1));
			rc = patch_op(x, gid, i, fake, touched, e);
			cJSON_Delete(fake);
			if (rc)
				return -1;
		}
		return 0;
	}
	if (scim_path_parse(path, &p, perr, sizeof(perr)))
		return scim_fail(e, 400, "invalidPath", "Operations[%d]: %s", i, perr);
	if (!strcasecmp(p.attr, "displayName") && !p.has_filter && !p.sub[0]) {
		char lc[300];
		if (o == SCIM_OP_REMOVE || !cJSON_IsString(value) || !*value->valuestring)
			return scim_fail(e, 400, "invalidValue", "Operations[%d]: displayName must be a "
					 "non-empty string", i);
		if (name_taken(x, value->valuestring, gid))
			return scim_fail(e, 409, "uniqueness", "a group named \"%s\" exists already",
					 value->valuestring);
		snprintf(lc, sizeof(lc), "%s", value->valuestring);
		lower(lc);
		cstore_exec(x->c->store, "UPDATE scim_groups SET display_name = ?, display_name_lc = ?"
			 " WHERE integration = ? AND id = ?", "tttt", value->valuestring, lc,
			 x->integ, gid);
		/* a new name may map to other roles: every member is touched */
		ids = current_members(x, gid);
		cJSON_ArrayForEach(value, ids)
			add_unique(touched, value->valuestring);
		cJSON_Delete(ids);
		return 0;
	}
	if (!strcasecmp(p.attr, "externalId") && !p.has_filter && !p.sub[0]) {
		if (o != SCIM_OP_REMOVE && !cJSON_IsString(value))
			return scim_fail(e, 400, "invalidValue", "Operations[%d]: externalId must be a "
					 "string", i);
		cstore_exec(x->c->store, "UPDATE scim_groups SET external_id = ? WHERE integration = ? AND"
			 " id = ?", "ttt", o == SCIM_OP_REMOVE ? NULL : cJSON_GetStringValue(value),
			 x->integ, gid);
		return 0;
	}
	if (strcasecmp(p.attr, "members") || p.sub[0] ||
	    (p.has_filter && strcasecmp(p.fattr, "value")))
		return scim_fail(e, 400, "invalidPath", "Operations[%d]: a group's paths are "
				 "displayName, externalId, members and members[value eq \"id\"], "
				 "not \"%s\"", i, path);
	ids = cJSON_CreateArray();
	if (p.has_filter) {
		cJSON_AddItemToArray(ids, cJSON_CreateString(p.fvalue));
		if (o != SCIM_OP_REMOVE) {
			cJSON_Delete(ids);
			return scim_fail(e, 400, "invalidPath", "Operations[%d]: members[value eq …] is "
					 "for remove; add members with path \"members\"", i);
		}
	} else if (o == SCIM_OP_REMOVE && !value) {
		cJSON_Delete(ids);
		ids = current_members(x, gid);	/* remove all */
	} else if (o == SCIM_OP_REMOVE) {
		/* a remove lists ids that may be gone already: no existence check */
		const cJSON *m, *list = cJSON_IsArray(value) ? value : NULL;
		cJSON_ArrayForEach(m, list)
			if (cJSON_GetStringValue(item_ci(m, "value")))
				cJSON_AddItemToArray(ids, cJSON_CreateString(
					cJSON_GetStringValue(item_ci(m, "value"))));
	} else if (member_ids(x, value, ids, e)) {
		char d[sizeof(e->detail)];
		cJSON_Delete(ids);
		snprintf(d, sizeof(d), "%s", e->detail);
		return scim_fail(e, e->status, e->type, "Operations[%d]: %.300s", i, d);
	}
	if (o == SCIM_OP_REPLACE) {
		cJSON *old = current_members(x, gid);
		set_members(x, gid, old, 0, touched);
		cJSON_Delete(old);
	}
	rc = set_members(x, gid, ids, o != SCIM_OP_REMOVE, touched);
	cJSON_Delete(ids);
	return rc;
}

static int patch(struct scim_ctx *x, const char *gid)
{
	struct scim_err e;
	cJSON *b, *touched = cJSON_CreateArray();
	const cJSON *op;
	int i = 0, changed;

	if (!exists(x, gid)) {
		cJSON_Delete(touched);
		return fail(x, 404, NULL, "no group \"%s\"", gid);
	}
	b = scim_parse_body(x->req, &e);
	if (!b || scim_check_patch_body(b, &e)) {
		cJSON_Delete(b);
		cJSON_Delete(touched);
		return scim_reply_err(x->req, &e);
	}
	if (cstore_begin(x->c->store)) {
		scim_fail(&e, 503, NULL, "cannot change group \"%s\" now: %s", gid,
			  cstore_errmsg(x->c->store));
		goto fail;
	}
	cJSON_ArrayForEach(op, scim_patch_ops(b)) {
		if (patch_op(x, gid, i, op, touched, &e))
			goto fail;
		i++;
	}
	if (regroup(x, touched)) {
		scim_fail(&e, 500, NULL, "cannot queue the jobs for group \"%s\"", gid);
		goto fail;
	}
	cstore_exec(x->c->store, "UPDATE scim_groups SET version = version + 1, updated_ms = ? WHERE"
		 " integration = ? AND id = ?", "itt", cdb_now_ms(), x->integ, gid);
	if (cstore_commit(x->c->store)) {
		scim_fail(&e, 500, NULL, "cannot store group \"%s\"", gid);
		goto fail;
	}
	changed = cJSON_GetArraySize(touched);
	cJSON_Delete(b);
	cJSON_Delete(touched);
	if (changed)
		coord_jobs_added(x->c);
	return reply_group(x, 200, gid);
fail:
	if (cstore_in_tx(x->c->store))
		cstore_rollback(x->c->store);
	cJSON_Delete(b);
	cJSON_Delete(touched);
	return scim_reply_err(x->req, &e);
}

static int delete(struct scim_ctx *x, const char *gid)
{
	cJSON *touched;

	if (!exists(x, gid))
		return fail(x, 404, NULL, "no group \"%s\"", gid);
	if (cstore_begin(x->c->store))
		return fail(x, 503, NULL, "cannot delete group \"%s\" now: %s", gid,
			    cstore_errmsg(x->c->store));
	touched = current_members(x, gid);
	cstore_exec(x->c->store, "DELETE FROM scim_members WHERE integration = ? AND group_id = ?", "tt",
		 x->integ, gid);
	cstore_exec(x->c->store, "DELETE FROM scim_groups WHERE integration = ? AND id = ?", "tt",
		 x->integ, gid);
	if (regroup(x, touched) || cstore_commit(x->c->store)) {
		if (cstore_in_tx(x->c->store))
			cstore_rollback(x->c->store);
		cJSON_Delete(touched);
		return fail(x, 500, NULL, "cannot queue the jobs for deleting group \"%s\"", gid);
	}
	cJSON_Delete(touched);
	coord_jobs_added(x->c);
	return scim_reply(x->req, 204, NULL);
}

int scim_groups(struct scim_ctx *x, const char *rest)
{
	enum httpd_method m = httpd_req_method(x->req);

	if (!*rest) {
		if (m == HTTPD_GET)
			return list(x);
		if (m == HTTPD_POST)
			return write_group(x, NULL);
		return fail(x, 405, NULL, "use GET or POST on %s", "/Groups");
	}
	if (strchr(rest, '/') || strlen(rest) > 64)
		return fail(x, 404, NULL, "no group \"%s\"", rest);
	switch (m) {
	case HTTPD_GET:
		return reply_group(x, 200, rest);
	case HTTPD_PUT:
		if (!exists(x, rest))
			return fail(x, 404, NULL, "no group \"%s\"", rest);
		return write_group(x, rest);
	case HTTPD_PATCH:
		return patch(x, rest);
	case HTTPD_DELETE:
		return delete(x, rest);
	default:
		return fail(x, 405, NULL, "use GET, PUT, PATCH or DELETE on %s", "/Groups/{id}");
	}
}
