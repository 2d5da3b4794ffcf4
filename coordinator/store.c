/*
 * The coordinator's store: pick the driver by the target's form and hand
 * every call to it (store.h has the contract).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_driver.h"

int cstore_is_url(const char *target)
{
	return target && (!strncmp(target, "postgres://", 11) ||
			  !strncmp(target, "postgresql://", 13));
}

/* Stores are told apart in stamps by their serial, not their address
 * (one closed store's address may be the next one's). */
static uint64_t serials;

struct cstore *cstore_open(const char *target, const struct cstore_schema *schema,
			   char *err, size_t n)
{
	struct cstore *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	s->drv = cstore_is_url(target) ? &cstore_pg_driver : &cstore_sqlite_driver;
	s->owned = 1;
	s->serial = ++serials;
	if (s->drv->open(s, target, schema, err, n)) {
		free(s);
		return NULL;
	}
	return s;
}

struct cstore *cstore_wrap_sqlite(sqlite3 *db)
{
	struct cstore *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->drv = &cstore_sqlite_driver;
	s->h = db;
	s->serial = ++serials;
	return s;
}

void cstore_close(struct cstore *s)
{
	if (!s)
		return;
	if (s->in_tx)
		s->drv->rollback(s);
	if (s->drv->release)
		s->drv->release(s);
	if (s->owned)
		s->drv->close(s);
	free(s);
}

int cstore_stamp(struct cstore *s, struct cstore_stamp *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->drv->stamp || s->drv->stamp(s, out))
		return -1;
	out->store = s->serial;
	return 0;
}

enum cstore_dialect cstore_dialect(const struct cstore *s)
{
	return s->drv->dialect;
}

sqlite3 *cstore_sqlite(struct cstore *s)
{
	return s && s->drv->dialect == CSTORE_SQLITE ? s->h : NULL;
}

void cstore_log_error(struct cstore *s, const char *sql)
{
	if (!s->conflict)
		log_error("sql error: %s in %s", s->err, sql);
}

int cstore_exec(struct cstore *s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = s->drv->exec(s, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int64_t cstore_int(struct cstore *s, int64_t dflt, const char *sql, const char *fmt, ...)
{
	struct cstore_rows *r;
	int64_t v = dflt;
	va_list ap;

	va_start(ap, fmt);
	r = s->drv->query(s, sql, fmt, ap);
	va_end(ap);
	if (cstore_next(r) && !cstore_is_null(r, 0))
		v = cstore_int64(r, 0);
	cstore_done(r);
	return v;
}

struct cstore_rows *cstore_query(struct cstore *s, const char *sql, const char *fmt, ...)
{
	struct cstore_rows *r;
	va_list ap;

	va_start(ap, fmt);
	r = s->drv->query(s, sql, fmt, ap);
	va_end(ap);
	return r;
}

int cstore_next(struct cstore_rows *r)
{
	int more;

	if (!r)
		return 0;
	/* a driver fills err when a row cannot be read: the end and a
	 * failure both answer 0, cstore_failed tells them apart */
	r->s->err[0] = '\0';
	more = r->s->drv->next(r);
	if (!more && r->s->err[0])
		r->failed = 1;
	return more;
}

int cstore_failed(const struct cstore_rows *r)
{
	return !r || r->failed;
}

const char *cstore_text(struct cstore_rows *r, int col)
{
	return r ? r->s->drv->text(r, col) : NULL;
}

int64_t cstore_int64(struct cstore_rows *r, int col)
{
	const char *t;

	if (r && r->s->drv->int64)
		return r->s->drv->int64(r, col);
	t = cstore_text(r, col);
	return t ? strtoll(t, NULL, 10) : 0;
}

double cstore_double(struct cstore_rows *r, int col)
{
	const char *t = cstore_text(r, col);
	return t ? strtod(t, NULL) : 0;
}

int cstore_is_null(struct cstore_rows *r, int col)
{
	return r ? r->s->drv->is_null(r, col) : 1;
}

void cstore_done(struct cstore_rows *r)
{
	if (r)
		r->s->drv->done(r);
}

int cstore_changes(struct cstore *s)
{
	return s->changes;
}

int cstore_conflict(struct cstore *s)
{
	return s->conflict;
}

const char *cstore_errmsg(struct cstore *s)
{
	return s->err[0] ? s->err : "no error";
}

int cstore_begin(struct cstore *s)
{
	if (s->drv->begin(s))
		return -1;
	s->in_tx = 1;
	return 0;
}

int cstore_commit(struct cstore *s)
{
	int rc = s->drv->commit(s);

	if (rc)
		s->drv->rollback(s);
	s->in_tx = 0;
	return rc;
}

void cstore_rollback(struct cstore *s)
{
	s->drv->rollback(s);
	s->in_tx = 0;
}

int cstore_in_tx(struct cstore *s)
{
	return s->in_tx;
}

int64_t cstore_next_serial(struct cstore *s, const char *table, const char *column)
{
	return s->drv->next_serial(s, table, column);
}

int cstore_listen(struct cstore *s, const char *channel, cstore_listen_fn *fn, void *arg)
{
	s->listen_fn = fn;
	s->listen_arg = arg;
	return s->drv->listen(s, channel);
}

int cstore_notify(struct cstore *s, const char *channel)
{
	return s->drv->notify(s, channel);
}

int cstore_fd(struct cstore *s)
{
	return s->drv->fd(s);
}

int cstore_pump(struct cstore *s)
{
	return s->drv->pump(s);
}
