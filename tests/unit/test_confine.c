/*
 * confine unit tests: the URL rule and the raw-CDP allowlist, without a
 * browser (the e2e tests in tests/e2e/test_confine.sh attack real Chromium).
 */
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "confine.h"
#include "test.h"

static int url_ok(const char *url, int from_script)
{
	char why[600];
	static const int ports[] = { 9222, 0 };
	return confine_url_ok(url, ports, from_script, why, sizeof(why)) == 0;
}

static void test_urls(void)
{
	ASSERT(url_ok("https://app.example/admin", 1));
	ASSERT(url_ok("http://127.0.0.1:8080/acme/#/login", 1));
	ASSERT(url_ok("HTTPS://APP.EXAMPLE/", 1));
	ASSERT(url_ok("about:blank", 1));
	ASSERT(url_ok("about:blank#top", 1));
	ASSERT(!url_ok("about:blankness", 1));
	ASSERT(url_ok("chrome-error://chromewebdata/", 0));
	ASSERT(!url_ok("chrome-error://chromewebdata/", 1));
	ASSERT(url_ok("data:text/html,<p>hi", 1));
	ASSERT(!url_ok("file:///etc/passwd", 1));
	ASSERT(!url_ok("FILE:///etc/passwd", 1));
	ASSERT(!url_ok("chrome://version", 1));
	ASSERT(!url_ok("view-source:https://app.example/", 1));
	ASSERT(!url_ok("devtools://devtools/bundled/inspector.html", 1));
	ASSERT(!url_ok("filesystem:https://app.example/temporary/x", 1));
	ASSERT(!url_ok("javascript:alert(1)", 1));
	ASSERT(!url_ok("about:settings", 1));
	ASSERT(!url_ok("/relative/path", 1));
	ASSERT(!url_ok("", 1));
	/* the browser's own DevTools endpoint, however the host is spelled */
	ASSERT(!url_ok("http://127.0.0.1:9222/json/list", 1));
	ASSERT(!url_ok("http://localhost:9222/json/close/X", 1));
	ASSERT(!url_ok("http://user@[::1]:9222/json", 1));
	ASSERT(url_ok("http://127.0.0.1:92220/", 1));
	/* pages make these themselves; a script may not ask for them */
	ASSERT(!url_ok("about:srcdoc", 1));
	ASSERT(url_ok("about:srcdoc", 0));
	ASSERT(url_ok("blob:https://app.example/0c1f-…", 0));
	ASSERT(!url_ok("blob:file:///x", 0));
	ASSERT(!url_ok("chrome://omnibox-popup.top-chrome/", 0));
}

/* A cdp with a confinement but no transport: only checks that never ask
 * the browser run here. */
static struct confine k;
static struct cdp c;

static void setup(void)
{
	memset(&k, 0, sizeof(k));
	memset(&c, 0, sizeof(c));
	snprintf(k.context_id, sizeof(k.context_id), "CTX");
	snprintf(k.page_target, sizeof(k.page_target), "T1");
	snprintf(k.sessions[0], sizeof(k.sessions[0]), "S1");
	k.nsessions = 1;
	k.devtools_ports[0] = 9222;
	c.confine = &k;
}

static const char *check(const char *method, const char *params, const char *session)
{
	static char why[800];
	cJSON *p = cJSON_Parse(params ? params : "{}");
	int rc = confine_check(&c, method, p, session, why, sizeof(why));
	cJSON_Delete(p);
	return rc ? why : NULL;
}

