#ifndef IDLCM_BROWSER_H
#define IDLCM_BROWSER_H
/*
 * browser: a Chromium to talk to — launched by us (fresh 0700 profile, its
 * own process group, killed and reaped on release) or an existing one named
 * by ws:// or http:// URL — and the per-job page: a browser context that
 * Chromium disposes when our connection drops.
 */
#include <sys/types.h>
#include "cdp.h"

struct browser {
	pid_t pid;		/* launched Chromium; 0 when attached */
	char *profile_dir;	/* ours to delete */
	char *ws_url;		/* browser-level DevTools endpoint */
};

/* Start Chromium (exe NULL: $IDLCM_CHROMIUM or "chromium" on PATH). */
int browser_launch(struct browser *, const char *exe, int timeout_ms,
		   char *err, size_t errlen);
/* Use a running browser: ws://… as is, http://host:port via /json/version. */
int browser_attach(struct browser *, const char *spec, int timeout_ms,
		   char *err, size_t errlen);
/* The port of the browser's DevTools endpoint (0 before launch/attach). */
int browser_devtools_port(void);
/* This process works with the browser at url (ws:// or http://): its port
 * becomes the one a job's pages may not open. */
void browser_set_devtools_url(const char *url);
/* Another browser's DevTools endpoint a job's pages may not open either
 * (the other members of a worker's pool: their /json pages list and close
 * other jobs' targets). */
#define BROWSER_MAX_ENDPOINTS 16
void browser_add_devtools_url(const char *url);
/* The i-th endpoint (0: this process's browser): its host, or NULL past
 * the last; *port its port. */
const char *browser_devtools_endpoint(int i, int *port);
/* GET base/json/version (base: http(s)://host:port): 0 with *ws its
 * webSocketDebuggerUrl (malloc'd), or -1 with err; *http_code is the
 * HTTP status (0 when nothing answered). */
int browser_version(const char *base, int timeout_ms, char **ws, long *http_code,
		    char *err, size_t errlen);
/* DevToolsActivePort's text ("9222\n/devtools/browser/<id>\n") as the
 * browser's ws:// URL; 0 while it is incomplete or not that. */
int browser_parse_active_port(const char *text, char *url, size_t urllen);
/* /json/version's body: *ws is its webSocketDebuggerUrl (a ws:// or wss://
 * URL, malloc'd) and is returned; NULL when it has none. */
char *browser_parse_version(const char *body, size_t len, char **ws);
/* 1 while a launched Chromium still runs (attached browsers: always 1). */
int browser_alive(struct browser *);
/* The same from a signal handler (async-signal-safe): kill the group,
 * reap the leader, rm -rf the profile. */
void browser_kill_in_signal(pid_t pid, const char *profile_dir);
/* Kill a launched Chromium's whole process group, reap it, delete its
 * profile; forget the URL either way. */
void browser_release(struct browser *);

struct page_handle {
	char context_id[128];
	char target_id[128];
	char session_id[128];
};
/* A fresh browser context with one attached page, Page/Runtime enabled and
 * lifecycle events on. */
int browser_open_page(struct cdp *, struct page_handle *, struct cdp_error *);
/* Dispose the page's browser context (its pages and cookies go with it). */
int browser_close_page(struct cdp *, struct page_handle *);
#endif
