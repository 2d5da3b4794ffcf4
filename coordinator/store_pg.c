/*
 * The store's PostgreSQL driver (libpq): one connection per coordinator
 * process, statements with '?' rewritten to $n and bound as text, the
 * schema steps counted in the table schema_version, and LISTEN/NOTIFY so
 * that coordinator processes sharing the database wake each other's
 * long polls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_driver.h"

#define MAX_PARAMS 64
#define INT8OID 20
#define FLOAT8OID 701
/* Held while a process migrates: two coordinators starting together
 * must not both apply a step.  Any constant of ours. */
#define MIGRATE_LOCK 0x69646c636dLL

struct pg {
	PGconn *conn;
	char channel[64];	/* LISTENed to, re-issued after a reconnect */
	int pending;		/* notifications read while running a statement */
};

struct pg_rows {
	struct cstore_rows base;
	PGresult *res;
	int row, nrows;
};

static PGconn *conn_of(struct cstore *s)
{
	return ((struct pg *)s->h)->conn;
}

/* libpq's messages end in a newline; ours do not. */
static void set_msg(struct cstore *s, const char *msg)
{
	size_t n;

	snprintf(s->err, sizeof(s->err), "%s", msg && *msg ? msg : "unknown error");
	n = strlen(s->err);
	while (n && (s->err[n - 1] == '\n' || s->err[n - 1] == ' '))
		s->err[--n] = '\0';
}

static void set_res_err(struct cstore *s, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	s->conflict = state && !strcmp(state, "23505");	/* unique_violation */
	set_msg(s, primary ? primary : PQerrorMessage(conn_of(s)));
}

/* Notifications that libpq read along with a statement's answer: the
 * socket will not show them again, so keep them for cstore_pump. */
static void collect(struct cstore *s)
{
	struct pg *p = s->h;
	PGnotify *n;

	while ((n = PQnotifies(p->conn))) {
		if (n->be_pid != PQbackendPID(p->conn))
			p->pending++;
		PQfreemem(n);
	}
}

/* A connection that broke (the server restarted) is opened again before
 * the next statement, outside a transaction: inside one the work is lost
 * anyway and the caller's rollback says so. */
static int ensure(struct cstore *s)
{
	struct pg *p = s->h;
	char sql[100];
	PGresult *res;

	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	if (s->in_tx) {
		set_msg(s, "the connection to PostgreSQL was lost in the middle of a transaction");
		return -1;
	}
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		set_msg(s, PQerrorMessage(p->conn));
		return -1;
	}
	log_info("reconnected to PostgreSQL");
	if (p->channel[0]) {
		snprintf(sql, sizeof(sql), "LISTEN %s", p->channel);
		res = PQexec(p->conn, sql);
		PQclear(res);
		p->pending++;	/* what was sent while we were away: look again */
	}
	return 0;
}

/* '?' outside quotes becomes $1, $2, …; the literal text is kept. */
char *cstore_pg_placeholders(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	char *out = malloc(n * 4 + 1), *o = out;
	int k = 0;
	char quote = 0;

	if (!out)
		return NULL;
	for (const char *c = sql; *c; c++) {
		if (quote) {
			if (*c == quote)
				quote = 0;
			*o++ = *c;
		} else if (*c == '\'' || *c == '"') {
			quote = *c;
			*o++ = *c;
		} else if (*c == '?') {
			o += sprintf(o, "$%d", ++k);
		} else {
			*o++ = *c;
		}
	}
	*o = '\0';
	*nparams = k;
	return out;
}

/* Run sql with fmt's arguments bound as text (integers typed int8, so
 * that arithmetic and LIMIT take them; text left for the server to type
 * from its use). */
