/*
 * SCIM /Users: the resource as an IdP sends it (checked against the User
 * schema and the enterprise extension, Entra's string booleans taken),
 * list and filters over indexed columns, PATCH in Okta's and Entra's
 * shapes, and the provisioning state from the Users table on every answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "scim.h"
#include "textbuf.h"

/* attribute kinds: s string, b boolean, n name (complex), m multi-valued
 * complex, M the manager reference */
struct kind {
	const char *name;
	char kind;
};

static const struct kind core[] = {
	{ "userName", 's' }, { "name", 'n' }, { "displayName", 's' }, { "nickName", 's' },
	{ "profileUrl", 's' }, { "title", 's' }, { "userType", 's' },
	{ "preferredLanguage", 's' }, { "locale", 's' }, { "timezone", 's' },
	{ "active", 'b' }, { "externalId", 's' }, { "emails", 'm' }, { "phoneNumbers", 'm' },
	{ "ims", 'm' }, { "photos", 'm' }, { "addresses", 'm' }, { "entitlements", 'm' },
	{ "roles", 'm' }, { "x509Certificates", 'm' }, { NULL, 0 } };
static const struct kind enterprise[] = {
	{ "employeeNumber", 's' }, { "costCenter", 's' }, { "organization", 's' },
	{ "division", 's' }, { "department", 's' }, { "manager", 'M' }, { NULL, 0 } };
static const struct kind name_subs[] = {
	{ "formatted", 's' }, { "familyName", 's' }, { "givenName", 's' }, { "middleName", 's' },
	{ "honorificPrefix", 's' }, { "honorificSuffix", 's' }, { NULL, 0 } };
/* sub-attributes of multi-valued attributes, for their canonical case */
static const char *const multi_subs[] = { "value", "display", "type", "primary", "$ref",
	"formatted", "streetAddress", "locality", "region", "postalCode", "country", NULL };

static const struct kind *find(const struct kind *t, const char *name)
{
	for (; t->name; t++)
		if (!strcasecmp(t->name, name))
			return t;
	return NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* true, false, or Entra's "True" / "False" */
static int boolean(const cJSON *v, int *out)
{
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 0;
	}
	if (cJSON_IsString(v) && scim_bool_text(v->valuestring) >= 0) {
		*out = scim_bool_text(v->valuestring);
		return 0;
	}
	return -1;
}

static int norm_value(const struct kind *k, const char *where, const cJSON *v, cJSON **out,
		      struct scim_err *e);

/* One element of a multi-valued attribute: an object whose "primary" is
 * a boolean; a bare string becomes {"value": …} (roles, as some IdPs
 * send them). */
static int norm_multi_item(const char *where, const cJSON *v, cJSON **out, struct scim_err *e)
{
	const cJSON *f;
	cJSON *o;

	if (cJSON_IsString(v)) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "value", v->valuestring);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return scim_fail(e, 400, "invalidValue", "\"%s\" must be an array of objects", where);
	o = cJSON_CreateObject();
	cJSON_ArrayForEach(f, v) {
		const char *name = f->string;
		for (int i = 0; multi_subs[i]; i++)
			if (!strcasecmp(multi_subs[i], name))
				name = multi_subs[i];
		if (cJSON_IsNull(f))
			continue;
		if ((!strcmp(name, "value") || !strcmp(name, "display") || !strcmp(name, "type")) &&
		    !cJSON_IsString(f)) {
			cJSON_Delete(o);
			return scim_fail(e, 400, "invalidValue", "\"%s.%s\" must be a string", where, name);
		}
		if (!strcmp(name, "primary")) {
			int b;
			if (boolean(f, &b)) {
				cJSON_Delete(o);
				return scim_fail(e, 400, "invalidValue", "\"%s.primary\" must be a boolean",
						 where);
			}
			cJSON_AddBoolToObject(o, "primary", b);
			continue;
		}
		cJSON_AddItemToObject(o, name, cJSON_Duplicate(f, 1));
	}
	*out = o;
	return 0;
}

static int norm_value(const struct kind *k, const char *where, const cJSON *v, cJSON **out,
		      struct scim_err *e)
{
	const cJSON *f;
	int b;

	*out = NULL;
	switch (k->kind) {
	case 's':
		if (!cJSON_IsString(v))
			return scim_fail(e, 400, "invalidValue", "\"%s\" must be a string", where);
		*out = cJSON_CreateString(v->valuestring);
		return 0;
	case 'b':
		if (boolean(v, &b))
			return scim_fail(e, 400, "invalidValue", "\"%s\" must be a boolean (true or "
					 "false)", where);
		*out = cJSON_CreateBool(b);
		return 0;
	case 'M':
		/* Entra sends the manager as {"value": id} or as the bare id */
		if (cJSON_IsString(v)) {
			*out = cJSON_CreateObject();
			cJSON_AddStringToObject(*out, "value", v->valuestring);
			return 0;
		}
		if (!cJSON_IsObject(v) || (cJSON_GetObjectItem(v, "value") &&
					   !cJSON_IsString(cJSON_GetObjectItem(v, "value"))))
			return scim_fail(e, 400, "invalidValue", "\"%s\" must be {\"value\": id}", where);
		*out = cJSON_Duplicate(v, 1);
		return 0;
	case 'n':
		if (!cJSON_IsObject(v))
			return scim_fail(e, 400, "invalidValue", "\"%s\" must be an object", where);
		*out = cJSON_CreateObject();
		cJSON_ArrayForEach(f, v) {
			const struct kind *s = find(name_subs, f->string);
			char w[200];
			cJSON *x;
			if (cJSON_IsNull(f))
				continue;
			snprintf(w, sizeof(w), "%s.%s", where, f->string);
			if (!s) {
				cJSON_Delete(*out);
				*out = NULL;
				return scim_fail(e, 400, "invalidValue", "unknown attribute \"%s\"", w);
			}
			if (norm_value(s, w, f, &x, e)) {
				cJSON_Delete(*out);
				*out = NULL;
				return -1;
			}
			cJSON_AddItemToObject(*out, s->name, x);
		}
		return 0;
	case 'm':
		if (cJSON_IsObject(v) || cJSON_IsString(v)) {
			/* one value where a list belongs: Entra's PATCH of roles does it */
			cJSON *x;
			if (norm_multi_item(where, v, &x, e))
				return -1;
			*out = cJSON_CreateArray();
			cJSON_AddItemToArray(*out, x);
			return 0;
		}
		if (!cJSON_IsArray(v))
			return scim_fail(e, 400, "invalidValue", "\"%s\" must be an array", where);
		*out = cJSON_CreateArray();
		cJSON_ArrayForEach(f, v) {
			cJSON *x;
			if (norm_multi_item(where, f, &x, e)) {
				cJSON_Delete(*out);
				*out = NULL;
				return -1;
			}
			cJSON_AddItemToArray(*out, x);
		}
		return 0;
	}
	return scim_fail(e, 500, NULL, "attribute \"%s\" has no kind", where);
}

