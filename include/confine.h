#ifndef IDLCM_CONFINE_H
#define IDLCM_CONFINE_H
/*
 * confine: what a job's script may reach through raw CDP — its own browser
 * context's targets and sessions, methods that act inside a page, web URLs
 * only — and the guard that holds the same line inside the browser (local
 * schemes and the DevTools port refused by Fetch interception, every page
 * of the context watched, a breach stops the job).
 */
#include <stddef.h>
#include <cjson/cJSON.h>
#include "browser.h"
#include "cdp.h"

#define CONFINE_MAX_IDS 64
#define CONFINE_MAX_KNOWN 512

/* A target or frame the guard has seen, and whose it is: a request the
 * browser-wide guard pauses names only its frame. */
struct confine_known {
	char id[48];
	int own;			/* of the job's context */
};

struct confine {
	char context_id[128];		/* the job's browser context */
	char page_target[128];		/* the page the job opened */
	char guard_session[128];	/* ours: a second session on that page */
	/* the guard's sessions on the page's frames from other sites */
	char guard_frames[CONFINE_MAX_IDS][128];
	int nguard_frames;
	char sessions[CONFINE_MAX_IDS][128];	/* the script may address these */
	int nsessions;
	/* refused as URL ports: every DevTools endpoint the worker knows
	 * (browser.h); 0-terminated */
	int devtools_ports[BROWSER_MAX_ENDPOINTS + 1];
	char run_dir[1024];		/* files a script may upload; downloads */
	char files_dir[1024];		/* --files-dir: more files it may upload */
	char breach[600];		/* set once a page left the web: job stops */
	struct confine_known known[CONFINE_MAX_KNOWN];	/* a ring */
	int nknown, known_next;
};

/* Set up the job's confinement on c for the page just opened: remember
 * the context, attach the guard session, turn on Fetch interception of
 * local schemes and the DevTools port, discover the context's targets and
 * deny downloads.  0, or -1 with err. */
int confine_open(struct cdp *c, const char *context_id, const char *target_id,
		 const char *session_id, struct cdp_error *err);

/* Is a raw cdp.send(method, params) on session allowed?  May rewrite
 * params (e.g. give Target.createTarget the job's context) and ask the
 * browser who owns a targetId.  0, or -1 with why ("cdp.send \"X\" is not
 * allowed: …"). */
int confine_check(struct cdp *c, const char *method, cJSON *params,
		  const char *session, char *why, size_t n);
/* After an allowed call: learn sessions it created, filter what it lists. */
void confine_after(struct cdp *c, const char *method, cJSON *result);
/* May the script wait for events on session?  0, or -1 with why. */
int confine_check_events(struct cdp *c, const char *session, const char *method,
			 char *why, size_t n);

/* Is url one a job's page may open?  web_only: http(s), about:blank, data:
 * (what a script may ask for); otherwise also what pages make themselves
 * (about:srcdoc, blob: of a web origin).  0, or -1 with why. */
int confine_url_ok(const char *url, const int *devtools_ports, int from_script,
		   char *why, size_t n);
/* The guard's Fetch patterns (an array for Fetch.enable): local files,
 * the loopback DevTools pages on any port, and the /json pages of every
 * other DevTools endpoint the worker knows (browser.h). */
cJSON *confine_guard_patterns(void);

/* From the receive loop: the guard acts on an event.  1: the event is
 * consumed (not queued for anyone). */
int confine_event(struct cdp *c, const char *session, const char *method,
		  cJSON *params);

/* Downloads of the job's context: into dir (created), or denied (NULL).
 * Each file is saved under its download's guid (never a name the page
 * chose); the page API renames it. */
int confine_downloads(struct cdp *c, const char *dir, struct cdp_error *err);

/* Resolve path (relative to base, or absolute) to a regular file inside
 * one of the folders in dirs (NULL-terminated; empty entries skipped),
 * following symlinks and "..": 0 with the real path in out, or -1 with
 * why.  Uploads must stay in the job's folders. */
int confine_file_in(const char *path, const char *base, const char *const dirs[],
		    char *out, size_t outlen, char *why, size_t n);
#endif
