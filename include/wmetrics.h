#ifndef IDLCM_WMETRICS_H
#define IDLCM_WMETRICS_H
/*
 * wmetrics: the worker's GET /metrics (--metrics-listen), in the Prometheus
 * text format 0.0.4.  Counters live here since the process started; the
 * gauges (queue, outbox, browsers) are asked of the worker at each scrape.
 * Served from the worker's own loop (wmetrics_service), no thread: job
 * children are forked from that loop.
 */
#include <stdint.h>

#include "pool.h"

#define WM_BUCKETS 10

struct httpd;

/* What the worker knows at scrape time. */
struct wm_gauges {
	int running, queued;		/* jobs running now, claimed and waiting */
	int outbox;			/* messages the coordinator has not taken */
	int held;			/* of those, held in memory (store unwritable) */
	double oldest_s;		/* age of the oldest of them; 0 when none */
	const struct pool *pool;	/* --browser endpoints, or NULL */
	int own_up;			/* no pool: our launched Chromium runs */
};

struct wmetrics {
	uint64_t jobs_ok, jobs_failed, jobs_released, jobs_lease_lost;
	uint64_t retries_transient, retries_browser;
	uint64_t relaunches;		/* our launched Chromium died and came back */
	uint64_t dur_bucket[WM_BUCKETS + 1], dur_count;
	double dur_sum;
	struct httpd *h;
	void (*gauges)(void *arg, struct wm_gauges *);
	void *arg;
};

/* Listen on "ADDR:PORT" (port 0: any free one; httpd's port is then in the
 * log line).  0, or -1 with err. */
int wmetrics_start(struct wmetrics *, const char *listen, char *err, size_t errlen);
/* Answer what is pending without waiting (a few ms at most). */
void wmetrics_service(struct wmetrics *);
void wmetrics_stop(struct wmetrics *);
/* A job done (ok or failed) that took seconds from its first run. */
void wmetrics_job_duration(struct wmetrics *, double seconds);
/* The exposition text (malloc'd; *len its length), or NULL. */
char *wmetrics_render(struct wmetrics *, size_t *len);
#endif