static PGresult *run(struct cstore *s, const char *sql, const char *fmt, va_list ap)
{
	char *psql, bufs[MAX_PARAMS][32];
	const char *vals[MAX_PARAMS];
	Oid types[MAX_PARAMS];
	int np = 0, k = 0;
	PGresult *res;

	s->conflict = 0;
	s->changes = 0;
	if (ensure(s))
		return NULL;
	psql = cstore_pg_placeholders(sql, &np);
	if (!psql) {
		set_msg(s, "out of memory");
		return NULL;
	}
	for (k = 0; fmt && fmt[k] && k < MAX_PARAMS; k++) {
		types[k] = 0;
		switch (fmt[k]) {
		case 't':
			vals[k] = va_arg(ap, const char *);
			break;
		case 'i':
			snprintf(bufs[k], sizeof(bufs[k]), "%lld", (long long)va_arg(ap, int64_t));
			vals[k] = bufs[k];
			types[k] = INT8OID;
			break;
		case 'n':
			snprintf(bufs[k], sizeof(bufs[k]), "%d", va_arg(ap, int));
			vals[k] = bufs[k];
			types[k] = INT8OID;
			break;
		case 'd':
			snprintf(bufs[k], sizeof(bufs[k]), "%.17g", va_arg(ap, double));
			vals[k] = bufs[k];
			types[k] = FLOAT8OID;
			break;
		default:
			vals[k] = NULL;
		}
	}
	if (k != np) {
		set_msg(s, "the statement's placeholders and its arguments do not match");
		free(psql);
		return NULL;
	}
	res = PQexecParams(conn_of(s), psql, np, types, vals, NULL, NULL, 0);
	free(psql);
	collect(s);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_res_err(s, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

static struct cstore_rows *pg_query(struct cstore *s, const char *sql, const char *fmt,
				    va_list ap)
{
	PGresult *res = run(s, sql, fmt, ap);
	struct pg_rows *r;

	if (!res) {
		cstore_log_error(s, sql);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		PQclear(res);
		return NULL;
	}
	r->base.s = s;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	return &r->base;
}

static int pg_exec(struct cstore *s, const char *sql, const char *fmt, va_list ap)
{
	PGresult *res = run(s, sql, fmt, ap);
	const char *n;

	if (!res) {
		cstore_log_error(s, sql);
		return -1;
	}
	n = PQcmdTuples(res);
	s->changes = n && *n ? atoi(n) : 0;
	PQclear(res);
	return 0;
}

static int pg_next(struct cstore_rows *rows)
{
	struct pg_rows *r = (struct pg_rows *)rows;

	if (r->row + 1 >= r->nrows)
		return 0;
	r->row++;
	return 1;
}

static const char *pg_text(struct cstore_rows *rows, int col)
{
	struct pg_rows *r = (struct pg_rows *)rows;

	if (r->row < 0 || col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static int pg_is_null(struct cstore_rows *rows, int col)
{
	struct pg_rows *r = (struct pg_rows *)rows;

	return r->row < 0 || col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col);
}

static void pg_done(struct cstore_rows *rows)
{
	struct pg_rows *r = (struct pg_rows *)rows;

	PQclear(r->res);
	free(r);
}

/* A statement without arguments and rows: 0, or -1 with the error kept. */
static int simple(struct cstore *s, const char *sql)
{
	PGresult *res;
	int ok;

	if (ensure(s))
		return -1;
	res = PQexec(conn_of(s), sql);
	collect(s);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		set_res_err(s, res);
	PQclear(res);
	return ok ? 0 : -1;
}

static int pg_begin(struct cstore *s)
{
	if (simple(s, "BEGIN")) {
		cstore_log_error(s, "BEGIN");
		return -1;
	}
	return 0;
}

/* COMMIT of a transaction a failed statement spoiled answers ROLLBACK,
 * not an error: that is a failure too. */
static int pg_commit(struct cstore *s)
{
	PGresult *res = PQexec(conn_of(s), "COMMIT");
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
		 !strcmp(PQcmdStatus(res), "COMMIT");

	collect(s);
	if (!ok) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			set_msg(s, "the transaction was rolled back (a statement in it failed)");
		else
			set_res_err(s, res);
		cstore_log_error(s, "COMMIT");
	}
	PQclear(res);
	return ok ? 0 : -1;
}

static void pg_rollback(struct cstore *s)
{
	if (PQstatus(conn_of(s)) == CONNECTION_OK &&
	    PQtransactionStatus(conn_of(s)) != PQTRANS_IDLE)
		PQclear(PQexec(conn_of(s), "ROLLBACK"));
}

static int64_t pg_next_serial(struct cstore *s, const char *table, const char *column)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT nextval(pg_get_serial_sequence('%s', '%s'))",
		 table, column);
	return cstore_int(s, 0, sql, NULL);
}

static int pg_listen(struct cstore *s, const char *channel)
{
	struct pg *p = s->h;
	char sql[100];

	snprintf(p->channel, sizeof(p->channel), "%s", channel);
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	if (simple(s, sql)) {
		cstore_log_error(s, sql);
		return -1;
	}
	return 0;
}

static int pg_notify(struct cstore *s, const char *channel)
{
	char sql[100];

	snprintf(sql, sizeof(sql), "NOTIFY %s", channel);
	if (simple(s, sql)) {
		cstore_log_error(s, sql);
		return -1;
	}
	return 0;
}

