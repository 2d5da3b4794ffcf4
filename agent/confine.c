/*
 * confine: a job's script reaches its own browser context and nothing
 * else.  Two layers: every raw CDP call a script makes is checked against
 * one allowlist (below), and a guard session of our own on the job's page
 * holds the line inside the browser for what pages do by themselves.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "browser.h"
#include "confine.h"
#include "log.h"

#define CHECK_TIMEOUT_MS 10000
#define GUIDE "see \"Raw CDP\" in scripts/apps/README.md"

/* ---- the allowlist: one row per domain a script may use, and why.
 * A domain that is not here (Browser, SystemInfo, Storage, Tracing,
 * Memory, ServiceWorker, Security, Extensions, …) is refused: it acts on
 * the whole browser or the machine, not inside the job's page. */
enum scope {
	ON_PAGE,	/* only on a session of the job's own pages */
	TARGETS,	/* Target.*: checked method by method */
};

static const struct domain_rule {
	const char *domain;
	enum scope scope;
	const char *why;
} domains[] = {
	{ "Page", ON_PAGE, "the job's page: navigation (web URLs only), frames, screenshots, dialogs" },
	{ "Runtime", ON_PAGE, "JavaScript in the job's page" },
	{ "DOM", ON_PAGE, "the job's documents (file uploads only from the run folder)" },
	{ "DOMSnapshot", ON_PAGE, "the job's documents" },
	{ "CSS", ON_PAGE, "the job's documents' styles" },
	{ "Accessibility", ON_PAGE, "the job's documents' accessibility tree" },
	{ "Overlay", ON_PAGE, "highlights drawn on the job's page" },
	{ "Input", ON_PAGE, "mouse, keys and touch on the job's page" },
	{ "Emulation", ON_PAGE, "viewport, device, locale and time zone of the job's page" },
	{ "Network", ON_PAGE, "the job's page's requests and its own context's cookies "
		"(loadNetworkResource: web URLs only)" },
	{ "Fetch", ON_PAGE, "intercepting the job's page's requests (continueRequest: web URLs only)" },
	{ "DOMStorage", ON_PAGE, "storage of the job's own context, deleted with it" },
	{ "IndexedDB", ON_PAGE, "storage of the job's own context, deleted with it" },
	{ "CacheStorage", ON_PAGE, "storage of the job's own context, deleted with it" },
	{ "IO", ON_PAGE, "reading streams that allowed calls returned" },
	{ "Log", ON_PAGE, "the job's page's console and log" },
	{ "Console", ON_PAGE, "the job's page's console" },
	{ "Inspector", ON_PAGE, "the job's page's inspector state" },
	{ "Performance", ON_PAGE, "metrics of the job's page" },
	{ "PerformanceTimeline", ON_PAGE, "metrics of the job's page" },
	{ "Profiler", ON_PAGE, "profiling the job's page's JavaScript" },
	{ "HeapProfiler", ON_PAGE, "profiling the job's page's JavaScript" },
	{ "Debugger", ON_PAGE, "debugging the job's page's JavaScript" },
	{ "DOMDebugger", ON_PAGE, "breakpoints in the job's page" },
	{ "EventBreakpoints", ON_PAGE, "breakpoints in the job's page" },
	{ "Animation", ON_PAGE, "animations of the job's page" },
	{ "LayerTree", ON_PAGE, "layers of the job's page" },
	{ "Audits", ON_PAGE, "issues the job's page reports" },
	{ "Media", ON_PAGE, "media players of the job's page" },
	{ "Preload", ON_PAGE, "preloading in the job's page" },
	{ "WebAuthn", ON_PAGE, "virtual authenticators for the job's page" },
	{ "Target", TARGETS, "the job's own pages only: attach, create (in the job's context, "
		"web URLs), list (filtered), close" },
};

/* Methods of allowed domains that are refused anyway, and why. */
static const struct { const char *method, *why; } refused[] = {
	{ "Page.setDownloadBehavior", "the agent sets where downloads go (the run folder); "
		"use the page API" },
	{ "Network.setRequestInterception", "deprecated; use Fetch on the page's session" },
	{ "Target.setDiscoverTargets", "it would announce every job's pages" },
	{ "Target.createBrowserContext", "a job works in the one context the agent made" },
	{ "Target.disposeBrowserContext", "a job works in the one context the agent made" },
	{ "Target.getBrowserContexts", "it lists every job's context" },
	{ "Target.sendMessageToTarget", "use flat sessions (cdp.send with a session)" },
	{ "Target.exposeDevToolsProtocol", "it hands the DevTools protocol to a page" },
	{ "Target.autoAttachRelated", "it attaches at the browser level" },
	{ "Target.setRemoteLocations", "it changes the browser's discovery" },
	{ "Target.openDevTools", "it opens DevTools windows" },
};