/*
 * The stored form of a User: core attributes under their canonical names,
 * the enterprise extension under its URN; id, meta, groups (read-only),
 * our own state extension (read-only) and password (never kept) dropped.
 * Anything else is a 400 that names it.
 */
static cJSON *normalize(const cJSON *in, struct scim_err *e)
{
	cJSON *out = cJSON_CreateObject(), *x;
	const cJSON *f, *s;

	cJSON_ArrayForEach(f, in) {
		const char *k = f->string;
		const struct kind *kd;

		if (cJSON_IsNull(f))
			continue;
		if (!strcasecmp(k, "schemas")) {
			if (!cJSON_IsArray(f)) {
				scim_fail(e, 400, "invalidValue", "\"schemas\" must be an array of URNs");
				goto fail;
			}
			cJSON_ArrayForEach(s, f)
				if (!cJSON_IsString(s) || (strcasecmp(s->valuestring, SCIM_URN_USER) &&
				    strcasecmp(s->valuestring, SCIM_URN_ENTERPRISE) &&
				    strcasecmp(s->valuestring, SCIM_URN_IDLCM))) {
					scim_fail(e, 400, "invalidValue", "unknown schema \"%s\" (supported: "
						  SCIM_URN_USER ", " SCIM_URN_ENTERPRISE ")",
						  cJSON_IsString(s) ? s->valuestring : "?");
					goto fail;
				}
			continue;
		}
		if (!strcasecmp(k, "id") || !strcasecmp(k, "meta") || !strcasecmp(k, "groups") ||
		    !strcasecmp(k, "password") || !strcasecmp(k, SCIM_URN_IDLCM))
			continue;
		if (!strcasecmp(k, SCIM_URN_ENTERPRISE)) {
			cJSON *ext;
			if (!cJSON_IsObject(f)) {
				scim_fail(e, 400, "invalidValue", "\"%s\" must be an object", k);
				goto fail;
			}
			ext = cJSON_CreateObject();
			cJSON_AddItemToObject(out, SCIM_URN_ENTERPRISE, ext);
			cJSON_ArrayForEach(s, f) {
				const struct kind *ek = find(enterprise, s->string);
				char w[300];
				if (cJSON_IsNull(s))
					continue;
				snprintf(w, sizeof(w), "%s:%s", SCIM_URN_ENTERPRISE, s->string);
				if (!ek) {
					scim_fail(e, 400, "invalidValue", "unknown attribute \"%s\" (the "
						  "enterprise extension has employeeNumber, costCenter, "
						  "organization, division, department, manager)", w);
					goto fail;
				}
				if (norm_value(ek, w, s, &x, e))
					goto fail;
				cJSON_AddItemToObject(ext, ek->name, x);
			}
			if (!cJSON_GetArraySize(ext))
				cJSON_DeleteItemFromObjectCaseSensitive(out, SCIM_URN_ENTERPRISE);
			continue;
		}
		kd = find(core, k);
		if (!kd) {
			scim_fail(e, 400, "invalidValue", "unknown attribute \"%s\" (not in %s%s; see "
				  "/Schemas)", k, strncasecmp(k, "urn:", 4) ? "the User schema" :
				  "the supported schemas", "");
			goto fail;
		}
		if (norm_value(kd, kd->name, f, &x, e))
			goto fail;
		cJSON_DeleteItemFromObjectCaseSensitive(out, kd->name);
		cJSON_AddItemToObject(out, kd->name, x);
	}
	if (!jstr(out, "userName") || !*jstr(out, "userName")) {
		scim_fail(e, 400, "invalidValue", "\"userName\" is required: a non-empty string");
		goto fail;
	}
	if (strlen(jstr(out, "userName")) > 256) {
		scim_fail(e, 400, "invalidValue", "\"userName\" is longer than 256 bytes");
		goto fail;
	}
	if (!cJSON_GetObjectItemCaseSensitive(out, "active"))
		cJSON_AddBoolToObject(out, "active", 1);
	return out;
fail:
	cJSON_Delete(out);
	return NULL;
}

/* ------------------------------------------------------------ views */

/* The email the app knows the user by: the work email, else the primary,
 * else the first, else a userName that looks like one. */
static const char *pick_email(const cJSON *r, int work_only)
{
	const cJSON *emails = cJSON_GetObjectItemCaseSensitive(r, "emails"), *m;
	const char *first = NULL, *primary = NULL;

	cJSON_ArrayForEach(m, emails) {
		const char *v = jstr(m, "value"), *t = jstr(m, "type");
		if (!v)
			continue;
		if (t && !strcasecmp(t, "work"))
			return v;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "primary")) && !primary)
			primary = v;
		if (!first)
			first = v;
	}
	if (work_only)
		return NULL;
	if (primary)
		return primary;
	if (first)
		return first;
	return jstr(r, "userName") && strchr(jstr(r, "userName"), '@') ? jstr(r, "userName") : NULL;
}

static cJSON *group_names(struct scim_ctx *x, const char *id)
{
	cJSON *a = cJSON_CreateArray();
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT g.display_name FROM scim_members m"
				     " JOIN scim_groups g ON g.integration = m.integration AND"
				     " g.id = m.group_id WHERE m.integration = ? AND m.user_id = ?"
				     " ORDER BY g.display_name", "tt", x->integ, id);
	while (st && cstore_next(st))
		cJSON_AddItemToArray(a, cJSON_CreateString(cstore_text(st, 0)));
	cstore_done(st);
	return a;
}

