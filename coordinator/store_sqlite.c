/*
 * The store's SQLite driver: a file in WAL mode owned by one coordinator
 * process (lib/sqldb.c opens, migrates and binds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqldb.h"
#include "store_driver.h"

struct sq_rows {
	struct cstore_rows base;
	sqlite3_stmt *st;
};

static void set_err(struct cstore *s, int rc)
{
	sqlite3 *db = s->h;
	int ext = sqlite3_extended_errcode(db);

	(void)rc;
	s->conflict = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY;
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(db));
}

static int sq_open(struct cstore *s, const char *target, const struct cstore_schema *schema,
		   char *err, size_t n)
{
	s->h = sqldb_open(target, schema->sqlite, err, n);
	/* Reads straight from the page cache through a mapping, and a page
	 * cache of our own big enough for 10,000 users and their jobs: a
	 * SCIM page of 100 users spent a sixth of its time in pread(2)
	 * copies with SQLite's 2 MB default.  Best effort: both are hints. */
	if (s->h)
		sqlite3_exec(s->h, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -65536",
			     NULL, NULL, NULL);
	return s->h ? 0 : -1;
}

static void sq_close(struct cstore *s)
{
	sqlite3_close(s->h);
}

static sqlite3_stmt *prep(struct cstore *s, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = sqldb_prepare(s->h, sql, fmt, ap);

	s->conflict = 0;
	if (!st) {
		set_err(s, SQLITE_ERROR);
		cstore_log_error(s, sql);
	}
	return st;
}

static struct cstore_rows *sq_query(struct cstore *s, const char *sql, const char *fmt,
				    va_list ap)
{
	sqlite3_stmt *st = prep(s, sql, fmt, ap);
	struct sq_rows *r;

	if (!st)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		sqlite3_finalize(st);
		return NULL;
	}
	r->base.s = s;
	r->st = st;
	return &r->base;
}

static int sq_exec(struct cstore *s, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = prep(s, sql, fmt, ap);
	int rc;

	s->changes = 0;
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		s->changes = sqlite3_changes(s->h);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	set_err(s, rc);
	cstore_log_error(s, sql);
	return -1;
}

static int sq_next(struct cstore_rows *rows)
{
	struct sq_rows *r = (struct sq_rows *)rows;
	int rc;

	if (!r->st)
		return 0;
	rc = sqlite3_step(r->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE) {
		set_err(rows->s, rc);
		cstore_log_error(rows->s, sqlite3_sql(r->st));
	}
	return 0;
}

static const char *sq_text(struct cstore_rows *rows, int col)
{
	return (const char *)sqlite3_column_text(((struct sq_rows *)rows)->st, col);
}

static int64_t sq_int64(struct cstore_rows *rows, int col)
{
	return sqlite3_column_int64(((struct sq_rows *)rows)->st, col);
}

static int sq_is_null(struct cstore_rows *rows, int col)
{
	return sqlite3_column_type(((struct sq_rows *)rows)->st, col) == SQLITE_NULL;
}

static void sq_done(struct cstore_rows *rows)
{
	struct sq_rows *r = (struct sq_rows *)rows;

	sqlite3_finalize(r->st);
	free(r);
}

static int run(struct cstore *s, const char *sql)
{
	int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	set_err(s, rc);
	cstore_log_error(s, sql);
	return -1;
}

/* The write lock at once: a later upgrade from a read lock could fail
 * with SQLITE_BUSY in the middle of the transaction. */
static int sq_begin(struct cstore *s)
{
	return run(s, "BEGIN IMMEDIATE");
}

static int sq_commit(struct cstore *s)
{
	return run(s, "COMMIT");
}

static void sq_rollback(struct cstore *s)
{
	if (!sqlite3_get_autocommit(s->h))
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
}

static int64_t sq_next_serial(struct cstore *s, const char *table, const char *column)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(%s), 0) + 1 FROM %s", column, table);
	return cstore_int(s, 1, sql, NULL);
}

/* One process owns the file: it wakes its own waiters directly. */
static int sq_listen(struct cstore *s, const char *channel)
{
	return 0;
}

static int sq_notify(struct cstore *s, const char *channel)
{
	return 0;
}

static int sq_fd(struct cstore *s)
{
	return -1;
}

static int sq_pump(struct cstore *s)
{
	return 0;
}

const struct cstore_driver cstore_sqlite_driver = {
	.name = "sqlite",
	.dialect = CSTORE_SQLITE,
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.exec = sq_exec,
	.next = sq_next,
	.text = sq_text,
	.int64 = sq_int64,
	.is_null = sq_is_null,
	.done = sq_done,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.next_serial = sq_next_serial,
	.listen = sq_listen,
	.notify = sq_notify,
	.fd = sq_fd,
	.pump = sq_pump,
};
