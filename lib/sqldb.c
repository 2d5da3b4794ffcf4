/*
 * sqldb: opening, migrating and binding for the agent's store, the vault
 * and the reference coordinator — one implementation of the schema rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sqldb.h"

int sqldb_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

sqlite3 *sqldb_open(const char *path, const char *const *migrations,
		    char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char e[300] = "";
	int have, want = 0;

	while (migrations[want])
		want++;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database \"%s\": %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	/* SQLite quietly falls back to read-only when it cannot open the
	 * file for writing: every later write would fail, so refuse now. */
	if (sqlite3_db_readonly(db, "main") == 1) {
		snprintf(err, errlen, "database \"%s\" is read-only here: it must be "
			 "writable (check its mode, owner, attributes and file system)", path);
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	if (exec(db, "PRAGMA journal_mode = WAL", e, sizeof(e)) ||
	    exec(db, "PRAGMA synchronous = NORMAL", e, sizeof(e))) {
		snprintf(err, errlen, "cannot set up database \"%s\": %s", path, e);
		goto fail;
	}
	have = sqldb_version(db);
	if (have < 0) {
		snprintf(err, errlen, "database \"%s\": cannot read its schema version: %s",
			 path, sqlite3_errmsg(db));
		goto fail;
	}
	if (have > want) {
		snprintf(err, errlen, "database \"%s\" has schema version %d, newer than "
			 "this build's %d: use a newer build", path, have, want);
		goto fail;
	}
	for (int v = have; v < want; v++) {
		char sql[64];

		if (exec(db, "BEGIN IMMEDIATE", e, sizeof(e)))
			goto step_fail;
		/* another process may have migrated while we waited */
		if (sqldb_version(db) > v) {
			exec(db, "COMMIT", e, sizeof(e));
			continue;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(db, migrations[v], e, sizeof(e)) || exec(db, sql, e, sizeof(e)) ||
		    exec(db, "COMMIT", e, sizeof(e))) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto step_fail;
		}
		continue;
step_fail:
		snprintf(err, errlen, "database \"%s\": cannot apply schema step %d: %s",
			 path, v + 1, e);
		goto fail;
	}
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

sqlite3_stmt *sqldb_prepare(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqldb_bind(st, fmt, ap);
	return st;
}

void sqldb_bind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	for (int i = 0; fmt && fmt[i]; i++) {
		switch (fmt[i]) {
		case 't': {
			const char *t = va_arg(ap, const char *);
			if (t)
				sqlite3_bind_text(st, i + 1, t, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		case 'i':
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'n':
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
			break;
		case 'd':
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
			break;
		}
	}
}

int sqldb_vrun(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = sqldb_prepare(db, sql, fmt, ap);
	int rc;

	if (!st)
		return SQLITE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

int64_t sqldb_vint(sqlite3 *db, int64_t dflt, const char *sql, const char *fmt,
		   va_list ap)
{
	sqlite3_stmt *st = sqldb_prepare(db, sql, fmt, ap);
	int64_t v = dflt;

	if (!st)
		return dflt;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