/* What a job needs of the user (DESIGN.md's job.user). */
static cJSON *view_of(struct scim_ctx *x, const char *id, const cJSON *r)
{
	static const char *const plain[] = { "title", "userType", "preferredLanguage", "locale",
					     "timezone", "nickName", NULL };
	cJSON *v = cJSON_CreateObject(), *attrs, *groups, *direct = cJSON_CreateArray(), *m;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(r, SCIM_URN_ENTERPRISE), *f;
	const char *email = pick_email(r, 0), *dn = jstr(r, "displayName");
	char full[300];

	cJSON_AddStringToObject(v, "id", id);
	cJSON_AddStringToObject(v, "upstream_id", jstr(r, "externalId") ? jstr(r, "externalId") : id);
	if (email)
		cJSON_AddStringToObject(v, "email", email);
	cJSON_AddStringToObject(v, "username", jstr(r, "userName"));
	if (!dn && (jstr(name, "givenName") || jstr(name, "familyName"))) {
		snprintf(full, sizeof(full), "%s%s%s", jstr(name, "givenName") ? jstr(name, "givenName") : "",
			 jstr(name, "givenName") && jstr(name, "familyName") ? " " : "",
			 jstr(name, "familyName") ? jstr(name, "familyName") : "");
		dn = full;
	}
	if (dn)
		cJSON_AddStringToObject(v, "display_name", dn);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r, "roles"))
		if (jstr(m, "value"))
			cJSON_AddItemToArray(direct, cJSON_CreateString(jstr(m, "value")));
	groups = group_names(x, id);
	cJSON_AddItemToObject(v, "roles", integ_roles_for(x->c, x->integ, groups, direct));
	cJSON_Delete(direct);
	attrs = cJSON_AddObjectToObject(v, "attributes");
	if (jstr(name, "givenName"))
		cJSON_AddStringToObject(attrs, "givenName", jstr(name, "givenName"));
	if (jstr(name, "familyName"))
		cJSON_AddStringToObject(attrs, "familyName", jstr(name, "familyName"));
	for (int i = 0; plain[i]; i++)
		if (jstr(r, plain[i]))
			cJSON_AddStringToObject(attrs, plain[i], jstr(r, plain[i]));
	cJSON_ArrayForEach(f, ext) {
		if (cJSON_IsString(f))
			cJSON_AddStringToObject(attrs, f->string, f->valuestring);
		else if (!strcmp(f->string, "manager") && jstr(f, "value"))
			cJSON_AddStringToObject(attrs, "manager", jstr(f, "value"));
	}
	cJSON_AddBoolToObject(attrs, "active",
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "active")));
	cJSON_AddItemToObject(v, "groups", groups);
	cJSON_AddBoolToObject(v, "active", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "active")));
	return v;
}

static cJSON *load_resource(struct scim_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT resource FROM scim_users WHERE integration = ?"
				     " AND id = ?", "tt", x->integ, id);
	cJSON *r = NULL;

	if (st && cstore_next(st))
		r = cJSON_Parse(cstore_text(st, 0));
	cstore_done(st);
	return r;
}

static cJSON *sent_view(struct scim_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT sent_view FROM scim_users WHERE"
				     " integration = ? AND id = ?", "tt", x->integ, id);
	cJSON *v = NULL;

	if (st && cstore_next(st) && cstore_text(st, 0))
		v = cJSON_Parse(cstore_text(st, 0));
	cstore_done(st);
	return v;
}

cJSON *scim_user_view(struct scim_ctx *x, const char *id)
{
	cJSON *r = load_resource(x, id), *v;

	if (!r)
		return NULL;
	v = view_of(x, id, r);
	cJSON_Delete(r);
	return v;
}

/* ------------------------------------------------------------ output */

#define USER_COLS "s.id, s.resource, s.version, s.created_ms, s.updated_ms, u.state, u.detail," \
	" u.login_method, u.active, u.roles, u.job_id, u.changed_ms, u.sso_label"
#define USER_FROM " FROM scim_users s LEFT JOIN users u ON u.integration = s.integration AND" \
	" u.user_key = s.user_key"

/* Whether the integration has groups at all: when not (the common case
 * for Okta without group push) a page of users costs one query. */
static int has_groups(struct scim_ctx *x)
{
	return cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_groups WHERE integration = ?", "t",
		       x->integ) > 0;
}

/*
 * A User as JSON text, written straight to a buffer: the stored resource
 * is already the text cJSON printed for it, so it is spliced in as it is
 * rather than parsed into a tree and printed again (a page of 100 users
 * spent a third of its time doing that).  The rest is written as cJSON
 * would print it: schemas, id, the resource's attributes, groups, the
 * provisioning state, meta.
 */
/* A JSON string, escaped as cJSON escapes (", \, control characters). */
static void jt_esc(struct textbuf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c >= 32 && c != '"' && c != '\\')
			continue;
		textbuf_put(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': textbuf_str(b, "\\\""); break;
		case '\\': textbuf_str(b, "\\\\"); break;
		case '\b': textbuf_str(b, "\\b"); break;
		case '\f': textbuf_str(b, "\\f"); break;
		case '\n': textbuf_str(b, "\\n"); break;
		case '\r': textbuf_str(b, "\\r"); break;
		case '\t': textbuf_str(b, "\\t"); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			textbuf_str(b, esc);
		}
	}
	textbuf_put(b, run, (size_t)(s - run));
}

static void jt_str(struct textbuf *b, const char *s)
{
	textbuf_put(b, "\"", 1);
	jt_esc(b, s);
	textbuf_put(b, "\"", 1);
}

/* ,"key":"value" (nothing when value is NULL); keys are literals that
 * need no escaping */
#define jt_field(b, first, key, value) jt_field_(b, first, ",\"" key "\":", \
						sizeof(key) + 3, value)
static void jt_field_(struct textbuf *b, int *first, const char *sep_key, size_t n,
		      const char *value)
{
	if (!value)
		return;
	textbuf_put(b, sep_key + *first, n - (size_t)*first);
	*first = 0;
	jt_str(b, value);
}

