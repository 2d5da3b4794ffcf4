/*
 * lib/sqldb_checkpoint.c: a WAL's checkpoints on a thread of their own.
 * The commits that fill the WAL wake the thread, the WAL is copied back
 * and starts over (it stays small), and every row written reads back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqldb.h"
#include "test.h"

static const char *const schema[] = {
	"CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);",
	NULL
};

static long wal_bytes(const char *db)
{
	char p[700];
	struct stat st;

	snprintf(p, sizeof(p), "%s-wal", db);
	return stat(p, &st) ? -1 : (long)st.st_size;
}

static void test_checkpoints_run_on_the_thread(void)
{
	char dir[] = "/tmp/idlcm-ckpt-XXXXXX", path[600], err[300] = "";
	sqlite3 *db;
	struct sqldb_checkpointer *k;
	char v[2000];
	long biggest = 0;

	ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	db = sqldb_open(path, schema, err, sizeof(err));
	ASSERT(db);
	k = sqldb_checkpointer_start(db, 50);
	ASSERT(k);
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	/* 3,000 commits of a page or so each: 60 times the threshold, and
	 * more than the writer's own fallback (32 times) would allow */
	for (int i = 0; i < 3000; i++) {
		sqlite3_stmt *st;
		ASSERT_INT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t (k, v) VALUES (?, ?)", -1, &st,
						 NULL), SQLITE_OK);
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
		ASSERT_INT_EQ(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		if (wal_bytes(path) > biggest)
			biggest = wal_bytes(path);
		usleep(200);	/* a server's pace, and room for the thread */
	}
	for (int i = 0; i < 200 && sqldb_checkpointer_runs(k) == 0; i++)
		usleep(10000);
	ASSERT(sqldb_checkpointer_runs(k) > 0);
	/* the WAL started over, well before the writer's own fallback at 32
	 * times the threshold (1,600 pages, 6.6 MB: where it stood when the
	 * thread's checkpoints quietly did nothing) */
	ASSERT(biggest < 4L * 1024 * 1024);
	{
		sqlite3_stmt *st;
		ASSERT_INT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL),
			      SQLITE_OK);
		ASSERT_INT_EQ(sqlite3_step(st), SQLITE_ROW);
		ASSERT_INT_EQ(sqlite3_column_int(st, 0), 3000);
		sqlite3_finalize(st);
	}
	sqldb_checkpointer_stop(k);
	ASSERT_INT_EQ(sqlite3_close(db), SQLITE_OK);
	/* the last close checkpointed and removed the WAL */
	ASSERT(wal_bytes(path) < 0);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	ASSERT_INT_EQ(system(err), 0);
}

static void test_no_thread_without_a_file(void)
{
	char err[300] = "";
	sqlite3 *db = sqldb_open(":memory:", schema, err, sizeof(err));

	ASSERT(db);
	ASSERT(!sqldb_checkpointer_start(db, 50));
	sqldb_checkpointer_stop(NULL);
	sqlite3_close(db);
}

int main(void)
{
	TEST_RUN(test_checkpoints_run_on_the_thread);
	TEST_RUN(test_no_thread_without_a_file);
	return TEST_REPORT();
}
