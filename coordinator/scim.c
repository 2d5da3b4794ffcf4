/*
 * The SCIM 2.0 server (RFC 7643/7644) per integration, at
 * /scim/v2/<integration>/: the bearer check before any routing, SCIM
 * errors, paging, and the discovery endpoints that say what is supported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <openssl/rand.h>

#include "httpd.h"
#include "log.h"
#include "pages.h"
#include "scim.h"

#define SCIM_PREFIX "/scim/v2/"

int scim_fail(struct scim_err *e, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->type = type;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return -1;
}

int scim_reply(struct httpd_req *req, int status, const cJSON *body)
{
	char *s;
	int rc;

	if (!body)
		return httpd_reply(req, status, NULL, NULL, 0);
	s = cJSON_PrintUnformatted(body);
	if (!s)
		return -1;
	rc = httpd_reply(req, status, "application/scim+json", s, strlen(s));
	cJSON_free(s);
	return rc;
}

/* RFC 7644 §3.12: the status is a string. */
int scim_reply_err(struct httpd_req *req, const struct scim_err *e)
{
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas");
	char st[8];
	int rc;

	cJSON_AddItemToArray(sc, cJSON_CreateString(SCIM_URN_ERROR));
	snprintf(st, sizeof(st), "%d", e->status);
	cJSON_AddStringToObject(o, "status", st);
	if (e->type)
		cJSON_AddStringToObject(o, "scimType", e->type);
	cJSON_AddStringToObject(o, "detail", e->detail);
	rc = scim_reply(req, e->status, o);
	cJSON_Delete(o);
	return rc;
}

static int reply_fail(struct httpd_req *req, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int reply_fail(struct httpd_req *req, int status, const char *type, const char *fmt, ...)
{
	struct scim_err e = { status, type, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	return scim_reply_err(req, &e);
}

cJSON *scim_parse_body(struct httpd_req *req, struct scim_err *e)
{
	size_t len;
	const char *body = httpd_req_body(req, &len), *end = NULL;
	cJSON *j;

	if (!len) {
		scim_fail(e, 400, "invalidSyntax", "the request body is empty: expected a JSON object");
		return NULL;
	}
	j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!j) {
		size_t at = end && end >= body ? (size_t)(end - body) : 0;
		scim_fail(e, 400, "invalidSyntax", "the request body is not valid JSON: error at "
			  "byte %zu of %zu (near \"%.20s\")", at + 1, len, body + (at < len ? at : len));
		return NULL;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		scim_fail(e, 400, "invalidSyntax", "the request body must be a JSON object");
		return NULL;
	}
	return j;
}

void scim_new_id(char out[37])
{
	unsigned char b[16];
	static const char d[] = "0123456789abcdef";
	int k = 0;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* libcrypto's generator failing leaves no safe fallback */
		log_error("RAND_bytes failed");
		abort();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* a v4 UUID */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = d[b[i] >> 4];
		out[k++] = d[b[i] & 15];
	}
	out[k] = '\0';
}

static int whole(const char *s, long *v)
{
	char *end;
	if (!s || !*s)
		return 0;
	*v = strtol(s, &end, 10);
	return !*end;
}

/* RFC 7644 §3.4.2.4: startIndex below 1 means 1, a negative count 0. */
int scim_paging(struct httpd_req *req, int *start, int *count, struct scim_err *e)
{
	const char *s = httpd_req_query(req, "startIndex"), *n = httpd_req_query(req, "count");
	long v;

	*start = 1;
	*count = 100;
	if (s) {
		if (!whole(s, &v))
			return scim_fail(e, 400, "invalidValue", "startIndex must be a whole number, "
					 "not \"%s\"", s);
		*start = v < 1 ? 1 : v > 1000000000 ? 1000000000 : (int)v;
	}
	if (n) {
		if (!whole(n, &v))
			return scim_fail(e, 400, "invalidValue", "count must be a whole number, not \"%s\"", n);
		*count = v < 0 ? 0 : v > SCIM_MAX_COUNT ? SCIM_MAX_COUNT : (int)v;
	}
	return 0;
}

