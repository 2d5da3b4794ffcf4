/*
 * browser: launching, attaching to and cleaning up after Chromium, and
 * opening the one browser context + page that a job works in.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "browser.h"
#include "confine.h"
#include "curl_lazy.h"
#include "curlbuf.h"
#include "plainhttp.h"
#include "envscrub.h"
#include "log.h"

static const char *chromium_flags[] = {
	"--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--no-default-browser-check", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
	"--disable-extensions", "--disable-default-apps", "--mute-audio",
	"--hide-scrollbars", "--password-store=basic", "--use-mock-keychain",
	"--disable-dev-shm-usage", "--window-size=1280,800",
	"--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
	NULL
};

/* The DevTools endpoints a job's pages may not open (their /json pages
 * list and close every job's targets): the browser this process talks to
 * first, then the other browsers of a worker's pool. */
static struct { char host[256]; int port; } endpoints[BROWSER_MAX_ENDPOINTS];
static int nendpoints;

int browser_devtools_port(void)
{
	return nendpoints ? endpoints[0].port : 0;
}

void browser_set_devtools_url(const char *url)
{
	nendpoints = 0;
	browser_add_devtools_url(url);
}

/* scheme://[user@]host[:port]/…: the host (brackets kept) and the port,
 * the scheme's default when none is written */
void browser_add_devtools_url(const char *url)
{
	const char *a = url ? strstr(url, "://") : NULL, *end, *colon = NULL;
	int port;

	if (!a || nendpoints >= BROWSER_MAX_ENDPOINTS)
		return;
	a += 3;
	end = a + strcspn(a, "/?#");
	for (const char *p = a; p < end; p++) {
		if (*p == '@')
			a = p + 1, colon = NULL;
		else if (*p == ']')
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	port = colon ? atoi(colon + 1) :
	       (!strncasecmp(url, "https", 5) || !strncasecmp(url, "wss", 3)) ? 443 : 80;
	if (!colon)
		colon = end;
	if (colon == a || colon - a >= (ptrdiff_t)sizeof(endpoints[0].host) || port <= 0)
		return;
	for (int i = 0; i < nendpoints; i++)
		if (endpoints[i].port == port && !strncasecmp(endpoints[i].host, a, (size_t)(colon - a)) &&
		    !endpoints[i].host[colon - a])
			return;
	snprintf(endpoints[nendpoints].host, sizeof(endpoints[0].host), "%.*s", (int)(colon - a), a);
	endpoints[nendpoints++].port = port;
}

const char *browser_devtools_endpoint(int i, int *port)
{
	if (i < 0 || i >= nendpoints)
		return NULL;
	*port = endpoints[i].port;
	return endpoints[i].host;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Look exe up on PATH the way execvp would; NULL when it is nowhere. */
static char *find_exe(const char *exe)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(exe, '/'))
		return access(exe, X_OK) ? NULL : strdup(exe);
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, exe);
		if (n && !access(buf, X_OK))
			return strdup(buf);
		path = colon ? colon + 1 : NULL;
	}
	return NULL;
}

