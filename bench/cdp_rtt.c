/*
 * cdp_rtt: our CDP layer's round trip (agent/cdp.c over agent/cdp_ws.c):
 * open a page the way a job does, then time N Runtime.evaluate("1") calls
 * through cdp_call; one microsecond figure per line.
 *   cdp_rtt N WS_URL
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "browser.h"
#include "cdp.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct cdp_transport *tr;
	struct cdp *c;
	struct page_handle p;
	struct cdp_error err;
	char e[300];
	int n = argc > 2 ? atoi(argv[1]) : 0;

	if (n <= 0) {
		fprintf(stderr, "usage: cdp_rtt N WS_URL\n");
		return 2;
	}
	tr = cdp_ws_connect(argv[2], 5000, e, sizeof(e));
	if (!tr) {
		fprintf(stderr, "%s\n", e);
		return 1;
	}
	c = cdp_new(tr);
	if (browser_open_page(c, &p, &err)) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		cJSON *params = cJSON_CreateObject(), *res = NULL;
		double t0;
		cJSON_AddStringToObject(params, "expression", "1");
		t0 = now_us();
		if (cdp_call(c, p.session_id, "Runtime.evaluate", params, 5000, &res, &err)) {
			fprintf(stderr, "%s\n", err.message);
			return 1;
		}
		printf("%.1f\n", now_us() - t0);
		cJSON_Delete(res);
	}
	browser_close_page(c, &p);
	cdp_free(c);
	return 0;
}
