/*
 * The coordinator's schema, per engine: steps applied in order (SQLite's
 * PRAGMA user_version or PostgreSQL's schema_version counts them), and the
 * transitional SQLite statement helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator.h"
#include "log.h"
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
	/*
	 * Step 2 (scim): integrations become first-class and face an IdP.
	 * integrations: scim_token_hash = hex SHA-256 of the SCIM bearer
	 *   token (the token itself is shown once); deactivate_mode =
	 *   'remove' (active=false removes the user from the app) or
	 *   'deactivate' (an update job with active=false); default_roles =
	 *   JSON array given to users no group or role maps; created_ms;
	 *   scim_seen_ms = last authenticated SCIM call ("SCIM connected").
	 * role_mappings: an IdP group's displayName -> one app role.
	 * scim_users: the SCIM User resources an IdP created, by our id;
	 *   user_key joins users (integration, user_key), whose state the
	 *   resource shows; resource = the stored JSON (no password);
	 *   user_name_lc / email_lc / work_email_lc serve the filters;
 *   sent_view = the user as the last job saw it (what a change compares to).
	 *   users.upstream_id holds the IdP's externalId (or our id).
	 * scim_groups, scim_members: IdP groups and who is in them.
	 */
	"ALTER TABLE integrations ADD COLUMN scim_token_hash TEXT;"
	"ALTER TABLE integrations ADD COLUMN deactivate_mode TEXT NOT NULL DEFAULT 'remove';"
	"ALTER TABLE integrations ADD COLUMN default_roles TEXT;"
	"ALTER TABLE integrations ADD COLUMN created_ms INTEGER;"
	"ALTER TABLE integrations ADD COLUMN scim_seen_ms INTEGER;"
	"CREATE TABLE role_mappings ("
	"  integration TEXT NOT NULL, group_name TEXT NOT NULL, role TEXT NOT NULL,"
	"  PRIMARY KEY (integration, group_name, role));"
	"CREATE TABLE scim_users ("
	"  integration TEXT NOT NULL, id TEXT NOT NULL,"
	"  user_name TEXT NOT NULL, user_name_lc TEXT NOT NULL, external_id TEXT,"
	"  email_lc TEXT, work_email_lc TEXT, active INTEGER NOT NULL,"
	"  user_key TEXT NOT NULL, resource TEXT NOT NULL, sent_view TEXT,"
	"  version INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (integration, id));"
	"CREATE UNIQUE INDEX scim_users_name ON scim_users (integration, user_name_lc);"
	"CREATE INDEX scim_users_external ON scim_users (integration, external_id);"
	"CREATE INDEX scim_users_email ON scim_users (integration, email_lc);"
	"CREATE INDEX scim_users_work_email ON scim_users (integration, work_email_lc);"
	"CREATE INDEX scim_users_key ON scim_users (integration, user_key);"
	"CREATE TABLE scim_groups ("
	"  integration TEXT NOT NULL, id TEXT NOT NULL,"
	"  display_name TEXT NOT NULL, display_name_lc TEXT NOT NULL, external_id TEXT,"
	"  version INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (integration, id));"
	"CREATE UNIQUE INDEX scim_groups_name ON scim_groups (integration, display_name_lc);"
	"CREATE TABLE scim_members ("
	"  integration TEXT NOT NULL, group_id TEXT NOT NULL, user_id TEXT NOT NULL,"
	"  PRIMARY KEY (integration, group_id, user_id));"
	"CREATE INDEX scim_members_user ON scim_members (integration, user_id, group_id);"
	"CREATE INDEX users_upstream ON users (integration, upstream_id);"
	"CREATE INDEX jobs_user ON jobs (integration, user_key, status);"
	"CREATE INDEX jobs_n ON jobs (n);",
	/* Step 3 (trust-job): role drift seen by sync (issue 8): per user the IdP's roles and
	 * whether the app's differ; per integration whether to correct it */
	"ALTER TABLE users ADD COLUMN expected_roles TEXT;"
	"ALTER TABLE users ADD COLUMN drift INTEGER;"
	"ALTER TABLE integrations ADD COLUMN correct_drift INTEGER NOT NULL DEFAULT 0;",

	/* Step 4 (pages): the admin pages: who asked for a job (origin: API, web app, daily
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
	/* Step 5 (coord10): a remote worker's failure evidence (screenshot,
	 * report), so every coordinator process serves it without a shared
	 * disk: base64 in TEXT, one SQL text for both engines and no blob
	 * binding in the store; and the admin sign-in sessions, keyed by the
	 * SHA-256 of the cookie (never the cookie), so a person signed in on
	 * one coordinator is signed in on all of them and across restarts */
	"CREATE TABLE artifacts ("
	"  job_id TEXT NOT NULL, attempt INTEGER NOT NULL, name TEXT NOT NULL,"
	"  worker TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL,"
	"  data TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, attempt, name));"
	"CREATE TABLE admin_sessions ("
	"  id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);"
	"CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_ms);",
	NULL
};

