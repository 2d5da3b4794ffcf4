#ifndef IDLCM_PAGES_H
#define IDLCM_PAGES_H
/*
 * The admin pages: server-rendered HTML behind a sign-in, one file per page
 * (pages_*.c), the shared layout, sessions, CSRF and form parsing in
 * pages.c, the daily sync scheduler in sync.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "coordinator.h"

struct httpd_req;

/* A growing HTML buffer; on out of memory it stops growing and the page
 * answers 500. */
struct pg_buf {
	char *s;
	size_t n, cap;
	int oom;
};

void pg_raw(struct pg_buf *b, const char *s);
void pg_printf(struct pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as HTML text or attribute value (NULL prints nothing). */
void pg_text(struct pg_buf *b, const char *s);
/* s percent-encoded for a URL query value. */
void pg_url(struct pg_buf *b, const char *s);
void pg_time(struct pg_buf *b, int64_t ms);	/* "2026-11-29 15:04:05 UTC" or "—" */

/* The signed-in session of a request (NULL: not signed in). */
struct pg_session {
	char id[65];		/* the SHA-256 of the cookie: the store's key */
	char csrf[65];
	int64_t expires_ms;
};

/* Every page handler gets the coordinator and the signed-in session. */
struct pg_ctx {
	struct coord *c;
	struct httpd_req *req;
	struct pg_session *s;
	struct pg_buf b;
	const char *back;	/* where forms return to (NULL: this path) */
};

/* Layout: pg_begin opens the page (title, nav with `active` tab); pg_end
 * closes it and replies 200 (only the <main> content when the live script
 * asks for a fragment). */
void pg_begin(struct pg_ctx *x, const char *title, const char *active);
int pg_end(struct pg_ctx *x);
/* A form that changes something: method POST, the CSRF field inside. */
void pg_form_open(struct pg_ctx *x, const char *action, const char *cls);
/* A POST form with one button (and hidden fields name=value pairs, NULL-ended). */
void pg_button_form(struct pg_ctx *x, const char *action, const char *label,
		    const char *cls, ...);

/* A field of the request's urlencoded body, decoded into out (0: absent). */
int pg_form(struct httpd_req *req, const char *name, char *out, size_t n);
/* POST guard: a form that does not carry the session's CSRF token gets
 * 403 (returns 0: the caller returns at once). */
int pg_csrf_ok(struct pg_ctx *x);
/* A page's 303 back to where the form came from (or to fallback). */
int pg_back(struct pg_ctx *x, const char *fallback);

/* SQL for who asked for a job: its origin column (web app, daily sync),
 * a SCIM job by the trigger its body names, else NULL (the API). */
#define PG_ORIGIN_SQL "CASE WHEN origin IS NOT NULL THEN origin" \
	" WHEN body LIKE '%\"trigger\":\"scim\"%' THEN 'SCIM' END"

/* Labels: integration status, per-user state in the newer or older
 * generation of names, login method. */
const char *pg_status_label(const char *status);
const char *pg_state_label(const char *state, int older);
const char *pg_action_event(const char *action, const char *phase);

/* The activity log written by the pages and the scheduler (jobs and their
 * events make the rest of it). */
void pg_activity(struct coord *c, const char *integration, const char *actor,
		 const char *event, const char *target, const char *job_id);

/* pages_*.c: the handlers, called by pages.c after the sign-in check.
 * rest is the path after "/admin/". */
int pg_integrations(struct pg_ctx *x, const char *rest);
int pg_integration(struct pg_ctx *x, const char *id, const char *tab);
int pg_validate_now(struct pg_ctx *x, const char *id);
int pg_users_tab(struct pg_ctx *x, const char *id);
int pg_users_action(struct pg_ctx *x, const char *id);
int pg_activity_tab(struct pg_ctx *x, const char *id);
int pg_jobs(struct pg_ctx *x, const char *integration);
int pg_job(struct pg_ctx *x, const char *id);
int pg_job_artifact(struct pg_ctx *x, const char *id, const char *name);
int pg_job_approve(struct pg_ctx *x, const char *id);

/* sync.c: the daily sync.  Enqueues a sync job for the integration with
 * the users the coordinator expects; ratio > 0 overrides the safeguard.
 * Returns 0 and the job id, or -1 with err. */
int sync_enqueue(struct coord *c, const char *integration, const char *origin,
		 double ratio, char *id, size_t idn, char *err, size_t errn);
void sync_start(struct coord *c);
void sync_stop(struct coord *c);

/* pages.c: options, routes, release (called from main.c). */
int pages_option(struct coord *c, const char *opt, const char *val, char *err, size_t n);
int pages_routes(struct coord *c);
void pages_release(struct coord *c);
#endif
