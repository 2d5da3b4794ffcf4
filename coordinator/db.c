/*
 * The coordinator's SQLite file: schema steps applied in order
 * (PRAGMA user_version counts them) and small statement helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator.h"
#include "sqldb.h"

/* Append only: each release that changes the schema adds a step. */
static const char *const migrations[] = {
	"CREATE TABLE integrations ("
	"  id TEXT PRIMARY KEY, app TEXT NOT NULL, account TEXT,"
	"  status TEXT NOT NULL DEFAULT 'up_to_date', detail TEXT,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  integration TEXT NOT NULL, user_key TEXT NOT NULL,"
	"  upstream_id TEXT, email TEXT, username TEXT, display_name TEXT,"
	"  roles TEXT, state TEXT, login_method TEXT, sso_label TEXT,"
	"  active INTEGER, last_used TEXT, detail TEXT, job_id TEXT,"
	"  changed_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (integration, user_key));"
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY, n INTEGER NOT NULL,"
	"  integration TEXT NOT NULL, app TEXT NOT NULL, action TEXT NOT NULL,"
	"  user_key TEXT, body TEXT NOT NULL, idempotency_key TEXT UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'queued',"	/* queued running completed failed */
	"  attempt INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,"
	"  worker TEXT, lease_s INTEGER NOT NULL, lease_until_ms INTEGER,"
	"  outcome TEXT, error TEXT, result TEXT,"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE INDEX jobs_queue ON jobs (status, n);"
	"CREATE INDEX jobs_integration ON jobs (integration, n);"
	"CREATE TABLE events ("
	"  job_id TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL,"
	"  at_ms INTEGER, kind TEXT NOT NULL, body TEXT NOT NULL,"
	"  received_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, attempt, seq));",
	/* the admin pages: who asked for a job (origin: API, web app, daily
	 * sync, SCIM) and its parent group; exempt users; the activity log
	 * that is not a job; the daily sync's next run */
	"ALTER TABLE jobs ADD COLUMN origin TEXT;"
	"ALTER TABLE jobs ADD COLUMN parent TEXT;"
	"CREATE INDEX jobs_parent ON jobs (parent);"
	"ALTER TABLE users ADD COLUMN exempt INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN entitlements TEXT;"
	"ALTER TABLE integrations ADD COLUMN next_sync_ms INTEGER;"
	"CREATE TABLE job_groups ("
	"  id TEXT PRIMARY KEY, integration TEXT NOT NULL, title TEXT NOT NULL,"
	"  origin TEXT, created_ms INTEGER NOT NULL);"
	"CREATE TABLE activity ("
	"  integration TEXT NOT NULL, at_ms INTEGER NOT NULL, actor TEXT,"
	"  event TEXT NOT NULL, target TEXT, job_id TEXT);"
	"CREATE INDEX activity_integration ON activity (integration, at_ms);",
	NULL
};

int64_t cdb_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cdb_iso(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = sqldb_prepare(db, sql, fmt, ap);
	if (!st)
		fprintf(stderr, "idlcm-coordinator: sql error: %s in %s\n",
			sqlite3_errmsg(db), sql);
	return st;
}

int cdb_exec(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sqldb_vrun(db, sql, fmt, ap);
	va_end(ap);
	if (rc && rc != SQLITE_CONSTRAINT)	/* constraints are the caller's answer */
		fprintf(stderr, "idlcm-coordinator: sql error: %s in %s\n",
			sqlite3_errmsg(db), sql);
	return rc ? -1 : 0;
}

int64_t cdb_int(sqlite3 *db, int64_t dflt, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int64_t v;

	va_start(ap, fmt);
	v = sqldb_vint(db, dflt, sql, fmt, ap);
	va_end(ap);
	return v;
}

sqlite3_stmt *cdb_query(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = prep(db, sql, fmt, ap);
	va_end(ap);
	return st;
}

sqlite3 *cdb_open(const char *path, char *err, size_t errlen)
{
	return sqldb_open(path, migrations, err, errlen);
}
