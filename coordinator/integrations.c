/*
 * Integrations as first-class objects: create / list / show / change /
 * delete, the SCIM bearer token (shown once, kept as a SHA-256 hash,
 * rotated on demand) and the group -> role mapping, over HTTP for an admin
 * and from `idlcm-coordinator integration …` on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "httpd.h"
#include "scim.h"

#define TOKEN_PREFIX "idlcm_scim_"

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int token_hash(const char *tok, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (!EVP_Digest(tok, strlen(tok), md, &len, EVP_sha256(), NULL) || len != 32)
		return -1;
	hex(md, 32, out);
	return 0;
}

static int token_new(char out[80])
{
	unsigned char b[32];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	memcpy(out, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
	hex(b, sizeof(b), out + sizeof(TOKEN_PREFIX) - 1);
	return 0;
}

int integ_token_ok(struct coord *c, const char *integ, const char *token)
{
	/* an unknown integration compares against a hash nobody has, so the
	 * answer takes the same time either way */
	char want[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	char got[65] = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
	struct cstore_rows *st;
	int known = 0;

	if (coord_valid_name(integ)) {
		st = cstore_query(c->store, "SELECT scim_token_hash FROM integrations WHERE id = ?", "t",
			       integ);
		if (st && cstore_next(st) && cstore_text(st, 0) && strlen(cstore_text(st, 0)) == 64) {
			memcpy(want, cstore_text(st, 0), 64);
			known = 1;
		}
		cstore_done(st);
	}
	if (!token || token_hash(token, got))
		return 0;
	return CRYPTO_memcmp(want, got, 64) == 0 && known;
}

/* ------------------------------------------------------------ checks */

static int check_roles(const cJSON *v, const char *what, char *err, size_t n)
{
	const cJSON *r;
	if (!cJSON_IsArray(v))
		return snprintf(err, n, "\"%s\" must be an array of role names", what), -1;
	cJSON_ArrayForEach(r, v)
		if (!cJSON_IsString(r) || !*r->valuestring)
			return snprintf(err, n, "\"%s\" must be an array of role names", what), -1;
	return 0;
}

/* role_mapping: {"<IdP group displayName>": "role" | ["role", …]} */
static int check_mapping(const cJSON *m, char *err, size_t n)
{
	const cJSON *g;
	if (!cJSON_IsObject(m))
		return snprintf(err, n, "\"role_mapping\" must be an object of group name -> role "
				"or [roles]"), -1;
	cJSON_ArrayForEach(g, m) {
		char what[200];
		if (cJSON_IsString(g) && *g->valuestring)
			continue;
		snprintf(what, sizeof(what), "role_mapping.%s", g->string);
		if (check_roles(g, what, err, n))
			return -1;
	}
	return 0;
}

static int check_body(const cJSON *b, int creating, char *err, size_t n)
{
	static const char *const known[] = { "id", "app", "account", "role_mapping",
					     "deactivate_mode", "default_roles", "correct_drift",
					     "validate", NULL };
	const cJSON *f, *v;
	const char *dm;

	if (!cJSON_IsObject(b))
		return snprintf(err, n, "body must be a JSON object"), -1;
	cJSON_ArrayForEach(f, b) {
		int ok = 0;
		for (int i = 0; known[i]; i++)
			ok |= !strcmp(f->string, known[i]);
		if (!ok)
			return snprintf(err, n, "unknown field \"%s\" (known: id, app, account, "
					"role_mapping, deactivate_mode, default_roles, correct_drift, validate)",
					f->string), -1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "validate")) && !cJSON_IsBool(v))
		return snprintf(err, n, "\"validate\" must be true or false"), -1;
	if (!creating && v)
		return snprintf(err, n, "\"validate\" is for a new integration (run a health "
				"check to validate one that exists)"), -1;
	if (creating && !coord_valid_name(jstr(b, "id")))
		return snprintf(err, n, "\"id\" must be " COORD_NAME_RULE), -1;
	if (!creating && cJSON_GetObjectItemCaseSensitive(b, "id"))
		return snprintf(err, n, "\"id\" cannot change"), -1;
	if ((creating || cJSON_GetObjectItemCaseSensitive(b, "app")) && !coord_valid_name(jstr(b, "app")))
		return snprintf(err, n, "\"app\" must be " COORD_NAME_RULE), -1;
	v = cJSON_GetObjectItemCaseSensitive(b, "account");
	if (v && !cJSON_IsObject(v))
		return snprintf(err, n, "\"account\" must be an object"), -1;
	v = cJSON_GetObjectItemCaseSensitive(b, "role_mapping");
	if (v && check_mapping(v, err, n))
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(b, "default_roles");
	if (v && check_roles(v, "default_roles", err, n))
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(b, "correct_drift");
	if (v && !cJSON_IsBool(v))
		return snprintf(err, n, "\"correct_drift\" must be true (a sync that finds a "
				"user's roles differ from the IdP's queues an update) or false"), -1;
	v = cJSON_GetObjectItemCaseSensitive(b, "deactivate_mode");
	dm = jstr(b, "deactivate_mode");
	if (v && (!dm || (strcmp(dm, "remove") && strcmp(dm, "deactivate"))))
		return snprintf(err, n, "\"deactivate_mode\" must be \"remove\" (active=false removes "
				"the user from the app) or \"deactivate\" (an update job with "
				"active=false)"), -1;
	return 0;
}

