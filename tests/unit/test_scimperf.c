/*
 * What the SCIM speed work rests on in the SQLite store
 * (coordinator/store_sqlite.c): kept prepared statements that answer as
 * fresh ones do — nested cursors over one text, more texts than slots,
 * arguments of one call never leaking into the next, errors still told —
 * and cstore_stamp, which must move on every write by this connection or
 * another and on nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coordinator.h"
#include "store_driver.h"
#include "test.h"

static struct cstore *open_file(const char *path)
{
	char err[300] = "";
	struct cstore *s = cstore_open(path, &coord_schema, err, sizeof(err));

	if (!s)
		fprintf(stderr, "open: %s\n", err);
	return s;
}

static void test_nested_cursors_over_one_text(void)
{
	struct cstore *s = open_file(":memory:");
	const char *q = "SELECT x FROM t WHERE x >= ? ORDER BY x";
	struct cstore_rows *a, *b;
	int outer = 0, inner = 0;

	ASSERT(s);
	ASSERT_INT_EQ(cstore_exec(s, "CREATE TABLE t (x INTEGER)", NULL), 0);
	for (int i = 1; i <= 3; i++)
		ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO t (x) VALUES (?)", "n", i), 0);
	/* the same text while its own rows are read: a statement of its own */
	a = cstore_query(s, q, "n", 1);
	while (cstore_next(a)) {
		outer++;
		b = cstore_query(s, q, "n", (int)cstore_int64(a, 0));
		while (cstore_next(b))
			inner++;
		cstore_done(b);
	}
	cstore_done(a);
	ASSERT_INT_EQ(outer, 3);
	ASSERT_INT_EQ(inner, 3 + 2 + 1);
	/* a NULL argument after a text one: no argument of the last call stays */
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT count(*) FROM t WHERE ? IS NULL OR x = 2", "t", "a"), 1);
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT count(*) FROM t WHERE ? IS NULL OR x = 2", "t", NULL), 3);
	cstore_close(s);
}

static void test_more_texts_than_slots(void)
{
	struct cstore *s = open_file(":memory:");
	char sql[100];

	ASSERT(s);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 700; i++) {
			snprintf(sql, sizeof(sql), "SELECT %d + ?", i);
			ASSERT_INT_EQ(cstore_int(s, -1, sql, "n", round), i + round);
		}
	cstore_close(s);
}

static void test_errors_and_conflicts_still_told(void)
{
	struct cstore *s = open_file(":memory:");

	ASSERT(s);
	ASSERT_INT_EQ(cstore_exec(s, "CREATE TABLE u (k TEXT PRIMARY KEY)", NULL), 0);
	for (int i = 0; i < 2; i++) {	/* the second time from the kept statement */
		ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO u (k) VALUES (?)", "t", "a"), i ? -1 : 0);
		ASSERT_INT_EQ(cstore_conflict(s), i);
	}
	ASSERT_STR_CONTAINS(cstore_errmsg(s), "UNIQUE");
	ASSERT_INT_EQ(cstore_begin(s), 0);
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO u (k) VALUES (?)", "t", "b"), 0);
	ASSERT_INT_EQ(cstore_changes(s), 1);
	ASSERT_INT_EQ(cstore_commit(s), 0);
	ASSERT_INT_EQ(cstore_changes(s), 1);	/* COMMIT is not a statement's count */
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT count(*) FROM u", NULL), 2);
	cstore_close(s);
}

/* A cursor that ends on an error says so (a remembered listing must not
 * keep half of one). */
static void test_failed_rows_told_from_the_end(void)
{
	struct cstore *s = open_file(":memory:");
	struct cstore_rows *r;
	int n = 0;

	ASSERT(s);
	ASSERT_INT_EQ(cstore_exec(s, "CREATE TABLE t (x INTEGER)", NULL), 0);
	for (int i = 1; i <= 3; i++)
		ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO t (x) VALUES (?)", "n", i), 0);
	r = cstore_query(s, "SELECT x FROM t ORDER BY x", NULL);
	while (cstore_next(r))
		n++;
	ASSERT_INT_EQ(n, 3);
	ASSERT(!cstore_failed(r));
	cstore_done(r);
	n = 0;
	r = cstore_query(s, "SELECT CASE WHEN x = 2 THEN abs(-9223372036854775807 - 1) ELSE x END"
			 " FROM t", NULL);
	while (cstore_next(r))
		n++;
	ASSERT(n < 3);
	ASSERT(cstore_failed(r));
	ASSERT_STR_CONTAINS(cstore_errmsg(s), "overflow");
	cstore_done(r);
	ASSERT(cstore_failed(NULL));
	cstore_close(s);
}

