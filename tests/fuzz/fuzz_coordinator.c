/*
 * Fuzz target: the coordinator's request bodies — enqueue, claim,
 * heartbeat, events, complete — and the reads after them, driven through
 * its real routes (coordinator/api.c) on a fresh in-memory SQLite store,
 * with requests that have no socket behind them (httpd_req_detached).
 * Each input starts from a store holding job j1 (claimed by worker w1,
 * attempt 1) and j2 (queued); then it is a list of requests separated by
 * NUL bytes: a selector byte (which call, which job, right or wrong
 * token) and the body.  Properties: no answer is a 500; every answer with
 * a body is JSON, an error answer is {"error": "…"}; a request refused
 * with 400 or 401 (and a 404/409 on events or complete) changes nothing in
 * the store; an enqueue answered 201 can be read back; nothing leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator.h"
#include "httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int request(struct coord *c, enum httpd_method m, const char *target, int auth,
		   const char *body, size_t len, cJSON **reply)
{
	char headers[200];
	struct httpd_req *req;
	const char *out;
	size_t out_len;
	int status;

	snprintf(headers, sizeof(headers), "%scontent-length: %zu\n",
		 auth == 1 ? "authorization: Bearer s3cret\n" :
		 auth == 2 ? "authorization: Bearer s3cre\n" : "", len);
	req = httpd_req_detached(c->h, m, target, headers, body, len);
	if (!req)
		abort();
	status = httpd_req_run(req, &out, &out_len);
	*reply = NULL;
	if (out_len) {
		*reply = cJSON_ParseWithLength(out, out_len);
		if (!*reply)
			abort();	/* every answer with a body is JSON */
	} else if (status != 204) {
		abort();
	}
	if (status >= 400 && !cJSON_IsString(cJSON_GetObjectItem(*reply, "error")))
		abort();
	if (status >= 500)
		abort();
	httpd_req_free(req);
	return status;
}

static void call(struct coord *c, enum httpd_method m, const char *target, const char *body)
{
	cJSON *reply;
	int st = request(c, m, target, 1, body, strlen(body), &reply);
	if (st < 200 || st > 299)
		abort();	/* the fixture itself must work */
	cJSON_Delete(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const jobs[] = { "j1", "j2", "nope" };
	static struct coord c;
	static sqlite3 *seed;
	const uint8_t *p = data, *end = data + size;
	sqlite3_backup *bk;

	if (!seed) {	/* the store every input starts from, made once */
		struct httpd_config cfg = { 0 };
		char err[200];
		seed = cdb_open(":memory:", err, sizeof(err));
		c.db = seed;
		c.store = cstore_wrap_sqlite(seed);
		c.h = httpd_new_unbound(&cfg);
		c.token = "s3cret";
		c.default_lease_s = 60;
		c.max_wait_s = 1;
		if (!c.db || !c.h || coord_routes(&c))
			abort();
		call(&c, HTTPD_POST, "/v1/jobs", "{\"id\":\"j1\",\"integration\":\"acme-prod\","
		     "\"app\":\"acme\",\"action\":\"invite\",\"user\":{\"email\":\"a@x.test\","
		     "\"roles\":[\"admin\"]}}");
		call(&c, HTTPD_POST, "/v1/claim", "{\"worker\":\"w1\",\"capacity\":1}");
		call(&c, HTTPD_POST, "/v1/jobs", "{\"id\":\"j2\",\"integration\":\"acme-prod\","
		     "\"app\":\"acme\",\"action\":\"sync\",\"expected\":[{\"email\":\"b@x.test\"}]}");
	}
	/* a copy of it, so inputs never see each other's jobs */
	if (sqlite3_open(":memory:", &c.db) != SQLITE_OK)
		abort();
	bk = sqlite3_backup_init(c.db, "main", seed, "main");
	if (!bk || sqlite3_backup_step(bk, -1) != SQLITE_DONE || sqlite3_backup_finish(bk))
		abort();
	cstore_close(c.store);
	c.store = cstore_wrap_sqlite(c.db);
	/* j1's lease runs from now, however long the fuzzer has been running */
	if (cdb_exec(c.db, "UPDATE jobs SET lease_until_ms = ? WHERE status = 'running'", "i",
		     cdb_now_ms() + 60000))
		abort();

	for (int n = 0; p < end && n < 16; n++) {
		uint8_t sel = *p++;
		const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
		const char *job = jobs[(sel >> 3) % 3], *body = (const char *)p;
		int auth = (sel >> 6) == 3 ? (sel & 1) * 2 : 1;	/* 1 in 4: none or wrong */
		int kind = sel & 7, st, guarded;
		enum httpd_method m = HTTPD_POST;
		char target[100];
		cJSON *reply;
		int before = sqlite3_total_changes(c.db);

		p = nul ? nul + 1 : end;
		switch (kind) {
		case 0: snprintf(target, sizeof(target), "/v1/jobs"); break;
		case 1: snprintf(target, sizeof(target), "/v1/claim"); break;
		case 2: snprintf(target, sizeof(target), "/v1/jobs/%s/heartbeat", job); break;
		case 3: snprintf(target, sizeof(target), "/v1/jobs/%s/events", job); break;
		case 4: snprintf(target, sizeof(target), "/v1/jobs/%s/complete", job); break;
		case 5: m = HTTPD_GET; snprintf(target, sizeof(target), "/v1/jobs/%s", job); break;
		case 6: m = HTTPD_GET; snprintf(target, sizeof(target), "/v1/jobs?integration=%.*s",
						(int)(len < 40 ? len : 40), body); break;
		default: m = HTTPD_GET; snprintf(target, sizeof(target),
						 "/v1/integrations/acme-prod/users"); break;
		}
		st = request(&c, m, target, auth, m == HTTPD_GET ? "" : body,
			     m == HTTPD_GET ? 0 : len, &reply);
		if (getenv("FUZZ_DEBUG")) {	/* what a finding did, step by step */
			char *r = cJSON_PrintUnformatted(reply);
			fprintf(stderr, "%s %s [%.*s] -> %d %s (changes %d)\n",
				m == HTTPD_GET ? "GET" : "POST", target, (int)len, body, st,
				r ? r : "", sqlite3_total_changes(c.db) - before);
			cJSON_free(r);
		}
		if (auth != 1 && st != 401)
			abort();
		/* refused requests change nothing (heartbeat's and reads'
		 * lease sweep aside) */
		guarded = st == 400 || st == 401 ||
			  ((st == 404 || st == 409) && (kind == 3 || kind == 4));
		if (guarded && sqlite3_total_changes(c.db) != before)
			abort();
		if (kind == 0 && st == 201) {
			const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(reply, "id"));
			cJSON *list = cJSON_GetObjectItem(reply, "jobs"), *j;
			if (id) {
				cJSON *got;
				snprintf(target, sizeof(target), "/v1/jobs/%s", id);
				if (request(&c, HTTPD_GET, target, 1, "", 0, &got) != 200)
					abort();
				cJSON_Delete(got);
			}
			cJSON_ArrayForEach(j, list) {
				cJSON *got;
				id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "id"));
				if (!id)
					abort();
				snprintf(target, sizeof(target), "/v1/jobs/%s", id);
				if (request(&c, HTTPD_GET, target, 1, "", 0, &got) != 200)
					abort();
				cJSON_Delete(got);
			}
		}
		cJSON_Delete(reply);
	}
	coord_release(&c);
	/* the store first: it holds prepared statements on the handle */
	cstore_close(c.store);
	c.store = NULL;
	sqlite3_close(c.db);
	return 0;
}
