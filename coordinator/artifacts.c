/*
 * artifacts: a job's failure evidence (screenshot, report files) uploaded
 * by the worker that ran the attempt, kept in the store so that every
 * coordinator process on the database serves it on the Jobs page, with no
 * disk shared with the worker.
 *
 *   PUT /v1/jobs/{id}/artifacts/{name}     body: the file's bytes
 *   x-idlcm-worker, x-idlcm-attempt, x-idlcm-artifact-key: the attempt's lease
 *
 * Only the worker the attempt was leased to, showing that attempt's
 * artifact key (the claim hands it out beside the lease key; an HMAC of
 * job, attempt and worker under the coordinator's key, with a label of its
 * own, so it opens uploads and never a secret), may upload: while its
 * lease lives or once it completed that attempt.  The bytes sit base64 in
 * a TEXT column: one SQL text for SQLite and PostgreSQL, no blob binding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "artifacts.h"
#include "base64.h"
#include "httpd.h"
#include "log.h"

static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

int coord_artifact_name_check(const char *name, char *why, size_t n)
{
	size_t len = name ? strlen(name) : 0;

	if (!len) {
		snprintf(why, n, "artifact name is empty");
		return -1;
	}
	if (len > ARTIFACT_NAME_MAX) {
		snprintf(why, n, "artifact name is longer than %d characters", ARTIFACT_NAME_MAX);
		return -1;
	}
	if (name[0] == '.') {
		snprintf(why, n, "artifact name \"%s\" starts with '.' (no hidden files, no \"..\")",
			 name);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')
			continue;
		if (ch == '/')
			snprintf(why, n, "artifact name \"%s\" holds '/' (a plain file name, no path)",
				 name);
		else if (ch == '%')
			snprintf(why, n, "artifact name \"%s\" holds '%%' (names are never"
				 " percent-encoded: letters, digits, '.', '-' and '_' only)", name);
		else if (ch < 0x20 || ch >= 0x7f)
			snprintf(why, n, "artifact name holds byte 0x%02x at %zu (letters, digits,"
				 " '.', '-' and '_' only)", ch, i);
		else
			snprintf(why, n, "artifact name \"%s\" holds '%c' (letters, digits, '.', '-'"
				 " and '_' only)", name, ch);
		return -1;
	}
	return 0;
}

static int is_png_name(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && !strcmp(name + n - 4, ".png");
}

int coord_artifact_put(struct coord *c, struct httpd_req *req, const char *id, const char *name)
{
	const char *worker = httpd_req_header(req, "x-idlcm-worker");
	const char *att = httpd_req_header(req, "x-idlcm-attempt");
	const char *key = httpd_req_header(req, "x-idlcm-artifact-key");
	const char *body, *status, *holder, *type = "text/plain; charset=utf-8";
	char why[300], lk[65];
	struct cstore_rows *st;
	size_t len = 0;
	int attempt, live, have;
	int64_t until, now = cdb_now_ms();
	char *b64, *end = NULL;
	long a;

	if (coord_artifact_name_check(name, why, sizeof(why)))
		return httpd_reply_error(req, 400, "artifact: %s", why);
	if (!worker || !att || !key || !*worker || !*key)
		return httpd_reply_error(req, 400, "artifact: the headers x-idlcm-worker,"
					 " x-idlcm-attempt and x-idlcm-artifact-key are required");
	a = strtol(att, &end, 10);
	if (!*att || *end || a < 1 || a > 1000000)
		return httpd_reply_error(req, 400, "artifact: x-idlcm-attempt must be a positive"
					 " number, not \"%s\"", att);
	body = httpd_req_body(req, &len);
	if (len > ARTIFACT_MAX_BYTES)
		return httpd_reply_error(req, 413, "artifact \"%s\": %zu bytes, more than the cap"
					 " of %d bytes", name, len, ARTIFACT_MAX_BYTES);
	if (is_png_name(name)) {
		if (len < sizeof(png_magic) || memcmp(body, png_magic, sizeof(png_magic)))
			return httpd_reply_error(req, 400, "artifact \"%s\": a .png that is not a"
						 " PNG image", name);
		type = "image/png";
	}

	st = cstore_query(c->store, "SELECT status, worker, attempt, lease_until_ms FROM jobs"
			  " WHERE id = ?", "t", id);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	status = cstore_text(st, 0);
	holder = cstore_text(st, 1);
	attempt = (int)cstore_int64(st, 2);
	until = cstore_int64(st, 3);
	coord_artifact_key(id, (int)a, worker, lk);
	/* the attempt's own worker with its key; while it runs, only with a
	 * live lease; once over, only the attempt that ended (not one the
	 * queue took back and gave to another worker) */
	live = lk[0] && strlen(key) == strlen(lk) && !CRYPTO_memcmp(key, lk, strlen(lk)) &&
	       a == attempt && holder && !strcmp(holder, worker) && status &&
	       ((!strcmp(status, "running") && until >= now) ||
		!strcmp(status, "completed") || !strcmp(status, "failed"));
	cstore_done(st);
	if (!live)
		return httpd_reply_error(req, 403, "artifact: job \"%s\" attempt %ld is not (and was"
					 " not) leased to \"%s\" with that key", id, a, worker);
	have = (int)cstore_int(c->store, 0, "SELECT count(*) FROM artifacts WHERE job_id = ?"
			       " AND attempt = ? AND name <> ?", "tnt", id, (int)a, name);
	if (have >= ARTIFACT_MAX_FILES)
		return httpd_reply_error(req, 413, "artifact \"%s\": job \"%s\" attempt %ld has %d"
					 " artifacts already (the cap)", name, id, a, have);
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64)
		return httpd_reply_error(req, 500, "out of memory");
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)body, (int)len);
	if (cstore_exec(c->store, "INSERT INTO artifacts (job_id, attempt, name, worker, type, size,"
			" data, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
			" ON CONFLICT (job_id, attempt, name) DO UPDATE SET worker = excluded.worker,"
			" type = excluded.type, size = excluded.size, data = excluded.data,"
			" created_ms = excluded.created_ms", "tntttiti",
			id, (int)a, name, worker, type, (int64_t)len, b64, now)) {
		free(b64);
		return httpd_reply_error(req, 500, "artifact \"%s\": the store failed: %s", name,
					 cstore_errmsg(c->store));
	}
	free(b64);
	{
		cJSON *out = cJSON_CreateObject();
		char loc[300];
		snprintf(loc, sizeof(loc), "/admin/jobs/%s/artifacts/%s", id, name);
		cJSON_AddStringToObject(out, "name", name);
		cJSON_AddNumberToObject(out, "size", (double)len);
		cJSON_AddStringToObject(out, "type", type);
		cJSON_AddStringToObject(out, "page", loc);
		httpd_reply_json(req, 201, out);
		cJSON_Delete(out);
	}
	log_info("job %s: artifact %s (%zu bytes) from %s", id, name, len, worker);
	return 0;
}

