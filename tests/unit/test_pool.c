/* The browser pool's choices (agent/pool.c) and the worker's /metrics text
 * (agent/wmetrics.c): least busy first, turns among equals, the prewarmed
 * browser on a tie, no dead browser; endpoint lists and their errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "pool.h"
#include "test.h"
#include "wmetrics.h"

static void pool_of(struct pool *p, int n)
{
	char err[300], spec[64];

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "http://127.0.0.1:%d", 9000 + i);
		ASSERT_INT_EQ(pool_add(p, spec, err, sizeof(err)), 0);
		p->b[i].up = 1;
		p->b[i].ws_url = strdup("ws://x/devtools/browser/1");
	}
}

static void test_least_busy_first(void)
{
	struct pool p;

	pool_of(&p, 3);
	p.b[0].running = 2;
	p.b[1].running = 1;
	p.b[2].running = 3;
	ASSERT_INT_EQ(pool_pick(&p, -1), 1);
	pool_free(&p);
}

static void test_dead_browser_never_picked(void)
{
	struct pool p;

	pool_of(&p, 2);
	p.b[0].up = 0;
	p.b[1].running = 5;
	ASSERT_INT_EQ(pool_pick(&p, 0), 1);
	p.b[1].up = 0;
	ASSERT_INT_EQ(pool_pick(&p, -1), -1);
	pool_free(&p);
}

static void test_equals_take_turns_and_prewarmed_wins_a_tie(void)
{
	struct pool p;
	int seen[3] = { 0 };

	pool_of(&p, 3);
	for (int i = 0; i < 3; i++) {
		int k = pool_pick(&p, -1);
		ASSERT(k >= 0);
		seen[k]++;
		p.rr = (unsigned)k + 1;	/* as the worker does once a job starts */
	}
	ASSERT_INT_EQ(seen[0] + seen[1] + seen[2], 3);
	ASSERT(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	ASSERT_INT_EQ(pool_pick(&p, 2), 2);
	p.b[2].running = 1;	/* busier: no longer a tie */
	ASSERT(pool_pick(&p, 2) != 2);
	pool_free(&p);
}

static void test_endpoints_checked(void)
{
	struct pool p;
	char err[300];

	memset(&p, 0, sizeof(p));
	ASSERT_INT_EQ(pool_add(&p, "chrome:9222", err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "--browser wants ws://… or http://host:port, not \"chrome:9222\"");
	ASSERT_INT_EQ(pool_add(&p, "http://", err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "names no host");
	ASSERT_INT_EQ(pool_add(&p, "ws://h:1/devtools/browser/a b", err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "space or control");
	ASSERT_INT_EQ(pool_add(&p, "wss://farm.example/cdp?token=x", err, sizeof(err)), 0);
	ASSERT_INT_EQ(pool_add(&p, "wss://farm.example/cdp?token=x", err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "given twice");
	pool_free(&p);
}

static void test_list_file(void)
{
	struct pool p;
	char path[] = "/tmp/idlcm-pool-XXXXXX", err[600];
	int fd = mkstemp(path);
	const char *text = "# browsers\n  http://10.0.0.5:9222  \n\n\tws://10.0.0.6:9222/devtools/browser/x\r\n";

	ASSERT(fd >= 0);
	ASSERT_INT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	memset(&p, 0, sizeof(p));
	ASSERT_INT_EQ(pool_add_file(&p, path, err, sizeof(err)), 0);
	ASSERT_INT_EQ(p.n, 2);
	ASSERT_STR_EQ(p.b[0].spec, "http://10.0.0.5:9222");
	ASSERT_STR_EQ(p.b[1].spec, "ws://10.0.0.6:9222/devtools/browser/x");
	pool_free(&p);

	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT(fd >= 0);
	ASSERT_INT_EQ(write(fd, "# none\n", 7), 7);
	close(fd);
	ASSERT_INT_EQ(pool_add_file(&p, path, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "names no browser");
	unlink(path);
}

static void test_dead_endpoint_is_down(void)
{
	struct pool p;
	char err[300];

	memset(&p, 0, sizeof(p));
	/* port 9 (discard) on loopback: nothing listens there */
	ASSERT_INT_EQ(pool_add(&p, "ws://127.0.0.1:9/devtools/browser/x", err, sizeof(err)), 0);
	ASSERT_INT_EQ(pool_check(&p.b[0], 1000), 0);
	ASSERT_STR_CONTAINS(p.b[0].why, "cannot reach browser at http://127.0.0.1:9/json/version");
	ASSERT(p.b[0].ws_url == NULL);
	pool_free(&p);
}

static void fill(void *arg, struct wm_gauges *g)
{
	g->pool = arg;
	g->outbox = 3;
	g->oldest_s = 1.5;
}

static void test_metrics_text(void)
{
	struct pool p;
	struct wmetrics m;
	char *t;
	size_t n = 0;

	pool_of(&p, 2);
	free(p.b[1].spec);
	p.b[1].spec = strdup("ws://h:1/devtools/\"x\"");
	p.b[1].up = 0;
	memset(&m, 0, sizeof(m));
	m.gauges = fill;
	m.arg = &p;
	m.jobs_ok = 4;
	wmetrics_job_duration(&m, 0.2);
	wmetrics_job_duration(&m, 7);
	t = wmetrics_render(&m, &n);
	ASSERT(t && n == strlen(t));
	ASSERT_STR_CONTAINS(t, "idlcm_worker_jobs_total{outcome=\"ok\"} 4\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_job_duration_seconds_bucket{le=\"0.5\"} 1\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_job_duration_seconds_bucket{le=\"5\"} 1\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_job_duration_seconds_bucket{le=\"10\"} 2\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_job_duration_seconds_count 2\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_browser_up{browser=\"http://127.0.0.1:9000\"} 1\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_browser_up{browser=\"ws://h:1/devtools/\\\"x\\\"\"} 0\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_outbox_messages 3\n");
	ASSERT_STR_CONTAINS(t, "idlcm_worker_outbox_oldest_age_seconds 1.500\n");
	free(t);
	pool_free(&p);
}

int main(void)
{
	TEST_RUN(test_least_busy_first);
	TEST_RUN(test_dead_browser_never_picked);
	TEST_RUN(test_equals_take_turns_and_prewarmed_wins_a_tie);
	TEST_RUN(test_endpoints_checked);
	TEST_RUN(test_list_file);
	TEST_RUN(test_dead_endpoint_is_down);
	TEST_RUN(test_metrics_text);
	return TEST_REPORT();
}