/* The same steps for PostgreSQL, one for one: 64-bit integers (BIGINT:
 * times are ms since the epoch) and jobs.n a BIGSERIAL, so that
 * coordinator processes sharing the database number jobs without
 * colliding.  A step added above gets its twin here. */
static const char *const pg_migrations[] = {
	"CREATE TABLE integrations ("
	"  id TEXT PRIMARY KEY, app TEXT NOT NULL, account TEXT,"
	"  status TEXT NOT NULL DEFAULT 'up_to_date', detail TEXT,"
	"  updated_ms BIGINT NOT NULL);"
	"CREATE TABLE users ("
	"  integration TEXT NOT NULL, user_key TEXT NOT NULL,"
	"  upstream_id TEXT, email TEXT, username TEXT, display_name TEXT,"
	"  roles TEXT, state TEXT, login_method TEXT, sso_label TEXT,"
	"  active BIGINT, last_used TEXT, detail TEXT, job_id TEXT,"
	"  changed_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (integration, user_key));"
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY, n BIGSERIAL NOT NULL,"
	"  integration TEXT NOT NULL, app TEXT NOT NULL, action TEXT NOT NULL,"
	"  user_key TEXT, body TEXT NOT NULL, idempotency_key TEXT UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'queued',"
	"  attempt BIGINT NOT NULL DEFAULT 0, max_attempts BIGINT NOT NULL,"
	"  worker TEXT, lease_s BIGINT NOT NULL, lease_until_ms BIGINT,"
	"  outcome TEXT, error TEXT, result TEXT,"
	"  created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
	"CREATE INDEX jobs_queue ON jobs (status, n);"
	"CREATE INDEX jobs_integration ON jobs (integration, n);"
	"CREATE TABLE events ("
	"  job_id TEXT NOT NULL, attempt BIGINT NOT NULL, seq BIGINT NOT NULL,"
	"  at_ms BIGINT, kind TEXT NOT NULL, body TEXT NOT NULL,"
	"  received_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (job_id, attempt, seq));",
	/* step 2 (scim) */
	"ALTER TABLE integrations ADD COLUMN scim_token_hash TEXT;"
	"ALTER TABLE integrations ADD COLUMN deactivate_mode TEXT NOT NULL DEFAULT 'remove';"
	"ALTER TABLE integrations ADD COLUMN default_roles TEXT;"
	"ALTER TABLE integrations ADD COLUMN created_ms BIGINT;"
	"ALTER TABLE integrations ADD COLUMN scim_seen_ms BIGINT;"
	"CREATE TABLE role_mappings ("
	"  integration TEXT NOT NULL, group_name TEXT NOT NULL, role TEXT NOT NULL,"
	"  PRIMARY KEY (integration, group_name, role));"
	"CREATE TABLE scim_users ("
	"  integration TEXT NOT NULL, id TEXT NOT NULL,"
	"  user_name TEXT NOT NULL, user_name_lc TEXT NOT NULL, external_id TEXT,"
	"  email_lc TEXT, work_email_lc TEXT, active BIGINT NOT NULL,"
	"  user_key TEXT NOT NULL, resource TEXT NOT NULL, sent_view TEXT,"
	"  version BIGINT NOT NULL,"
	"  created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (integration, id));"
	"CREATE UNIQUE INDEX scim_users_name ON scim_users (integration, user_name_lc);"
	"CREATE INDEX scim_users_external ON scim_users (integration, external_id);"
	"CREATE INDEX scim_users_email ON scim_users (integration, email_lc);"
	"CREATE INDEX scim_users_work_email ON scim_users (integration, work_email_lc);"
	"CREATE INDEX scim_users_key ON scim_users (integration, user_key);"
	"CREATE TABLE scim_groups ("
	"  integration TEXT NOT NULL, id TEXT NOT NULL,"
	"  display_name TEXT NOT NULL, display_name_lc TEXT NOT NULL, external_id TEXT,"
	"  version BIGINT NOT NULL, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (integration, id));"
	"CREATE UNIQUE INDEX scim_groups_name ON scim_groups (integration, display_name_lc);"
	"CREATE TABLE scim_members ("
	"  integration TEXT NOT NULL, group_id TEXT NOT NULL, user_id TEXT NOT NULL,"
	"  PRIMARY KEY (integration, group_id, user_id));"
	"CREATE INDEX scim_members_user ON scim_members (integration, user_id, group_id);"
	"CREATE INDEX users_upstream ON users (integration, upstream_id);"
	"CREATE INDEX jobs_user ON jobs (integration, user_key, status);"
	"CREATE INDEX jobs_n ON jobs (n);",
	/* step 3 (trust-job) */
	"ALTER TABLE users ADD COLUMN expected_roles TEXT;"
	"ALTER TABLE users ADD COLUMN drift BIGINT;"
	"ALTER TABLE integrations ADD COLUMN correct_drift BIGINT NOT NULL DEFAULT 0;",
	/* step 4 (pages) */
	"ALTER TABLE jobs ADD COLUMN origin TEXT;"
	"ALTER TABLE jobs ADD COLUMN parent TEXT;"
	"CREATE INDEX jobs_parent ON jobs (parent);"
	"ALTER TABLE users ADD COLUMN exempt BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN entitlements TEXT;"
	"ALTER TABLE integrations ADD COLUMN next_sync_ms BIGINT;"
	"CREATE TABLE job_groups ("
	"  id TEXT PRIMARY KEY, integration TEXT NOT NULL, title TEXT NOT NULL,"
	"  origin TEXT, created_ms BIGINT NOT NULL);"
	"CREATE TABLE activity ("
	"  integration TEXT NOT NULL, at_ms BIGINT NOT NULL, actor TEXT,"
	"  event TEXT NOT NULL, target TEXT, job_id TEXT);"
	"CREATE INDEX activity_integration ON activity (integration, at_ms);",
	/* step 5 (coord10) */
	"CREATE TABLE artifacts ("
	"  job_id TEXT NOT NULL, attempt BIGINT NOT NULL, name TEXT NOT NULL,"
	"  worker TEXT NOT NULL, type TEXT NOT NULL, size BIGINT NOT NULL,"
	"  data TEXT NOT NULL, created_ms BIGINT NOT NULL,"
	"  PRIMARY KEY (job_id, attempt, name));"
	"CREATE TABLE admin_sessions ("
	"  id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL,"
	"  created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL);"
	"CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_ms);",
	NULL
};

