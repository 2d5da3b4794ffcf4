/*
 * GET /metrics: the coordinator's state in the Prometheus text exposition
 * format 0.0.4.  Queue figures come from the database at scrape time (one
 * truth, no counters to drift); events and SCIM latency are counted in
 * struct coord since the process started, as Prometheus counters expect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "coordinator.h"
#include "httpd.h"

/* Upper bounds of idlcm_scim_request_seconds, ascending. */
static const double scim_bounds[COORD_HIST_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};
/* Of idlcm_claim_wait_seconds: a claim within the long poll up to hours
 * behind a stuck queue. */
static const double wait_bounds[COORD_HIST_BUCKETS] = {
	0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400,
};

static const char *col(struct cstore_rows *st, int i)
{
	const char *s = cstore_text(st, i);
	return s ? s : "";
}

static int jobs(struct coord *c, struct prom_buf *b)
{
	struct cstore_rows *st;

	/* a failed read shows at the query: the rows come whole */
	prom_head(b, "idlcm_jobs", "gauge", "Jobs by status and outcome (outcome empty until done).");
	st = cstore_query(c->store, "SELECT status, COALESCE(outcome, ''), COUNT(*) FROM jobs"
		       " GROUP BY status, COALESCE(outcome, '') ORDER BY 1, 2", NULL);
	if (!st)
		return -1;
	while (cstore_next(st)) {
		prom_printf(b, "idlcm_jobs{status=\"");
		prom_label(b, col(st, 0));
		prom_printf(b, "\",outcome=\"");
		prom_label(b, col(st, 1));
		prom_printf(b, "\"} %lld\n", (long long)cstore_int64(st, 2));
	}
	cstore_done(st);

	/* Depth and the oldest waiting job's age per app: a claim wait
	 * that grows shows as an age that grows. */
	prom_head(b, "idlcm_queue_depth", "gauge", "Queued jobs per app.");
	st = cstore_query(c->store, "SELECT app, COUNT(*), MIN(created_ms) FROM jobs"
		       " WHERE status = 'queued' GROUP BY app ORDER BY app", NULL);
	if (!st)
		return -1;
	{
		struct prom_buf age = { 0 };
		int64_t now = cdb_now_ms();

		while (cstore_next(st)) {
			int64_t oldest = cstore_int64(st, 2);
			prom_printf(b, "idlcm_queue_depth{app=\"");
			prom_label(b, col(st, 0));
			prom_printf(b, "\"} %lld\n", (long long)cstore_int64(st, 1));
			prom_printf(&age, "idlcm_queue_oldest_age_seconds{app=\"");
			prom_label(&age, col(st, 0));
			prom_printf(&age, "\"} %.3f\n", (double)(now > oldest ? now - oldest : 0) / 1000.0);
		}
		cstore_done(st);
		prom_head(b, "idlcm_queue_oldest_age_seconds", "gauge",
			"Age of the oldest queued job per app.");
		if (age.oom)
			b->oom = 1;
		else if (age.n)
			prom_printf(b, "%s", age.s);
		free(age.s);
	}
	return 0;
}

static void hist(struct prom_buf *b, const char *name, const char *help, const double *bounds,
		 const struct coord_hist *h)
{
	uint64_t cum = 0;
	int i;

	prom_head(b, name, "histogram", help);
	for (i = 0; i < COORD_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		prom_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
	}
	prom_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	prom_printf(b, "%s_sum %.6f\n", name, h->sum);
	prom_printf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void counters(struct coord *c, struct prom_buf *b)
{
	const struct coord_metrics *m = &c->metrics;

	prom_head(b, "idlcm_events_applied_total", "counter",
		"Worker events stored and applied since start.");
	prom_printf(b, "idlcm_events_applied_total %llu\n", (unsigned long long)m->events_applied);
	prom_head(b, "idlcm_events_duplicated_total", "counter",
		"Worker events received again (already stored) since start.");
	prom_printf(b, "idlcm_events_duplicated_total %llu\n",
		  (unsigned long long)m->events_duplicated);
	hist(b, "idlcm_scim_request_seconds",
	     "Time to answer a SCIM request, authentication included.", scim_bounds, &m->scim);
	hist(b, "idlcm_claim_wait_seconds",
	     "How long each claimed job had been queued (since queued or last changed).",
	     wait_bounds, &m->claim_wait);
}

static void observe(struct coord_hist *h, const double *bounds, double seconds)
{
	int i = 0;

	while (i < COORD_HIST_BUCKETS && seconds > bounds[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum += seconds;
}

void metrics_scim_observe(struct coord *c, double seconds)
{
	observe(&c->metrics.scim, scim_bounds, seconds);
}

void metrics_claim_wait_observe(struct coord_hist *h, double seconds)
{
	observe(h, wait_bounds, seconds < 0 ? 0 : seconds);
}

void metrics_hist_add(struct coord_hist *into, const struct coord_hist *from)
{
	int i;

	for (i = 0; i <= COORD_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
}

static int h_metrics(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	struct prom_buf b = { 0 };

	if (!coord_authorized(c, req))
		return 0;
	if (jobs(c, &b)) {
		free(b.s);
		return httpd_reply_error(req, 500, "metrics: cannot read the jobs: %s",
					 cstore_errmsg(c->store));
	}
	counters(c, &b);
	if (b.oom) {
		free(b.s);
		return httpd_reply_error(req, 500, "metrics: out of memory");
	}
	httpd_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.s, b.n);
	free(b.s);
	return 0;
}

int metrics_routes(struct coord *c)
{
	return httpd_route(c->h, HTTPD_GET, "/metrics", h_metrics, c);
}