static void test_allowlist(void)
{
	setup();
	ASSERT(check("Runtime.evaluate", "{\"expression\":\"1\"}", "S1") == NULL);
	ASSERT(check("Input.dispatchMouseEvent", NULL, "S1") == NULL);
	ASSERT(check("Page.navigate", "{\"url\":\"https://a.example/\"}", "S1") == NULL);
	ASSERT_STR_EQ(check("Browser.setDownloadBehavior", "{\"behavior\":\"allow\"}", NULL),
		      "cdp.send \"Browser.setDownloadBehavior\" is not allowed: the Browser domain "
		      "acts beyond the job's page (only page-level domains are allowed; see \"Raw "
		      "CDP\" in scripts/apps/README.md)");
	ASSERT_STR_CONTAINS(check("SystemInfo.getProcessInfo", NULL, NULL), "the SystemInfo domain");
	ASSERT_STR_CONTAINS(check("Storage.getCookies", NULL, NULL), "the Storage domain");
	ASSERT_STR_CONTAINS(check("Tracing.start", NULL, "S1"), "the Tracing domain");
	ASSERT_STR_CONTAINS(check("NoDot", NULL, "S1"), "is not allowed");
	ASSERT_STR_CONTAINS(check("Page.setDownloadBehavior", NULL, "S1"),
			    "the agent sets where downloads go");
	ASSERT_STR_CONTAINS(check("Page.navigate", "{\"url\":\"file:///etc/passwd\"}", "S1"),
			    "file:///etc/passwd is not a web URL");
	ASSERT_STR_CONTAINS(check("Page.navigate", "{}", "S1"), "it needs params.url");
	ASSERT_STR_CONTAINS(check("Network.loadNetworkResource",
				  "{\"url\":\"file:///etc/passwd\"}", "S1"), "not a web URL");
	ASSERT(check("Fetch.continueRequest", "{\"requestId\":\"1\"}", "S1") == NULL);
	ASSERT_STR_CONTAINS(check("Fetch.continueRequest",
				  "{\"requestId\":\"1\",\"url\":\"chrome://version\"}", "S1"),
			    "not a web URL");
	/* page-level methods need one of the job's sessions */
	ASSERT_STR_CONTAINS(check("Runtime.evaluate", NULL, NULL), "send it on the page's session");
	ASSERT_STR_CONTAINS(check("Runtime.evaluate", NULL, "OTHER"),
			    "session \"OTHER\" is not one of the job's pages");
	/* Target: own targets only */
	ASSERT(check("Target.getTargets", NULL, NULL) == NULL);
	ASSERT(check("Target.attachToTarget", "{\"targetId\":\"T1\"}", NULL) == NULL);
	ASSERT_STR_CONTAINS(check("Target.setDiscoverTargets", "{\"discover\":true}", NULL),
			    "announce every job's pages");
	ASSERT_STR_CONTAINS(check("Target.createBrowserContext", NULL, NULL), "one context");
	ASSERT_STR_CONTAINS(check("Target.createTarget", "{\"url\":\"file:///x\"}", NULL),
			    "not a web URL");
	ASSERT_STR_CONTAINS(check("Target.createTarget",
				  "{\"url\":\"about:blank\",\"browserContextId\":\"OTHER\"}", NULL),
			    "browser context \"OTHER\" is not the job's");
	ASSERT_STR_CONTAINS(check("Target.setAutoAttach", "{\"autoAttach\":true}", NULL),
			    "attach every job's pages");
	ASSERT(check("Target.setAutoAttach", "{\"autoAttach\":true}", "S1") == NULL);
	ASSERT_STR_CONTAINS(check("Target.detachFromTarget", "{\"sessionId\":\"X\"}", NULL),
			    "session \"X\" is not one of the job's");
	/* uploads: only from the run folder */
	ASSERT_STR_CONTAINS(check("DOM.setFileInputFiles", "{\"files\":[\"/etc/passwd\"]}", "S1"),
			    "this job has no run folder");
	snprintf(k.run_dir, sizeof(k.run_dir), "/tmp");
	ASSERT_STR_CONTAINS(check("DOM.setFileInputFiles", "{\"files\":[\"/etc/passwd\"]}", "S1"),
			    "/etc/passwd is not a file in the job's run folder");
	/* a breach stops everything */
	snprintf(k.breach, sizeof(k.breach), "a page of the job opened chrome://x");
	ASSERT_STR_CONTAINS(check("Runtime.evaluate", NULL, "S1"),
			    "refused: the job is stopped: a page of the job opened chrome://x");
}

static void test_createtarget_gets_the_jobs_context(void)
{
	char why[600];
	cJSON *p = cJSON_Parse("{\"url\":\"https://a.example/\"}");

	setup();
	ASSERT_INT_EQ(confine_check(&c, "Target.createTarget", p, NULL, why, sizeof(why)), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(p, "browserContextId")), "CTX");
	cJSON_Delete(p);
}