/* ------------------------------------------------------------ store */

static void store_mapping(struct coord *c, const char *id, const cJSON *m)
{
	const cJSON *g, *r;

	cstore_exec(c->store, "DELETE FROM role_mappings WHERE integration = ?", "t", id);
	cJSON_ArrayForEach(g, m) {
		if (cJSON_IsString(g)) {
			cstore_exec(c->store, "INSERT INTO role_mappings (integration, group_name, role)"
				 " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "ttt", id, g->string,
				 g->valuestring);
			continue;
		}
		cJSON_ArrayForEach(r, g)
			cstore_exec(c->store, "INSERT INTO role_mappings (integration, group_name, role)"
				 " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "ttt", id, g->string,
				 r->valuestring);
	}
}

static void store_fields(struct coord *c, const char *id, const cJSON *b)
{
	const cJSON *v;

	if (jstr(b, "app"))
		cstore_exec(c->store, "UPDATE integrations SET app = ? WHERE id = ?", "tt", jstr(b, "app"), id);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "account"))) {
		char *a = coord_account_seal(id, v);
		cstore_exec(c->store, "UPDATE integrations SET account = ? WHERE id = ?", "tt", a, id);
		cJSON_free(a);
	}
	if (jstr(b, "deactivate_mode"))
		cstore_exec(c->store, "UPDATE integrations SET deactivate_mode = ? WHERE id = ?", "tt",
			 jstr(b, "deactivate_mode"), id);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "default_roles"))) {
		char *a = cJSON_PrintUnformatted(v);
		cstore_exec(c->store, "UPDATE integrations SET default_roles = ? WHERE id = ?", "tt", a, id);
		cJSON_free(a);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "role_mapping")))
		store_mapping(c, id, v);
	if (cJSON_IsBool(v = cJSON_GetObjectItemCaseSensitive(b, "correct_drift")))
		cstore_exec(c->store, "UPDATE integrations SET correct_drift = ? WHERE id = ?", "nt",
			 cJSON_IsTrue(v) ? 1 : 0, id);
}

static void scim_url(const char *base, const char *id, char *out, size_t n)
{
	if (base && *base)
		snprintf(out, n, "%s/scim/v2/%s", base, id);
	else
		snprintf(out, n, "/scim/v2/%s", id);
}

