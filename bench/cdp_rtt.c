/*
 * cdp_rtt: our CDP layer's round trip (agent/cdp.c over agent/cdp_ws.c):
 * open a page the way a job does, then time N Runtime.evaluate("1") calls
 * through cdp_call; one microsecond figure per line.
 *   cdp_rtt N WS_URL
 */
#include <stdio.h>
#include <string.h>
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
	if (getenv("CDP_RTT_BARE")) {
		/* experiment: the page without Page/Runtime enabled */
		cJSON *prm = cJSON_CreateObject(), *r = NULL;
		cJSON_AddBoolToObject(prm, "disposeOnDetach", 1);
		cdp_call(c, NULL, "Target.createBrowserContext", prm, 5000, &r, &err);
		snprintf(p.context_id, sizeof(p.context_id), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r, "browserContextId")));
		cJSON_Delete(r);
		prm = cJSON_CreateObject();
		cJSON_AddStringToObject(prm, "url", "about:blank");
		cJSON_AddStringToObject(prm, "browserContextId", p.context_id);
		cdp_call(c, NULL, "Target.createTarget", prm, 5000, &r, &err);
		snprintf(p.target_id, sizeof(p.target_id), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r, "targetId")));
		cJSON_Delete(r);
		prm = cJSON_CreateObject();
		cJSON_AddStringToObject(prm, "targetId", p.target_id);
		cJSON_AddBoolToObject(prm, "flatten", 1);
		cdp_call(c, NULL, "Target.attachToTarget", prm, 5000, &r, &err);
		snprintf(p.session_id, sizeof(p.session_id), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r, "sessionId")));
		cJSON_Delete(r);
	} else if (browser_open_page(c, &p, &err)) {
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