static void user_text(struct scim_ctx *x, struct cstore_rows *st, int groups, struct textbuf *b)
{
	const char *id = cstore_text(st, 0), *res = cstore_text(st, 1);
	size_t rlen = res ? strlen(res) : 0;
	struct cstore_rows *gs;
	char iso[40], v[48];
	int first = 1;

	/* a stored resource is an object printed by cJSON; anything else
	 * (never written by this code) shows as no attributes */
	if (rlen < 2 || res[0] != '{' || res[rlen - 1] != '}')
		rlen = 0;
	textbuf_str(b, "{\"schemas\":[\"" SCIM_URN_USER "\",");
	/* the enterprise URN is a top-level key of the stored text only
	 * when the user has the extension: keys are canonical there */
	if (rlen && strstr(res, "\"" SCIM_URN_ENTERPRISE "\":{"))
		textbuf_str(b, "\"" SCIM_URN_ENTERPRISE "\",");
	textbuf_str(b, "\"" SCIM_URN_IDLCM "\"],\"id\":");
	jt_str(b, id);
	if (rlen > 2) {
		textbuf_put(b, ",", 1);
		textbuf_put(b, res + 1, rlen - 2);
	}
	textbuf_str(b, ",\"groups\":[");
	gs = groups ? cstore_query(x->c->store, "SELECT g.id, g.display_name FROM scim_members m JOIN"
				" scim_groups g ON g.integration = m.integration AND g.id = m.group_id"
				" WHERE m.integration = ? AND m.user_id = ? ORDER BY m.group_id", "tt",
				x->integ, id) : NULL;
	while (gs && cstore_next(gs)) {
		char ref[500];
		int f = 1;
		if (!first)
			textbuf_put(b, ",", 1);
		first = 0;
		textbuf_put(b, "{", 1);
		jt_field(b, &f, "value", cstore_text(gs, 0));
		jt_field(b, &f, "display", cstore_text(gs, 1));
		snprintf(ref, sizeof(ref), "%s/Groups/%s", x->base, cstore_text(gs, 0));
		jt_field(b, &f, "$ref", ref);
		jt_field(b, &f, "type", "direct");
		textbuf_put(b, "}", 1);
	}
	cstore_done(gs);
	/* the provisioning state, for the IdP admin to read */
	textbuf_str(b, "],\"" SCIM_URN_IDLCM "\":{");
	first = 1;
	jt_field(b, &first, "state", cstore_text(st, 5));
	jt_field(b, &first, "detail", cstore_text(st, 6));
	jt_field(b, &first, "loginMethod", cstore_text(st, 7));
	if (!cstore_is_null(st, 8)) {
		textbuf_str(b, first ? "" : ",");
		first = 0;
		textbuf_str(b, cstore_int64(st, 8) ? "\"activeInApp\":true" : "\"activeInApp\":false");
	}
	if (cstore_text(st, 9)) {
		/* stored by cJSON too, but checked: it comes from a worker */
		cJSON *roles = cJSON_Parse(cstore_text(st, 9));
		char *t = roles ? cJSON_PrintUnformatted(roles) : NULL;
		if (t) {
			textbuf_str(b, first ? "" : ",");
			first = 0;
			textbuf_str(b, "\"appRoles\":");
			textbuf_str(b, t);
		}
		cJSON_free(t);
		cJSON_Delete(roles);
	}
	jt_field(b, &first, "job", cstore_text(st, 10));
	if (cstore_int64(st, 11)) {
		cdb_iso(cstore_int64(st, 11), iso, sizeof(iso));
		jt_field(b, &first, "lastChange", iso);
	}
	/* meta, as scim_meta writes it */
	textbuf_str(b, "},\"meta\":{");
	first = 1;
	jt_field(b, &first, "resourceType", "User");
	if (cstore_int64(st, 3)) {
		cdb_iso(cstore_int64(st, 3), iso, sizeof(iso));
		jt_field(b, &first, "created", iso);
	}
	if (cstore_int64(st, 4)) {
		cdb_iso(cstore_int64(st, 4), iso, sizeof(iso));
		jt_field(b, &first, "lastModified", iso);
	}
	/* "location": base/Users/id, escaped piece by piece (no copy) */
	textbuf_str(b, first ? "\"location\":\"" : ",\"location\":\"");
	first = 0;
	jt_esc(b, x->base);
	textbuf_str(b, "/Users/");
	jt_esc(b, id);
	textbuf_put(b, "\"", 1);
	if ((int)cstore_int64(st, 2)) {
		int n = snprintf(v, sizeof(v), ",\"version\":\"W/\\\"%d\\\"\"", (int)cstore_int64(st, 2));
		textbuf_put(b, v, (size_t)n);
	}
	textbuf_str(b, "}}");
}

static int reply_text(struct scim_ctx *x, int status, struct textbuf *b)
{
	int rc;

	if (b->oom) {
		free(b->p);
		return -1;
	}
	rc = httpd_reply(x->req, status, "application/scim+json", b->p, b->len);
	free(b->p);
	return rc;
}

static int reply_user(struct scim_ctx *x, int status, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT " USER_COLS USER_FROM
				     " WHERE s.integration = ? AND s.id = ?", "tt", x->integ, id);
	struct textbuf b = { 0 };

	if (!st || !cstore_next(st)) {
		struct scim_err e;
		cstore_done(st);
		scim_fail(&e, 404, NULL, "no user \"%s\"", id);
		return scim_reply_err(x->req, &e);
	}
	user_text(x, st, has_groups(x), &b);
	cstore_done(st);
	if (status == 201) {
		char loc[500];
		snprintf(loc, sizeof(loc), "%s/Users/%s", x->base, id);
		httpd_add_header(x->req, "location", loc);
	}
	return reply_text(x, status, &b);
}

/* ------------------------------------------------------------ list */

/*
 * An integration's user ids in listing order, remembered while the store
 * says nothing was written since (cstore_stamp): counting 10,000 index
 * entries for totalResults, and walking startIndex of them for each page,
 * were most of a page's time, and an IdP pages through a listing without
 * writing in between.  Any write at all (a job, a state) makes the next
 * listing read them again, so they are never stale; PostgreSQL, where
 * other processes write, has no stamps: it counts and walks every time.
 */
#define ORDER_MAX 1000000	/* beyond, walk rather than hold the ids */

static struct {
	struct cstore_stamp at;
	char integ[128];
	int valid, n;
	size_t *off;		/* ids[i] = text + off[i] */
	char *text;
} order;

static void order_forget(void)
{
	free(order.off);
	free(order.text);
	memset(&order, 0, sizeof(order));
}

/* The remembered order for x's integration, read again when stale: 0,
 * or -1 when it cannot be kept (the caller counts and walks). */
static int order_load(struct scim_ctx *x)
{
	struct cstore_stamp now;
	struct cstore_rows *st;
	size_t len = 0, cap = 0, ncap = 0;

	if (cstore_in_tx(x->c->store) || cstore_stamp(x->c->store, &now) ||
	    strlen(x->integ) >= sizeof(order.integ))
		return -1;
	if (order.valid && !memcmp(&now, &order.at, sizeof(now)) && !strcmp(order.integ, x->integ))
		return 0;
	order_forget();
	st = cstore_query(x->c->store, "SELECT id FROM scim_users WHERE integration = ? ORDER BY id",
			  "t", x->integ);
	while (st && cstore_next(st)) {
		const char *id = cstore_text(st, 0);
		size_t n = strlen(id) + 1;
		if (order.n == ORDER_MAX)
			goto fail;
		if ((size_t)order.n == ncap) {
			size_t *o = realloc(order.off, (ncap = ncap ? ncap * 2 : 1024) * sizeof(*o));
			if (!o)
				goto fail;
			order.off = o;
		}
		if (len + n > cap) {
			char *t = realloc(order.text, cap = (cap ? cap * 2 : 65536) + n);
			if (!t)
				goto fail;
			order.text = t;
		}
		memcpy(order.text + len, id, n);
		order.off[order.n++] = len;
		len += n;
	}
	if (cstore_failed(st))
		goto fail;
	cstore_done(st);
	st = NULL;
	/* a write since the first stamp (never: one thread): nothing to keep */
	if (cstore_stamp(x->c->store, &order.at) || memcmp(&now, &order.at, sizeof(now)))
		goto fail;
	snprintf(order.integ, sizeof(order.integ), "%s", x->integ);
	order.valid = 1;
	return 0;
fail:
	cstore_done(st);
	order_forget();
	return -1;
}

