#ifndef IDLCM_COORD_STORE_H
#define IDLCM_COORD_STORE_H
/*
 * The coordinator's store: one interface over the database that keeps its
 * state, with a driver per engine (as the CDP layer has transports):
 * SQLite (a file: the embedded default for one machine) and PostgreSQL
 * (a postgres:// or postgresql:// URL: several coordinator processes on
 * one database).  Prefix cstore_: the agent's own store_* (include/store.h)
 * links into the same unit tests.
 *
 * API (callers convert mechanically from the old cdb_* helpers):
 *
 *   struct cstore *s = cstore_open(target, &coord_schema, err, n);
 *   cstore_exec(s, sql, fmt, ...)          -> 0, or -1 (cstore_errmsg)
 *   cstore_int(s, dflt, sql, fmt, ...)     -> first column of first row
 *   struct cstore_rows *r = cstore_query(s, sql, fmt, ...);   (NULL: error)
 *   while (cstore_next(r)) {               (NULL-safe; 0 at the end or on error)
 *           cstore_text(r, 0);             (NULL for SQL NULL; valid until next/done)
 *           cstore_int64(r, 1); cstore_is_null(r, 2); cstore_double(r, 3);
 *   }
 *   cstore_done(r);                        (NULL-safe)
 *   cstore_begin(s) / cstore_commit(s) / cstore_rollback(s)
 *   cstore_changes(s)   rows the last cstore_exec wrote
 *   cstore_conflict(s)  the last error was a unique/primary-key violation
 *
 * fmt binds one argument per letter, as before: 't' text (NULL binds NULL),
 * 'i' int64_t, 'n' int, 'd' double.
 *
 * SQL is written once, with '?' placeholders, in the subset both engines
 * speak: INSERT … ON CONFLICT DO NOTHING (never INSERT OR IGNORE / OR
 * REPLACE), ON CONFLICT (cols) DO UPDATE SET x = excluded.x, RETURNING,
 * coalesce, count/max/min, ||, CASE, lower(); no json_*() functions (build
 * JSON in C), no PRAGMA, no BEGIN/COMMIT text (use cstore_begin/commit),
 * no "" for strings, no rowid.  The PostgreSQL driver rewrites ? to $n.
 * Integers are 64-bit everywhere (PostgreSQL columns are BIGINT).  Where
 * the engines must differ, branch on cstore_dialect(s).
 *
 * Transactions: cstore_begin takes the write lock at once on SQLite
 * (BEGIN IMMEDIATE) and opens a READ COMMITTED transaction on PostgreSQL;
 * rows a transaction must own against another coordinator process are
 * locked with SELECT … FOR UPDATE (SKIP LOCKED), PostgreSQL only.  On
 * PostgreSQL a failed statement spoils the rest of its transaction: do not
 * rely on a constraint error inside one (use ON CONFLICT DO NOTHING and
 * cstore_changes).  cstore_commit rolls back when it fails.
 *
 * Several processes: cstore_notify(s, channel) tells every other
 * coordinator on the database (PostgreSQL NOTIFY, sent at commit; a no-op
 * on SQLite, where one process owns the file).  cstore_listen subscribes;
 * cstore_fd is the socket to watch for readability (-1: none), and
 * cstore_pump reads it and calls the listener once per notification from
 * another process.
 *
 * Where the engines differ under the same text (PostgreSQL side): a
 * boolean result column (x IS NOT NULL, a = b) comes back "t"/"f": select
 * CASE WHEN … THEN 1 ELSE 0 END.  A bare "? IS NULL" cannot be typed: write
 * CAST(? AS TEXT).  LIKE is case-sensitive (SQLite's is not, for ASCII):
 * compare lower(x) LIKE lower(?).  NULLs sort last ascending (SQLite:
 * first): say NULLS FIRST/LAST.  Two-argument max(a, b) is greatest() there:
 * use CASE.  Every selected column not aggregated is in the GROUP BY.
 *
 * Converting a module: cdb_exec(c->db, -> cstore_exec(c->store,;
 * cdb_int -> cstore_int; cdb_query -> cstore_query (struct cstore_rows *);
 * sqlite3_step(st) == SQLITE_ROW -> cstore_next(st); sqlite3_column_text ->
 * cstore_text (no cast); sqlite3_column_int/int64 -> cstore_int64;
 * sqlite3_column_type == SQLITE_NULL -> cstore_is_null; sqlite3_finalize ->
 * cstore_done; sqlite3_changes -> cstore_changes; sqlite3_errmsg ->
 * cstore_errmsg; "BEGIN IMMEDIATE" / "COMMIT" / "ROLLBACK" texts ->
 * cstore_begin / cstore_commit / cstore_rollback; SELECT max(n) + 1 FROM
 * jobs -> cstore_next_serial(s, "jobs", "n"); INSERT OR IGNORE -> INSERT …
 * ON CONFLICT DO NOTHING.  Jobs queued -> coord_jobs_added(c) as before (it
 * now also NOTIFYs the other coordinators).  struct coord's sqlite3 *db and
 * the cdb_* SQLite helpers stay only until every module is moved.
 *
 * Schema: each engine has its own list of steps (same count, same
 * meaning); the store applies the missing ones at open, one transaction
 * each, and refuses a database newer than the build.  SQLite counts them
 * in PRAGMA user_version, PostgreSQL in the table schema_version.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct cstore;
struct cstore_rows;

enum cstore_dialect { CSTORE_SQLITE, CSTORE_POSTGRES };

/* The schema as per-engine lists of steps, NULL-terminated, equally long. */
struct cstore_schema {
	const char *const *sqlite;
	const char *const *postgres;
};

