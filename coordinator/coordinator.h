#ifndef IDLCM_COORDINATOR_H
#define IDLCM_COORDINATOR_H
/*
 * The reference coordinator: a job queue with leases over SQLite, the
 * worker protocol (claim with long poll, heartbeat, events, complete) and
 * an admin JSON API, served by lib/httpd on one thread.
 */
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>

struct httpd;
struct waiter;

struct coord {
	sqlite3 *db;
	struct httpd *h;
	char *token;		/* bearer token; NULL = no auth */
	int test_hooks;		/* --test-hooks: /v1/test/raw-job */
	int default_lease_s;
	int max_wait_s;
	struct waiter *waiters;	/* long-polling claims */
};

/* db.c: open + migrate; tiny statement helpers ("t" text, "i" int64,
 * "n" int, "d" double). */
sqlite3 *cdb_open(const char *path, char *err, size_t errlen);
int cdb_exec(sqlite3 *, const char *sql, const char *fmt, ...);
int64_t cdb_int(sqlite3 *, int64_t dflt, const char *sql, const char *fmt, ...);
sqlite3_stmt *cdb_query(sqlite3 *, const char *sql, const char *fmt, ...);
int64_t cdb_now_ms(void);
void cdb_iso(int64_t ms, char *buf, size_t n);

/* api.c */
struct httpd_req;
int coord_routes(struct coord *);
int coord_authorized(struct coord *, struct httpd_req *);
void coord_jobs_added(struct coord *);
void coord_release(struct coord *);
#endif
