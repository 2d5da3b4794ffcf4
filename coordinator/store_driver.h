#ifndef IDLCM_COORD_STORE_DRIVER_H
#define IDLCM_COORD_STORE_DRIVER_H
/*
 * What a store driver implements (store_sqlite.c, store_pg.c) and the state
 * store.c keeps for every driver.  Callers use store.h only.
 */
#include "store.h"

struct cstore {
	const struct cstore_driver *drv;
	void *h;		/* the driver's connection */
	int changes;		/* rows the last exec wrote */
	int conflict;		/* the last error was a unique violation */
	int in_tx;
	int owned;		/* close the handle with the store */
	uint64_t serial;	/* this store among all opened by the process */
	void *cache;		/* the driver's prepared statements (optional) */
	void *aux;		/* the driver's helper of its own (optional) */
	char err[600];
	cstore_listen_fn *listen_fn;
	void *listen_arg;
};

/* A driver's cursor starts with this. */
struct cstore_rows {
	struct cstore *s;
	int failed;		/* a row could not be read (cstore_failed) */
};

/* The drivers (store_sqlite.c, store_pg.c) behind the functions above. */
struct cstore_driver {
	const char *name;
	enum cstore_dialect dialect;
	int (*open)(struct cstore *, const char *target, const struct cstore_schema *,
		    char *err, size_t n);
	void (*close)(struct cstore *);
	/* optional: drop what the driver keeps on the handle (cached
	 * statements), also for a handle the store does not own */
	void (*release)(struct cstore *);
	struct cstore_rows *(*query)(struct cstore *, const char *sql, const char *fmt,
				     va_list ap);
	int (*exec)(struct cstore *, const char *sql, const char *fmt, va_list ap);
	int (*next)(struct cstore_rows *);
	const char *(*text)(struct cstore_rows *, int col);
	/* optional: the engine's own integer (else the text is parsed) */
	int64_t (*int64)(struct cstore_rows *, int col);
	int (*is_null)(struct cstore_rows *, int col);
	void (*done)(struct cstore_rows *);
	int (*begin)(struct cstore *);
	int (*commit)(struct cstore *);
	void (*rollback)(struct cstore *);
	int64_t (*next_serial)(struct cstore *, const char *table, const char *column);
	/* optional: fill changes and data of a stamp (else no stamps) */
	int (*stamp)(struct cstore *, struct cstore_stamp *);
	int (*listen)(struct cstore *, const char *channel);
	int (*notify)(struct cstore *, const char *channel);
	int (*fd)(struct cstore *);
	int (*pump)(struct cstore *);
};

extern const struct cstore_driver cstore_sqlite_driver;
extern const struct cstore_driver cstore_pg_driver;
/* PostgreSQL's text of sql: each ? outside quotes becomes $1, $2, …
 * (*nparams of them); malloc'd. */
char *cstore_pg_placeholders(const char *sql, int *nparams);
/* Log a statement's failure (not a conflict: that is the caller's answer). */
void cstore_log_error(struct cstore *, const char *sql);
#endif