/* Is target a PostgreSQL URL (postgres:// or postgresql://)? */
int cstore_is_url(const char *target);
/* Open a SQLite file (created when missing) or a PostgreSQL URL and
 * migrate it: NULL with err filled (the URL's password is not repeated). */
struct cstore *cstore_open(const char *target, const struct cstore_schema *,
			   char *err, size_t n);
/* Wrap an open SQLite handle (tests, fuzzers): not migrated, not closed. */
struct cstore *cstore_wrap_sqlite(sqlite3 *db);
void cstore_close(struct cstore *);
enum cstore_dialect cstore_dialect(const struct cstore *);
/* The SQLite handle under a SQLite store, NULL on PostgreSQL. */
sqlite3 *cstore_sqlite(struct cstore *);

int cstore_exec(struct cstore *, const char *sql, const char *fmt, ...);
int64_t cstore_int(struct cstore *, int64_t dflt, const char *sql, const char *fmt, ...);
struct cstore_rows *cstore_query(struct cstore *, const char *sql, const char *fmt, ...);
int cstore_next(struct cstore_rows *);
const char *cstore_text(struct cstore_rows *, int col);
int64_t cstore_int64(struct cstore_rows *, int col);
double cstore_double(struct cstore_rows *, int col);
int cstore_is_null(struct cstore_rows *, int col);
void cstore_done(struct cstore_rows *);
/* Did the rows end on an error rather than at their end?  (Also for a
 * NULL cursor: the query failed.) */
int cstore_failed(const struct cstore_rows *);

int cstore_changes(struct cstore *);

/* A mark of the data as this store sees it: two equal marks from
 * cstore_stamp mean nothing was written in between, by this connection or
 * any other (SQLite: this connection's row changes and the file's data
 * version).  -1: the engine cannot tell (PostgreSQL: other processes
 * write without a word); cache nothing then. */
struct cstore_stamp {
	uint64_t store, changes, data;
};
int cstore_stamp(struct cstore *, struct cstore_stamp *);
int cstore_conflict(struct cstore *);
const char *cstore_errmsg(struct cstore *);

int cstore_begin(struct cstore *);
int cstore_commit(struct cstore *);
void cstore_rollback(struct cstore *);
int cstore_in_tx(struct cstore *);

/* The next value for a numbering column (jobs.n): max + 1 on SQLite
 * (call it inside the write transaction), the column's sequence on
 * PostgreSQL (BIGSERIAL: unique across processes, gaps allowed). */
int64_t cstore_next_serial(struct cstore *, const char *table, const char *column);

typedef void cstore_listen_fn(void *arg, const char *channel, const char *payload);
int cstore_listen(struct cstore *, const char *channel, cstore_listen_fn *, void *arg);
int cstore_notify(struct cstore *, const char *channel);
int cstore_fd(struct cstore *);
/* Read what arrived and dispatch notifications: 0, or -1 when the
 * connection is lost (the store reconnects on its next statement). */
int cstore_pump(struct cstore *);

#endif
