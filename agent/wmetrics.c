/*
 * wmetrics: GET /metrics on the worker.  The same exposition format and
 * the same helpers' shape as the coordinator's coordinator/metrics.c;
 * metric names start idlcm_worker_ so both can be scraped into one
 * Prometheus without a clash.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "promtext.h"
#include "httpd.h"
#include "log.h"
#include "wmetrics.h"

/* Upper bounds of idlcm_worker_job_duration_seconds: a prewarmed job in
 * under a second up to the default 300 s deadline and its retries. */
static const double dur_bounds[WM_BUCKETS] = {
	0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900,
};

/* One sample per browser: name{browser="…"} value. */
static void per_browser(struct prom_buf *b, const char *name, const char *type, const char *help,
			const struct wm_gauges *g, int which)
{
	prom_head(b, name, type, help);
	for (int i = 0; g->pool && i < g->pool->n; i++) {
		const struct pool_browser *pb = &g->pool->b[i];
		unsigned long long v = which == 0 ? (unsigned long long)pb->up :
			which == 1 ? (unsigned long long)pb->running :
			which == 2 ? (unsigned long long)pb->jobs : (unsigned long long)pb->downs;
		prom_printf(b, "%s{browser=\"", name);
		prom_label(b, pb->spec);
		prom_printf(b, "\"} %llu\n", v);
	}
}

char *wmetrics_render(struct wmetrics *m, size_t *len)
{
	struct prom_buf b = { 0 };
	struct wm_gauges g = { 0 };
	uint64_t cum = 0;

	if (m->gauges)
		m->gauges(m->arg, &g);
	prom_head(&b, "idlcm_worker_jobs_total", "counter",
		"Jobs this worker finished since it started, by outcome.");
	prom_printf(&b, "idlcm_worker_jobs_total{outcome=\"ok\"} %llu\n",
		  (unsigned long long)m->jobs_ok);
	prom_printf(&b, "idlcm_worker_jobs_total{outcome=\"failed\"} %llu\n",
		  (unsigned long long)m->jobs_failed);
	prom_printf(&b, "idlcm_worker_jobs_total{outcome=\"released\"} %llu\n",
		  (unsigned long long)m->jobs_released);
	prom_printf(&b, "idlcm_worker_jobs_total{outcome=\"lease_lost\"} %llu\n",
		  (unsigned long long)m->jobs_lease_lost);
	prom_head(&b, "idlcm_worker_jobs", "gauge", "Claimed jobs now, running or waiting to run.");
	prom_printf(&b, "idlcm_worker_jobs{state=\"running\"} %d\n", g.running);
	prom_printf(&b, "idlcm_worker_jobs{state=\"waiting\"} %d\n", g.queued);
	prom_head(&b, "idlcm_worker_job_duration_seconds", "histogram",
		"Time from a job's first run to its outcome (ok or failed), retries included.");
	for (int i = 0; i < WM_BUCKETS; i++) {
		cum += m->dur_bucket[i];
		prom_printf(&b, "idlcm_worker_job_duration_seconds_bucket{le=\"%g\"} %llu\n",
			  dur_bounds[i], (unsigned long long)cum);
	}
	prom_printf(&b, "idlcm_worker_job_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
		  (unsigned long long)m->dur_count);
	prom_printf(&b, "idlcm_worker_job_duration_seconds_sum %.6f\n", m->dur_sum);
	prom_printf(&b, "idlcm_worker_job_duration_seconds_count %llu\n",
		  (unsigned long long)m->dur_count);
	prom_head(&b, "idlcm_worker_retries_total", "counter",
		"Runs started again: after a transient error, or because the job's browser went away.");
	prom_printf(&b, "idlcm_worker_retries_total{reason=\"transient\"} %llu\n",
		  (unsigned long long)m->retries_transient);
	prom_printf(&b, "idlcm_worker_retries_total{reason=\"browser_lost\"} %llu\n",
		  (unsigned long long)m->retries_browser);
	if (g.pool) {
		per_browser(&b, "idlcm_worker_browser_up", "gauge",
			    "1 when the browser answered its last health check.", &g, 0);
		per_browser(&b, "idlcm_worker_browser_jobs_running", "gauge",
			    "Jobs running on the browser now.", &g, 1);
		per_browser(&b, "idlcm_worker_browser_runs_total", "counter",
			    "Runs started on the browser.", &g, 2);
		per_browser(&b, "idlcm_worker_browser_down_total", "counter",
			    "Times the browser was found gone.", &g, 3);
	} else {
		prom_head(&b, "idlcm_worker_browser_up", "gauge",
			"1 while the worker's own Chromium runs.");
		prom_printf(&b, "idlcm_worker_browser_up{browser=\"launched\"} %d\n", g.own_up);
		prom_head(&b, "idlcm_worker_browser_relaunches_total", "counter",
			"Times the worker's own Chromium died and was launched again.");
		prom_printf(&b, "idlcm_worker_browser_relaunches_total{browser=\"launched\"} %llu\n",
			  (unsigned long long)m->relaunches);
	}
	prom_head(&b, "idlcm_worker_outbox_messages", "gauge",
		"Events and completes the coordinator has not taken yet (store and memory).");
	prom_printf(&b, "idlcm_worker_outbox_messages %d\n", g.outbox);
	prom_head(&b, "idlcm_worker_outbox_held_messages", "gauge",
		"Of those, held in memory because the store cannot be written.");
	prom_printf(&b, "idlcm_worker_outbox_held_messages %d\n", g.held);
	prom_head(&b, "idlcm_worker_outbox_oldest_age_seconds", "gauge",
		"Age of the oldest message not yet delivered (0 when none).");
	prom_printf(&b, "idlcm_worker_outbox_oldest_age_seconds %.3f\n", g.oldest_s);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	*len = b.n;
	return b.s;
}