static void test_events_and_getTargets_filter(void)
{
	char why[300];
	cJSON *res = cJSON_Parse("{\"targetInfos\":["
		"{\"targetId\":\"T1\",\"type\":\"page\",\"browserContextId\":\"CTX\"},"
		"{\"targetId\":\"T2\",\"type\":\"page\",\"browserContextId\":\"OTHER\"},"
		"{\"targetId\":\"T3\",\"type\":\"browser_ui\",\"browserContextId\":\"CTX\"},"
		"{\"targetId\":\"T4\",\"type\":\"page\"}]}");

	setup();
	confine_after(&c, "Target.getTargets", res);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(res, "targetInfos")), 1);
	cJSON_Delete(res);
	res = cJSON_Parse("{\"sessionId\":\"S2\"}");
	confine_after(&c, "Target.attachToTarget", res);
	cJSON_Delete(res);
	ASSERT(check("Runtime.evaluate", NULL, "S2") == NULL);
	ASSERT_INT_EQ(confine_check_events(&c, "S1", "Page.loadEventFired", why, sizeof(why)), 0);
	ASSERT_INT_EQ(confine_check_events(&c, NULL, "Target.targetCreated", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "events of the browser session are not available");
	ASSERT_INT_EQ(confine_check_events(&c, NULL, "Browser.downloadProgress", why, sizeof(why)), 0);
	ASSERT_INT_EQ(confine_check_events(&c, "OTHER", NULL, why, sizeof(why)), -1);
}

/* A worker's pool: the browser a job runs on and every other member are
 * DevTools endpoints its pages may not open; remote ones, which the
 * loopback patterns miss, get Fetch patterns of their own. */
static int has_pattern(const cJSON *patterns, const char *want)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, patterns)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "urlPattern")), want))
			return 1;
	return 0;
}

static void test_pool_endpoints_are_guarded(void)
{
	cJSON *pat;
	const char *host;
	int port, n = 0;
	static const int ports[] = { 9222, 9333, 0 };
	char why[600];

	browser_set_devtools_url("ws://127.0.0.1:9222/devtools/browser/abc");
	browser_add_devtools_url("http://10.1.2.3:9333");
	browser_add_devtools_url("ws://10.1.2.3:9333/devtools/browser/def");	/* the same one */
	browser_add_devtools_url("wss://farm.example/devtools/browser/x");
	browser_add_devtools_url("not a url");
	while ((host = browser_devtools_endpoint(n, &port)))
		n++;
	ASSERT_INT_EQ(n, 3);
	ASSERT_STR_EQ(browser_devtools_endpoint(1, &port), "10.1.2.3");
	ASSERT_INT_EQ(port, 9333);
	ASSERT_STR_EQ(browser_devtools_endpoint(2, &port), "farm.example");
	ASSERT_INT_EQ(port, 443);
	ASSERT_INT_EQ(browser_devtools_port(), 9222);

	pat = confine_guard_patterns();
	ASSERT(has_pattern(pat, "file:*"));
	ASSERT(has_pattern(pat, "http://127.*/json*"));
	ASSERT(has_pattern(pat, "http://10.1.2.3:9333/json*"));
	ASSERT(has_pattern(pat, "https://10.1.2.3:9333/json*"));
	ASSERT(has_pattern(pat, "https://farm.example/json*"));
	ASSERT(has_pattern(pat, "http://farm.example:443/json*"));
	/* a loopback endpoint is caught on any port: no port of its own, so
	 * a recording replays whatever port the test's browser had */
	ASSERT(!has_pattern(pat, "http://127.0.0.1:9222/json*"));
	cJSON_Delete(pat);

	ASSERT_INT_EQ(confine_url_ok("http://10.1.2.3:9333/json/list", ports, 1, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "DevTools endpoint");
	ASSERT_INT_EQ(confine_url_ok("http://127.0.0.1:9333/json/list", ports, 1, why, sizeof(why)), -1);

	/* a new browser for the next job: the list starts again */
	browser_set_devtools_url("http://127.0.0.1:9444");
	ASSERT(browser_devtools_endpoint(1, &port) == NULL);
	ASSERT_INT_EQ(browser_devtools_port(), 9444);
}

int main(void)
{
	TEST_RUN(test_urls);
	TEST_RUN(test_allowlist);
	TEST_RUN(test_createtarget_gets_the_jobs_context);
	TEST_RUN(test_events_and_getTargets_filter);
	TEST_RUN(test_pool_endpoints_are_guarded);
	return TEST_REPORT();
}