int browser_parse_active_port(const char *text, char *url, size_t urllen)
{
	const char *nl = strchr(text, '\n'), *path, *end;
	size_t plen;
	long port = 0;
	int n;

	/* Chromium writes the file in place: wait until both lines exist. */
	if (!nl || nl == text || nl - text > 5)
		return 0;
	for (const char *p = text; p < nl; p++) {
		if (*p < '0' || *p > '9')
			return 0;	/* a port, nothing else, goes into the URL */
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return 0;
	path = nl + 1;
	end = strchr(path, '\n');
	plen = end ? (size_t)(end - path) : strlen(path);
	if (plen <= 18 || strncmp(path, "/devtools/browser/", 18))
		return 0;
	for (size_t i = 18; i < plen; i++)
		if ((unsigned char)path[i] <= ' ' || path[i] == '/' || path[i] == '?' ||
		    path[i] == '#' || path[i] == 0x7f)
			return 0;
	n = snprintf(url, urllen, "ws://127.0.0.1:%ld%.*s", port, (int)plen, path);
	return n > 0 && (size_t)n < urllen;	/* a cut URL is no URL */
}

static int read_active_port(const char *dir, char *url, size_t urllen)
{
	char file[4200], buf[512];
	FILE *f;
	size_t n;

	snprintf(file, sizeof(file), "%s/DevToolsActivePort", dir);
	f = fopen(file, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return browser_parse_active_port(buf, url, urllen);
}

int browser_launch(struct browser *b, const char *exe, int timeout_ms,
		   char *err, size_t errlen)
{
	char tmpl[] = "/tmp/idlcm-chromium-XXXXXX";
	char url[600], logpath[4200], udd[4200];
	const char *argv[40];
	char *path = NULL;
	int argc = 0, status;
	int64_t until;

	memset(b, 0, sizeof(*b));
	if (!exe)
		exe = getenv("IDLCM_CHROMIUM");
	if (!exe || !*exe)
		exe = "chromium";
	path = find_exe(exe);
	if (!path) {
		snprintf(err, errlen, "cannot find \"%s\" on PATH (install Debian's "
			 "chromium package, set IDLCM_CHROMIUM, or pass --browser URL)",
			 exe);
		return -1;
	}
	if (!mkdtemp(tmpl)) {	/* mkdtemp makes it 0700 */
		snprintf(err, errlen, "cannot create a profile dir: %s", strerror(errno));
		free(path);
		return -1;
	}
	b->profile_dir = strdup(tmpl);
	snprintf(udd, sizeof(udd), "--user-data-dir=%s", tmpl);
	snprintf(logpath, sizeof(logpath), "%s/chromium.log", tmpl);

	argv[argc++] = path;
	for (int i = 0; chromium_flags[i]; i++)
		argv[argc++] = chromium_flags[i];
	if (geteuid() == 0)	/* Chromium refuses to run as root otherwise */
		argv[argc++] = "--no-sandbox";
	argv[argc++] = udd;
	argv[argc++] = "about:blank";
	argv[argc] = NULL;

	/* Chromium's descendants that lose their parent become ours, not
	 * PID 1's (which may never reap them), so release can reap them all. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	b->pid = fork();
	if (b->pid < 0) {
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		b->pid = 0;
		free(path);
		browser_release(b);
		return -1;
	}
	if (b->pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_RDONLY);
		setpgid(0, 0);	/* one group, so one kill reaches every process */
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* die with the agent */
		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		{
			/* Chromium and its renderers never see the vault key,
			 * tokens or passwords (a page that reached
			 * /proc/self/environ would read them). */
			char **env = env_without_secrets();
			if (env)
				execve(path, (char *const *)argv, env);
		}
		_exit(127);
	}
	setpgid(b->pid, b->pid);	/* no race with the child's own call */
	free(path);

	until = cdp_wall_ms() + timeout_ms;
	while (!read_active_port(b->profile_dir, url, sizeof(url))) {
		pid_t w = waitpid(b->pid, &status, WNOHANG);
		if (w == b->pid) {
			snprintf(err, errlen, "chromium exited (%s %d) before opening its "
				 "DevTools port; see %s",
				 WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 logpath);
			b->pid = 0;
			/* keep the profile so the log can be read */
			free(b->profile_dir);
			b->profile_dir = NULL;
			return -1;
		}
		if (cdp_wall_ms() > until) {
			snprintf(err, errlen, "chromium did not open its DevTools port "
				 "within %d ms", timeout_ms);
			browser_release(b);
			return -1;
		}
		sleep_ms(10);
	}
	b->ws_url = strdup(url);
	browser_set_devtools_url(url);
	log_info("launched chromium pid %d at %s", (int)b->pid, url);
	return 0;
}

char *browser_parse_version(const char *body, size_t len, char **ws)
{
	cJSON *doc = cJSON_ParseWithLength(body, len);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(doc, "webSocketDebuggerUrl");
	const char *s = cJSON_GetStringValue(u);

	*ws = NULL;
	/* only a WebSocket URL, whole (no NUL inside), is one to connect to */
	if (s && (!strncmp(s, "ws://", 5) || !strncmp(s, "wss://", 6)) &&
	    strlen(s) < 1024) {
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				goto out;
		*ws = strdup(s);
	}
out:
	cJSON_Delete(doc);
	return *ws;
}

/* http://host:port → the browser's ws:// URL from /json/version. */
static int resolve_http(const char *spec, int timeout_ms, char **ws,
			char *err, size_t errlen)
{
	long code = 0;

	return browser_version(spec, timeout_ms, ws, &code, err, errlen);
}

int browser_version(const char *spec, int timeout_ms, char **ws, long *http_code,
		    char *err, size_t errlen)
{
	struct curl_buf hb = { .limit = 1u << 20 };
	char url[1200], cerr[CURL_ERROR_SIZE] = "";
	CURL *curl;
	CURLcode rc;
	long code = 0;
	size_t n = strlen(spec);

	*ws = NULL;
	*http_code = 0;
	while (n && spec[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/json/version", (int)n, spec);
	if (!strncmp(url, "http://", 7)) {
		/* the usual case, a DevTools port: no libcurl in the job */
		int status;
		if (plainhttp_get(url, timeout_ms, hb.limit, &hb.data, &hb.len, &status,
				  cerr, sizeof(cerr))) {
			snprintf(err, errlen, "cannot reach browser at %s: %s", url, cerr);
			return -1;
		}
		code = status;
		goto answered;
	}
	if (curl_lazy_load(err, errlen))
		return -1;
	curl = curl_easy_init();
	if (!curl) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_buf_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &hb);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(curl);
	*http_code = rc == CURLE_OK ? code : 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach browser at %s: %s", url,
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		free(hb.data);
		return -1;
	}
answered:
	*http_code = code;	/* a ws:// pool member only needs its host to answer */
	if (code != 200) {
		snprintf(err, errlen, "browser at %s answered HTTP %ld", url, code);
		free(hb.data);
		return -1;
	}
	browser_parse_version(hb.data ? hb.data : "", hb.len, ws);
	free(hb.data);
	if (!*ws) {
		snprintf(err, errlen, "%s has no webSocketDebuggerUrl: is it a "
			 "Chromium DevTools endpoint?", url);
		return -1;
	}
	return 0;
}

int browser_attach(struct browser *b, const char *spec, int timeout_ms,
		   char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (!strncmp(spec, "ws://", 5) || !strncmp(spec, "wss://", 6)) {
		b->ws_url = strdup(spec);
		browser_set_devtools_url(spec);
		return 0;
	}
	if (!strncmp(spec, "http://", 7) || !strncmp(spec, "https://", 8)) {
		int rc = resolve_http(spec, timeout_ms, &b->ws_url, err, errlen);
		if (!rc)
			browser_set_devtools_url(b->ws_url);
		return rc;
	}
	snprintf(err, errlen, "--browser wants ws://… or http://host:port, not \"%s\"",
		 spec);
	return -1;
}

int browser_alive(struct browser *b)
{
	int status;
	if (!b->pid)
		return 1;
	if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
		b->pid = 0;
		return 0;
	}
	return 1;
}

