/* Unit tests for agent/store.c: migrations, outbox order, idempotency. */
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "test.h"

static char dir[] = "/tmp/idlcm-test-store-XXXXXX";
static char path[256];

static struct store *fresh(void)
{
	char err[512] = "";
	struct store *s;

	unlink(path);
	s = store_open(path, err, sizeof(err));
	if (!s)
		fprintf(stderr, "    %s\n", err);
	return s;
}

static void test_migrations_reach_latest_and_reopen(void)
{
	struct store *s = fresh();
	char err[512] = "", mode[16] = "";
	sqlite3_stmt *st;

	ASSERT(s);
	ASSERT(store_schema_latest() >= 1);
	ASSERT_INT_EQ(store_schema_version(s), store_schema_latest());
	ASSERT_INT_EQ(sqlite3_prepare_v2(store_db(s), "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ASSERT_INT_EQ(sqlite3_step(st), SQLITE_ROW);
	snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	ASSERT_STR_EQ(mode, "wal");
	store_free(s);
	/* reopening applies nothing and keeps the data */
	s = store_open(path, err, sizeof(err));
	ASSERT(s);
	ASSERT_INT_EQ(store_schema_version(s), store_schema_latest());
	store_free(s);
}

static void test_refuses_newer_schema(void)
{
	struct store *s = fresh();
	char err[512] = "";

	ASSERT(s);
	ASSERT_INT_EQ(store_exec(s, NULL, 0, "PRAGMA user_version = 999"), 0);
	store_free(s);
	s = store_open(path, err, sizeof(err));
	ASSERT(!s);
	ASSERT_STR_CONTAINS(err, "schema version 999, newer than");
}

static void test_migrates_from_an_empty_v0_file(void)
{
	sqlite3 *db;
	struct store *s;
	char err[512] = "";

	unlink(path);
	ASSERT_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_INT_EQ(sqlite3_exec(db, "CREATE TABLE other (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(path, err, sizeof(err));
	ASSERT(s);
	ASSERT_INT_EQ(store_schema_version(s), store_schema_latest());
	ASSERT_INT_EQ(store_exec(s, err, sizeof(err), "SELECT * FROM other, outbox, jobs, runs, artifacts"), 0);
	store_free(s);
}

static void test_outbox_seq_and_order(void)
{
	struct store *s = fresh();
	struct store_msg *m;
	char ids[4][128];
	int n, seq = 0;

	ASSERT(s);
	for (int i = 0; i < 3; i++) {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "kind", "log");
		ASSERT_INT_EQ(store_outbox_add_event(s, "job-b", ev, &seq), 0);
		ASSERT_INT_EQ(seq, i + 1);
		ASSERT_INT_EQ(cJSON_GetObjectItem(ev, "seq")->valueint, i + 1);
		cJSON_Delete(ev);
	}
	{
		cJSON *ev = cJSON_CreateObject();
		ASSERT_INT_EQ(store_outbox_add_event(s, "job-a", ev, &seq), 0);
		ASSERT_INT_EQ(seq, 1);	/* seq is per job */
		cJSON_Delete(ev);
	}
	/* the complete goes after the job's events even if added first */
	ASSERT_INT_EQ(store_outbox_add_complete(s, "job-a", 1, "{\"outcome\":\"ok\"}"), 0);
	ASSERT_INT_EQ(store_outbox_add_complete(s, "job-a", 1, "{\"outcome\":\"other\"}"), 0);
	ASSERT_INT_EQ(store_outbox_pending(s), 5);
	ASSERT_INT_EQ(store_outbox_jobs(s, ids, 4), 2);
	ASSERT_STR_EQ(ids[0], "job-b");	/* waiting longest */
	ASSERT_STR_EQ(ids[1], "job-a");

	ASSERT_INT_EQ(store_outbox_peek(s, "job-b", 10, &m, &n), 0);
	ASSERT_INT_EQ(n, 3);
	for (int i = 0; i < n; i++) {
		ASSERT_INT_EQ(m[i].seq, i + 1);
		ASSERT_INT_EQ(m[i].kind, STORE_MSG_EVENT);
		ASSERT_STR_CONTAINS(m[i].body, "\"seq\":");
	}
	ASSERT_INT_EQ(store_outbox_mark(s, m[0].id, 1, NULL), 0);
	store_msgs_free(m, n);
	ASSERT_INT_EQ(store_outbox_peek(s, "job-b", 10, &m, &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(m[0].seq, 2);
	store_msgs_free(m, n);

	ASSERT_INT_EQ(store_outbox_peek(s, "job-a", 10, &m, &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(m[0].kind, STORE_MSG_EVENT);
	ASSERT_INT_EQ(m[1].kind, STORE_MSG_COMPLETE);
	ASSERT_STR_EQ(m[1].body, "{\"outcome\":\"ok\"}");	/* the first complete wins */
	store_msgs_free(m, n);
	ASSERT_INT_EQ(store_outbox_pending(s), 4);
	/* a later claim of the same job completes again */
	ASSERT_INT_EQ(store_outbox_add_complete(s, "job-a", 2, "{\"outcome\":\"failed\"}"), 0);
	ASSERT_INT_EQ(store_outbox_peek(s, "job-a", 10, &m, &n), 0);
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(m[2].seq, 2);
	store_msgs_free(m, n);
	store_free(s);
}

static void test_outbox_survives_reopen(void)
{
	struct store *s = fresh();
	char err[512];
	cJSON *ev = cJSON_CreateObject();
	int seq;

	ASSERT(s);
	ASSERT_INT_EQ(store_outbox_add_event(s, "j", ev, &seq), 0);
	store_free(s);
	s = store_open(path, err, sizeof(err));
	ASSERT(s);
	ASSERT_INT_EQ(store_outbox_pending(s), 1);
	ASSERT_INT_EQ(store_outbox_add_event(s, "j", ev, &seq), 0);
	ASSERT_INT_EQ(seq, 2);		/* numbering continues */
	cJSON_Delete(ev);
	store_free(s);
}

static void test_job_put_is_idempotent(void)
{
	struct store *s = fresh();

	ASSERT(s);
	ASSERT_INT_EQ(store_job_put(s, "j1", 1, "{}"), 1);
	ASSERT_INT_EQ(store_job_put(s, "j1", 1, "{}"), 0);
	ASSERT_INT_EQ(store_job_put(s, "j1", 2, "{}"), 1);
	ASSERT_INT_EQ(store_job_set_state(s, "j1", STORE_JOB_RUNNING, 1, 0), 0);
	ASSERT_INT_EQ(store_job_abandon_stale(s), 2);
	ASSERT_INT_EQ(store_job_abandon_stale(s), 0);
	{
		int64_t run = store_run_begin(s, "j1", 2, 1, 1234);
		ASSERT(run > 0);
		ASSERT_INT_EQ(store_run_end(s, run, 1, "transient", "boom"), 0);
		ASSERT_INT_EQ(store_artifact_add(s, run, "j1", "/tmp/x/failure.png"), 0);
	}
	store_free(s);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/agent.db", dir);
	TEST_RUN(test_migrations_reach_latest_and_reopen);
	TEST_RUN(test_refuses_newer_schema);
	TEST_RUN(test_migrates_from_an_empty_v0_file);
	TEST_RUN(test_outbox_seq_and_order);
	TEST_RUN(test_outbox_survives_reopen);
	TEST_RUN(test_job_put_is_idempotent);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return TEST_REPORT();
}