static int pg_fd(struct cstore *s)
{
	return PQsocket(conn_of(s));
}

static int pg_pump(struct cstore *s)
{
	struct pg *p = s->h;
	int lost = 0;

	if (PQstatus(p->conn) == CONNECTION_OK && !PQconsumeInput(p->conn)) {
		set_msg(s, PQerrorMessage(p->conn));
		log_warn("PostgreSQL connection: %s", s->err);
		lost = 1;
	}
	if (PQstatus(p->conn) != CONNECTION_OK)
		lost = 1;
	collect(s);
	if (p->pending && s->listen_fn) {
		p->pending = 0;
		s->listen_fn(s->listen_arg, p->channel, "");
	}
	return lost ? -1 : 0;
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The URL for messages, its password replaced. */
static void redact(const char *url, char *out, size_t n)
{
	const char *scheme = strstr(url, "://"), *at = strchr(url, '@'), *colon;

	snprintf(out, n, "%s", url);
	if (!scheme || !at)
		return;
	colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
	if (colon)
		snprintf(out, n, "%.*s:***%s", (int)(colon - url), url, at);
}

static int migrate(struct cstore *s, const char *const *steps, const char *shown,
		   char *err, size_t n)
{
	char sql[200];
	int64_t have;
	int want = 0, rc = -1;

	while (steps[want])
		want++;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", MIGRATE_LOCK);
	if (simple(s, sql))
		goto fail;
	if (simple(s, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)") ||
	    cstore_exec(s, "INSERT INTO schema_version (version) SELECT 0"
			" WHERE NOT EXISTS (SELECT 1 FROM schema_version)", NULL))
		goto unlock;
	have = cstore_int(s, -1, "SELECT max(version) FROM schema_version", NULL);
	if (have < 0)
		goto unlock;
	if (have > want) {
		snprintf(err, n, "database %s has schema version %lld, newer than this "
			 "build's %d: use a newer build", shown, (long long)have, want);
		rc = -2;
		goto unlock;
	}
	for (int v = (int)have; v < want; v++) {
		if (simple(s, "BEGIN") || simple(s, steps[v]) ||
		    cstore_exec(s, "UPDATE schema_version SET version = ?", "n", v + 1) ||
		    simple(s, "COMMIT")) {
			char e[sizeof(s->err)];

			snprintf(e, sizeof(e), "%s", s->err);
			pg_rollback(s);
			snprintf(err, n, "database %s: cannot apply schema step %d: %s", shown,
				 v + 1, e);
			rc = -2;
			goto unlock;
		}
	}
	rc = 0;
unlock:
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK);
	PQclear(PQexec(conn_of(s), sql));
fail:
	if (rc == -1)
		snprintf(err, n, "database %s: cannot read its schema version: %s", shown, s->err);
	return rc ? -1 : 0;
}

static int pg_open(struct cstore *s, const char *target, const struct cstore_schema *schema,
		   char *err, size_t n)
{
	struct pg *p = calloc(1, sizeof(*p));
	char shown[512];

	redact(target, shown, sizeof(shown));
	if (!p) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	s->h = p;
	p->conn = PQconnectdb(target);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		set_msg(s, p->conn ? PQerrorMessage(p->conn) : "out of memory");
		snprintf(err, n, "cannot connect to PostgreSQL at %s: %s", shown, s->err);
		goto fail;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	if (simple(s, "SET client_min_messages = warning")) {
		snprintf(err, n, "database %s: %s", shown, s->err);
		goto fail;
	}
	if (!schema->postgres) {
		snprintf(err, n, "this build has no PostgreSQL schema");
		goto fail;
	}
	if (migrate(s, schema->postgres, shown, err, n))
		goto fail;
	return 0;
fail:
	PQfinish(p->conn);
	free(p);
	s->h = NULL;
	return -1;
}

static void pg_close(struct cstore *s)
{
	struct pg *p = s->h;

	if (!p)
		return;
	PQfinish(p->conn);
	free(p);
}

const struct cstore_driver cstore_pg_driver = {
	.name = "postgres",
	.dialect = CSTORE_POSTGRES,
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.exec = pg_exec,
	.next = pg_next,
	.text = pg_text,
	.is_null = pg_is_null,
	.done = pg_done,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.next_serial = pg_next_serial,
	.listen = pg_listen,
	.notify = pg_notify,
	.fd = pg_fd,
	.pump = pg_pump,
};