/* Our children that belong to this Chromium but left its process group:
 * crashpad handlers double-fork into their own session, and reach us as
 * subreaper.  Kill and reap them. */
static void reap_strays(pid_t group)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t me = getpid();

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], buf[512], comm[64];
		int pid, ppid, pgrp;
		char state;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f) ||
		    sscanf(buf, "%d (%63[^)]) %c %d %d", &pid, comm, &state, &ppid, &pgrp) != 5) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (ppid != me || (pgrp != group && strncmp(comm, "chrome_crashpad", 15)))
			continue;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	closedir(d);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* From a signal handler (run's SIGTERM, SIGINT, hard deadline): only
 * async-signal-safe calls.  Chromium's group dies first, so nothing
 * writes into the profile while rm removes it. */
void browser_kill_in_signal(pid_t pid, const char *profile_dir)
{
	pid_t rm;

	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (!profile_dir || !profile_dir[0])
		return;
	rm = fork();
	if (rm == 0) {
		execl("/bin/rm", "rm", "-rf", "--", profile_dir, (char *)NULL);
		_exit(127);
	}
	if (rm > 0)
		waitpid(rm, NULL, 0);
}

void browser_release(struct browser *b)
{
	if (b->pid > 0) {
		int status;
		int64_t until = cdp_wall_ms() + 2000;
		pid_t w = 0;

		kill(-b->pid, SIGTERM);
		while (cdp_wall_ms() < until &&
		       (w = waitpid(b->pid, &status, WNOHANG)) == 0)
			sleep_ms(10);
		/* Whatever is left of the group (renderers, zygotes) goes too,
		 * and every member we inherited is reaped: no zombies. */
		kill(-b->pid, SIGKILL);
		if (w != b->pid)
			waitpid(b->pid, &status, 0);
		while (waitpid(-b->pid, &status, 0) > 0)
			;
		reap_strays(b->pid);
		b->pid = 0;
	}
	if (b->profile_dir) {
		nftw(b->profile_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(b->profile_dir);
		b->profile_dir = NULL;
	}
	free(b->ws_url);
	b->ws_url = NULL;
}

static int copy_string(cJSON *obj, const char *key, char *dst, size_t n,
		       struct cdp_error *err)
{
	cJSON *v = cJSON_GetObjectItem(obj, key);
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= n) {
		err->kind = CDP_ERR_PROTOCOL;
		snprintf(err->message, sizeof(err->message),
			 "browser reply lacks %s", key);
		return -1;
	}
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

int browser_open_page(struct cdp *c, struct page_handle *p, struct cdp_error *err)
{
	static const char *enable[] = { "Page.enable", "Runtime.enable", NULL };
	cJSON *params, *res = NULL, *setup;
	int rc;

	memset(p, 0, sizeof(*p));
	params = cJSON_CreateObject();
	cJSON_AddBoolToObject(params, "disposeOnDetach", 1);
	if (cdp_call(c, NULL, "Target.createBrowserContext", params, 10000, &res, err))
		return -1;
	rc = copy_string(res, "browserContextId", p->context_id,
			 sizeof(p->context_id), err);
	cJSON_Delete(res);
	if (rc)
		return -1;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "url", "about:blank");
	cJSON_AddStringToObject(params, "browserContextId", p->context_id);
	if (cdp_call(c, NULL, "Target.createTarget", params, 10000, &res, err))
		goto fail;
	rc = copy_string(res, "targetId", p->target_id, sizeof(p->target_id), err);
	cJSON_Delete(res);
	if (rc)
		goto fail;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "targetId", p->target_id);
	cJSON_AddBoolToObject(params, "flatten", 1);
	if (cdp_call(c, NULL, "Target.attachToTarget", params, 10000, &res, err))
		goto fail;
	rc = copy_string(res, "sessionId", p->session_id, sizeof(p->session_id), err);
	cJSON_Delete(res);
	if (rc)
		goto fail;

	for (int i = 0; enable[i]; i++) {
		if (cdp_call(c, p->session_id, enable[i], NULL, 10000, &res, err))
			goto fail;
		cJSON_Delete(res);
	}
	params = cJSON_CreateObject();
	cJSON_AddBoolToObject(params, "enabled", 1);
	if (cdp_call(c, p->session_id, "Page.setLifecycleEventsEnabled", params,
		     10000, &res, err))
		goto fail;
	cJSON_Delete(res);
	/* From here on the script reaches this context and nothing else. */
	if (confine_open(c, p->context_id, p->target_id, p->session_id, err))
		goto fail;
	/* Frames from other sites run in processes (targets) of their own:
	 * the page API reaches them through sessions attached here. */
	setup = cJSON_Parse("[{\"method\":\"Page.enable\"}]");	/* its dialogs */
	rc = cdp_auto_attach(c, p->session_id, setup, err);
	cJSON_Delete(setup);
	if (rc)
		goto fail;
	return 0;
fail:
	browser_close_page(c, p);
	return -1;
}

int browser_close_page(struct cdp *c, struct page_handle *p)
{
	struct cdp_error err;
	cJSON *params, *res = NULL;
	int rc;

	if (!p->context_id[0])
		return 0;
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "browserContextId", p->context_id);
	rc = cdp_call(c, NULL, "Target.disposeBrowserContext", params, 5000, &res, &err);
	cJSON_Delete(res);
	if (rc)
		log_debug("dispose context %s: %s", p->context_id, err.message);
	p->context_id[0] = '\0';
	return rc;
}