/* {id, scim_url, scim_token}: a fresh token replaces the stored hash. */
static cJSON *issue_token(struct coord *c, const char *id, const char *base, char *err, size_t n)
{
	char tok[80], h[65], url[400];
	cJSON *out;

	if (token_new(tok) || token_hash(tok, h)) {
		snprintf(err, n, "cannot make a random token (libcrypto)");
		return NULL;
	}
	if (cstore_exec(c->store, "UPDATE integrations SET scim_token_hash = ?, updated_ms = ? WHERE id = ?",
		     "tit", h, cdb_now_ms(), id)) {
		snprintf(err, n, "cannot store the token of integration \"%s\"", id);
		return NULL;
	}
	scim_url(base, id, url, sizeof(url));
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", id);
	cJSON_AddStringToObject(out, "scim_url", url);
	cJSON_AddStringToObject(out, "scim_token", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return out;
}

static int exists(struct coord *c, const char *id)
{
	return cstore_int(c->store, 0, "SELECT count(*) FROM integrations WHERE id = ?", "t", id) > 0;
}

/* The core of POST /v1/integrations and `integration add`: an HTTP
 * status, *out the answer. */
static int integ_create(struct coord *c, const cJSON *b, const char *base, cJSON **out,
			char *err, size_t n)
{
	const char *id = jstr(b, "id");
	int64_t now = cdb_now_ms();

	if (check_body(b, 1, err, n))
		return 400;
	if (exists(c, id))
		return snprintf(err, n, "integration \"%s\" exists already (PATCH it, or "
				"rotate its token)", id), 409;
	if (cstore_begin(c->store))
		return snprintf(err, n, "cannot store integration \"%s\" now: %s", id,
				cstore_errmsg(c->store)), 503;
	if (cstore_exec(c->store, "INSERT INTO integrations (id, app, updated_ms, created_ms)"
		     " VALUES (?, ?, ?, ?)", "ttii", id, jstr(b, "app"), now, now)) {
		/* another coordinator process made it since exists() looked */
		int conflict = cstore_conflict(c->store);
		cstore_rollback(c->store);
		if (conflict)
			return snprintf(err, n, "integration \"%s\" exists already (PATCH it, or "
					"rotate its token)", id), 409;
		return snprintf(err, n, "cannot store integration \"%s\"", id), 500;
	}
	store_fields(c, id, b);
	*out = issue_token(c, id, base, err, n);
	if (!*out) {
		cstore_rollback(c->store);
		return 500;
	}
	cJSON_AddStringToObject(*out, "app", jstr(b, "app"));
	if (cstore_commit(c->store)) {
		cJSON_Delete(*out);
		*out = NULL;
		return snprintf(err, n, "cannot store integration \"%s\"", id), 500;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "validate")) &&
	    validation_begin(c, id, jstr(b, "app"), err, n)) {
		cJSON_Delete(*out);
		*out = NULL;
		return 500;
	}
	return 201;
}

static int integ_patch(struct coord *c, const char *id, const cJSON *b, char *err, size_t n)
{
	int remap;

	if (!exists(c, id))
		return snprintf(err, n, "no integration \"%s\"", id), 404;
	if (check_body(b, 0, err, n))
		return 400;
	remap = cJSON_GetObjectItemCaseSensitive(b, "role_mapping") ||
		cJSON_GetObjectItemCaseSensitive(b, "default_roles");
	if (cstore_begin(c->store))
		return snprintf(err, n, "cannot change integration \"%s\" now: %s", id,
				cstore_errmsg(c->store)), 503;
	store_fields(c, id, b);
	cstore_exec(c->store, "UPDATE integrations SET updated_ms = ? WHERE id = ?", "it", cdb_now_ms(), id);
	/* a new mapping changes users' roles: each changed user gets an update */
	if (remap && scim_resync_all(c, id)) {
		cstore_rollback(c->store);
		return snprintf(err, n, "cannot queue the updates the new mapping needs"), 500;
	}
	if (cstore_commit(c->store))
		return snprintf(err, n, "cannot change integration \"%s\"", id), 500;
	if (remap)
		coord_jobs_added(c);
	return 200;
}

static int integ_delete(struct coord *c, const char *id, char *err, size_t n)
{
	int64_t running;
	static const char *const tables[] = { "scim_members", "scim_groups", "scim_users",
					      "role_mappings", "users", NULL };

	if (!exists(c, id))
		return snprintf(err, n, "no integration \"%s\"", id), 404;
	running = cstore_int(c->store, 0, "SELECT count(*) FROM jobs WHERE integration = ? AND"
			  " status = 'running'", "t", id);
	if (running)
		return snprintf(err, n, "integration \"%s\" has %lld running job(s): wait for them "
				"to finish", id, (long long)running), 409;
	if (cstore_begin(c->store))
		return snprintf(err, n, "cannot delete integration \"%s\" now: %s", id,
				cstore_errmsg(c->store)), 503;
	for (int i = 0; tables[i]; i++) {
		char sql[120];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE integration = ?", tables[i]);
		cstore_exec(c->store, sql, "t", id);
	}
	/* finished jobs stay as history; queued ones have nothing to act for */
	cstore_exec(c->store, "DELETE FROM jobs WHERE integration = ? AND status = 'queued'", "t", id);
	cstore_exec(c->store, "DELETE FROM integrations WHERE id = ?", "t", id);
	if (cstore_commit(c->store))
		return snprintf(err, n, "cannot delete integration \"%s\"", id), 500;
	return 204;
}