cJSON *scim_list(int total, int start, cJSON *resources)
{
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas");

	cJSON_AddItemToArray(sc, cJSON_CreateString(SCIM_URN_LIST));
	cJSON_AddNumberToObject(o, "totalResults", total);
	cJSON_AddNumberToObject(o, "startIndex", start);
	cJSON_AddNumberToObject(o, "itemsPerPage", cJSON_GetArraySize(resources));
	cJSON_AddItemToObject(o, "Resources", resources);
	return o;
}

void scim_meta(cJSON *o, const char *type, const char *location, int64_t created,
	       int64_t updated, int version)
{
	cJSON *m = cJSON_AddObjectToObject(o, "meta");
	char iso[40], v[32];

	cJSON_AddStringToObject(m, "resourceType", type);
	if (created) {
		cdb_iso(created, iso, sizeof(iso));
		cJSON_AddStringToObject(m, "created", iso);
	}
	if (updated) {
		cdb_iso(updated, iso, sizeof(iso));
		cJSON_AddStringToObject(m, "lastModified", iso);
	}
	if (location)
		cJSON_AddStringToObject(m, "location", location);
	if (version) {
		snprintf(v, sizeof(v), "W/\"%d\"", version);
		cJSON_AddStringToObject(m, "version", v);
	}
}

/* Endpoint names as IdPs spell them; RFC 7644 names them in one case,
 * some clients use another. */
int scim_name_is(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

/* ------------------------------------------------------------ discovery */

struct attr {
	const char *name, *type;
	unsigned flags;
	const struct attr *sub;
};
enum { MULTI = 1, REQ = 2, EXACT = 4, RO = 8, NEVER = 16, UNIQUE = 32, WO = 64, IMMUT = 128 };

#define END { NULL, NULL, 0, NULL }
static const struct attr name_sub[] = {
	{ "formatted", "string", 0, NULL }, { "familyName", "string", 0, NULL },
	{ "givenName", "string", 0, NULL }, { "middleName", "string", 0, NULL },
	{ "honorificPrefix", "string", 0, NULL }, { "honorificSuffix", "string", 0, NULL }, END };
static const struct attr multi_sub[] = {
	{ "value", "string", 0, NULL }, { "display", "string", 0, NULL },
	{ "type", "string", 0, NULL }, { "primary", "boolean", 0, NULL }, END };
static const struct attr addr_sub[] = {
	{ "formatted", "string", 0, NULL }, { "streetAddress", "string", 0, NULL },
	{ "locality", "string", 0, NULL }, { "region", "string", 0, NULL },
	{ "postalCode", "string", 0, NULL }, { "country", "string", 0, NULL },
	{ "type", "string", 0, NULL }, { "primary", "boolean", 0, NULL }, END };
static const struct attr group_ref_sub[] = {
	{ "value", "string", RO, NULL }, { "display", "string", RO, NULL },
	{ "$ref", "reference", RO, NULL }, { "type", "string", RO, NULL }, END };
static const struct attr user_attrs[] = {
	{ "userName", "string", REQ | UNIQUE, NULL }, { "name", "complex", 0, name_sub },
	{ "displayName", "string", 0, NULL }, { "nickName", "string", 0, NULL },
	{ "profileUrl", "reference", 0, NULL }, { "title", "string", 0, NULL },
	{ "userType", "string", 0, NULL }, { "preferredLanguage", "string", 0, NULL },
	{ "locale", "string", 0, NULL }, { "timezone", "string", 0, NULL },
	{ "active", "boolean", 0, NULL }, { "password", "string", WO | NEVER, NULL },
	{ "emails", "complex", MULTI, multi_sub }, { "phoneNumbers", "complex", MULTI, multi_sub },
	{ "ims", "complex", MULTI, multi_sub }, { "photos", "complex", MULTI, multi_sub },
	{ "addresses", "complex", MULTI, addr_sub }, { "groups", "complex", MULTI | RO, group_ref_sub },
	{ "entitlements", "complex", MULTI, multi_sub }, { "roles", "complex", MULTI, multi_sub },
	{ "x509Certificates", "complex", MULTI, multi_sub }, END };
static const struct attr manager_sub[] = {
	{ "value", "string", 0, NULL }, { "$ref", "reference", 0, NULL },
	{ "displayName", "string", RO, NULL }, END };
static const struct attr enterprise_attrs[] = {
	{ "employeeNumber", "string", 0, NULL }, { "costCenter", "string", 0, NULL },
	{ "organization", "string", 0, NULL }, { "division", "string", 0, NULL },
	{ "department", "string", 0, NULL }, { "manager", "complex", 0, manager_sub }, END };
static const struct attr idlcm_attrs[] = {
	{ "state", "string", RO, NULL }, { "detail", "string", RO, NULL },
	{ "loginMethod", "string", RO, NULL }, { "activeInApp", "boolean", RO, NULL },
	{ "appRoles", "string", RO | MULTI, NULL }, { "job", "string", RO, NULL },
	{ "lastChange", "dateTime", RO, NULL }, END };
static const struct attr member_sub[] = {
	{ "value", "string", IMMUT, NULL }, { "display", "string", 0, NULL },
	{ "$ref", "reference", IMMUT, NULL }, { "type", "string", IMMUT, NULL }, END };
static const struct attr group_attrs[] = {
	{ "displayName", "string", REQ | UNIQUE, NULL }, { "members", "complex", MULTI, member_sub },
	END };

static cJSON *attr_json(const struct attr *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "type", a->type);
	cJSON_AddBoolToObject(o, "multiValued", a->flags & MULTI);
	cJSON_AddStringToObject(o, "description", "");
	cJSON_AddBoolToObject(o, "required", a->flags & REQ);
	if (!strcmp(a->type, "string") || !strcmp(a->type, "reference"))
		cJSON_AddBoolToObject(o, "caseExact", a->flags & EXACT);
	cJSON_AddStringToObject(o, "mutability", a->flags & RO ? "readOnly" : a->flags & WO ?
				"writeOnly" : a->flags & IMMUT ? "immutable" : "readWrite");
	cJSON_AddStringToObject(o, "returned", a->flags & NEVER ? "never" : "default");
	cJSON_AddStringToObject(o, "uniqueness", a->flags & UNIQUE ? "server" : "none");
	if (a->sub) {
		cJSON *s = cJSON_AddArrayToObject(o, "subAttributes");
		for (const struct attr *x = a->sub; x->name; x++)
			cJSON_AddItemToArray(s, attr_json(x));
	}
	return o;
}

