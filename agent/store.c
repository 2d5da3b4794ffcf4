/*
 * store: the agent's SQLite file.  WAL so a reader never blocks the one
 * writer; the schema is a list of migration steps applied in order, the
 * file's PRAGMA user_version counting how many it has.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqldb.h"
#include "store.h"

/*
 * The schema, one step per release that changed it.  Append only: a file
 * at version N gets steps N+1.. applied, each in its own transaction.
 * Other modules (the vault) add their tables by appending a step here.
 */
static const char *const store_migrations[] = {
	/* 1: the first release */
	"CREATE TABLE jobs ("
	"  id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"	/* the coordinator's claim number */
	"  body TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'ready',"
	"  tries INTEGER NOT NULL DEFAULT 0,"	/* local runs of this attempt */
	"  next_try_ms INTEGER NOT NULL DEFAULT 0,"
	"  claimed_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (id, attempt));"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  job_id TEXT NOT NULL,"
	"  kind INTEGER NOT NULL,"	/* 0 event, 1 complete */
	"  seq INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  status INTEGER NOT NULL DEFAULT 0,"	/* 0 pending, 1 delivered, 2 rejected */
	"  tries INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  delivered_ms INTEGER,"
	"  UNIQUE (job_id, kind, seq));"
	"CREATE INDEX outbox_pending ON outbox (status, id);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  job_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  try INTEGER NOT NULL,"
	"  pid INTEGER,"
	"  started_ms INTEGER NOT NULL,"
	"  ended_ms INTEGER,"
	"  exit INTEGER,"
	"  error_class TEXT,"
	"  error TEXT);"
	"CREATE TABLE artifacts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id),"
	"  job_id TEXT NOT NULL,"
	"  path TEXT NOT NULL);",
	NULL
};

struct store {
	sqlite3 *db;
	char err[300];		/* the last write that failed, for store_error */
};

/* Remember why a write failed (a ROLLBACK after it would overwrite
 * sqlite3_errmsg). */
static void note_error(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
}

const char *store_error(struct store *s)
{
	return s->err[0] ? s->err : sqlite3_errmsg(s->db);
}