const struct cstore_schema coord_schema = { migrations, pg_migrations };


int64_t cdb_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* UTC as 2026-11-30T01:02:03Z.  By arithmetic on the day number rather
 * than gmtime_r + strftime: a page of 100 SCIM users formats 300 of these,
 * and the libc pair (with its time zone lock) was a tenth of the page. */
void cdb_iso(int64_t ms, char *buf, size_t n)
{
	int64_t s = ms / 1000 - (ms % 1000 < 0), days = s / 86400, sec = s % 86400;
	int64_t era, doe, yoe, doy, mp, y, m, d;

	if (sec < 0) {
		sec += 86400;
		days--;
	}
	/* days since 1970-01-01 -> proleptic Gregorian date, in 400-year eras
	 * counted from 0000-03-01 (so the leap day ends a year) */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	if (y < 0 || y > 9999) {	/* never a time we stored */
		snprintf(buf, n, "%lldZ", (long long)s);
		return;
	}
	{
		char t[20];
		const int64_t part[6] = { y, m, d, sec / 3600, sec / 60 % 60, sec % 60 };
		static const char sep[] = "--T::Z";
		char *p = t;
		for (int i = 0; i < 6; i++) {
			if (i == 0) {
				*p++ = (char)('0' + part[0] / 1000);
				*p++ = (char)('0' + part[0] / 100 % 10);
			}
			*p++ = (char)('0' + part[i] / 10 % 10);
			*p++ = (char)('0' + part[i] % 10);
			*p++ = sep[i];
		}
		if (n) {
			size_t len = (size_t)(p - t) < n ? (size_t)(p - t) : n - 1;
			memcpy(buf, t, len);
			buf[len] = '\0';
		}
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = sqldb_prepare(db, sql, fmt, ap);
	if (!st)
		log_error("sql error: %s in %s", sqlite3_errmsg(db), sql);
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
		log_error("sql error: %s in %s", sqlite3_errmsg(db), sql);
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

int coord_store_open(struct coord *c, const char *target, char *err, size_t errlen)
{
	c->store = cstore_open(target, &coord_schema, err, errlen);
	if (!c->store)
		return -1;
	c->db = cstore_sqlite(c->store);
	return 0;
}