static cJSON *schema_json(struct scim_ctx *x, const char *id, const char *name,
			  const struct attr *attrs)
{
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas"), *arr;
	char loc[500];

	cJSON_AddItemToArray(sc, cJSON_CreateString("urn:ietf:params:scim:schemas:core:2.0:Schema"));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "description", name);
	arr = cJSON_AddArrayToObject(o, "attributes");
	for (const struct attr *a = attrs; a->name; a++)
		cJSON_AddItemToArray(arr, attr_json(a));
	snprintf(loc, sizeof(loc), "%s/Schemas/%s", x->base, id);
	scim_meta(o, "Schema", loc, 0, 0, 0);
	return o;
}

static cJSON *all_schemas(struct scim_ctx *x)
{
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, schema_json(x, SCIM_URN_USER, "User", user_attrs));
	cJSON_AddItemToArray(a, schema_json(x, SCIM_URN_ENTERPRISE, "EnterpriseUser",
					    enterprise_attrs));
	cJSON_AddItemToArray(a, schema_json(x, SCIM_URN_IDLCM, "Provisioning state in the app",
					    idlcm_attrs));
	cJSON_AddItemToArray(a, schema_json(x, SCIM_URN_GROUP, "Group", group_attrs));
	return a;
}

static cJSON *resource_type(struct scim_ctx *x, const char *name)
{
	int user = !strcmp(name, "User");
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas");
	char loc[500];

	cJSON_AddItemToArray(sc, cJSON_CreateString("urn:ietf:params:scim:schemas:core:2.0:ResourceType"));
	cJSON_AddStringToObject(o, "id", name);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "endpoint", user ? "/Users" : "/Groups");
	cJSON_AddStringToObject(o, "description", user ? "A user of the app" :
				"An IdP group; its displayName maps to app roles");
	cJSON_AddStringToObject(o, "schema", user ? SCIM_URN_USER : SCIM_URN_GROUP);
	if (user) {
		cJSON *ext = cJSON_AddArrayToObject(o, "schemaExtensions"), *e;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "schema", SCIM_URN_ENTERPRISE);
		cJSON_AddBoolToObject(e, "required", 0);
		cJSON_AddItemToArray(ext, e);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "schema", SCIM_URN_IDLCM);
		cJSON_AddBoolToObject(e, "required", 0);
		cJSON_AddItemToArray(ext, e);
	}
	snprintf(loc, sizeof(loc), "%s/ResourceTypes/%s", x->base, name);
	scim_meta(o, "ResourceType", loc, 0, 0, 0);
	return o;
}