void wmetrics_job_duration(struct wmetrics *m, double seconds)
{
	int i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < WM_BUCKETS && seconds > dur_bounds[i])
		i++;
	m->dur_bucket[i]++;
	m->dur_count++;
	m->dur_sum += seconds;
}

static int h_metrics(struct httpd_req *req, void *arg)
{
	size_t n = 0;
	char *text = wmetrics_render(arg, &n);

	if (!text)
		return httpd_reply_error(req, 500, "metrics: out of memory");
	httpd_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, n);
	free(text);
	return 0;
}

int wmetrics_start(struct wmetrics *m, const char *listen, char *err, size_t errlen)
{
	struct httpd_config cfg = { 0 };
	const char *colon = strrchr(listen, ':');
	char iface[64], *end, *e = NULL;
	long port;

	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(iface)) {
		snprintf(err, errlen, "--metrics-listen wants ADDR:PORT, not \"%s\"", listen);
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535) {
		snprintf(err, errlen, "--metrics-listen wants a port from 0 to 65535, not \"%s\"",
			 colon + 1);
		return -1;
	}
	snprintf(iface, sizeof(iface), "%.*s", (int)(colon - listen), listen);
	cfg.iface = iface;
	cfg.port = (int)port;
	cfg.max_body = 4096;
	lws_set_log_level(LLL_ERR, NULL);
	m->h = httpd_new(&cfg, &e);
	if (!m->h) {
		snprintf(err, errlen, "--metrics-listen: %s", e ? e : "cannot listen");
		free(e);
		return -1;
	}
	if (httpd_route(m->h, HTTPD_GET, "/metrics", h_metrics, m)) {
		snprintf(err, errlen, "--metrics-listen: cannot add the route");
		httpd_free(m->h);
		m->h = NULL;
		return -1;
	}
	log_info("metrics on http://%s:%d/metrics", iface, httpd_port(m->h));
	return 0;
}

static void wake(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

void wmetrics_service(struct wmetrics *m)
{
	lws_sorted_usec_list_t sul;
	struct lws_context *ctx;

	if (!m->h)
		return;
	ctx = httpd_context(m->h);
	memset(&sul, 0, sizeof(sul));
	/* lws 4 sleeps until an event or a timer: a 1 ms timer bounds each
	 * pass; a few passes take a scrape from accept to the last byte */
	for (int i = 0; i < 3; i++) {
		lws_sul_schedule(ctx, 0, &sul, wake, 1000);
		if (lws_service(ctx, 0) < 0)
			break;
	}
	lws_sul_cancel(&sul);
}

void wmetrics_stop(struct wmetrics *m)
{
	httpd_free(m->h);
	m->h = NULL;
}
