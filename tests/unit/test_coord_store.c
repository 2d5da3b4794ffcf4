/*
 * The coordinator's store interface (coordinator/store.h) on its SQLite
 * driver, and the PostgreSQL driver's placeholder rewrite.  The
 * PostgreSQL driver itself runs against a real server in
 * tests/e2e/test_postgres.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator.h"
#include "store_driver.h"
#include "test.h"

static struct cstore *open_mem(void)
{
	char err[300] = "";
	struct cstore *s = cstore_open(":memory:", &coord_schema, err, sizeof(err));

	if (!s)
		fprintf(stderr, "open: %s\n", err);
	return s;
}

static void test_migrated_and_counted(void)
{
	struct cstore *s = open_mem();
	int steps = 0;

	ASSERT(s);
	while (coord_schema.sqlite[steps])
		steps++;
	ASSERT_INT_EQ(cstore_int(s, -1, "PRAGMA user_version", NULL), steps);
	ASSERT_INT_EQ(cstore_dialect(s), CSTORE_SQLITE);
	ASSERT(cstore_sqlite(s) != NULL);
	cstore_close(s);
}

/* Both engines get the same number of steps: a step added for one and
 * forgotten for the other would leave the databases apart. */
static void test_schema_lists_equally_long(void)
{
	int a = 0, b = 0;

	while (coord_schema.sqlite[a])
		a++;
	while (coord_schema.postgres[b])
		b++;
	ASSERT_INT_EQ(a, b);
	for (int i = 0; i < b; i++) {
		ASSERT(!strstr(coord_schema.postgres[i], " INTEGER"));
		ASSERT(!strstr(coord_schema.postgres[i], "OR IGNORE"));
	}
}

static void test_exec_query_cursor(void)
{
	struct cstore *s = open_mem();
	struct cstore_rows *r;
	int n = 0;

	ASSERT(s);
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO integrations (id, app, updated_ms) VALUES (?, ?, ?)",
				  "tti", "i1", "acme", (int64_t)1 << 40), 0);
	ASSERT_INT_EQ(cstore_changes(s), 1);
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO integrations (id, app, updated_ms) VALUES (?, ?, ?)"
				  " ON CONFLICT DO NOTHING", "ttn", "i1", "other", 5), 0);
	ASSERT_INT_EQ(cstore_changes(s), 0);
	/* a plain duplicate is an error that says "conflict", not logged */
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO integrations (id, app, updated_ms) VALUES (?, ?, ?)",
				  "ttn", "i1", "other", 5), -1);
	ASSERT(cstore_conflict(s));
	ASSERT_STR_CONTAINS(cstore_errmsg(s), "UNIQUE");
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO integrations (id, app, detail, updated_ms)"
				  " VALUES (?, ?, ?, ?)", "ttti", "i2", "globex", NULL, (int64_t)7), 0);
	ASSERT(!cstore_conflict(s));
	r = cstore_query(s, "SELECT id, app, detail, updated_ms FROM integrations ORDER BY id", NULL);
	ASSERT(r);
	while (cstore_next(r)) {
		if (n == 0) {
			ASSERT_STR_EQ(cstore_text(r, 0), "i1");
			ASSERT_INT_EQ(cstore_int64(r, 3), (int64_t)1 << 40);
		} else {
			ASSERT_STR_EQ(cstore_text(r, 1), "globex");
			ASSERT(cstore_is_null(r, 2));
			ASSERT(cstore_text(r, 2) == NULL);
			ASSERT_INT_EQ(cstore_int64(r, 3), 7);
		}
		n++;
	}
	cstore_done(r);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(cstore_int(s, -5, "SELECT updated_ms FROM integrations WHERE id = ?", "t", "none"), -5);
	ASSERT_INT_EQ(cstore_exec(s, "UPDATE integrations SET status = ? WHERE updated_ms > ?",
				  "td", "x", 1.5), 0);
	ASSERT_INT_EQ(cstore_changes(s), 2);
	/* a statement that does not prepare: NULL, and a NULL cursor ends */
	ASSERT(cstore_query(s, "SELECT nope FROM nowhere", NULL) == NULL);
	ASSERT_INT_EQ(cstore_next(NULL), 0);
	cstore_done(NULL);
	cstore_close(s);
}