static cJSON *sp_config(struct scim_ctx *x)
{
	cJSON *o = cJSON_CreateObject(), *sc = cJSON_AddArrayToObject(o, "schemas"), *f, *a, *s;
	char loc[500];

	cJSON_AddItemToArray(sc, cJSON_CreateString(
		"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"));
	cJSON_AddStringToObject(o, "documentationUri",
				"https://github.com/idlcm/idlcm#scim-20-for-okta-and-entra-id");
	f = cJSON_AddObjectToObject(o, "patch");
	cJSON_AddBoolToObject(f, "supported", 1);
	f = cJSON_AddObjectToObject(o, "bulk");
	cJSON_AddBoolToObject(f, "supported", 0);
	cJSON_AddNumberToObject(f, "maxOperations", 0);
	cJSON_AddNumberToObject(f, "maxPayloadSize", 0);
	f = cJSON_AddObjectToObject(o, "filter");
	cJSON_AddBoolToObject(f, "supported", 1);
	cJSON_AddNumberToObject(f, "maxResults", SCIM_MAX_COUNT);
	f = cJSON_AddObjectToObject(o, "changePassword");
	cJSON_AddBoolToObject(f, "supported", 0);
	f = cJSON_AddObjectToObject(o, "sort");
	cJSON_AddBoolToObject(f, "supported", 0);
	f = cJSON_AddObjectToObject(o, "etag");
	cJSON_AddBoolToObject(f, "supported", 0);
	a = cJSON_AddArrayToObject(o, "authenticationSchemes");
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "type", "oauthbearertoken");
	cJSON_AddStringToObject(s, "name", "OAuth Bearer Token");
	cJSON_AddStringToObject(s, "description", "the integration's SCIM token, sent as "
				"\"Authorization: Bearer <token>\"");
	cJSON_AddBoolToObject(s, "primary", 1);
	cJSON_AddItemToArray(a, s);
	snprintf(loc, sizeof(loc), "%s/ServiceProviderConfig", x->base);
	scim_meta(o, "ServiceProviderConfig", loc, 0, 0, 0);
	return o;
}

static int discovery(struct scim_ctx *x, const char *what, const char *rest)
{
	cJSON *out = NULL;
	int rc;

	if (httpd_req_method(x->req) != HTTPD_GET)
		return reply_fail(x->req, 405, NULL, "%s is read-only: use GET", what);
	if (scim_name_is(what, "ServiceProviderConfig") && !*rest) {
		out = sp_config(x);
	} else if (scim_name_is(what, "ResourceTypes")) {
		if (!*rest) {
			cJSON *a = cJSON_CreateArray();
			cJSON_AddItemToArray(a, resource_type(x, "User"));
			cJSON_AddItemToArray(a, resource_type(x, "Group"));
			out = scim_list(2, 1, a);
		} else if (!strcmp(rest, "User") || !strcmp(rest, "Group")) {
			out = resource_type(x, rest);
		}
	} else if (scim_name_is(what, "Schemas")) {
		cJSON *all = all_schemas(x), *s;
		if (!*rest) {
			out = scim_list(cJSON_GetArraySize(all), 1, all);
			all = NULL;
		} else {
			cJSON_ArrayForEach(s, all)
				if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "id")), rest)) {
					out = cJSON_Duplicate(s, 1);
					break;
				}
		}
		cJSON_Delete(all);
	}
	if (!out)
		return reply_fail(x->req, 404, NULL, "no %s \"%s\"", what, rest);
	rc = scim_reply(x->req, 200, out);
	cJSON_Delete(out);
	return rc;
}