/* The account without its secrets: an admin reads where, not how. */
static cJSON *account_public(const char *text)
{
	static const char *const secret[] = { "password", "totp_secret", "secret", "token", NULL };
	cJSON *a = text ? cJSON_Parse(text) : NULL;

	for (int i = 0; a && secret[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(a, secret[i])) {
			cJSON_DeleteItemFromObjectCaseSensitive(a, secret[i]);
			cJSON_AddStringToObject(a, secret[i], "(set)");
		}
	return a;
}

void integ_describe_into(struct coord *c, const char *id, cJSON *out)
{
	/* 0/1, not "IS NOT NULL": PostgreSQL would answer a boolean */
	struct cstore_rows *st = cstore_query(c->store, "SELECT deactivate_mode, default_roles, created_ms,"
				     " scim_seen_ms, CASE WHEN scim_token_hash IS NULL THEN 0 ELSE 1 END,"
				     " account, correct_drift FROM integrations WHERE id = ?", "t", id);
	cJSON *m, *v;
	char url[200], iso[40];

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return;
	}
	scim_url(NULL, id, url, sizeof(url));
	cJSON_AddStringToObject(out, "scim_path", url);
	cJSON_AddBoolToObject(out, "scim_token_set", (int)cstore_int64(st, 4));
	cJSON_AddStringToObject(out, "deactivate_mode", cstore_text(st, 0));
	cJSON_AddBoolToObject(out, "correct_drift", (int)cstore_int64(st, 6));
	v = cstore_text(st, 1) ? cJSON_Parse(cstore_text(st, 1)) : NULL;
	cJSON_AddItemToObject(out, "default_roles", v ? v : cJSON_CreateArray());
	if (cstore_int64(st, 2)) {
		cdb_iso(cstore_int64(st, 2), iso, sizeof(iso));
		cJSON_AddStringToObject(out, "created", iso);
	}
	if (cstore_int64(st, 3)) {
		cdb_iso(cstore_int64(st, 3), iso, sizeof(iso));
		cJSON_AddStringToObject(out, "scim_last_call", iso);
	} else {
		cJSON_AddNullToObject(out, "scim_last_call");
	}
	if (!cJSON_GetObjectItem(out, "account")) {
		v = account_public(cstore_text(st, 5));
		cJSON_AddItemToObject(out, "account", v ? v : cJSON_CreateNull());
	}
	cstore_done(st);
	m = cJSON_AddObjectToObject(out, "role_mapping");
	st = cstore_query(c->store, "SELECT group_name, role FROM role_mappings WHERE integration = ?"
		       " ORDER BY group_name, role", "t", id);
	while (st && cstore_next(st)) {
		const char *g = cstore_text(st, 0);
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, g);
		if (!arr)
			arr = cJSON_AddArrayToObject(m, g);
		cJSON_AddItemToArray(arr, cJSON_CreateString(cstore_text(st, 1)));
	}
	cstore_done(st);
	cJSON_AddNumberToObject(out, "scim_users", (double)cstore_int(c->store, 0,
				"SELECT count(*) FROM scim_users WHERE integration = ?", "t", id));
	cJSON_AddNumberToObject(out, "scim_groups", (double)cstore_int(c->store, 0,
				"SELECT count(*) FROM scim_groups WHERE integration = ?", "t", id));
}

static cJSON *describe(struct coord *c, const char *id)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT app, status, detail, updated_ms FROM integrations"
				     " WHERE id = ?", "t", id);
	cJSON *o;
	char iso[40];

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return NULL;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "app", cstore_text(st, 0));
	cJSON_AddStringToObject(o, "status", cstore_text(st, 1));
	if (cstore_text(st, 2))
		cJSON_AddStringToObject(o, "detail", cstore_text(st, 2));
	else
		cJSON_AddNullToObject(o, "detail");
	cdb_iso(cstore_int64(st, 3), iso, sizeof(iso));
	cJSON_AddStringToObject(o, "updated", iso);
	cstore_done(st);
	integ_describe_into(c, id, o);
	return o;
}