cJSON *coord_artifact_names(struct coord *c, const char *id)
{
	cJSON *a = cJSON_CreateArray();
	struct cstore_rows *st = cstore_query(c->store, "SELECT name FROM artifacts WHERE job_id = ?"
					      " AND attempt = (SELECT max(attempt) FROM artifacts"
					      " WHERE job_id = ?) ORDER BY name", "tt", id, id);

	while (st && cstore_next(st))
		cJSON_AddItemToArray(a, cJSON_CreateString(cstore_text(st, 0)));
	cstore_done(st);
	return a;
}

int coord_artifact_get(struct coord *c, const char *id, const char *name,
		       unsigned char **data, size_t *len, char *type, size_t typelen)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT data, type FROM artifacts"
					      " WHERE job_id = ? AND name = ? ORDER BY attempt DESC",
					      "tt", id, name);
	const char *b64;
	size_t n;
	int rc = 1;

	*data = NULL;
	*len = 0;
	if (!st)
		return -1;
	if (cstore_next(st) && (b64 = cstore_text(st, 0))) {
		n = base64_decode(b64, strlen(b64), NULL, 0);
		if (n == BASE64_INVALID || !(*data = malloc(n + 1))) {
			rc = -1;
		} else {
			base64_decode(b64, strlen(b64), *data, n);
			*len = n;
			snprintf(type, typelen, "%s", cstore_text(st, 1));
			rc = 0;
		}
	}
	cstore_done(st);
	return rc;
}
