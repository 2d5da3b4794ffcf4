/*
 * Fuzz target: a claim answer from the coordinator, as the worker takes
 * it — the client gathers the body through curl_buf_collect under its cap
 * (agent/coord.c, lib/curlbuf.c), then the worker's accept_claim validates
 * each job (check_job) and queues it or reports it failed through the
 * outbox (agent/worker.c, included here to reach its static functions,
 * with a real store on an in-memory SQLite file).  Input: one byte for
 * the chunk size curl would hand over, one for the cap, then the body.
 * Properties: a body within the cap arrives byte for byte and one over it
 * is refused; every queued job has a usable id, a known action and its
 * app's script, passes check_job again, a lease of at least 1 s, a
 * deadline (timeout_ms of 0 would mean none to the script host), and its
 * stored copy carries no "account" (secrets stay out of the file); each
 * job is queued, reported failed (a complete with class "malformed"), or
 * dropped only when it has no usable id; nothing leaks.
 */
#include "../../agent/worker.c"

#include "curlbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scripts[64];

static void setup(void)
{
	char path[128];
	FILE *f;

	snprintf(scripts, sizeof(scripts), "/tmp/idlcm-fuzz-claim-XXXXXX");
	if (!mkdtemp(scripts))
		abort();
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s.lua", scripts, i ? "globex" : "acme");
		f = fopen(path, "w");
		if (!f)
			abort();
		fputs("return {}\n", f);
		fclose(f);
	}
	log_set_level(LOG_ERROR);	/* quieter: every rejected job would warn */
}

static int stored_without_account(struct store *st, const char *id)
{
	sqlite3_stmt *q;
	int ok = 1;

	if (sqlite3_prepare_v2(store_db(st), "SELECT body FROM jobs WHERE id = ?", -1, &q,
			       NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		cJSON *b = cJSON_Parse((const char *)sqlite3_column_text(q, 0));
		if (!b || cJSON_GetObjectItemCaseSensitive(b, "account"))
			ok = 0;
		cJSON_Delete(b);
	}
	sqlite3_finalize(q);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct worker_opts o;
	struct worker w;
	struct curl_buf buf = { 0 };
	char err[300];
	size_t chunk, off, with_id = 0, items = 0;
	int over = 0, queued = 0, failed = 0;
	cJSON *doc, *it;

	if (size < 2)
		return 0;
	if (!scripts[0]) {
		setup();
		worker_opts_defaults(&o);
		o.scripts_dir = scripts;
	}
	chunk = data[0] ? data[0] : 1;
	buf.limit = data[1] == 255 ? COORD_MAX_CLAIM : data[1] * 8u;
	data += 2;
	size -= 2;

	/* the client: curl hands the body over in chunks */
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = curl_buf_collect((char *)data + off, 1, n, &buf);
		if (off + n > buf.limit) {
			if (took != 0 || !buf.overflow)
				abort();	/* over the cap: refused */
			over = 1;
			break;
		}
		if (took != n || buf.overflow)
			abort();
	}
	if (!over && size && (buf.len != size || memcmp(buf.data, data, size) ||
			      buf.data[size] != '\0'))
		abort();
	if (over) {
		free(buf.data);
		return 0;	/* the worker never sees it */
	}

	/* the worker */
	memset(&w, 0, sizeof(w));
	w.o = &o;
	snprintf(w.cc.worker, sizeof(w.cc.worker), "w1");
	w.st = store_open(":memory:", err, sizeof(err));
	if (!w.st)
		abort();
	doc = cJSON_ParseWithLength(buf.data ? buf.data : "", buf.len);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "jobs")) {
		items++;
		if (cJSON_IsObject(it) && name_ok(jstr(it, "id"), 120))
			with_id++;
	}
	accept_claim(&w, buf.data ? buf.data : "", buf.len);

	for (struct wjob *j = w.jobs; j; j = j->next) {
		char e2[300];
		char *text = cJSON_PrintUnformatted(j->body);
		queued++;
		if (!name_ok(j->id, 120) || !j->action || !job_action_known(j->action) ||
		    j->lease_s < 1 || j->attempt < 0 || j->timeout_ms < 1)
			abort();
		if (check_job(&w, j->body, strlen(text), e2, sizeof(e2)))
			abort();
		if (!stored_without_account(w.st, j->id))
			abort();
		cJSON_free(text);
	}
	{
		char ids[64][128];
		int n = store_outbox_jobs(w.st, ids, 64);
		for (int i = 0; i < n; i++) {
			struct store_msg *m = NULL;
			int cnt = 0;
			store_outbox_peek(w.st, ids[i], 100, &m, &cnt);
			for (int k = 0; k < cnt; k++) {
				cJSON *c = cJSON_Parse(m[k].body);
				if (m[k].kind == STORE_MSG_COMPLETE) {
					const char *cls = cJSON_GetStringValue(cJSON_GetObjectItem(
						cJSON_GetObjectItem(c, "error"), "class"));
					failed++;
					if (!c || !cls || strcmp(cls, "malformed"))
						abort();
				}
				cJSON_Delete(c);
			}
			store_msgs_free(m, cnt);
		}
	}
	/* each job with a usable id is queued or reported (ids may repeat:
	 * a repeat is ignored); none without one is either */
	if (queued + failed > (int)with_id || (with_id && !(queued + failed)))
		abort();
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "jobs")) && (queued || failed))
		abort();
	(void)items;

	while (w.jobs) {
		struct wjob *j = w.jobs;
		w.jobs = j->next;
		job_free(j);
	}
	store_free(w.st);
	cJSON_Delete(doc);
	free(buf.data);
	return 0;
}