static cJSON *list_all(struct coord *c)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT id FROM integrations ORDER BY id", NULL);
	cJSON *out = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(out, "integrations");

	while (st && cstore_next(st)) {
		cJSON *o = describe(c, cstore_text(st, 0));
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	cstore_done(st);
	return out;
}

cJSON *integ_roles_for(struct coord *c, const char *integ, const cJSON *group_names,
		       const cJSON *direct_roles)
{
	cJSON *out = cJSON_CreateArray(), *g;
	const cJSON *r;
	struct cstore_rows *st;
	int n;

	/* collect into a temporary ordered set via SQL would need a temp
	 * table; the lists are short, so a linear de-dup does */
	cJSON_ArrayForEach(r, direct_roles)
		if (cJSON_IsString(r)) {
			int dup = 0;
			cJSON *e;
			cJSON_ArrayForEach(e, out)
				dup |= !strcmp(e->valuestring, r->valuestring);
			if (!dup)
				cJSON_AddItemToArray(out, cJSON_CreateString(r->valuestring));
		}
	cJSON_ArrayForEach(g, (cJSON *)group_names) {
		if (!cJSON_IsString(g))
			continue;
		st = cstore_query(c->store, "SELECT role FROM role_mappings WHERE integration = ? AND"
			       " group_name = ?", "tt", integ, g->valuestring);
		while (st && cstore_next(st)) {
			const char *role = cstore_text(st, 0);
			int dup = 0;
			cJSON *e;
			cJSON_ArrayForEach(e, out)
				dup |= !strcmp(e->valuestring, role);
			if (!dup)
				cJSON_AddItemToArray(out, cJSON_CreateString(role));
		}
		cstore_done(st);
	}
	if (!cJSON_GetArraySize(out)) {
		st = cstore_query(c->store, "SELECT default_roles FROM integrations WHERE id = ?", "t", integ);
		if (st && cstore_next(st) && cstore_text(st, 0)) {
			cJSON *d = cJSON_Parse(cstore_text(st, 0));
			if (cJSON_IsArray(d)) {
				cJSON_Delete(out);
				out = d;
				d = NULL;
			}
			cJSON_Delete(d);
		}
		cstore_done(st);
	}
	/* sorted, so that the same roles compare equal whatever their order */
	n = cJSON_GetArraySize(out);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0; j--) {
			cJSON *a = cJSON_GetArrayItem(out, j - 1), *b = cJSON_GetArrayItem(out, j);
			if (strcmp(a->valuestring, b->valuestring) <= 0)
				break;
			cJSON_DetachItemViaPointer(out, b);
			cJSON_InsertItemInArray(out, j - 1, b);
		}
	return out;
}

/* ------------------------------------------------------------ HTTP */

static void base_url(struct httpd_req *req, char *out, size_t n)
{
	const char *host = httpd_req_header(req, "host");
	const char *proto = httpd_req_header(req, "x-forwarded-proto");

	snprintf(out, n, "%s://%s", proto && !strcmp(proto, "https") ? "https" : "http",
		 host ? host : "127.0.0.1");
}

static int reply(struct httpd_req *req, int status, cJSON *out, const char *err)
{
	if (status >= 400)
		return httpd_reply_error(req, status, "integrations: %s", err);
	httpd_reply_json(req, status, status == 204 ? NULL : out);
	cJSON_Delete(out);
	return 0;
}

/* /v1/integrations: POST, GET; /v1/integrations/{id}: PATCH, DELETE;
 * /v1/integrations/{id}/rotate-token: POST.  GET /v1/integrations/{id}
 * stays with api.c, which adds integ_describe_into's fields. */