int64_t store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_schema_latest(void)
{
	int n = 0;
	while (store_migrations[n])
		n++;
	return n;
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int store_exec(struct store *s, char *err, size_t errlen, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (err)
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

int store_schema_version(struct store *s)
{
	return sqldb_version(s->db);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	char e[400];

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = sqldb_open(path, store_migrations, err, errlen);
	if (!s->db)
		goto fail;
	/* A small page cache: the worker's store takes a few rows a job and
	 * reads back little; SQLite's default (2 MB) would fill as the file
	 * grows and show as the worker's memory creeping up job after job. */
	if (store_exec(s, e, sizeof(e), "PRAGMA foreign_keys = ON") ||
	    store_exec(s, e, sizeof(e), "PRAGMA cache_size = -256")) {
		snprintf(err, errlen, "cannot set up database \"%s\": %s", path, e);
		goto fail;
	}
	return s;
fail:
	store_free(s);
	return NULL;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

/* Run one statement, ignoring rows: 0 or -1. */
static int run1(struct store *s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sqldb_vrun(s->db, sql, fmt, ap);
	va_end(ap);
	if (rc)
		note_error(s, "write");
	return rc ? -1 : 0;
}

/* First column of the first row as an integer; dflt when no row. */
static int64_t scalar(struct store *s, int64_t dflt, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int64_t v;

	va_start(ap, fmt);
	v = sqldb_vint(s->db, dflt, sql, fmt, ap);
	va_end(ap);
	return v;
}

/* ---- jobs */

static const char *const job_states[] = { "ready", "running", "done", "dropped" };

const char *store_job_state_name(enum store_job_state st)
{
	return (unsigned)st < 4 ? job_states[st] : "?";
}

int store_job_put(struct store *s, const char *id, int attempt, const char *body)
{
	int64_t now = store_now_ms();

	if (run1(s, "INSERT OR IGNORE INTO jobs (id, attempt, body, claimed_ms, updated_ms)"
		 " VALUES (?, ?, ?, ?, ?)", "tntii", id, attempt, body, now, now))
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int store_job_set_state(struct store *s, const char *id, enum store_job_state st,
			int tries, int64_t next_try_ms)
{
	return run1(s, "UPDATE jobs SET state = ?, tries = ?, next_try_ms = ?, updated_ms = ?"
		    " WHERE id = ? AND attempt = (SELECT max(attempt) FROM jobs WHERE id = ?)",
		    "tniitt", store_job_state_name(st), tries, next_try_ms,
		    store_now_ms(), id, id);
}

int store_job_abandon_stale(struct store *s)
{
	if (run1(s, "UPDATE jobs SET state = 'dropped', updated_ms = ?"
		 " WHERE state IN ('ready', 'running')", "i", store_now_ms()))
		return -1;
	return sqlite3_changes(s->db);
}

/* ---- outbox */

int store_outbox_next_seq(struct store *s, const char *job_id)
{
	return (int)scalar(s, 0, "SELECT max(seq) FROM outbox WHERE job_id = ? AND kind = 0",
			   "t", job_id) + 1;
}

int store_outbox_add_event(struct store *s, const char *job_id, cJSON *ev, int *seq_out)
{
	char *text = NULL;
	int seq, rc = -1;

	if (store_exec(s, NULL, 0, "BEGIN IMMEDIATE")) {
		note_error(s, "begin");
		return -1;
	}
	seq = store_outbox_next_seq(s, job_id);
	cJSON_DeleteItemFromObject(ev, "seq");
	cJSON_AddNumberToObject(ev, "seq", seq);
	text = cJSON_PrintUnformatted(ev);
	if (text && !run1(s, "INSERT INTO outbox (job_id, kind, seq, body, created_ms)"
			  " VALUES (?, 0, ?, ?, ?)", "tnti", job_id, seq, text,
			  store_now_ms()))
		rc = 0;
	cJSON_free(text);
	/* A full disk or a read-only file often fails only here: the row
	 * is in the page cache until COMMIT writes it out. */
	if (!rc && store_exec(s, NULL, 0, "COMMIT")) {
		note_error(s, "commit");
		rc = -1;
	}
	if (rc && sqlite3_get_autocommit(s->db) == 0)
		store_exec(s, NULL, 0, "ROLLBACK");
	if (!rc && seq_out)
		*seq_out = seq;
	return rc;
}

int store_outbox_add_complete(struct store *s, const char *job_id, int attempt,
			      const char *body)
{
	return run1(s, "INSERT OR IGNORE INTO outbox (job_id, kind, seq, body, created_ms)"
		    " VALUES (?, 1, ?, ?, ?)", "tnti", job_id, attempt, body, store_now_ms());
}

int store_outbox_jobs(struct store *s, char (*ids)[128], int max)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT job_id FROM outbox WHERE status = 0"
			       " GROUP BY job_id ORDER BY min(id) LIMIT ?", -1, &st, NULL))
		return -1;
	sqlite3_bind_int(st, 1, max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		snprintf(ids[n++], 128, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return n;
}

int store_outbox_peek(struct store *s, const char *job_id, int max,
		      struct store_msg **msgs, int *n)
{
	sqlite3_stmt *st = NULL;
	int cap = max > 0 ? max : 1;

	*msgs = NULL;
	*n = 0;
	/* events in seq order, the complete (kind 1) after them */
	if (sqlite3_prepare_v2(s->db, "SELECT id, kind, seq, body FROM outbox"
			       " WHERE status = 0 AND job_id = ? ORDER BY kind, seq LIMIT ?",
			       -1, &st, NULL))
		return -1;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, cap);
	*msgs = calloc((size_t)cap, sizeof(**msgs));
	if (!*msgs) {
		sqlite3_finalize(st);
		return -1;
	}
	while (*n < cap && sqlite3_step(st) == SQLITE_ROW) {
		struct store_msg *m = &(*msgs)[*n];
		m->id = sqlite3_column_int64(st, 0);
		snprintf(m->job_id, sizeof(m->job_id), "%s", job_id);
		m->kind = (enum store_msg_kind)sqlite3_column_int(st, 1);
		m->seq = sqlite3_column_int(st, 2);
		m->body = strdup((const char *)sqlite3_column_text(st, 3));
		(*n)++;
	}
	sqlite3_finalize(st);
	return 0;
}

void store_msgs_free(struct store_msg *m, int n)
{
	for (int i = 0; i < n; i++)
		free(m[i].body);
	free(m);
}

int store_outbox_mark(struct store *s, int64_t id, int status, const char *reason)
{
	return run1(s, "UPDATE outbox SET status = ?, reason = ?, delivered_ms = ?,"
		    " tries = tries + 1 WHERE id = ?", "ntii", status, reason,
		    store_now_ms(), id);
}

int64_t store_outbox_oldest_ms(struct store *s)
{
	return scalar(s, 0, "SELECT min(created_ms) FROM outbox WHERE status = 0", NULL);
}

int store_outbox_pending(struct store *s)
{
	return (int)scalar(s, -1, "SELECT count(*) FROM outbox WHERE status = 0", NULL);
}

/* ---- runs */

int64_t store_run_begin(struct store *s, const char *job_id, int attempt, int try_no, int pid)
{
	if (run1(s, "INSERT INTO runs (job_id, attempt, try, pid, started_ms)"
		 " VALUES (?, ?, ?, ?, ?)", "tnnni", job_id, attempt, try_no, pid,
		 store_now_ms()))
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int store_run_end(struct store *s, int64_t run, int exit_code,
		  const char *error_class, const char *error)
{
	return run1(s, "UPDATE runs SET ended_ms = ?, exit = ?, error_class = ?, error = ?"
		    " WHERE id = ?", "intti", store_now_ms(), exit_code, error_class,
		    error, run);
}

int store_artifact_add(struct store *s, int64_t run, const char *job_id, const char *path)
{
	return run1(s, "INSERT INTO artifacts (run_id, job_id, path) VALUES (?, ?, ?)",
		    "itt", run, job_id, path);
}