void scim_args_fmt(char fmt[SCIM_ARGS_MAX + 1], const char *args[SCIM_ARGS_MAX], int nargs)
{
	for (int i = 0; i < SCIM_ARGS_MAX; i++) {
		fmt[i] = i < nargs ? 't' : '\0';
		if (i >= nargs)
			args[i] = NULL;
	}
	fmt[SCIM_ARGS_MAX] = '\0';
}

/* ------------------------------------------------------------ routing */

static const char *bearer(struct httpd_req *req)
{
	const char *h = httpd_req_header(req, "authorization");

	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

static int load_ctx(struct scim_ctx *x)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT app, deactivate_mode, scim_seen_ms"
				     " FROM integrations WHERE id = ?", "t", x->integ);
	const char *host = httpd_req_header(x->req, "host");
	const char *proto = httpd_req_header(x->req, "x-forwarded-proto");
	int64_t seen, now = cdb_now_ms();

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return -1;
	}
	snprintf(x->app, sizeof(x->app), "%s", cstore_text(st, 0));
	snprintf(x->deactivate_mode, sizeof(x->deactivate_mode), "%s",
		 cstore_text(st, 1));
	seen = cstore_int64(st, 2);
	cstore_done(st);
	snprintf(x->base, sizeof(x->base), "%s://%s" SCIM_PREFIX "%s",
		 proto && !strcmp(proto, "https") ? "https" : "http", host ? host : "127.0.0.1",
		 x->integ);
	/* "SCIM connected" for the admin; written at most once a minute so
	 * that reads stay reads */
	if (now - seen > 60000)
		cstore_exec(x->c->store, "UPDATE integrations SET scim_seen_ms = ? WHERE id = ?", "it",
			 now, x->integ);
	if (!seen)
		pg_activity(x->c, x->integ, "SCIM", "SCIM integration connected", NULL, NULL);
	return 0;
}

static int scim_dispatch(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *path = httpd_req_path(req), *rest, *slash;
	char integ[80] = "", what[40];
	struct scim_ctx x = { .c = c, .req = req, .integ = integ };

	/* who asks comes first: an unauthenticated caller learns nothing,
	 * not even which paths or integrations exist */
	if (!strncmp(path, SCIM_PREFIX, strlen(SCIM_PREFIX))) {
		rest = path + strlen(SCIM_PREFIX);
		slash = strchr(rest, '/');
		snprintf(integ, sizeof(integ), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest),
			 rest);
	}
	if (!integ_token_ok(c, integ, bearer(req))) {
		httpd_add_header(req, "www-authenticate", "Bearer realm=\"idlcm SCIM\"");
		return reply_fail(req, 401, NULL, bearer(req) ?
				  "the bearer token is not this SCIM endpoint's token" :
				  "missing \"Authorization: Bearer <token>\": every SCIM call "
				  "needs the integration's SCIM token");
	}
	if (load_ctx(&x))
		return reply_fail(req, 404, NULL, "no integration \"%s\"", integ);
	rest = path + strlen(SCIM_PREFIX) + strlen(integ);
	while (*rest == '/')
		rest++;
	slash = strchr(rest, '/');
	snprintf(what, sizeof(what), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	rest = slash ? slash + 1 : "";
	if (scim_name_is(what, "Users"))
		return scim_users(&x, rest);
	if (scim_name_is(what, "Groups"))
		return scim_groups(&x, rest);
	if (scim_name_is(what, "ServiceProviderConfig") || scim_name_is(what, "ResourceTypes") ||
	    scim_name_is(what, "Schemas"))
		return discovery(&x, what, rest);
	if (scim_name_is(what, "Bulk"))
		return reply_fail(req, 501, NULL, "bulk operations are not supported "
				  "(ServiceProviderConfig says so)");
	return reply_fail(req, 404, NULL, "no SCIM endpoint \"%s\" (there are Users, Groups, "
			  "ServiceProviderConfig, ResourceTypes, Schemas)", what);
}

/* Every SCIM request timed, refusals included: idlcm_scim_request_seconds. */
static int h_scim(struct httpd_req *req, void *arg)
{
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = scim_dispatch(req, arg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_scim_observe(arg, (double)(t1.tv_sec - t0.tv_sec) +
			     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}

int scim_routes(struct coord *c)
{
	return httpd_route(c->h, HTTPD_ANY, "/scim", h_scim, c);
}