static void say(char *why, size_t n, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static void say(char *why, size_t n, const char *method, const char *fmt, ...)
{
	char reason[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(why, n, "cdp.send \"%s\" is not allowed: %s", method, reason);
}

/* ---- URLs */

static int port_of(const char *url)
{
	const char *a = strstr(url, "//"), *end, *colon = NULL;

	if (!a)
		return 0;
	a += 2;
	end = a + strcspn(a, "/?#");
	for (const char *p = a; p < end; p++) {
		if (*p == '@')
			colon = NULL, a = p + 1;
		else if (*p == ']')
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	return colon ? atoi(colon + 1) : 0;
}

/* about:blank, about:blank#x, about:blank?x */
static int is_about(const char *url, const char *what)
{
	size_t n = strlen(what);
	return !strncasecmp(url, what, n) && (!url[n] || url[n] == '#' || url[n] == '?');
}

static int is_devtools_port(const int *ports, int port)
{
	for (int i = 0; ports && ports[i]; i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

int confine_url_ok(const char *url, const int *devtools_ports, int from_script,
		   char *why, size_t n)
{
	size_t s = strcspn(url, ":/?#");
	char scheme[24];

	if (url[s] != ':' || s == 0 || s >= sizeof(scheme)) {
		snprintf(why, n, "\"%.200s\" is not an absolute URL", url);
		return -1;
	}
	for (size_t i = 0; i < s; i++)
		scheme[i] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] + 32 : url[i]);
	scheme[s] = '\0';
	if (!strcmp(scheme, "http") || !strcmp(scheme, "https")) {
		if (is_devtools_port(devtools_ports, port_of(url))) {
			snprintf(why, n, "%.200s is the browser's DevTools endpoint", url);
			return -1;
		}
		return 0;
	}
	if (!strcmp(scheme, "data") || is_about(url, "about:blank"))
		return 0;
	/* What pages make for themselves, never what a script asks for:
	 * srcdoc frames, blobs of a web origin, Chromium's network error page. */
	if (!from_script && (is_about(url, "about:srcdoc") ||
			     !strncasecmp(url, "blob:http://", 12) ||
			     !strncasecmp(url, "blob:https://", 13) ||
			     !strcmp(url, "chrome-error://chromewebdata/")))
		return 0;
	snprintf(why, n, "%.200s is not a web URL (a job's pages open only http:, https:, "
		 "about:blank and data: URLs)", url);
	return -1;
}

/* ---- ids the script may use */

/* Chromium puts its own WebUI (the omnibox popup: type browser_ui) into
 * every context; a job's targets are the web's. */
static int web_target_type(const char *type)
{
	static const char *ok[] = { "page", "iframe", "worker", "shared_worker",
				    "service_worker", NULL };
	for (int i = 0; type && ok[i]; i++)
		if (!strcmp(type, ok[i]))
			return 1;
	return 0;
}

static int has_session(const struct confine *k, const char *id)
{
	for (int i = 0; i < k->nsessions; i++)
		if (!strcmp(k->sessions[i], id))
			return 1;
	return 0;
}

static void add_session(struct confine *k, const char *id)
{
	if (!id || !*id || has_session(k, id) || !strcmp(id, k->guard_session))
		return;
	if (k->nsessions == CONFINE_MAX_IDS) {
		log_warn("confine: more than %d sessions; the oldest is forgotten",
			 CONFINE_MAX_IDS);
		memmove(k->sessions[0], k->sessions[1], sizeof(k->sessions[0]) * (CONFINE_MAX_IDS - 1));
		k->nsessions--;
	}
	snprintf(k->sessions[k->nsessions++], sizeof(k->sessions[0]), "%s", id);
}

static void drop_session(struct confine *k, const char *id)
{
	for (int i = 0; i < k->nsessions; i++)
		if (!strcmp(k->sessions[i], id)) {
			memmove(k->sessions[i], k->sessions[i + 1],
				sizeof(k->sessions[0]) * (size_t)(k->nsessions - i - 1));
			k->nsessions--;
			return;
		}
}

/* Ask the browser (not the script) which context targetId is in. */
static int own_target(struct cdp *c, const char *target, char *why, size_t n,
		      const char *method)
{
	struct confine *k = c->confine;
	struct cdp_error err;
	cJSON *p, *res = NULL;
	const char *ctx, *type;
	cJSON *info;
	int ok;

	if (!strcmp(target, k->page_target))
		return 0;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "targetId", target);
	if (cdp_call(c, NULL, "Target.getTargetInfo", p, CHECK_TIMEOUT_MS, &res, &err)) {
		say(why, n, method, "no target \"%.100s\" in the job's browser context", target);
		return -1;
	}
	info = cJSON_GetObjectItem(res, "targetInfo");
	ctx = cJSON_GetStringValue(cJSON_GetObjectItem(info, "browserContextId"));
	type = cJSON_GetStringValue(cJSON_GetObjectItem(info, "type"));
	ok = ctx && !strcmp(ctx, k->context_id);
	if (ok && !web_target_type(type)) {
		say(why, n, method, "target \"%.100s\" is the browser's own %s, not a page",
		    target, type ? type : "target");
		cJSON_Delete(res);
		return -1;
	}
	cJSON_Delete(res);
	if (!ok) {
		say(why, n, method, "target \"%.100s\" belongs to another job's browser context",
		    target);
		return -1;
	}
	return 0;
}

static const char *str_param(cJSON *params, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(params, key));
}

static int check_url_param(struct confine *k, const char *method, cJSON *params,
			   const char *key, int required, char *why, size_t n)
{
	const char *url = str_param(params, key);
	char reason[500];

	if (!url) {
		if (required) {
			say(why, n, method, "it needs params.%s", key);
			return -1;
		}
		return 0;
	}
	if (confine_url_ok(url, k->devtools_ports, 1, reason, sizeof(reason))) {
		say(why, n, method, "%s", reason);
		return -1;
	}
	return 0;
}

int confine_file_in(const char *path, const char *base, const char *const dirs[],
		    char *out, size_t outlen, char *why, size_t n)
{
	char joined[PATH_MAX * 2], real[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (!path || !*path) {
		snprintf(why, n, "an empty file name");
		return -1;
	}
	if (path[0] != '/' && base && *base)
		snprintf(joined, sizeof(joined), "%s/%s", base, path);
	else
		snprintf(joined, sizeof(joined), "%s", path);
	if (!realpath(joined, real)) {
		snprintf(why, n, "%.300s: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; dirs[i]; i++) {
		size_t dl;
		if (!dirs[i][0] || !realpath(dirs[i], dir))
			continue;
		dl = strlen(dir);
		if (strncmp(real, dir, dl) || real[dl] != '/')
			continue;
		if (stat(real, &st) || !S_ISREG(st.st_mode)) {
			snprintf(why, n, "%.300s is not a regular file", path);
			return -1;
		}
		snprintf(out, outlen, "%s", real);
		return 0;
	}
	snprintf(why, n, "%.300s is outside the folders a job may upload from", path);
	return -1;
}

/* DOM.setFileInputFiles and the files of Input.dispatchDragEvent (a drop
 * hands the page the files' content): a script may give the page what is
 * in the job's files folder (--files-dir) or what it made in its run
 * folder, never the worker's own files. */
static int check_files(struct confine *k, const char *method, cJSON *files,
		       char *why, size_t n)
{
	const char *dirs[] = { k->files_dir, k->run_dir, NULL };
	char real[PATH_MAX], reason[500];
	cJSON *f;

	if (!files || (cJSON_IsArray(files) && !cJSON_GetArraySize(files)))
		return 0;	/* no files */
	if (!k->run_dir[0] && !k->files_dir[0]) {
		say(why, n, method, "this job has no run folder (and no --files-dir) to upload from");
		return -1;
	}
	if (!cJSON_IsArray(files)) {
		say(why, n, method, "params files must be an array of paths in the job's "
		    "files folder or run folder");
		return -1;
	}
	cJSON_ArrayForEach(f, files) {
		if (!cJSON_IsString(f) || confine_file_in(f->valuestring, NULL, dirs, real,
							  sizeof(real), reason, sizeof(reason))) {
			say(why, n, method, "%.200s is not a file in the job's run folder or "
			    "files folder (--files-dir)", cJSON_IsString(f) ? f->valuestring :
			    "(not a string)");
			return -1;
		}
	}
	return 0;
}

static int check_target_call(struct cdp *c, const char *method, cJSON *params,
			     const char *session, char *why, size_t n)
{
	struct confine *k = c->confine;
	const char *name = method + strlen("Target.");
	const char *tid = str_param(params, "targetId");
	int on_page = session && *session;

	if (!strcmp(name, "getTargets"))
		return 0;	/* filtered on the way back */
	if (!strcmp(name, "getTargetInfo")) {
		if (!tid && on_page)
			return 0;
		if (!tid) {
			say(why, n, method, "it needs params.targetId on the browser session");
			return -1;
		}
		return own_target(c, tid, why, n, method);
	}
	if (!strcmp(name, "attachToTarget") || !strcmp(name, "closeTarget") ||
	    !strcmp(name, "activateTarget")) {
		if (!tid) {
			say(why, n, method, "it needs params.targetId");
			return -1;
		}
		if (own_target(c, tid, why, n, method))
			return -1;
		/* Only flat sessions can be checked: the others would carry
		 * their commands inside Target.sendMessageToTarget. */
		if (!strcmp(name, "attachToTarget")) {
			cJSON_DeleteItemFromObject(params, "flatten");
			cJSON_AddBoolToObject(params, "flatten", 1);
		}
		return 0;
	}
	if (!strcmp(name, "detachFromTarget")) {
		const char *sid = str_param(params, "sessionId");
		if (!sid || !has_session(k, sid)) {
			say(why, n, method, "session \"%.100s\" is not one of the job's",
			    sid ? sid : "(none)");
			return -1;
		}
		return 0;
	}
	if (!strcmp(name, "createTarget")) {
		const char *ctx = str_param(params, "browserContextId");
		if (check_url_param(k, method, params, "url", 1, why, n))
			return -1;
		if (ctx && strcmp(ctx, k->context_id)) {
			say(why, n, method, "browser context \"%.100s\" is not the job's", ctx);
			return -1;
		}
		if (!ctx)	/* a script's new pages open in its own context */
			cJSON_AddStringToObject(params, "browserContextId", k->context_id);
		return 0;
	}
	if (!strcmp(name, "setAutoAttach")) {
		if (!on_page) {
			say(why, n, method, "on the browser session it would attach every "
			    "job's pages; call it on the page's session (page:send)");
			return -1;
		}
		return 0;
	}
	say(why, n, method, "the Target domain allows only the job's own targets "
	    "(getTargets, getTargetInfo, attachToTarget, detachFromTarget, createTarget, "
	    "closeTarget, activateTarget, setAutoAttach); %s", GUIDE);
	return -1;
}

int confine_check(struct cdp *c, const char *method, cJSON *params,
		  const char *session, char *why, size_t n)
{
	struct confine *k = c->confine;
	const char *dot = strchr(method, '.');
	const struct domain_rule *rule = NULL;
	size_t dl = dot ? (size_t)(dot - method) : 0;

	if (!k) {
		say(why, n, method, "the job's page is not open yet");
		return -1;
	}
	if (k->breach[0]) {
		snprintf(why, n, "cdp.send \"%s\" refused: the job is stopped: %s", method,
			 k->breach);
		return -1;
	}
	for (size_t i = 0; dot && i < sizeof(domains) / sizeof(domains[0]); i++)
		if (strlen(domains[i].domain) == dl && !strncmp(domains[i].domain, method, dl))
			rule = &domains[i];
	if (!rule) {
		say(why, n, method, "the %.*s domain acts beyond the job's page (only "
		    "page-level domains are allowed; %s)", (int)(dot ? dl : strlen(method)),
		    method, GUIDE);
		return -1;
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!strcmp(refused[i].method, method)) {
			say(why, n, method, "%s", refused[i].why);
			return -1;
		}
	if (session && *session && !has_session(k, session)) {
		say(why, n, method, "session \"%.100s\" is not one of the job's pages", session);
		return -1;
	}
	if (rule->scope == TARGETS)
		return check_target_call(c, method, params, session, why, n);
	if (!session || !*session) {
		say(why, n, method, "it acts on a page: send it on the page's session "
		    "(page:send), not the browser's");
		return -1;
	}
	if (!strcmp(method, "Page.navigate") || !strcmp(method, "Network.loadNetworkResource"))
		return check_url_param(k, method, params, "url", 1, why, n);
	if (!strcmp(method, "Fetch.continueRequest"))
		return check_url_param(k, method, params, "url", 0, why, n);
	if (!strcmp(method, "DOM.setFileInputFiles"))
		return check_files(k, method, cJSON_GetObjectItem(params, "files"), why, n);
	if (!strcmp(method, "Input.dispatchDragEvent"))
		return check_files(k, method, cJSON_GetObjectItem(cJSON_GetObjectItem(params, "data"),
								  "files"), why, n);
	return 0;
}

void confine_after(struct cdp *c, const char *method, cJSON *result)
{
	struct confine *k = c->confine;
	cJSON *list, *t;

	if (!k || !result)
		return;
	if (!strcmp(method, "Target.attachToTarget")) {
		add_session(k, str_param(result, "sessionId"));
	} else if (!strcmp(method, "Target.detachFromTarget")) {
		/* nothing: the session id was in the params; a dead session
		 * fails by itself */
	} else if (!strcmp(method, "Target.getTargets")) {
		list = cJSON_GetObjectItem(result, "targetInfos");
		for (t = list ? list->child : NULL; t;) {
			cJSON *next = t->next;
			const char *ctx = str_param(t, "browserContextId");
			if (!ctx || strcmp(ctx, k->context_id) ||
			    !web_target_type(str_param(t, "type")))
				cJSON_Delete(cJSON_DetachItemViaPointer(list, t));
			t = next;
		}
	}
}

int confine_check_events(struct cdp *c, const char *session, const char *method,
			 char *why, size_t n)
{
	struct confine *k = c->confine;

	if (!k) {
		snprintf(why, n, "cdp events are not available before the job's page is open");
		return -1;
	}
	if (session && *session) {
		if (has_session(k, session))
			return 0;
		snprintf(why, n, "session \"%.100s\" is not one of the job's pages", session);
		return -1;
	}
	/* The browser session hears about every job's targets; of it, a
	 * script gets only its own downloads. */
	if (method && !strncmp(method, "Browser.download", 16))
		return 0;
	snprintf(why, n, "events of the browser session are not available to scripts "
		 "(wait on the page's session: page:wait_event)");
	return -1;
}

/* ---- the guard: in the browser, for what pages do by themselves */

static void breach(struct cdp *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void breach(struct cdp *c, const char *fmt, ...)
{
	struct confine *k = c->confine;
	va_list ap;

	if (k->breach[0])
		return;
	va_start(ap, fmt);
	vsnprintf(k->breach, sizeof(k->breach), fmt, ap);
	va_end(ap);
	log_error("confine: %s", k->breach);
}

/* -1: never seen; 0: another context's; 1: the job's own */
static int known_owner(const struct confine *k, const char *id)
{
	if (!id || !*id)
		return -1;
	if (!strcmp(id, k->page_target))
		return 1;
	for (int i = 0; i < k->nknown; i++)
		if (!strcmp(k->known[i].id, id))
			return k->known[i].own;
	return -1;
}

static void know(struct confine *k, const char *id, int own)
{
	struct confine_known *e = NULL;

	if (!id || !*id || strlen(id) >= sizeof(k->known[0].id))
		return;
	for (int i = 0; i < k->nknown && !e; i++)
		if (!strcmp(k->known[i].id, id))
			e = &k->known[i];
	if (!e) {
		/* a ring: the oldest ids are of targets long gone */
		e = &k->known[k->known_next];
		k->known_next = (k->known_next + 1) % CONFINE_MAX_KNOWN;
		if (k->nknown < CONFINE_MAX_KNOWN)
			k->nknown++;
		snprintf(e->id, sizeof(e->id), "%s", id);
	}
	e->own = own;
}

/* A page of the job's context shows a URL it may not: take it away. */
static void target_seen(struct cdp *c, cJSON *info)
{
	struct confine *k = c->confine;
	const char *ctx = str_param(info, "browserContextId");
	const char *url = str_param(info, "url");
	const char *tid = str_param(info, "targetId");
	char reason[500];
	cJSON *p;

	/* Whose it is, for the browser-wide guard: a page's main frame and an
	 * out-of-process frame have the target's id. */
	know(k, tid, ctx && !strcmp(ctx, k->context_id));
	if (!ctx || strcmp(ctx, k->context_id) || !url || !tid || !*url ||
	    !web_target_type(str_param(info, "type")))
		return;
	if (!confine_url_ok(url, k->devtools_ports, 0, reason, sizeof(reason)))
		return;
	breach(c, "a page of the job opened %s", reason);
	p = cJSON_CreateObject();
	if (!strcmp(tid, k->page_target) && k->guard_session[0]) {
		cJSON_AddStringToObject(p, "url", "about:blank");
		cdp_send_async(c, k->guard_session, "Page.navigate", p, NULL);
	} else {
		cJSON_AddStringToObject(p, "targetId", tid);
		cdp_send_async(c, NULL, "Target.closeTarget", p, NULL);
	}
}

/* The browser-wide guard paused a request no page may make.  Its frame
 * says whose page asked: the job's own → refused and the job stopped;
 * another job's → passed on to that job's own guard (each job's guard is
 * in the chain, and attributes its own breach); a frame nobody has
 * announced (a same-process frame of a page no session watches) →
 * refused, nobody stopped. */
static void guard_paused(struct cdp *c, cJSON *params)
{
	struct confine *k = c->confine;
	const char *url = str_param(cJSON_GetObjectItem(params, "request"), "url");
	const char *rid = str_param(params, "requestId");
	int owner = known_owner(k, str_param(params, "frameId"));
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "requestId", rid ? rid : "");
	if (owner == 0) {
		cdp_send_async(c, NULL, "Fetch.continueRequest", p, NULL);
		return;
	}
	cJSON_AddStringToObject(p, "errorReason", "BlockedByClient");
	cdp_send_async(c, NULL, "Fetch.failRequest", p, NULL);
	if (owner == 1)
		breach(c, "a page of the job tried to load %.300s, which a job may not reach",
		       url ? url : "(unknown)");
	else
		log_info("confine: refused %.300s to a page of no known job", url ? url : "(unknown)");
}

/* The guard's own sessions: the one on the page and those on its frames
 * from other sites (auto-attached to the guard, see confine_open). */
static int guard_session(const struct confine *k, const char *session)
{
	if (k->guard_session[0] && !strcmp(session, k->guard_session))
		return 1;
	for (int i = 0; i < k->nguard_frames; i++)
		if (!strcmp(k->guard_frames[i], session))
			return 1;
	return 0;
}

static void guard_frames_note(struct confine *k, const char *method, cJSON *params)
{
	const char *sid = str_param(params, "sessionId");

	if (!sid || !*sid)
		return;
	if (!strcmp(method, "Target.attachedToTarget") && !guard_session(k, sid)) {
		if (k->nguard_frames == CONFINE_MAX_IDS) {
			log_warn("confine: more than %d frames from other sites; the guard "
				 "forgets the oldest", CONFINE_MAX_IDS);
			memmove(k->guard_frames[0], k->guard_frames[1],
				sizeof(k->guard_frames[0]) * (CONFINE_MAX_IDS - 1));
			k->nguard_frames--;
		}
		snprintf(k->guard_frames[k->nguard_frames++], sizeof(k->guard_frames[0]), "%s", sid);
	} else if (!strcmp(method, "Target.detachedFromTarget")) {
		for (int i = 0; i < k->nguard_frames; i++)
			if (!strcmp(k->guard_frames[i], sid)) {
				memmove(k->guard_frames[i], k->guard_frames[i + 1],
					sizeof(k->guard_frames[0]) * (size_t)(k->nguard_frames - i - 1));
				k->nguard_frames--;
				break;
			}
	}
}

int confine_event(struct cdp *c, const char *session, const char *method, cJSON *params)
{
	struct confine *k = c->confine;

	if (!k)
		return 0;
	if (!*session && !strcmp(method, "Fetch.requestPaused")) {
		guard_paused(c, params);
		return 1;
	}
	/* Frames of the job's pages, as sessions the job holds announce them. */
	if (*session && has_session(k, session) && !strcmp(method, "Page.frameAttached"))
		know(k, str_param(params, "frameId"), 1);
	if (guard_session(k, session)) {
		guard_frames_note(k, method, params);
		if (!strcmp(method, "Fetch.requestPaused")) {
			const char *url = str_param(cJSON_GetObjectItem(params, "request"), "url");
			cJSON *p = cJSON_CreateObject();
			/* The patterns catch only what no job may load. */
			cJSON_AddStringToObject(p, "requestId", str_param(params, "requestId") ?
						str_param(params, "requestId") : "");
			cJSON_AddStringToObject(p, "errorReason", "BlockedByClient");
			cdp_send_async(c, session, "Fetch.failRequest", p, NULL);
			breach(c, "a page of the job tried to load %.300s, which a job may not reach",
			       url ? url : "(unknown)");
		}
		return 1;	/* the guard's events are nobody else's business */
	}
	if (!*session && (!strcmp(method, "Target.targetCreated") ||
			  !strcmp(method, "Target.targetInfoChanged"))) {
		target_seen(c, cJSON_GetObjectItem(params, "targetInfo"));
		return 1;
	}
	if (!*session && !strcmp(method, "Target.targetDestroyed"))
		return 1;
	/* A page's auto-attached frames and workers (setAutoAttach on a page
	 * session) are the job's too. */
	if (*session && has_session(k, session) && !strcmp(method, "Target.attachedToTarget")) {
		const char *ctx = str_param(cJSON_GetObjectItem(params, "targetInfo"),
					    "browserContextId");
		if (!ctx || !strcmp(ctx, k->context_id))
			add_session(k, str_param(params, "sessionId"));
	}
	if (!strcmp(method, "Target.detachedFromTarget"))
		drop_session(k, str_param(params, "sessionId") ? str_param(params, "sessionId") : "");
	return 0;
}

static int call(struct cdp *c, const char *session, const char *method, cJSON *params,
		struct cdp_error *err)
{
	cJSON *res = NULL;
	int rc = cdp_call(c, session, method, params, CHECK_TIMEOUT_MS, &res, err);
	cJSON_Delete(res);
	return rc;
}

int confine_downloads(struct cdp *c, const char *dir, struct cdp_error *err)
{
	struct confine *k = c->confine;
	cJSON *p = cJSON_CreateObject();

	/* allowAndName: saved as <dir>/<guid>, never under a name the page
	 * picked (the page API renames it to a cleaned-up suggested name) */
	cJSON_AddStringToObject(p, "behavior", dir ? "allowAndName" : "deny");
	cJSON_AddStringToObject(p, "browserContextId", k->context_id);
	if (dir)
		cJSON_AddStringToObject(p, "downloadPath", dir);
	cJSON_AddBoolToObject(p, "eventsEnabled", 1);
	return call(c, NULL, "Browser.setDownloadBehavior", p, err);
}

static const char *const guard_patterns[] = {
	"file:*",
	"http://127.*/json*", "http://localhost*/json*", "http://[::1]*/json*",
	"http://0.0.0.0*/json*",
	/* other names of the loopback address the DevTools server accepts
	 * (its Host check lets IP literals and *.localhost through): the
	 * IPv4-mapped IPv6 form and any name under localhost */
	"http://[::ffff:*/json*", "http://*.localhost*/json*",
	NULL
};

static int loopback_host(const char *h)
{
	size_t n = strlen(h);
	return !strncmp(h, "127.", 4) || !strcasecmp(h, "localhost") || !strcmp(h, "[::1]") ||
	       !strcmp(h, "0.0.0.0") || !strncasecmp(h, "[::ffff:", 8) ||
	       (n > 10 && !strcasecmp(h + n - 10, ".localhost"));
}

cJSON *confine_guard_patterns(void)
{
	cJSON *patterns = cJSON_CreateArray(), *pat;
	const char *host;
	char u[400];
	int port;

	for (int i = 0; guard_patterns[i]; i++) {
		pat = cJSON_CreateObject();
		cJSON_AddStringToObject(pat, "urlPattern", guard_patterns[i]);
		cJSON_AddItemToArray(patterns, pat);
	}
	/* A pool's browsers on other hosts: their DevTools pages by host and
	 * port.  Loopback ones are caught above on any port, which keeps the
	 * conversation the same whatever port a test's browser had. */
	for (int i = 0; (host = browser_devtools_endpoint(i, &port)); i++) {
		if (loopback_host(host))
			continue;
		for (int s = 0; s < 2; s++) {
			/* URLs drop their scheme's default port */
			if (port == (s ? 443 : 80))
				snprintf(u, sizeof(u), "%s://%s/json*", s ? "https" : "http", host);
			else
				snprintf(u, sizeof(u), "%s://%s:%d/json*", s ? "https" : "http", host, port);
			pat = cJSON_CreateObject();
			cJSON_AddStringToObject(pat, "urlPattern", u);
			cJSON_AddItemToArray(patterns, pat);
		}
	}
	return patterns;
}

int confine_open(struct cdp *c, const char *context_id, const char *target_id,
		 const char *session_id, struct cdp_error *err)
{
	struct confine *k;
	cJSON *p, *res = NULL, *patterns, *pat, *setup, *step;
	const char *sid;
	int rc;

	free(c->confine);
	k = c->confine = calloc(1, sizeof(*k));
	if (!k) {
		err->kind = CDP_ERR_USAGE;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -1;
	}
	snprintf(k->context_id, sizeof(k->context_id), "%s", context_id);
	snprintf(k->page_target, sizeof(k->page_target), "%s", target_id);
	{
		/* Refused by port whatever the host is called (a loopback
		 * browser answers to many names) — except a remote endpoint on
		 * the web's own ports (a browser farm at wss://farm/), which the
		 * Fetch patterns guard by host instead. */
		const char *host;
		int port, n = 0;
		for (int i = 0; (host = browser_devtools_endpoint(i, &port)); i++)
			if (loopback_host(host) || (port != 80 && port != 443))
				k->devtools_ports[n++] = port;
	}
	add_session(k, session_id);
	c->on_event = confine_event;

	/* Downloads: denied until the page API asks for the run folder. */
	if (confine_downloads(c, NULL, err))
		return -1;

	/* A second session on the job's page that the script never learns:
	 * what it turns on, the script cannot turn off. */
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "targetId", target_id);
	cJSON_AddBoolToObject(p, "flatten", 1);
	if (cdp_call(c, NULL, "Target.attachToTarget", p, CHECK_TIMEOUT_MS, &res, err))
		return -1;
	sid = str_param(res, "sessionId");
	snprintf(k->guard_session, sizeof(k->guard_session), "%s", sid ? sid : "");
	cJSON_Delete(res);

	/* In the browser: local files and the DevTools endpoint's /json pages
	 * (which list and close every job's targets) fail before they load,
	 * whoever asks (a script, a link, a redirect, page JS).  The patterns
	 * name no port, so recordings replay whatever port the browser had. */
	p = cJSON_CreateObject();
	cJSON_AddItemToObject(p, "patterns", confine_guard_patterns());
	setup = cJSON_CreateArray();
	step = cJSON_CreateObject();
	cJSON_AddStringToObject(step, "method", "Fetch.enable");
	cJSON_AddItemToObject(step, "params", cJSON_Duplicate(p, 1));
	cJSON_AddItemToArray(setup, step);
	if (call(c, k->guard_session, "Fetch.enable", p, err)) {
		cJSON_Delete(setup);
		return -1;
	}
	/* A frame from another site loads in a process (a target) of its own,
	 * which the page's interception does not see: the guard attaches to
	 * each such frame as it starts and holds it until the same patterns
	 * are in place there (and in its frames). */
	rc = cdp_auto_attach(c, k->guard_session, setup, err);
	cJSON_Delete(setup);
	if (rc)
		return -1;

	/* The same patterns browser-wide, so that every page of the job is
	 * guarded before it loads anything: a second page a script creates,
	 * a popup of window.open or a link, their frames and workers.  A page
	 * session's auto-attach never reaches popups, and a browser-wide
	 * auto-attach would pause every job's new pages on every other job. */
	p = cJSON_CreateObject();
	patterns = cJSON_AddArrayToObject(p, "patterns");
	for (int i = 0; guard_patterns[i]; i++) {
		pat = cJSON_CreateObject();
		cJSON_AddStringToObject(pat, "urlPattern", guard_patterns[i]);
		cJSON_AddItemToArray(patterns, pat);
	}
	if (call(c, NULL, "Fetch.enable", p, err))
		return -1;

	/* Every target of the job's context, as it appears and navigates:
	 * what Fetch never sees (chrome:, view-source:, devtools:) is caught
	 * here, and the page taken away. */
	p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "discover", 1);
	return call(c, NULL, "Target.setDiscoverTargets", p, err);
}