static const char *order_id(int i)
{
	return order.text + order.off[i];
}

static int list(struct scim_ctx *x)
{
	const char *ftext = httpd_req_query(x->req, "filter");
	struct scim_filter f = { 0 };
	struct scim_err e;
	char where[1200] = " WHERE s.integration = ?", err[300];
	const char *args[SCIM_ARGS_MAX];
	char lc[SCIM_FILTER_MAX_TERMS][SCIM_VALUE_MAX];
	int start, count, nargs = 1, total, items = 0;
	struct cstore_rows *st;
	struct textbuf out = { 0 };
	/* the ListResponse's head goes in front of the users once their
	 * number is known: room for it, and for the server's own headroom,
	 * so the page is written once and sent from where it was written */
	const size_t room = httpd_headroom() + 256;
	size_t head;

	if (scim_paging(x->req, &start, &count, &e))
		return scim_reply_err(x->req, &e);
	args[0] = x->integ;
	if (ftext && scim_filter_parse(ftext, &f, err, sizeof(err))) {
		scim_fail(&e, 400, "invalidFilter", "filter %s: %s", ftext, err);
		return scim_reply_err(x->req, &e);
	}
	for (int i = 0; i < f.n; i++) {
		const char *col = NULL;
		snprintf(lc[i], sizeof(lc[i]), "%s", f.term[i].value);
		switch (f.term[i].attr) {
		case SCIM_F_ID: col = "s.id"; break;
		case SCIM_F_USERNAME: col = "s.user_name_lc"; lower(lc[i]); break;
		case SCIM_F_EXTERNAL_ID: col = "s.external_id"; break;
		case SCIM_F_EMAIL: col = "s.email_lc"; lower(lc[i]); break;
		case SCIM_F_WORK_EMAIL: col = "s.work_email_lc"; lower(lc[i]); break;
		default:
			scim_fail(&e, 400, "invalidFilter", "users cannot be filtered on \"%s\"",
				  scim_fattr_name(f.term[i].attr));
			return scim_reply_err(x->req, &e);
		}
		snprintf(where + strlen(where), sizeof(where) - strlen(where), " AND %s = ?", col);
		args[nargs++] = lc[i];
	}
	{
		char sql[1600], fmt[SCIM_ARGS_MAX + 1];
		int groups, ordered;

		scim_args_fmt(fmt, args, nargs);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM scim_users s%s", where);
		ordered = !f.n && !order_load(x);
		total = ordered ? order.n : (int)cstore_int(x->c->store, 0, sql, fmt,
							    SCIM_ARGS(args));
		if (count > 0 && start <= total) {
			/* a filter's few rows come in its index's order: ORDER BY
			 * would steer SQLite to the primary key and a scan */
			if (f.n) {
				snprintf(sql, sizeof(sql), "SELECT " USER_COLS USER_FROM "%s"
					 " LIMIT %d OFFSET %d", where, count, start - 1);
				st = cstore_query(x->c->store, sql, fmt, SCIM_ARGS(args));
			} else if (ordered) {	/* the remembered order: a range of ids */
				int last = start - 1 + count < total ? start - 1 + count : total;
				st = cstore_query(x->c->store, "SELECT " USER_COLS USER_FROM
					       " WHERE s.integration = ? AND s.id >= ? AND s.id <= ?"
					       " ORDER BY s.id", "ttt", x->integ, order_id(start - 1),
					       order_id(last - 1));
			} else {	/* the offset walks the primary key alone, not the join */
				/* one text for every page: bound, it is prepared once */
				st = cstore_query(x->c->store, "SELECT " USER_COLS " FROM (SELECT id"
					       " FROM scim_users WHERE integration = ? ORDER BY id"
					       " LIMIT ? OFFSET ?) p JOIN scim_users s ON"
					       " s.integration = ? AND s.id = p.id LEFT JOIN users u ON"
					       " u.integration = s.integration AND u.user_key = s.user_key"
					       " ORDER BY s.id", "tnnt", x->integ, count, start - 1,
					       x->integ);
			}
			groups = has_groups(x);
			/* about 1 KB a user, for the users this page has */
			textbuf_grow(&out, room + (size_t)(count < total - start + 1 ? count :
							   total - start + 1) * 1024);
			textbuf_skip(&out, room);
			while (st && cstore_next(st)) {
				textbuf_str(&out, items++ ? "," : "");
				user_text(x, st, groups, &out);
			}
			cstore_done(st);
		}
	}
	/* the ListResponse as scim_list builds it */
	if (!out.len)
		textbuf_skip(&out, room);
	textbuf_str(&out, "]}");
	snprintf(err, sizeof(err), "{\"schemas\":[\"" SCIM_URN_LIST "\"],\"totalResults\":%d,"
		 "\"startIndex\":%d,\"itemsPerPage\":%d,\"Resources\":[", total, start, items);
	head = strlen(err);
	if (out.oom || head > room - httpd_headroom()) {
		free(out.p);
		return -1;
	}
	memcpy(out.p + room - head, err, head);
	return httpd_reply_built(x->req, 200, "application/scim+json", out.p, room - head,
				 out.len - (room - head));
}

/* ------------------------------------------------------------ writes */

/* Another user of the integration already has this userName? */
static int taken(struct scim_ctx *x, const char *user_name, const char *self, char *other,
		 size_t n)
{
	char lc[300];
	struct cstore_rows *st;
	int hit = 0;

	snprintf(lc, sizeof(lc), "%s", user_name);
	lower(lc);
	st = cstore_query(x->c->store, "SELECT id FROM scim_users WHERE integration = ? AND"
		       " user_name_lc = ?", "tt", x->integ, lc);
	if (st && cstore_next(st) &&
	    (!self || strcmp(self, cstore_text(st, 0)))) {
		snprintf(other, n, "%s", cstore_text(st, 0));
		hit = 1;
	}
	cstore_done(st);
	return hit;
}

