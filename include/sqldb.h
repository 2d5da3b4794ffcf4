#ifndef IDLCM_SQLDB_H
#define IDLCM_SQLDB_H
/*
 * sqldb: what every SQLite file of ours shares — WAL mode, a busy timeout,
 * a schema that is a list of migration steps (PRAGMA user_version counts
 * the steps applied), and statements bound by a tiny format.
 */
#include <stdarg.h>
#include <stdint.h>
#include <sqlite3.h>

/* Open (creating) path, set WAL, apply the missing steps of the
 * NULL-terminated list, each in its own transaction; refuse a file whose
 * schema is newer than the list.  NULL with err on failure. */
sqlite3 *sqldb_open(const char *path, const char *const *migrations,
		    char *err, size_t errlen);
/* PRAGMA user_version, or -1. */
int sqldb_version(sqlite3 *db);
/* Prepare sql and bind arguments by fmt: "t" text (NULL binds NULL),
 * "i" int64_t, "n" int, "d" double.  NULL on a prepare error. */
sqlite3_stmt *sqldb_prepare(sqlite3 *db, const char *sql, const char *fmt,
			    va_list ap);
/* Bind arguments by fmt (as sqldb_prepare does) to a prepared or reset
 * statement. */
void sqldb_bind(sqlite3_stmt *st, const char *fmt, va_list ap);
/* Run one statement, ignoring its rows: 0, or SQLite's error code. */
int sqldb_vrun(sqlite3 *db, const char *sql, const char *fmt, va_list ap);
/* The first column of the first row as an integer; dflt when there is no
 * row, the value is NULL, or the statement fails. */
int64_t sqldb_vint(sqlite3 *db, int64_t dflt, const char *sql, const char *fmt,
		   va_list ap);

/*
 * The WAL of db checkpointed on a thread of its own (lib/sqldb_checkpoint.c)
 * whenever a commit leaves it at pages or more, instead of inside that
 * commit.  NULL (checkpoints stay in the commits) for a database without a
 * file or when no thread can start.  Stop it before closing db.
 */
struct sqldb_checkpointer;
struct sqldb_checkpointer *sqldb_checkpointer_start(sqlite3 *db, int pages);
/* Checkpoints the thread has run so far. */
long sqldb_checkpointer_runs(struct sqldb_checkpointer *);
void sqldb_checkpointer_stop(struct sqldb_checkpointer *);
#endif