static int h_integ(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *rest = httpd_req_rest(req), *slash, *jerr;
	enum httpd_method m = httpd_req_method(req);
	char id[80], err[400] = "", base[300];
	cJSON *b, *out = NULL;
	int status;

	if (!coord_authorized(c, req))
		return 0;
	base_url(req, base, sizeof(base));
	if (!*rest) {
		if (m == HTTPD_GET)
			return reply(req, 200, list_all(c), NULL);
		if (m != HTTPD_POST)
			return httpd_reply_error(req, 405, "use GET or POST on /v1/integrations");
		b = httpd_req_json(req, &jerr);
		if (!b)
			return httpd_reply_error(req, 400, "integrations: %s", jerr);
		status = integ_create(c, b, base, &out, err, sizeof(err));
		return reply(req, status, out, err);
	}
	slash = strchr(rest, '/');
	snprintf(id, sizeof(id), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	if (!coord_valid_name(id))
		return httpd_reply_error(req, 404, "no integration \"%s\"", id);
	if (slash) {
		if (strcmp(slash, "/rotate-token") || m != HTTPD_POST)
			return httpd_reply_error(req, 404, "no route for %s \"%s\"",
						 httpd_req_method_name(req), httpd_req_path(req));
		if (!exists(c, id))
			return httpd_reply_error(req, 404, "no integration \"%s\"", id);
		out = issue_token(c, id, base, err, sizeof(err));
		return reply(req, out ? 200 : 500, out, err);
	}
	if (m == HTTPD_DELETE)
		return reply(req, integ_delete(c, id, err, sizeof(err)), NULL, err);
	if (m != HTTPD_PATCH)
		return httpd_reply_error(req, 405, "use GET, PATCH or DELETE on /v1/integrations/{id}");
	b = httpd_req_json(req, &jerr);
	if (!b)
		return httpd_reply_error(req, 400, "integrations: %s", jerr);
	status = integ_patch(c, id, b, err, sizeof(err));
	if (status >= 400)
		return reply(req, status, NULL, err);
	return reply(req, 200, describe(c, id), NULL);
}

int integ_routes(struct coord *c)
{
	return httpd_route(c->h, HTTPD_GET | HTTPD_POST | HTTPD_PATCH | HTTPD_DELETE,
			   "/v1/integrations", h_integ, c);
}

/* ------------------------------------------------------------ CLI */

static void cli_usage(FILE *f)
{
	fputs("usage: idlcm-coordinator integration add ID --app APP --db FILE [--account JSON|@FILE]\n"
	      "                    [--role-mapping JSON] [--default-roles JSON]\n"
	      "                    [--deactivate-mode remove|deactivate] [--base-url URL]\n"
	      "                    [--validate true]   (the first integration of its app is\n"
	      "                    validated first: \"under validation\", a validate job)\n"
	      "       idlcm-coordinator integration list --db FILE\n"
	      "       idlcm-coordinator integration show ID --db FILE\n"
	      "       idlcm-coordinator integration set ID --db FILE [the options of add]\n"
	      "       idlcm-coordinator integration rotate-token ID --db FILE [--base-url URL]\n"
	      "       idlcm-coordinator integration delete ID --db FILE\n"
	      "\n"
	      "add and rotate-token print the SCIM token once; only its hash is kept.\n"
	      "--db takes the coordinator's SQLite file or its postgres:// URL; with a URL,\n"
	      "--key-file F names the key sealing account secrets (as for the server).\n", f);
}

static cJSON *json_arg(const char *opt, const char *v, char *err, size_t n)
{
	cJSON *j = NULL;
	char *text = NULL;

	if (v[0] == '@') {
		FILE *f = fopen(v + 1, "r");
		long len;
		if (!f) {
			snprintf(err, n, "%s: cannot read \"%s\"", opt, v + 1);
			return NULL;
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		text = len >= 0 ? calloc(1, (size_t)len + 1) : NULL;
		if (text && fread(text, 1, (size_t)len, f) != (size_t)len) {
			free(text);
			text = NULL;
		}
		fclose(f);
		v = text ? text : "";
	}
	j = cJSON_Parse(v);
	if (!j)
		snprintf(err, n, "%s: not valid JSON", opt);
	free(text);
	return j;
}

static void print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);
	if (s)
		printf("%s\n", s);
	cJSON_free(s);
}