/* Writes r as user id (new or not) and returns its job view. */
static cJSON *store(struct scim_ctx *x, const char *id, const cJSON *r, int creating)
{
	char *text = cJSON_PrintUnformatted(r);
	char name_lc[300], email[400] = "", work[400] = "";
	const char *e = pick_email(r, 0), *w = pick_email(r, 1), *key;
	int64_t now = cdb_now_ms();
	cJSON *view;
	int rc;

	snprintf(name_lc, sizeof(name_lc), "%s", jstr(r, "userName"));
	lower(name_lc);
	if (e) {
		snprintf(email, sizeof(email), "%s", e);
		lower(email);
	}
	if (w) {
		snprintf(work, sizeof(work), "%s", w);
		lower(work);
	}
	view = view_of(x, id, r);
	key = scim_user_key(view);
	if (creating)
		rc = cstore_exec(x->c->store, "INSERT INTO scim_users (integration, id, user_name, user_name_lc,"
			      " external_id, email_lc, work_email_lc, active, user_key, resource,"
			      " version, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
			      " 1, ?, ?)", "tttttttnttii", x->integ, id, jstr(r, "userName"), name_lc,
			      jstr(r, "externalId"), e ? email : NULL, w ? work : NULL,
			      cJSON_IsTrue(cJSON_GetObjectItem(r, "active")), key, text, now, now);
	else
		rc = cstore_exec(x->c->store, "UPDATE scim_users SET user_name = ?, user_name_lc = ?,"
			      " external_id = ?, email_lc = ?, work_email_lc = ?, active = ?,"
			      " user_key = ?, resource = ?, version = version + 1, updated_ms = ?"
			      " WHERE integration = ? AND id = ?", "tttttnttitt", jstr(r, "userName"),
			      name_lc, jstr(r, "externalId"), e ? email : NULL, w ? work : NULL,
			      cJSON_IsTrue(cJSON_GetObjectItem(r, "active")), key, text, now,
			      x->integ, id);
	cJSON_free(text);
	if (rc) {
		cJSON_Delete(view);
		return NULL;
	}
	return view;
}

/* Store r for id and queue what the change needs, in one transaction: a
 * crash leaves the user and their job, or neither. */
static int commit_user(struct scim_ctx *x, const char *id, const cJSON *r, int creating,
		       struct scim_err *e)
{
	cJSON *before = creating ? NULL : sent_view(x, id), *after;
	char other[80];

	if (taken(x, jstr(r, "userName"), creating ? NULL : id, other, sizeof(other))) {
		cJSON_Delete(before);
		return scim_fail(e, 409, "uniqueness", "userName \"%s\" is taken by user \"%s\" "
				 "(userName compares case-insensitively)", jstr(r, "userName"), other);
	}
	if (cstore_begin(x->c->store)) {
		cJSON_Delete(before);
		return scim_fail(e, 503, NULL, "cannot store user \"%s\" now: %s", jstr(r, "userName"),
				 cstore_errmsg(x->c->store));
	}
	after = store(x, id, r, creating);
	if (!after && cstore_conflict(x->c->store)) {
		/* another coordinator process stored the same userName since
		 * taken() looked: the unique index has the last word */
		cstore_rollback(x->c->store);
		cJSON_Delete(before);
		return scim_fail(e, 409, "uniqueness", "userName \"%s\" is taken (userName compares "
				 "case-insensitively)", jstr(r, "userName"));
	}
	if (!after || scim_jobs_plan(x, before, after, 0) || cstore_commit(x->c->store)) {
		if (cstore_in_tx(x->c->store))
			cstore_rollback(x->c->store);
		cJSON_Delete(before);
		cJSON_Delete(after);
		return scim_fail(e, 500, NULL, "cannot store user \"%s\"", jstr(r, "userName"));
	}
	coord_jobs_added(x->c);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return 0;
}

static int create(struct scim_ctx *x)
{
	struct scim_err e;
	cJSON *body = scim_parse_body(x->req, &e), *r;
	char id[37];

	if (!body)
		return scim_reply_err(x->req, &e);
	r = normalize(body, &e);
	cJSON_Delete(body);
	if (!r)
		return scim_reply_err(x->req, &e);
	scim_new_id(id);
	if (commit_user(x, id, r, 1, &e)) {
		cJSON_Delete(r);
		return scim_reply_err(x->req, &e);
	}
	cJSON_Delete(r);
	return reply_user(x, 201, id);
}

static int replace(struct scim_ctx *x, const char *id)
{
	struct scim_err e;
	cJSON *body, *r;

	if (!cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_users WHERE integration = ? AND id = ?",
		     "tt", x->integ, id)) {
		scim_fail(&e, 404, NULL, "no user \"%s\"", id);
		return scim_reply_err(x->req, &e);
	}
	body = scim_parse_body(x->req, &e);
	if (!body)
		return scim_reply_err(x->req, &e);
	r = normalize(body, &e);
	cJSON_Delete(body);
	if (!r || commit_user(x, id, r, 0, &e)) {
		cJSON_Delete(r);
		return scim_reply_err(x->req, &e);
	}
	cJSON_Delete(r);
	return reply_user(x, 200, id);
}

/* --------------------------------------------------------------- PATCH */

static const char *canon_sub(const char *s)
{
	for (int i = 0; multi_subs[i]; i++)
		if (!strcasecmp(multi_subs[i], s))
			return multi_subs[i];
	for (const struct kind *k = name_subs; k->name; k++)
		if (!strcasecmp(k->name, s))
			return k->name;
	return s;
}

static int str_eq_ci(const cJSON *v, const char *want)
{
	if (cJSON_IsString(v))
		return !strcasecmp(v->valuestring, want);
	if (cJSON_IsBool(v))
		return scim_bool_text(want) == cJSON_IsTrue(v);
	return 0;
}

static cJSON *item_ci(const cJSON *o, const char *k)
{
	cJSON *f;
	cJSON_ArrayForEach(f, o)
		if (!strcasecmp(f->string, k))
			return f;
	return NULL;
}

static void set_item(cJSON *o, const char *k, const cJSON *v)
{
	cJSON *old = item_ci(o, k);
	if (old)
		cJSON_DeleteItemFromObjectCaseSensitive(o, old->string);
	if (v && !cJSON_IsNull(v))
		cJSON_AddItemToObject(o, k, cJSON_Duplicate(v, 1));
}

/* One operation on one path of r (the stored form). */
static int patch_path(cJSON *r, enum scim_op op, const char *ptext, const cJSON *value,
		      struct scim_err *e)
{
	struct scim_path p;
	const struct kind *k;
	cJSON *container = r, *cur;
	char perr[300];
	const char *attr;

