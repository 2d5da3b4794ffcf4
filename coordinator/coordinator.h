#ifndef IDLCM_COORDINATOR_H
#define IDLCM_COORDINATOR_H
/*
 * The reference coordinator: a job queue with leases over a store (SQLite
 * or PostgreSQL: store.h), the
 * worker protocol (claim with long poll, heartbeat, events, complete) and
 * an admin JSON API, served by lib/httpd on one thread.
 */
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "store.h"

struct httpd;
struct waiter;

/* What GET /metrics reports beyond the database: counters since start.
 * Histogram buckets hold per-bucket (not cumulative) counts; the
 * exposition sums them.  Bounds are in metrics.c. */
#define COORD_HIST_BUCKETS 10
struct coord_hist {
	uint64_t bucket[COORD_HIST_BUCKETS + 1];	/* last: above every bound */
	uint64_t count;
	double sum;
};
struct coord_metrics {
	uint64_t events_applied, events_duplicated;
	struct coord_hist scim;		/* SCIM request seconds */
	struct coord_hist claim_wait;	/* seconds a claimed job had been queued */
};

struct coord {
	struct cstore *store;	/* the state: SQLite or PostgreSQL (store.h) */
	/* Transitional, for the modules not moved onto the store yet: the
	 * SQLite handle under store (NULL on PostgreSQL).  Use store. */
	sqlite3 *db;
	struct httpd *h;
	char *token;		/* bearer token; NULL = no auth */
	int test_hooks;		/* --test-hooks: /v1/test/raw-job */
	int default_lease_s;
	int max_wait_s;
	struct waiter *waiters;	/* long-polling claims */
	struct pages *pages;	/* the admin pages (pages.c); NULL = off */
	struct coord_metrics metrics;	/* counters behind GET /metrics (metrics.c) */
};

/* db.c: the schema, per engine (store.h applies it at open). */
extern const struct cstore_schema coord_schema;
/* NOTIFY channel: jobs became claimable (woken across processes). */
#define COORD_JOBS_CHANNEL "idlcm_jobs"
/* Open target (a SQLite file or a postgres:// URL) and migrate it; on
 * SQLite also sets c->db (transitional).  -1 with err. */
int coord_store_open(struct coord *, const char *target, char *err, size_t errlen);
/* Transitional SQLite-only helpers, for the modules not moved onto the
 * store yet: open + migrate; tiny statement helpers ("t" text, "i" int64,
 * "n" int, "d" double).  New code uses cstore_* (store.h). */
sqlite3 *cdb_open(const char *path, char *err, size_t errlen);
int cdb_exec(sqlite3 *, const char *sql, const char *fmt, ...);
int64_t cdb_int(sqlite3 *, int64_t dflt, const char *sql, const char *fmt, ...);
sqlite3_stmt *cdb_query(sqlite3 *, const char *sql, const char *fmt, ...);
int64_t cdb_now_ms(void);
void cdb_iso(int64_t ms, char *buf, size_t n);

/* sealed.c: service-account secrets encrypted at rest.  The key comes
 * from key_file, or <dbpath>.key (made at first start, mode 0600). */
int coord_sealing_init(const char *key_file, const char *dbpath, char *err, size_t n);
/* The account as stored: secret fields sealed (cJSON_free the text). */
char *coord_account_seal(const char *integration, const cJSON *account);
/* Unseal an account read back, in place; -1 when a field cannot be
 * opened (another key: it stays sealed). */
int coord_account_open(const char *integration, cJSON *account);
/* For a claim answer: every secret field of account (sealed, or a plain
 * secret-looking string of an older database) becomes a reference,
 * {"vault": "coordinator:<integration>/<field>"}, in place. */
void coord_account_refer(const char *integration, cJSON *account);
/* The clear value of one field of a stored account (malloc'd: the caller
 * cleanses and frees it), or NULL with why. */
char *coord_account_field(const char *integration, const cJSON *account,
			  const char *field, char *why, size_t n);
/* The key that goes with one lease (job, attempt, worker): a MAC under the
 * sealing key, so only whoever got the claim answer can show it. */
void coord_lease_key(const char *job, int attempt, const char *worker, char out[65]);
/* The attempt's upload key: like the lease key, for
 * PUT /v1/jobs/{id}/artifacts/{name} only (it fetches no secret, so the
 * worker may keep it in its outbox until the upload is done). */
void coord_artifact_key(const char *job, int attempt, const char *worker, char out[65]);
#define COORD_REF_PREFIX "coordinator:"
/* What coord_valid_name accepts, for messages. */
#define COORD_NAME_RULE "1-64 letters, digits, '.', '-' or '_', not starting with '.'"
/* The PostgreSQL advisory lock a claim holds on a user while it leases
 * one of their jobs, keyed by "user:<integration>\n<user_key>". */
#define COORD_USER_LOCK_KEY "hashtextextended(?, 0)"

/* validation.c: the first integration of an app is validated first.
 * validation_status: the status to store when `wanted` is asked of an
 * integration (an integration under validation or review keeps it until
 * its validation passes: `settled` says the ask comes with the validate
 * job's completion, in the transaction that stores it, and not from an
 * event the job sent on its way); validation_begin: mark it under validation and
 * queue its validate job, unless the app was validated before. */
int validation_app_done(struct coord *c, const char *app);
const char *validation_status(struct coord *c, const char *integration, const char *wanted,
			      int settled);
int validation_begin(struct coord *c, const char *integration, const char *app,
		     char *err, size_t n);

/* api.c */
int coord_valid_name(const char *s);
struct httpd_req;
int coord_routes(struct coord *);
/* Validates and stores one job as POST /v1/jobs does and wakes the
 * workers: 201 or 200 (same idempotency key) with *out {id, …}, else a
 * 4xx/5xx status with err. */
int coord_enqueue(struct coord *, const cJSON *job, cJSON **out, char *err, size_t n);
int coord_authorized(struct coord *, struct httpd_req *);
void coord_jobs_added(struct coord *);
void coord_release(struct coord *);
/* Wake this process's long polls when another coordinator process queues
 * jobs (PostgreSQL LISTEN; nothing on SQLite).  main.c watches
 * cstore_fd(c->store) and calls cstore_pump on input. */
int coord_listen(struct coord *);

/* metrics.c: GET /metrics (Prometheus text format 0.0.4) and the SCIM
 * request timer. */
int metrics_routes(struct coord *);
void metrics_scim_observe(struct coord *, double seconds);
/* A claimed job's wait into h (a claim's own, added to the coordinator's
 * with metrics_hist_add once its transaction commits). */
void metrics_claim_wait_observe(struct coord_hist *h, double seconds);
void metrics_hist_add(struct coord_hist *into, const struct coord_hist *from);
#endif