int integ_cli(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL, *dbpath = NULL, *id = NULL, *base = NULL;
	const char *key_file = NULL;
	struct coord c = { 0 };
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	char err[600] = "";
	int rc = 2, status = 0;

	if (!verb || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		cli_usage(verb ? stdout : stderr);
		cJSON_Delete(body);
		return verb ? 0 : 2;
	}
	if (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "show") &&
	    strcmp(verb, "set") && strcmp(verb, "rotate-token") && strcmp(verb, "delete")) {
		fprintf(stderr, "idlcm-coordinator: unknown integration command \"%s\"\n\n", verb);
		cli_usage(stderr);
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		static const struct { const char *opt, *field; int json; } opts[] = {
			{ "--app", "app", 0 }, { "--account", "account", 1 },
			{ "--role-mapping", "role_mapping", 1 }, { "--default-roles", "default_roles", 1 },
			{ "--deactivate-mode", "deactivate_mode", 0 },
			{ "--validate", "validate", 1 },
		};
		int used = 0;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_usage(stdout);
			cJSON_Delete(body);
			return 0;
		}
		if (!strcmp(a, "--db") && v) {
			dbpath = v;
			i++;
			continue;
		}
		if (!strcmp(a, "--key-file") && v) {
			key_file = v;
			i++;
			continue;
		}
		if (!strcmp(a, "--base-url") && v) {
			base = v;
			i++;
			continue;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			cJSON *j;
			if (strcmp(a, opts[k].opt))
				continue;
			if (!v) {
				fprintf(stderr, "idlcm-coordinator: %s needs a value\n", a);
				goto out;
			}
			j = opts[k].json ? json_arg(a, v, err, sizeof(err)) : cJSON_CreateString(v);
			if (!j) {
				fprintf(stderr, "idlcm-coordinator: %s\n", err);
				goto out;
			}
			cJSON_AddItemToObject(body, opts[k].field, j);
			used = 1;
			i++;
		}
		if (used)
			continue;
		if (a[0] != '-' && !id) {
			id = a;
			continue;
		}
		fprintf(stderr, "idlcm-coordinator: integration %s: unknown or incomplete option "
			"\"%s\"\n\n", verb, a);
		cli_usage(stderr);
		goto out;
	}
	if (!dbpath) {
		fprintf(stderr, "idlcm-coordinator: integration %s needs --db FILE\n", verb);
		goto out;
	}
	if (strcmp(verb, "list") && !id) {
		fprintf(stderr, "idlcm-coordinator: integration %s needs an integration ID\n", verb);
		goto out;
	}
	if (!key_file && getenv("IDLCM_COORDINATOR_KEY_FILE") && *getenv("IDLCM_COORDINATOR_KEY_FILE"))
		key_file = getenv("IDLCM_COORDINATOR_KEY_FILE");
	if (cstore_is_url(dbpath) && !key_file) {
		/* a URL has no directory to keep "<db>.key" in */
		fprintf(stderr, "idlcm-coordinator: integration %s: --db URL needs --key-file F (the "
			"key the server seals account secrets with)\n", verb);
		goto out;
	}
	if (coord_store_open(&c, dbpath, err, sizeof(err)) ||
	    coord_sealing_init(key_file, dbpath, err, sizeof(err))) {
		fprintf(stderr, "idlcm-coordinator: %s\n", err);
		rc = 1;
		goto out;
	}
	rc = 1;
	if (!strcmp(verb, "add")) {
		cJSON_AddStringToObject(body, "id", id);
		status = integ_create(&c, body, base, &out, err, sizeof(err));
	} else if (!strcmp(verb, "set")) {
		status = integ_patch(&c, id, body, err, sizeof(err));
		if (status < 400)
			out = describe(&c, id);
	} else if (!strcmp(verb, "list")) {
		out = list_all(&c);
		status = 200;
	} else if (!strcmp(verb, "show")) {
		out = describe(&c, id);
		status = out ? 200 : 404;
		snprintf(err, sizeof(err), "no integration \"%s\"", id);
	} else if (!strcmp(verb, "rotate-token")) {
		status = exists(&c, id) ? 200 : 404;
		snprintf(err, sizeof(err), "no integration \"%s\"", id);
		if (status == 200) {
			out = issue_token(&c, id, base, err, sizeof(err));
			status = out ? 200 : 500;
		}
	} else if (!strcmp(verb, "delete")) {
		status = integ_delete(&c, id, err, sizeof(err));
	} else {
		fprintf(stderr, "idlcm-coordinator: unknown integration command \"%s\"\n\n", verb);
		cli_usage(stderr);
		rc = 2;
		goto out;
	}
	if (status >= 400) {
		fprintf(stderr, "idlcm-coordinator: integration %s: %s\n", verb, err);
		rc = status == 400 ? 2 : 1;
		goto out;
	}
	if (out)
		print_json(out);
	else
		printf("deleted integration \"%s\"\n", id);
	rc = 0;
out:
	cJSON_Delete(body);
	cJSON_Delete(out);
	cstore_close(c.store);
	return rc;
}