static void test_stamp_moves_on_writes_only(void)
{
	char path[] = "/tmp/idlcm-scimperf-XXXXXX", db[64], side[80];
	struct cstore_stamp a, b;
	struct cstore *s, *other;
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(db, sizeof(db), "%s.db", path);
	s = open_file(db);
	other = open_file(db);
	ASSERT(s && other);
	ASSERT_INT_EQ(cstore_exec(s, "CREATE TABLE t (x INTEGER)", NULL), 0);
	ASSERT_INT_EQ(cstore_stamp(s, &a), 0);
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT count(*) FROM t", NULL), 0);
	ASSERT_INT_EQ(cstore_stamp(s, &b), 0);
	ASSERT(!memcmp(&a, &b, sizeof(a)));	/* a read moves nothing */
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO t (x) VALUES (1)", NULL), 0);
	ASSERT_INT_EQ(cstore_stamp(s, &b), 0);
	ASSERT(memcmp(&a, &b, sizeof(a)));	/* its own write */
	a = b;
	ASSERT_INT_EQ(cstore_exec(other, "UPDATE t SET x = 2", NULL), 0);
	ASSERT_INT_EQ(cstore_stamp(s, &b), 0);
	ASSERT(memcmp(&a, &b, sizeof(a)));	/* another connection's */
	/* two stores never share a stamp */
	ASSERT_INT_EQ(cstore_stamp(other, &a), 0);
	ASSERT(a.store != b.store);
	cstore_close(other);
	cstore_close(s);
	unlink(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
}

/* A wrapped handle: the store's kept statements go with the store, and
 * the caller can close the handle after it. */
static void test_wrapped_handle_closes_after_store(void)
{
	sqlite3 *db = NULL;
	struct cstore *s;

	ASSERT_INT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
	s = cstore_wrap_sqlite(db);
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT 41 + ?", "n", 1), 42);
	cstore_close(s);
	ASSERT_INT_EQ(sqlite3_close(db), SQLITE_OK);
}

/* cdb_iso formats by arithmetic: the same text as gmtime_r + strftime,
 * across leap years, century rules and every second of a day */
static void test_iso_times_match_the_c_library(void)
{
	char want[40], got[40];
	int bad = 0;

	for (int64_t t = 0; t < 4102444800LL && bad < 3; t += 86400 * 3 + 3671) {
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		cdb_iso(t * 1000 + 999, got, sizeof(got));
		if (strcmp(want, got)) {
			fprintf(stderr, "  %lld: want %s, got %s\n", (long long)t, want, got);
			bad++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
	cdb_iso(951782400000LL, got, sizeof(got));	/* 2000: a leap year by the 400 rule */
	ASSERT_STR_EQ(got, "2000-02-29T00:00:00Z");
	cdb_iso(4107542400000LL, got, sizeof(got));	/* 2100: no 29 February */
	ASSERT_STR_EQ(got, "2100-03-01T00:00:00Z");
	cdb_iso(951782400000LL, got, 11);		/* a short buffer: cut, terminated */
	ASSERT_STR_EQ(got, "2000-02-29");
}

int main(void)
{
	TEST_RUN(test_iso_times_match_the_c_library);
	TEST_RUN(test_nested_cursors_over_one_text);
	TEST_RUN(test_more_texts_than_slots);
	TEST_RUN(test_errors_and_conflicts_still_told);
	TEST_RUN(test_failed_rows_told_from_the_end);
	TEST_RUN(test_stamp_moves_on_writes_only);
	TEST_RUN(test_wrapped_handle_closes_after_store);
	return TEST_REPORT();
}