static void test_transactions_and_serial(void)
{
	struct cstore *s = open_mem();

	ASSERT(s);
	ASSERT_INT_EQ(cstore_next_serial(s, "jobs", "n"), 1);
	ASSERT_INT_EQ(cstore_begin(s), 0);
	ASSERT(cstore_in_tx(s));
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO jobs (id, n, integration, app, action, body,"
				  " max_attempts, lease_s, created_ms, updated_ms)"
				  " VALUES ('j1', 1, 'i', 'a', 'list_users', '{}', 1, 60, 0, 0)", NULL), 0);
	cstore_rollback(s);
	ASSERT(!cstore_in_tx(s));
	ASSERT_INT_EQ(cstore_int(s, -1, "SELECT count(*) FROM jobs", NULL), 0);
	ASSERT_INT_EQ(cstore_begin(s), 0);
	ASSERT_INT_EQ(cstore_exec(s, "INSERT INTO jobs (id, n, integration, app, action, body,"
				  " max_attempts, lease_s, created_ms, updated_ms)"
				  " VALUES ('j7', 7, 'i', 'a', 'list_users', '{}', 1, 60, 0, 0)", NULL), 0);
	ASSERT_INT_EQ(cstore_commit(s), 0);
	ASSERT_INT_EQ(cstore_next_serial(s, "jobs", "n"), 8);
	/* SQLite has no notifications and no socket to watch */
	ASSERT_INT_EQ(cstore_fd(s), -1);
	ASSERT_INT_EQ(cstore_notify(s, COORD_JOBS_CHANNEL), 0);
	ASSERT_INT_EQ(cstore_pump(s), 0);
	cstore_close(s);
}

static void test_url_or_file(void)
{
	char err[300] = "";

	ASSERT(cstore_is_url("postgres://u@h/db"));
	ASSERT(cstore_is_url("postgresql:///db?host=/tmp"));
	ASSERT(!cstore_is_url("coordinator.db"));
	ASSERT(!cstore_is_url("postgres.db"));
	/* nothing listens there: the error names the URL, not its password */
	ASSERT(cstore_open("postgresql://idlcm:s3cret@127.0.0.1:1/idlcm?connect_timeout=2",
			   &coord_schema, err, sizeof(err)) == NULL);
	ASSERT_STR_CONTAINS(err, "cannot connect to PostgreSQL at postgresql://idlcm:***@127.0.0.1:1/idlcm");
	ASSERT(!strstr(err, "s3cret"));
}

static void test_pg_placeholders(void)
{
	int n = -1;
	char *t = cstore_pg_placeholders("SELECT '?', ?, \"a?b\", coalesce(?, 'it''s?') FROM t"
					 " WHERE x = ?", &n);

	ASSERT_STR_EQ(t, "SELECT '?', $1, \"a?b\", coalesce($2, 'it''s?') FROM t WHERE x = $3");
	ASSERT_INT_EQ(n, 3);
	free(t);
	t = cstore_pg_placeholders("SELECT 1", &n);
	ASSERT_STR_EQ(t, "SELECT 1");
	ASSERT_INT_EQ(n, 0);
	free(t);
}

int main(void)
{
	TEST_RUN(test_migrated_and_counted);
	TEST_RUN(test_schema_lists_equally_long);
	TEST_RUN(test_exec_query_cursor);
	TEST_RUN(test_transactions_and_serial);
	TEST_RUN(test_url_or_file);
	TEST_RUN(test_pg_placeholders);
	return TEST_REPORT();
}