	if (scim_path_parse(ptext, &p, perr, sizeof(perr)))
		return scim_fail(e, 400, "invalidPath", "%s", perr);
	if (p.urn[0]) {
		if (!strcasecmp(p.urn, SCIM_URN_IDLCM))
			return scim_fail(e, 400, "mutability", "\"%s\" is read-only: the provisioning "
					 "state comes from the app", ptext);
		if (strcasecmp(p.urn, SCIM_URN_ENTERPRISE))
			return scim_fail(e, 400, "invalidPath", "unknown schema \"%s\" in path \"%s\"",
					 p.urn, ptext);
		k = find(enterprise, p.attr);
		if (!k)
			return scim_fail(e, 400, "invalidPath", "unknown attribute \"%s\" in path \"%s\"",
					 p.attr, ptext);
		container = cJSON_GetObjectItemCaseSensitive(r, SCIM_URN_ENTERPRISE);
		if (!container)
			container = cJSON_AddObjectToObject(r, SCIM_URN_ENTERPRISE);
	} else {
		if (!strcasecmp(p.attr, "id") || !strcasecmp(p.attr, "meta") ||
		    !strcasecmp(p.attr, "groups"))
			return scim_fail(e, 400, "mutability", "\"%s\" is read-only%s", p.attr,
					 strcasecmp(p.attr, "groups") ? "" :
					 ": change membership through /Groups");
		if (!strcasecmp(p.attr, "password"))
			return 0;	/* never kept */
		k = find(core, p.attr);
		if (!k)
			return scim_fail(e, 400, "invalidPath", "unknown attribute \"%s\" in path \"%s\" "
					 "(see /Schemas)", p.attr, ptext);
	}
	attr = k->name;
	cur = cJSON_GetObjectItemCaseSensitive(container, attr);
	if (!p.has_filter && !p.sub[0]) {
		if (op == SCIM_OP_REMOVE) {
			cJSON_DeleteItemFromObjectCaseSensitive(container, attr);
		} else if (op == SCIM_OP_ADD && cJSON_IsArray(cur)) {
			const cJSON *it;
			const cJSON *list = value;
			cJSON *one = NULL;
			if (!cJSON_IsArray(value)) {
				one = cJSON_CreateArray();
				cJSON_AddItemToArray(one, cJSON_Duplicate(value, 1));
				list = one;
			}
			cJSON_ArrayForEach(it, list) {
				int dup = 0;
				cJSON *have;
				cJSON_ArrayForEach(have, cur)
					dup |= cJSON_Compare(have, it, 1);
				if (!dup)
					cJSON_AddItemToArray(cur, cJSON_Duplicate(it, 1));
			}
			cJSON_Delete(one);
		} else {
			set_item(container, attr, value);
		}
		return 0;
	}
	if (!p.has_filter) {	/* attr.sub, e.g. name.givenName */
		if (cur && !cJSON_IsObject(cur))
			return scim_fail(e, 400, "invalidPath", "\"%s\" has no sub-attribute \"%s\"",
					 attr, p.sub);
		if (!cur) {
			if (op == SCIM_OP_REMOVE)
				return 0;
			cur = cJSON_AddObjectToObject(container, attr);
		}
		set_item(cur, canon_sub(p.sub), op == SCIM_OP_REMOVE ? NULL : value);
		return 0;
	}
	/* attr[fattr eq "v"](.sub): emails[type eq "work"].value */
	if (k->kind != 'm')
		return scim_fail(e, 400, "invalidPath", "\"%s\" is not multi-valued: [ ] does not "
				 "apply in path \"%s\"", attr, ptext);
	if (!cur) {
		if (op == SCIM_OP_REMOVE)
			return 0;
		cur = cJSON_AddArrayToObject(container, attr);
	}
	{
		cJSON *el = cur->child, *next;
		int hits = 0;
		for (; el; el = next) {
			next = el->next;
			if (!str_eq_ci(item_ci(el, p.fattr), p.fvalue))
				continue;
			hits++;
			if (op == SCIM_OP_REMOVE && !p.sub[0])
				cJSON_Delete(cJSON_DetachItemViaPointer(cur, el));
			else if (p.sub[0])
				set_item(el, canon_sub(p.sub), op == SCIM_OP_REMOVE ? NULL : value);
			else if (cJSON_IsObject(value)) {
				const cJSON *f;
				cJSON_ArrayForEach(f, value)
					set_item(el, canon_sub(f->string), f);
			}
		}
		if (!hits && op != SCIM_OP_REMOVE) {
			/* Entra replaces emails[type eq "work"].value of a user who has no
			 * work email yet: that adds one */
			cJSON *n = cJSON_IsObject(value) && !p.sub[0] ? cJSON_Duplicate(value, 1) :
				   cJSON_CreateObject();
			cJSON *fv = cJSON_CreateString(p.fvalue);
			set_item(n, canon_sub(p.fattr), fv);
			cJSON_Delete(fv);
			if (p.sub[0])
				set_item(n, canon_sub(p.sub), value);
			cJSON_AddItemToArray(cur, n);
		}
	}
	return 0;
}

static int apply_op(cJSON *r, int i, const cJSON *op, struct scim_err *e)
{
	const char *name = jstr(op, "op"), *path = jstr(op, "path");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value"), *f;
	enum scim_op o;

	if (!cJSON_IsObject(op))
		return scim_fail(e, 400, "invalidSyntax", "Operations[%d] must be an object", i);
	if (!name)
		return scim_fail(e, 400, "invalidSyntax", "Operations[%d] has no \"op\"", i);
	o = scim_op_parse(name);
	if (!o)
		return scim_fail(e, 400, "invalidSyntax", "Operations[%d]: unknown op \"%s\" (use add, "
				 "remove or replace)", i, name);
	if (cJSON_GetObjectItemCaseSensitive(op, "path") && !path)
		return scim_fail(e, 400, "invalidPath", "Operations[%d]: \"path\" must be a string", i);
	if (o != SCIM_OP_REMOVE && !value)
		return scim_fail(e, 400, "invalidValue", "Operations[%d]: %s needs a \"value\"", i, name);
	if (path) {
		if (patch_path(r, o, path, value, e)) {
			char d[sizeof(e->detail)];
			snprintf(d, sizeof(d), "%s", e->detail);
			snprintf(e->detail, sizeof(e->detail), "Operations[%d]: %.360s", i, d);
			return -1;
		}
		return 0;
	}
	if (o == SCIM_OP_REMOVE)
		return scim_fail(e, 400, "noTarget", "Operations[%d]: remove needs a \"path\"", i);
	if (!cJSON_IsObject(value))
		return scim_fail(e, 400, "invalidValue", "Operations[%d]: without a \"path\", \"value\" "
				 "must be an object of attributes", i);
	/* Okta: {"op":"replace","value":{"active":false}}; keys may be paths
	 * themselves ("name.givenName") or an extension's URN */
	cJSON_ArrayForEach(f, value) {
		int rc;
		if (!strcasecmp(f->string, SCIM_URN_ENTERPRISE) && cJSON_IsObject(f)) {
			const cJSON *s;
			cJSON_ArrayForEach(s, f) {
				char p[300];
				snprintf(p, sizeof(p), "%s:%s", SCIM_URN_ENTERPRISE, s->string);
				if (patch_path(r, o, p, s, e))
					goto fail;
			}
			continue;
		}
		if (!strcasecmp(f->string, "schemas") || !strcasecmp(f->string, "id") ||
		    !strcasecmp(f->string, "meta"))
			continue;
		rc = patch_path(r, o, f->string, f, e);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	{
		char d[sizeof(e->detail)];
		snprintf(d, sizeof(d), "%s", e->detail);
		snprintf(e->detail, sizeof(e->detail), "Operations[%d]: %.360s", i, d);
	}
	return -1;
}

/* "Operations", or "operations": attribute names are case-insensitive
 * (RFC 7643 §2.1) */
const cJSON *scim_patch_ops(const cJSON *body)
{
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(body, "Operations");
	return ops ? ops : cJSON_GetObjectItem(body, "operations");
}

int scim_check_patch_body(const cJSON *body, struct scim_err *e)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(body, "schemas"), *s;
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(body, "Operations");
	int ok = !sc;

	cJSON_ArrayForEach(s, sc)
		ok |= cJSON_IsString(s) && !strcasecmp(s->valuestring, SCIM_URN_PATCH);
	if (!ok)
		return scim_fail(e, 400, "invalidSyntax", "a PATCH body's \"schemas\" must hold "
				 SCIM_URN_PATCH);
	if (!ops)
		ops = scim_patch_ops(body);
	if (!cJSON_IsArray(ops) || !cJSON_GetArraySize(ops))
		return scim_fail(e, 400, "invalidSyntax", "a PATCH body needs \"Operations\": a "
				 "non-empty array");
	return 0;
}

