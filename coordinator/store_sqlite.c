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
	int slot;		/* the cache slot it borrows, -1: its own */
};

/*
 * Prepared statements, kept per SQL text: compiling a statement cost more
 * than running it (a SCIM create spent 40% of its CPU in SQLite's parser
 * over the same twenty texts).  A slot is lent to one cursor at a time; a
 * text whose slots are all lent (a statement run while its own rows are
 * read) gets a statement of its own, finalized after.  Texts built per
 * call (a filter's LIMIT n OFFSET m) just take slots over.
 */
#define SQ_SLOTS 256

struct sq_slot {
	sqlite3_stmt *st;
	int busy;
};

struct sq_cache {
	struct sq_slot slot[SQ_SLOTS];
	unsigned turn;
};

static unsigned hash_sql(const char *sql)
{
	unsigned h = 2166136261u;

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 16777619u;
	return h % SQ_SLOTS;
}

static struct sq_cache *cache_of(struct cstore *s)
{
	if (!s->cache)
		s->cache = calloc(1, sizeof(struct sq_cache));
	return s->cache;
}

static void sq_release(struct cstore *s)
{
	struct sq_cache *c = s->cache;

	if (!c)
		return;
	for (int i = 0; i < SQ_SLOTS; i++)
		sqlite3_finalize(c->slot[i].st);
	free(c);
	s->cache = NULL;
}

/* A statement for sql with fmt's arguments bound: *slot is its cache slot
 * (give it back with unprep), or -1 when it is the caller's to finalize.
 * A text may sit in any of SQ_WAYS slots from its hash, so two texts that
 * hash alike do not push each other out on every call. */
#define SQ_WAYS 4

static sqlite3_stmt *prep_cached(struct cstore *s, const char *sql, const char *fmt,
				 va_list ap, int *slot)
{
	struct sq_cache *c = cache_of(s);
	unsigned h = hash_sql(sql);
	struct sq_slot *sl = NULL;

	*slot = -1;
	if (!c)
		return sqldb_prepare(s->h, sql, fmt, ap);
	for (unsigned i = 0; i < SQ_WAYS && !sl; i++) {
		struct sq_slot *t = &c->slot[(h + i) % SQ_SLOTS];
		if (t->st && !t->busy && !strcmp(sqlite3_sql(t->st), sql))
			sl = t;
	}
	for (unsigned i = 0; i < SQ_WAYS && !sl; i++) {
		struct sq_slot *t = &c->slot[(h + i) % SQ_SLOTS];
		if (!t->st)
			sl = t;
	}
	for (unsigned i = 0; i < SQ_WAYS && !sl; i++) {
		/* all taken: the ways take turns being replaced */
		struct sq_slot *t = &c->slot[(h + c->turn++ % SQ_WAYS) % SQ_SLOTS];
		if (!t->busy) {
			sqlite3_finalize(t->st);
			t->st = NULL;
			sl = t;
		}
	}
	if (!sl)	/* every way lent out: a statement of the caller's own */
		return sqldb_prepare(s->h, sql, fmt, ap);
	if (!sl->st && sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &sl->st,
					  NULL) != SQLITE_OK) {
		sqlite3_finalize(sl->st);
		sl->st = NULL;
		return NULL;
	}
	sl->busy = 1;
	*slot = (int)(sl - c->slot);
	sqldb_bind(sl->st, fmt, ap);
	return sl->st;
}

/* Done with a statement: a cached one is reset (ending its read of the
 * file) and its arguments dropped (a text argument is a copy). */
static void unprep(struct cstore *s, sqlite3_stmt *st, int slot)
{
	struct sq_cache *c = s->cache;

	if (slot < 0 || !c) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	c->slot[slot].busy = 0;
}

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
	if (!s->h)
		return -1;
	sqlite3_exec(s->h, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -65536",
		     NULL, NULL, NULL);
	/* checkpoints off the request path (SQLite's default threshold) */
	s->aux = sqldb_checkpointer_start(s->h, 1000);
	return 0;
}

static void sq_close(struct cstore *s)
{
	sqldb_checkpointer_stop(s->aux);
	s->aux = NULL;
	sqlite3_close(s->h);
}

static sqlite3_stmt *prep(struct cstore *s, const char *sql, const char *fmt, va_list ap,
			  int *slot)
{
	sqlite3_stmt *st = prep_cached(s, sql, fmt, ap, slot);

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
	int slot;
	sqlite3_stmt *st = prep(s, sql, fmt, ap, &slot);
	struct sq_rows *r;

	if (!st)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		unprep(s, st, slot);
		return NULL;
	}
	r->base.s = s;
	r->st = st;
	r->slot = slot;
	return &r->base;
}

static int sq_exec(struct cstore *s, const char *sql, const char *fmt, va_list ap)
{
	int slot;
	sqlite3_stmt *st = prep(s, sql, fmt, ap, &slot);
	int rc;

	s->changes = 0;
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		s->changes = sqlite3_changes(s->h);
		unprep(s, st, slot);
		return 0;
	}
	/* the error before the reset: a reset statement's message is gone */
	set_err(s, rc);
	unprep(s, st, slot);
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

	unprep(rows->s, r->st, r->slot);
	free(r);
}

static int exec_cached(struct cstore *s, const char *sql, ...)
{
	va_list ap;
	int rc;

	va_start(ap, sql);
	rc = sq_exec(s, sql, NULL, ap);
	va_end(ap);
	return rc;
}

/* BEGIN / COMMIT through the statement cache too (each SCIM write has
 * both); cstore_changes still tells about the last statement. */
static int run(struct cstore *s, const char *sql)
{
	int changes = s->changes, rc = exec_cached(s, sql);

	s->changes = changes;
	return rc;
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

/* Every row this connection wrote counts (rolled back ones too: that
 * only costs a cache a miss); PRAGMA data_version moves when another
 * connection commits to the file.  The pragma, not the pager's
 * SQLITE_FCNTL_DATA_VERSION: that one learns of another connection's
 * commit only when its next transaction starts. */
static sqlite3_stmt *prep_plain(struct cstore *s, const char *sql, int *slot, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, slot);
	st = prep_cached(s, sql, NULL, ap, slot);
	va_end(ap);
	return st;
}

static int sq_stamp(struct cstore *s, struct cstore_stamp *out)
{
	int slot;
	sqlite3_stmt *st = prep_plain(s, "PRAGMA data_version", &slot);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	out->data = (uint64_t)sqlite3_column_int64(st, 0);
	unprep(s, st, slot);
	if (rc != SQLITE_ROW)
		return -1;
	out->changes = (uint64_t)sqlite3_total_changes64(s->h);
	return 0;
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
	.release = sq_release,
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
	.stamp = sq_stamp,
	.listen = sq_listen,
	.notify = sq_notify,
	.fd = sq_fd,
	.pump = sq_pump,
};