static int patch(struct scim_ctx *x, const char *id)
{
	struct scim_err e;
	cJSON *body, *r, *n = NULL;
	const cJSON *op;
	int i = 0;

	r = load_resource(x, id);
	if (!r) {
		scim_fail(&e, 404, NULL, "no user \"%s\"", id);
		return scim_reply_err(x->req, &e);
	}
	body = scim_parse_body(x->req, &e);
	if (!body || scim_check_patch_body(body, &e))
		goto fail;
	cJSON_ArrayForEach(op, scim_patch_ops(body)) {
		if (apply_op(r, i, op, &e))
			goto fail;
		i++;
	}
	/* the result is checked as a PUT body would be: types, Entra's
	 * "False", a userName left */
	n = normalize(r, &e);
	if (!n || commit_user(x, id, n, 0, &e))
		goto fail;
	cJSON_Delete(body);
	cJSON_Delete(r);
	cJSON_Delete(n);
	return reply_user(x, 200, id);
fail:
	cJSON_Delete(body);
	cJSON_Delete(r);
	cJSON_Delete(n);
	return scim_reply_err(x->req, &e);
}

static int delete(struct scim_ctx *x, const char *id)
{
	struct scim_err e;
	cJSON *before = sent_view(x, id);

	if (!before && !cstore_int(x->c->store, 0, "SELECT count(*) FROM scim_users WHERE"
				" integration = ? AND id = ?", "tt", x->integ, id)) {
		scim_fail(&e, 404, NULL, "no user \"%s\"", id);
		return scim_reply_err(x->req, &e);
	}
	if (!before)
		before = scim_user_view(x, id);
	if (cstore_begin(x->c->store)) {
		cJSON_Delete(before);
		scim_fail(&e, 503, NULL, "cannot delete user \"%s\" now: %s", id,
			  cstore_errmsg(x->c->store));
		return scim_reply_err(x->req, &e);
	}
	cstore_exec(x->c->store, "DELETE FROM scim_members WHERE integration = ? AND user_id = ?", "tt",
		 x->integ, id);
	cstore_exec(x->c->store, "DELETE FROM scim_users WHERE integration = ? AND id = ?", "tt",
		 x->integ, id);
	if (scim_jobs_plan(x, before, NULL, 1) || cstore_commit(x->c->store)) {
		if (cstore_in_tx(x->c->store))
			cstore_rollback(x->c->store);
		cJSON_Delete(before);
		scim_fail(&e, 500, NULL, "cannot queue the removal of user \"%s\"", id);
		return scim_reply_err(x->req, &e);
	}
	coord_jobs_added(x->c);
	cJSON_Delete(before);
	return scim_reply(x->req, 204, NULL);
}

int scim_users(struct scim_ctx *x, const char *rest)
{
	enum httpd_method m = httpd_req_method(x->req);
	struct scim_err e;

	if (!*rest) {
		if (m == HTTPD_GET)
			return list(x);
		if (m == HTTPD_POST)
			return create(x);
		scim_fail(&e, 405, NULL, "use GET or POST on /Users");
		return scim_reply_err(x->req, &e);
	}
	if (strchr(rest, '/') || strlen(rest) > 64) {
		scim_fail(&e, 404, NULL, "no user \"%s\"", rest);
		return scim_reply_err(x->req, &e);
	}
	switch (m) {
	case HTTPD_GET:
		return reply_user(x, 200, rest);
	case HTTPD_PUT:
		return replace(x, rest);
	case HTTPD_PATCH:
		return patch(x, rest);
	case HTTPD_DELETE:
		return delete(x, rest);
	default:
		scim_fail(&e, 405, NULL, "use GET, PUT, PATCH or DELETE on /Users/{id}");
		return scim_reply_err(x->req, &e);
	}
}

/* Groups change roles: the groups module asks for each member's plan. */
int scim_user_regroup(struct scim_ctx *x, const char *id)
{
	cJSON *before = sent_view(x, id), *after = scim_user_view(x, id);
	int rc = 0;

	if (after)
		rc = scim_jobs_plan(x, before, after, 0);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return rc;
}

int scim_resync_all(struct coord *c, const char *integ)
{
	struct scim_ctx x = { .c = c, .integ = integ };
	struct cstore_rows *st = cstore_query(c->store, "SELECT app, deactivate_mode FROM integrations"
				     " WHERE id = ?", "t", integ);
	int rc = 0;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return -1;
	}
	snprintf(x.app, sizeof(x.app), "%s", cstore_text(st, 0));
	snprintf(x.deactivate_mode, sizeof(x.deactivate_mode), "%s",
		 cstore_text(st, 1));
	cstore_done(st);
	st = cstore_query(c->store, "SELECT id FROM scim_users WHERE integration = ?", "t", integ);
	while (!rc && st && cstore_next(st)) {
		char id[80];
		snprintf(id, sizeof(id), "%s", cstore_text(st, 0));
		rc = scim_user_regroup(&x, id);
	}
	cstore_done(st);
	return rc;
}
