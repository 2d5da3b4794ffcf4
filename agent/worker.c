/*
 * worker: the supervisor.  One loop on one thread: reap children (job
 * children and, as subreaper, Chromium's orphans), read job children's
 * event pipes into the outbox, start ready jobs, enforce deadlines,
 * heartbeat leases, deliver the outbox, and keep one long-poll claim in
 * flight (curl multi, polled together with the pipes).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "cdp.h"
#include "coord.h"
#include "envscrub.h"
#include "job.h"
#include "cli.h"
#include "log.h"
#include "pool.h"
#include "session.h"
#include "states.h"
#include "store.h"
#include "vault.h"
#include "wmetrics.h"
#include "worker.h"

#define JOB_MAX_BYTES (1u << 20)	/* one job's JSON */
#define LINE_MAX_BYTES (16u << 20)	/* one line from a job child */
/* What one job may send the coordinator: past either cap its events are
 * dropped (counted, and said in one last event), except the state and
 * status events the job's outcome rests on. */
#define JOB_EVENTS_MAX 1000
#define JOB_EVENT_BYTES_MAX (1u << 20)
/* a job's evidence the coordinator keeps (its own caps: 5 MiB, 8 files) */
#define UPLOAD_MAX_BYTES (5 << 20)
#define UPLOAD_MAX_FILES 8
#define UPLOAD_KEY "_upload"	/* in an outbox complete only, never sent */
/* A pool browser checked this recently is not checked again before use. */
#define BROWSER_RECHECK_MS 500
#define BROWSER_CHECK_TIMEOUT_MS 2000
#define NO_BROWSER (-2)		/* next_browser(): none can take a job now */

struct wjob {
	char id[128];
	int attempt, lease_s, timeout_ms;
	cJSON *body;
	const char *action;
	int tries;
	int64_t next_try_ms, next_hb_ms;
	int running;
	int nevents, dropped;		/* the event cap (JOB_EVENTS_MAX) */
	size_t nbytes, dropped_bytes;
	int lost;			/* runs whose pool browser went away under them */
	int may_retry;			/* its run may end "retrying" on a transient error */
	int64_t first_run_ms;
	char browser[300];		/* the browser of its last run ("" before one) */
	struct wjob *next;
};

struct slot {
	pid_t pid;
	int fd;
	struct wjob *job;
	int64_t kill_at_ms, run_id;
	char *buf;
	size_t len;
	cJSON *result;
	int exited, status, eof;
	const char *killed;	/* why we killed it, or NULL */
	int browser;		/* pool index, or -1 for our own Chromium */
	char dir[1200];
};

/* A job child forked ahead of its job: connected to the browser, its
 * browser context and page open, waiting for a job on ctl. */
struct warm {
	pid_t pid;
	int ctl;		/* write end: the job goes here; closing it disposes */
	int fd;			/* read end of its event pipe: the slot's, once used */
	int64_t born_ms;
	int retiring;		/* ctl closed: it disposes its page and exits */
	int browser;		/* the browser its page is on (as slot.browser) */
};

/* A message the store could not take (full disk, read-only file): held in
 * memory, in order, until it can; meanwhile the worker claims nothing. */
struct held {
	char job_id[128];
	int attempt;
	cJSON *ev;		/* an event, or NULL */
	char *complete;		/* a complete's body, or NULL */
	int64_t at_ms;		/* when it was held */
	struct held *next;
};

struct worker {
	const struct worker_opts *o;
	struct warm warm;
	int64_t warm_retry_ms;
	struct store *st;
	struct held *held, **held_tail;
	int nheld;
	int64_t next_held_try_ms;
	struct coord_client cc;
	struct browser b;
	int own_browser;
	int64_t browser_retry_ms;
	struct pool pool;	/* --browser endpoints (pooled: jobs run there) */
	int pooled;
	int64_t next_check_ms;
	struct wmetrics m;
	struct slot *slots;
	struct wjob *jobs;
	int njobs;
	int64_t next_claim_ms, claim_backoff_ms, next_flush_ms, flush_backoff_ms;
	int64_t stop_at_ms;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested++;
}

/* A child's exit wakes the loop at once: its event pipe reaches EOF a
 * moment before waitpid() can reap it, and without this wake the loop
 * slept its whole poll timeout (200 ms) before the job's result went
 * out and its slot took the next job (issue 11: jobs/min). */
static int chld_pipe[2] = { -1, -1 };

static void on_child(int sig)
{
	int saved = errno;

	(void)sig;
	if (chld_pipe[1] >= 0 && write(chld_pipe[1], "c", 1) < 0) {
		/* full: a wake is pending already */
	}
	errno = saved;
}

static void chld_drain(void)
{
	char tmp[64];

	while (chld_pipe[0] >= 0 && read(chld_pipe[0], tmp, sizeof(tmp)) > 0)
		;
}

void worker_opts_defaults(struct worker_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->slots = 2;
	o->db = "idlcm-worker.db";
	o->runs_dir = "runs";
	o->scripts_dir = cli_apps_dir();
	o->poll_s = 20;
	o->job_timeout_ms = 300000;
	o->kill_grace_ms = 5000;
	o->max_tries = 3;
	o->retry_base_ms = 2000;
	o->retry_max_ms = 60000;
	o->grace_ms = 30000;
	o->prewarm_max_ms = 30000;
	o->browser_check_ms = 5000;
}

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* ------------------------------------------------------ states, events */

/* The action's running and failed states (lib/states.c); NULL for
 * actions without per-user states. */
static const char *failed_state(const char *action)
{
	const struct action_states *st = action_lookup(action);
	return st ? st->failed : NULL;
}

static const char *running_state(const char *action)
{
	const struct action_states *st = action_lookup(action);
	return st ? st->running : NULL;
}

static const char *who(const cJSON *job)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(job, "user");
	const char *k = jstr(u, "email");
	if (!k)
		k = jstr(u, "username");
	if (!k)
		k = jstr(u, "app_id");
	if (!k)
		k = jstr(u, "id");
	return k ? k : "?";
}

/* Write one held message to the outbox: 0, or -1 (it stays held). */
static int held_write(struct worker *w, struct held *h)
{
	if (h->ev)
		return store_outbox_add_event(w->st, h->job_id, h->ev, NULL);
	return store_outbox_add_complete(w->st, h->job_id, h->attempt, h->complete);
}

/* A claimed job this worker cannot keep (its store takes no writes): given
 * back at once, straight to the coordinator (the outbox is what failed);
 * if that fails too, the lease runs out and the job is queued again. */
static void hand_back(struct worker *w, const char *id, int attempt, const char *why)
{
	cJSON *c = cJSON_CreateObject();
	char path[300], err[300];
	int code;

	cJSON_AddStringToObject(c, "worker", w->cc.worker);
	cJSON_AddNumberToObject(c, "attempt", attempt);
	cJSON_AddStringToObject(c, "outcome", "released");
	snprintf(path, sizeof(path), "/v1/jobs/%s/complete", id);
	code = coord_post(&w->cc, path, c, NULL, err, sizeof(err));
	cJSON_Delete(c);
	if (code >= 200 && code < 300)
		log_warn("job %s: handed back (%s)", id, why);
	else
		log_warn("job %s: not kept (%s) and not handed back (%s): its lease will run "
			 "out", id, why, code < 0 ? err : "refused");
}

static void hold(struct worker *w, const char *job_id, int attempt, cJSON *ev,
		 const char *complete_body)
{
	struct held *h = calloc(1, sizeof(*h));

	if (!h) {	/* nowhere left to keep it: at least the log has it */
		char *t = ev ? cJSON_PrintUnformatted(ev) : NULL;
		log_error("job %s: lost a message (out of memory): %s", job_id,
			  t ? t : complete_body ? complete_body : "?");
		cJSON_free(t);
		return;
	}
	snprintf(h->job_id, sizeof(h->job_id), "%s", job_id);
	h->attempt = attempt;
	h->ev = ev ? cJSON_Duplicate(ev, 1) : NULL;
	h->complete = complete_body ? strdup(complete_body) : NULL;
	h->at_ms = store_now_ms();
	if (!w->held_tail)
		w->held_tail = &w->held;
	*w->held_tail = h;
	w->held_tail = &h->next;
	if (w->nheld++ == 0)
		log_error("the store %s cannot be written (%s): messages are held in memory "
			  "and no job is claimed until it can", w->o->db, store_error(w->st));
	w->next_held_try_ms = 0;
}

/* Move held messages into the outbox, oldest first; stop at the first
 * that still fails.  Returns how many remain. */
static int drain_held(struct worker *w, int force)
{
	int wrote = 0;

	if (!w->held || (!force && cdp_wall_ms() < w->next_held_try_ms))
		return w->nheld;
	while (w->held && !held_write(w, w->held)) {
		struct held *h = w->held;
		w->held = h->next;
		if (!w->held)
			w->held_tail = &w->held;
		w->nheld--;
		wrote++;
		cJSON_Delete(h->ev);
		free(h->complete);
		free(h);
	}
	if (w->held)
		w->next_held_try_ms = cdp_wall_ms() + 1000;
	else if (wrote)
		log_info("the store %s takes writes again: %d held message(s) written; "
			 "claiming resumes", w->o->db, wrote);
	return w->nheld;
}

/* Every event goes to the outbox first; takes ev.  When the store cannot
 * take it, it is held (in order behind any earlier held message). */
static void emit(struct worker *w, const char *job_id, int attempt, cJSON *ev)
{
	int seq = 0;
	const char *kind = jstr(ev, "kind");

	if (!cJSON_GetObjectItem(ev, "at"))
		cJSON_AddNumberToObject(ev, "at", (double)store_now_ms());
	cJSON_DeleteItemFromObject(ev, "attempt");
	cJSON_AddNumberToObject(ev, "attempt", attempt);
	if (w->held || store_outbox_add_event(w->st, job_id, ev, &seq))
		hold(w, job_id, attempt, ev, NULL);
	if (kind && !strcmp(kind, "state"))
		log_info("job %s: %s %s -> %s%s%s", job_id, jstr(ev, "user"),
			 jstr(ev, "from") ? jstr(ev, "from") : "", jstr(ev, "state"),
			 jstr(ev, "detail") ? ": " : "", jstr(ev, "detail") ? jstr(ev, "detail") : "");
	else if (kind && !strcmp(kind, "status"))
		log_info("job %s: status %s%s%s", job_id, jstr(ev, "status"),
			 jstr(ev, "detail") ? ": " : "", jstr(ev, "detail") ? jstr(ev, "detail") : "");
	else if (kind && !strcmp(kind, "log"))
		log_info("job %s: %s", job_id, jstr(ev, "message") ? jstr(ev, "message") : "");
	cJSON_Delete(ev);
}

static void emit_log(struct worker *w, const char *id, int attempt, const char *level,
		     const char *msg)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "kind", "log");
	cJSON_AddStringToObject(ev, "level", level);
	cJSON_AddStringToObject(ev, "message", msg);
	emit(w, id, attempt, ev);
}

/* ------------------------------------------------------------ the queue */

static void job_free(struct wjob *j)
{
	if (!j)
		return;
	log_job_forget(j->id);
	cJSON_Delete(j->body);
	free(j);
}

static void job_unlink(struct worker *w, struct wjob *j)
{
	struct wjob **pp = &w->jobs;
	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = j->next;
		w->njobs--;
	}
	job_free(j);
}

/* The job's complete goes to the outbox; the job leaves the queue. */
static void complete(struct worker *w, struct wjob *j, const char *outcome,
		     const cJSON *result, const char *cls, const char *msg,
		     const char *artifacts_dir)
{
	cJSON *c;
	char *text;

	if (j->dropped) {
		char m[300];
		snprintf(m, sizeof(m), "%d event(s) (%zu bytes) were dropped: the job went over "
			 "its cap of %d events or %u bytes", j->dropped, j->dropped_bytes,
			 JOB_EVENTS_MAX, JOB_EVENT_BYTES_MAX);
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "kind", "log");
		cJSON_AddStringToObject(ev, "level", "warn");
		cJSON_AddStringToObject(ev, "message", m);
		cJSON_AddNumberToObject(ev, "dropped", j->dropped);
		cJSON_AddNumberToObject(ev, "dropped_bytes", (double)j->dropped_bytes);
		emit(w, j->id, j->attempt, ev);
		j->dropped = 0;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "worker", w->cc.worker);
	cJSON_AddNumberToObject(c, "attempt", j->attempt);
	cJSON_AddStringToObject(c, "outcome", outcome);
	if (j->browser[0])	/* which browser ran it (its last run) */
		cJSON_AddStringToObject(c, "browser", j->browser);
	if (!strcmp(outcome, "ok"))
		w->m.jobs_ok++;
	else if (!strcmp(outcome, "failed"))
		w->m.jobs_failed++;
	else
		w->m.jobs_released++;
	if (j->first_run_ms && strcmp(outcome, "released"))
		wmetrics_job_duration(&w->m, (double)(cdp_wall_ms() - j->first_run_ms) / 1000.0);
	if (result) {
		static const char *const keep[] = { "state", "detail", "app_user", "users",
						    "invite_link", "summary", NULL };
		for (int i = 0; keep[i]; i++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(result, keep[i]);
			if (v)
				cJSON_AddItemToObject(c, keep[i], cJSON_Duplicate(v, 1));
		}
		/* the child moved a captured password into the vault: what is
		 * left names it; anything still holding a password stays here */
		{
			cJSON *cred = cJSON_GetObjectItem(result, "credentials");
			if (cred && !cJSON_IsString(cJSON_GetObjectItem(cred, "password")))
				cJSON_AddItemToObject(c, "credentials", cJSON_Duplicate(cred, 1));
		}
	}
	if (msg) {
		cJSON *e = cJSON_AddObjectToObject(c, "error");
		cJSON_AddStringToObject(e, "class", cls ? cls : "script");
		cJSON_AddStringToObject(e, "message", msg);
	}
	if (artifacts_dir && artifacts_dir[0]) {
		cJSON *a = cJSON_AddArrayToObject(c, "artifacts");
		DIR *d = opendir(artifacts_dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[1600];
			if (de->d_name[0] == '.' || de->d_type == DT_DIR)
				continue;	/* downloads/, input/: the job's files, not evidence */
			snprintf(p, sizeof(p), "%s/%s", artifacts_dir, de->d_name);
			cJSON_AddItemToArray(a, cJSON_CreateString(p));
		}
		if (d)
			closedir(d);
		/* the upload (flush, before the complete) proves the attempt
		 * with its artifact key (it opens uploads only, never a secret,
		 * so it may wait in the outbox); taken off before the complete
		 * leaves */
		if (jstr(j->body, "artifact_key") && cJSON_GetArraySize(a)) {
			cJSON *u = cJSON_AddObjectToObject(c, UPLOAD_KEY);
			cJSON_AddStringToObject(u, "key", jstr(j->body, "artifact_key"));
		}
	}
	text = cJSON_PrintUnformatted(c);
	if (!text)
		log_error("job %s: cannot encode its complete (out of memory)", j->id);
	else if (w->held || store_outbox_add_complete(w->st, j->id, j->attempt, text))
		hold(w, j->id, j->attempt, NULL, text);
	cJSON_free(text);
	cJSON_Delete(c);
	if (store_job_set_state(w->st, j->id, STORE_JOB_DONE, j->tries, 0))
		log_warn("job %s: cannot record it as done: %s", j->id, store_error(w->st));
	log_info("job %s: %s%s%s", j->id, outcome, msg ? ": " : "", msg ? msg : "");
	job_unlink(w, j);
}

static int name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* Is this job something we can run?  0, or -1 with a message. */
static int check_job(const struct worker *w, const cJSON *j, size_t bytes, char *err, size_t n)
{
	const char *action = jstr(j, "action"), *app = jstr(j, "app");
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user"), *r, *v;
	char path[1400];

	if (bytes > JOB_MAX_BYTES)
		return snprintf(err, n, "job is %zu bytes, over the %u-byte limit", bytes,
				JOB_MAX_BYTES), -1;
	if (!action)
		return snprintf(err, n, "job has no \"action\" string"), -1;
	if (!job_action_known(action))
		return snprintf(err, n, "unknown action \"%.60s\"", action), -1;
	if (!app)
		return snprintf(err, n, "job has no \"app\" string"), -1;
	if (!name_ok(app, 64) || app[0] == '.')
		return snprintf(err, n, "bad app name \"%.60s\"", app), -1;
	snprintf(path, sizeof(path), "%s/%s.lua", w->o->scripts_dir, app);
	if (access(path, R_OK))
		return snprintf(err, n, "no script for app \"%s\" (%.200s)", app, path), -1;
	v = cJSON_GetObjectItemCaseSensitive(j, "account");
	if (v && !cJSON_IsObject(v))
		return snprintf(err, n, "\"account\" must be an object"), -1;
	for (int i = 0; i < 3; i++) {
		const char *k = i == 0 ? "attempt" : i == 1 ? "lease_s" : "timeout_s";
		v = cJSON_GetObjectItemCaseSensitive(j, k);
		if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400))
			return snprintf(err, n, "\"%s\" must be a number from 0 to 86400", k), -1;
	}
	if (!strcmp(action, "sync")) {
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "expected");
		const cJSON *xm = cJSON_GetObjectItemCaseSensitive(j, "exempt");
		r = cJSON_GetObjectItemCaseSensitive(j, "max_delete_ratio");
		if (ex && !cJSON_IsArray(ex))
			return snprintf(err, n, "\"expected\" must be an array of users"), -1;
		cJSON_ArrayForEach(v, ex)
			if (!cJSON_IsObject(v))
				return snprintf(err, n, "\"expected\" must be an array of users"), -1;
		if (xm && !cJSON_IsArray(xm))
			return snprintf(err, n, "\"exempt\" must be an array"), -1;
		if (r && (!cJSON_IsNumber(r) || r->valuedouble <= 0 || r->valuedouble > 1))
			return snprintf(err, n, "\"max_delete_ratio\" must be a number above 0, at most 1"), -1;
	}
	if (!running_state(action))
		return 0;
	if (!user)
		return snprintf(err, n, "%s needs a \"user\" object", action), -1;
	if (!cJSON_IsObject(user))
		return snprintf(err, n, "\"user\" must be an object, not %s",
				cJSON_IsString(user) ? "a string" : cJSON_IsArray(user) ? "an array" :
				cJSON_IsNumber(user) ? "a number" : "that"), -1;
	if (!jstr(user, "email") && !jstr(user, "username"))
		return snprintf(err, n, "\"user\" needs an \"email\" or \"username\" string"), -1;
	r = cJSON_GetObjectItemCaseSensitive(user, "roles");
	if (r && !cJSON_IsArray(r))
		return snprintf(err, n, "\"user.roles\" must be an array of strings"), -1;
	cJSON_ArrayForEach(v, r)
		if (!cJSON_IsString(v))
			return snprintf(err, n, "\"user.roles\" must be an array of strings"), -1;
	if (!strcmp(action, "update") && !r)
		return snprintf(err, n, "update needs \"user.roles\""), -1;
	return 0;
}

/* 0, or -1 when the answer is not a claim answer at all. */
static int accept_claim(struct worker *w, const char *body, size_t len)
{
	cJSON *doc = cJSON_ParseWithLength(body, len), *jobs, *j;

	jobs = cJSON_GetObjectItemCaseSensitive(doc, "jobs");
	if (!cJSON_IsArray(jobs)) {
		log_error("claim: the coordinator's answer is not {\"jobs\": [...]} (%zu bytes); ignored",
			  len);
		cJSON_Delete(doc);
		return -1;
	}
	for (;;) {
		const char *id;
		cJSON *att;
		int attempt;
		char err[300];
		char *text;
		size_t bytes;
		struct wjob *wj;

		j = cJSON_DetachItemFromArray(jobs, 0);
		if (!j)
			break;
		id = jstr(j, "id");
		att = cJSON_GetObjectItemCaseSensitive(j, "attempt");
		text = cJSON_PrintUnformatted(j);
		bytes = text ? strlen(text) : 0;
		attempt = cJSON_IsNumber(att) && att->valuedouble >= 0 ? att->valueint : 1;

		if (!cJSON_IsObject(j) || !name_ok(id, 120)) {
			log_error("claim: rejected a job without a usable \"id\" (%zu bytes): "
				  "nothing to report it on", bytes);
			goto next;
		}
		if (check_job(w, j, bytes, err, sizeof(err))) {
			struct wjob tmp = { .attempt = attempt };
			char msg[400];
			snprintf(tmp.id, sizeof(tmp.id), "%s", id);
			snprintf(msg, sizeof(msg), "job rejected: %s", err);
			log_warn("job %s: %s", id, msg);
			emit_log(w, id, attempt, "error", msg);
			/* not in the queue: write the complete directly */
			{
				cJSON *c = cJSON_CreateObject(), *e;
				char *ct;
				cJSON_AddStringToObject(c, "worker", w->cc.worker);
				cJSON_AddNumberToObject(c, "attempt", attempt);
				cJSON_AddStringToObject(c, "outcome", "failed");
				e = cJSON_AddObjectToObject(c, "error");
				cJSON_AddStringToObject(e, "class", "malformed");
				cJSON_AddStringToObject(e, "message", msg);
				ct = cJSON_PrintUnformatted(c);
				w->m.jobs_failed++;
				if (ct && (w->held ||
					   store_outbox_add_complete(w->st, tmp.id, attempt, ct)))
					hold(w, tmp.id, attempt, NULL, ct);
				cJSON_free(ct);
				cJSON_Delete(c);
			}
			goto next;
		}
		if (w->held) {
			/* a claim that was in flight when the store stopped taking
			 * writes: nothing of it could be kept, so hand it back */
			hand_back(w, id, attempt, "the store cannot be written");
			goto next;
		}
		{
			/* the service account's secrets stay out of the file */
			cJSON *copy = cJSON_Duplicate(j, 1);
			char *kept;
			int put;
			/* every one: a key given twice is still a secret */
			while (cJSON_GetObjectItem(copy, "account"))
				cJSON_DeleteItemFromObject(copy, "account");
			/* nor the key that fetches them */
			while (cJSON_GetObjectItem(copy, "lease_key"))
				cJSON_DeleteItemFromObject(copy, "lease_key");
			kept = cJSON_PrintUnformatted(copy);
			put = store_job_put(w->st, id, attempt, kept ? kept : "{}");
			cJSON_free(kept);
			cJSON_Delete(copy);
			if (put == 0) {
				log_warn("job %s attempt %d: claimed twice; ignored", id, attempt);
				goto next;
			}
		}
		wj = calloc(1, sizeof(*wj));
		if (!wj)
			goto next;
		snprintf(wj->id, sizeof(wj->id), "%s", id);
		wj->attempt = attempt;
		att = cJSON_GetObjectItemCaseSensitive(j, "lease_s");
		wj->lease_s = cJSON_IsNumber(att) && att->valuedouble >= 1 ? att->valueint : 60;
		att = cJSON_GetObjectItemCaseSensitive(j, "timeout_s");
		wj->timeout_ms = cJSON_IsNumber(att) && att->valuedouble > 0 ?
			(int)(att->valuedouble * 1000) : w->o->job_timeout_ms;
		if (wj->timeout_ms < 1)	/* "timeout_s": 0.0001 is not "no deadline" */
			wj->timeout_ms = 1;
		wj->body = j;
		j = NULL;
		wj->action = jstr(wj->body, "action");
		wj->next_try_ms = 0;
		wj->next_hb_ms = cdp_wall_ms() + wj->lease_s * 1000 / 3;
		wj->next = w->jobs;
		w->jobs = wj;
		w->njobs++;
		log_job_note(wj->id, jstr(wj->body, "app"), wj->action, attempt);
		log_info("job %s: claimed (%s %s, attempt %d)", wj->id, wj->action,
			 running_state(wj->action) ? who(wj->body) : jstr(wj->body, "app"), attempt);
next:
		cJSON_free(text);
		cJSON_Delete(j);
	}
	cJSON_Delete(doc);
	return 0;
}

/* --------------------------------------------------------- job children */

static int child_fd = -1;

static void child_emit(void *arg, cJSON *ev)
{
	char *text = cJSON_PrintUnformatted(ev);
	(void)arg;
	if (text) {
		size_t n;
		char *clean = secret_redact(text, strlen(text), &n);
		if (clean) {
			size_t off = 0;
			clean[n] = '\0';
			while (off < n) {
				ssize_t k = write(child_fd, clean + off, n - off);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					break;
				off += (size_t)k;
			}
			if (write(child_fd, "\n", 1) < 0)
				log_debug("event pipe closed");
			free(clean);
		}
		cJSON_free(text);
	}
	cJSON_Delete(ev);
}

/* The vault key, read once at start: the environment it came from is
 * scrubbed (env_scrub_secrets) so that job processes and Chromium do not
 * inherit it, and job processes open the vault with this copy. */
static unsigned char vault_key[VAULT_KEY_LEN];
static int have_vault_key;

static void keep_secrets_from_children(void)
{
	char err[300];

	if (getenv("IDLCM_VAULT_KEY_FILE") || getenv("IDLCM_VAULT_KEY"))
		have_vault_key = !vault_key_from_env(vault_key, err, sizeof(err));
	if (!have_vault_key && (getenv("IDLCM_VAULT_KEY_FILE") || getenv("IDLCM_VAULT_KEY")))
		log_warn("%s", err);
	env_scrub_secrets();
}

static struct vault *open_vault(struct worker *w, char *err, size_t n)
{
	if (!have_vault_key)
		return vault_open_env(w->o->vault, err, n);
	return vault_open(w->o->vault ? w->o->vault : vault_default_path(), vault_key, err, n);
}

static void child_prologue(int fd)
{
	setpgid(0, 0);			/* the terminal's ^C is for the supervisor */
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* die with the supervisor */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);	/* the supervisor's wake is not ours */
	child_fd = fd;
	log_set_component("job");
}

/* Runs of j that count against --max-tries: a pool browser that went away
 * under a run is not the job's doing (up to once per browser). */
static int charged_tries(const struct worker *w, const struct wjob *j)
{
	int free_runs = j->lost < w->pool.n ? j->lost : w->pool.n;
	return j->tries - free_runs;
}

/* The endpoints a job's pages may not open: the browser it runs on, every
 * other browser this worker knows (a pool member's /json pages list and
 * close the jobs of other slots and other workers), and the worker's own
 * services — a page that reached its coordinator could claim another
 * integration's job and fetch its secrets with the lease that came back. */
static void guard_endpoints(struct worker *w, const char *ws_url)
{
	browser_set_devtools_url(ws_url);
	if (w->b.ws_url)
		browser_add_devtools_url(w->b.ws_url);
	for (int i = 0; i < w->pool.n; i++) {
		browser_add_devtools_url(w->pool.b[i].spec);
		if (w->pool.b[i].ws_url)
			browser_add_devtools_url(w->pool.b[i].ws_url);
	}
	for (int i = 0; i < w->cc.nbases; i++)
		browser_add_service_url(w->cc.bases[i]);
	if (w->o->metrics_listen)
		browser_add_service_url(w->o->metrics_listen);
}

/* Run job j in this child on the browser at ws_url; c and page come
 * prewarmed, or NULL (connect and open the page the usual way). */

static void __attribute__((noreturn))
run_child_job(struct worker *w, struct wjob *j, const char *dir, const char *ws_url,
	      struct cdp *c, const struct page_handle *page)
{
	struct cdp_transport *tr;
	struct job_spec spec;
	struct job_outcome out;
	char err[600], script[1400], files[1400];
	cJSON *account = cJSON_GetObjectItemCaseSensitive(j->body, "account");
	cJSON *res, *cred;
	struct vault *v = NULL;

	/* every record of this process is about j (a warm child learns it now) */
	log_job_note(j->id, jstr(j->body, "app"), j->action, j->attempt);
	log_job_current(j->id);
	if (account)
		job_register_secrets(account);
	/* {"password": {"vault": "coordinator:<integration>/password"}}: the
	 * claim answer names the secret; this child, the job's only user of
	 * it, fetches it with the lease and keeps it in memory only */
	if (account && coord_resolve_secrets(&w->cc, j->id, j->attempt,
					     jstr(j->body, "lease_key"), account,
					     err, sizeof(err))) {
		char m[700];
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "kind", "result");
		cJSON_AddNumberToObject(res, "exit", 1);
		cJSON_AddStringToObject(res, "error_class", "transient");
		snprintf(m, sizeof(m), "the service account's secrets: %s", err);
		cJSON_AddStringToObject(res, "error", m);
		child_emit(NULL, res);
		_exit(1);
	}
	/* {"password": {"vault": "acme/admin"}}: resolved here, never in Lua */
	if (account && vault_refs_present(account)) {
		v = open_vault(w, err, sizeof(err));
		if (!v || vault_resolve(v, account, err, sizeof(err))) {
			char m[700];
			res = cJSON_CreateObject();
			cJSON_AddStringToObject(res, "kind", "result");
			cJSON_AddNumberToObject(res, "exit", 1);
			cJSON_AddStringToObject(res, "error_class", "needs_human");
			snprintf(m, sizeof(m), "the service account's secrets: %s", err);
			cJSON_AddStringToObject(res, "error", m);
			child_emit(NULL, res);
			_exit(1);
		}
	}
	snprintf(script, sizeof(script), "%s/%s.lua", w->o->scripts_dir, jstr(j->body, "app"));

	guard_endpoints(w, ws_url);
	tr = c ? NULL : cdp_ws_connect(ws_url, 5000, err, sizeof(err));
	if (!c && !tr) {
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "kind", "result");
		cJSON_AddNumberToObject(res, "exit", 1);
		cJSON_AddStringToObject(res, "error_class", "transient");
		{
			char m[700];
			snprintf(m, sizeof(m), "cannot connect to the browser: %s", err);
			cJSON_AddStringToObject(res, "error", m);
		}
		child_emit(NULL, res);
		_exit(1);
	}
	if (!c)
		c = cdp_new(tr);
	memset(&spec, 0, sizeof(spec));
	spec.prewarmed = page;
	/* the sign-in state of the job's account, in the vault (agent/session.c) */
	if (account && have_vault_key && !session_turned_off()) {
		if (!v)
			v = open_vault(w, err, sizeof(err));
		if (!v)
			log_warn("job %s: the sign-in state is not kept: %s", j->id, err);
		spec.session_vault = v;
	}
	spec.script = script;
	spec.action = j->action;
	spec.user = cJSON_GetObjectItemCaseSensitive(j->body, "user");
	spec.account = account;
	spec.timeout_ms = j->timeout_ms;
	spec.action_timeout_ms = w->o->action_timeout_ms;
	spec.artifacts_dir = dir;
	/* uploads read only the integration's own folder: one tenant's files
	 * are never another's */
	if (w->o->files_dir && name_ok(jstr(j->body, "integration"), 200) &&
	    jstr(j->body, "integration")[0] != '.') {
		snprintf(files, sizeof(files), "%s/%s", w->o->files_dir,
			 jstr(j->body, "integration"));
		spec.files_dir = files;
	}
	spec.emit = child_emit;
	spec.retry_transient = j->may_retry;
	/* no vault: a captured password fails the job (the key was read at
	 * start, and the environment scrubbed of it) */
	spec.capture = have_vault_key ? JOB_CAPTURE_VAULT : JOB_CAPTURE_NONE;
	spec.expected = cJSON_GetObjectItemCaseSensitive(j->body, "expected");
	spec.exempt = cJSON_GetObjectItemCaseSensitive(j->body, "exempt");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j->body, "max_delete_ratio")))
		spec.max_delete_ratio = cJSON_GetObjectItemCaseSensitive(j->body,
									 "max_delete_ratio")->valuedouble;
	job_run(&spec, c, &out);

	/* a captured password goes to the vault before the result leaves */
	cred = out.result ? cJSON_GetObjectItem(out.result, "credentials") : NULL;
	if (cJSON_IsString(cJSON_GetObjectItem(cred, "password"))) {
		if (!v)
			v = open_vault(w, err, sizeof(err));
		if (!v)
			log_warn("%s", err);
		if (vault_capture_credentials(v, jstr(j->body, "app"), spec.user, out.result,
					      err, sizeof(err))) {
			log_warn("job %s: %s", j->id, err);
			job_outcome_secret_lost(&out, err);
		}
	}
	vault_close(v);

	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "kind", "result");
	cJSON_AddNumberToObject(res, "exit", out.exit);
	if (out.result)
		cJSON_AddItemToObject(res, "result", out.result);
	out.result = NULL;
	if (out.exit) {
		cJSON_AddStringToObject(res, "error_class", out.error_class[0] ? out.error_class : "script");
		cJSON_AddStringToObject(res, "error", out.error);
	}
	if (out.artifacts)
		cJSON_AddStringToObject(res, "artifacts", dir);
	child_emit(NULL, res);
	cdp_free(c);
	_exit(out.exit ? 1 : 0);
}

static void __attribute__((noreturn))
run_child(struct worker *w, struct wjob *j, int fd, const char *dir, const char *ws_url)
{
	child_prologue(fd);
	run_child_job(w, j, dir, ws_url, NULL, NULL);
}

/* ------------------------------------------------------------ prewarm
 *
 * While jobs run, one child waits ahead: it has connected to the browser
 * and opened a fresh browser context and page (a context and a page cost
 * Chromium ~100-250 ms), so the next claimed job starts on a ready page.
 * The context belongs to that child's connection (disposeOnDetach): if the
 * child dies, Chromium disposes it.  A warm child that waits longer than
 * --prewarm-max-ms gets its ctl pipe closed, disposes its page and exits.
 */

static void __attribute__((noreturn))
warm_child(struct worker *w, int ctl, int fd, const char *ws_url)
{
	struct cdp_transport *tr;
	struct cdp *c;
	struct page_handle page;
	struct cdp_error ce;
	struct wjob j;
	char err[600], dir[1200];
	char *buf = NULL;
	size_t len = 0;
	int64_t give_up;
	cJSON *msg;

	child_prologue(fd);
	guard_endpoints(w, ws_url);
	tr = cdp_ws_connect(ws_url, 5000, err, sizeof(err));
	if (!tr)
		_exit(3);
	c = cdp_new(tr);
	if (browser_open_page(c, &page, &ce)) {
		log_debug("prewarm: %s", ce.message);
		cdp_free(c);
		_exit(3);
	}
	/* the main frame and the helper's init script too: the job's first
	 * page call then starts at once (issue 11) */
	if (job_page_prepare(c, &page, &ce)) {
		log_debug("prewarm: %s", ce.message);
		browser_close_page(c, &page);
		cdp_free(c);
		_exit(3);
	}
	/* the supervisor retires us first; this is for a supervisor that hangs */
	give_up = cdp_wall_ms() + 2LL * w->o->prewarm_max_ms + 5000;
	for (;;) {
		struct pollfd pf = { .fd = ctl, .events = POLLIN };
		char tmp[65536];
		ssize_t k;

		if (cdp_pump(c, 0, &ce) < 0 || c->closed || cdp_wall_ms() > give_up)
			break;
		if (poll(&pf, 1, 100) <= 0)
			continue;
		k = read(ctl, tmp, sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		buf = realloc(buf, len + (size_t)k + 1);
		memcpy(buf + len, tmp, (size_t)k);
		len += (size_t)k;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			break;
	}
	msg = buf && memchr(buf, '\n', len) ? cJSON_Parse(buf) : NULL;
	free(buf);
	if (!msg) {
		/* retired unused (or the browser went): nothing leaks */
		browser_close_page(c, &page);
		cdp_free(c);
		_exit(0);
	}
	memset(&j, 0, sizeof(j));
	snprintf(j.id, sizeof(j.id), "%s", jstr(msg, "id"));
	snprintf(dir, sizeof(dir), "%s", jstr(msg, "dir"));
	j.attempt = cJSON_GetObjectItem(msg, "attempt")->valueint;
	j.tries = cJSON_GetObjectItem(msg, "tries")->valueint;
	j.may_retry = cJSON_IsTrue(cJSON_GetObjectItem(msg, "may_retry"));
	j.timeout_ms = cJSON_GetObjectItem(msg, "timeout_ms")->valueint;
	j.body = cJSON_DetachItemFromObject(msg, "job");
	j.action = jstr(j.body, "action");
	cJSON_Delete(msg);
	run_child_job(w, &j, dir, ws_url, c, &page);
}

static void warm_close(struct warm *wm)
{
	if (wm->ctl >= 0)
		close(wm->ctl);
	if (wm->fd >= 0)
		close(wm->fd);
	memset(wm, 0, sizeof(*wm));
	wm->ctl = wm->fd = -1;
}

static int next_browser(struct worker *w, int prefer);
static int check_browser(struct worker *w, int k);

static const char *browser_url(const struct worker *w, int k)
{
	return k >= 0 ? w->pool.b[k].ws_url : w->b.ws_url;
}

/* Fork a warm child when jobs are about and none waits yet, on the
 * browser the next job would go to (next_browser prefers it on ties). */
static void prewarm(struct worker *w)
{
	int ev[2], ctl[2], k;
	pid_t pid;
	const char *url;

	if (w->o->prewarm_max_ms <= 0 || w->warm.pid || !w->njobs ||
	    stop_requested || cdp_wall_ms() < w->warm_retry_ms)
		return;
	k = next_browser(w, -1);
	if (k == NO_BROWSER)
		return;
	url = browser_url(w, k);
	if (pipe2(ev, O_CLOEXEC))
		return;
	if (pipe2(ctl, O_CLOEXEC)) {
		close(ev[0]);
		close(ev[1]);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(ev[0]); close(ev[1]); close(ctl[0]); close(ctl[1]);
		w->warm_retry_ms = cdp_wall_ms() + 1000;
		return;
	}
	if (pid == 0) {
		close(ev[0]);
		close(ctl[1]);
		for (int i = 0; i < w->o->slots; i++)
			if (w->slots[i].pid && w->slots[i].fd >= 0)
				close(w->slots[i].fd);
		warm_child(w, ctl[0], ev[1], url);
	}
	close(ev[1]);
	close(ctl[0]);
	/* a whole job fits in the pipe: handing it over never blocks */
	fcntl(ctl[1], F_SETPIPE_SZ, (int)JOB_MAX_BYTES);
	fcntl(ctl[1], F_SETFL, O_NONBLOCK);
	fcntl(ev[0], F_SETFL, O_NONBLOCK);
	w->warm.pid = pid;
	w->warm.ctl = ctl[1];
	w->warm.fd = ev[0];
	w->warm.born_ms = cdp_wall_ms();
	w->warm.retiring = 0;
	w->warm.browser = k;
	log_debug("prewarm: pid %d opens the next job's page on %s", (int)pid, url);
}

/* A warm child past --prewarm-max-ms: close its ctl; it disposes its
 * context and exits (reaped like any child). */
static void prewarm_expire(struct worker *w, int force)
{
	int64_t age = cdp_wall_ms() - w->warm.born_ms;

	if (!w->warm.pid || w->warm.retiring || (!force && age <= w->o->prewarm_max_ms))
		return;
	close(w->warm.ctl);
	w->warm.ctl = -1;
	w->warm.retiring = 1;
	log_info("prewarm: page unused for %lld ms; disposed", (long long)age);
}

/* Hand job j to the warm child: 1 when it took the job (the child's pid
 * and event pipe are then the slot's), 0 to start it cold. */
static int prewarm_take(struct worker *w, struct wjob *j, struct slot *s, pid_t *pid, int *fd)
{
	cJSON *m;
	char *text;
	size_t n;
	ssize_t k;

	if (!w->warm.pid || w->warm.retiring)
		return 0;
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "id", j->id);
	cJSON_AddNumberToObject(m, "attempt", j->attempt);
	cJSON_AddNumberToObject(m, "tries", j->tries);
	cJSON_AddBoolToObject(m, "may_retry", j->may_retry);
	cJSON_AddNumberToObject(m, "timeout_ms", j->timeout_ms);
	cJSON_AddStringToObject(m, "dir", s->dir);
	cJSON_AddItemReferenceToObject(m, "job", j->body);
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	if (!text)
		return 0;
	n = strlen(text);
	text[n] = '\n';	/* over the terminator: written with n + 1 bytes */
	k = write(w->warm.ctl, text, n + 1);
	cJSON_free(text);
	if (k != (ssize_t)(n + 1)) {
		/* a short write leaves it half a job: it must not run it */
		kill(w->warm.pid, SIGKILL);
		prewarm_expire(w, 1);
		return 0;
	}
	*pid = w->warm.pid;
	*fd = w->warm.fd;
	close(w->warm.ctl);
	w->warm.fd = -1;
	w->warm.ctl = -1;
	memset(&w->warm, 0, sizeof(w->warm));
	w->warm.ctl = w->warm.fd = -1;
	return 1;
}

/* A reaped pid: was it the warm child? */
static int prewarm_reaped(struct worker *w, pid_t pid)
{
	if (!w->warm.pid || pid != w->warm.pid)
		return 0;
	if (!w->warm.retiring)
		w->warm_retry_ms = cdp_wall_ms() + 1000;	/* it failed: not in a loop */
	warm_close(&w->warm);
	return 1;
}

/* At exit: the warm child goes (Chromium drops its context with it). */
static void prewarm_stop(struct worker *w)
{
	if (!w->warm.pid)
		return;
	kill(w->warm.pid, SIGKILL);
	waitpid(w->warm.pid, NULL, 0);
	warm_close(&w->warm);
}

static struct slot *free_slot(struct worker *w)
{
	for (int i = 0; i < w->o->slots; i++)
		if (!w->slots[i].pid)
			return &w->slots[i];
	return NULL;
}

/* Start job j in slot s on browser k (-1: our own Chromium). */
static void start_job(struct worker *w, struct wjob *j, struct slot *s, int k)
{
	int fds[2], warm = 0;
	pid_t pid;
	const char *url = browser_url(w, k);

	j->tries++;
	/* A transient error may end in a retry: when tries are left, and on
	 * a pool while a lost browser would not be charged (finish_slot then
	 * knows; it sends the final state itself when it does not retry). */
	j->may_retry = charged_tries(w, j) < w->o->max_tries ||
		(w->pooled && j->lost < w->pool.n);
	snprintf(s->dir, sizeof(s->dir), "%s/%s/a%d-t%d", w->o->runs_dir, j->id, j->attempt,
		 j->tries);
	if (w->warm.browser == k && prewarm_take(w, j, s, &pid, &fds[0])) {
		warm = 1;
		goto started;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		log_error("job %s: cannot make a pipe: %s", j->id, strerror(errno));
		j->next_try_ms = cdp_wall_ms() + 1000;
		j->tries--;
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_error("job %s: cannot fork: %s", j->id, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		j->tries--;
		j->next_try_ms = cdp_wall_ms() + 1000;
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		for (int i = 0; i < w->o->slots; i++)
			if (w->slots[i].pid && w->slots[i].fd >= 0)
				close(w->slots[i].fd);
		/* the warm child must see EOF when we close its ctl */
		if (w->warm.ctl >= 0)
			close(w->warm.ctl);
		if (w->warm.fd >= 0)
			close(w->warm.fd);
		run_child(w, j, fds[1], s->dir, url);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
started:
	memset(s, 0, offsetof(struct slot, dir));
	s->pid = pid;
	s->fd = fds[0];
	s->job = j;
	s->kill_at_ms = cdp_wall_ms() + j->timeout_ms + w->o->kill_grace_ms;
	s->run_id = store_run_begin(w->st, j->id, j->attempt, j->tries, (int)pid);
	s->browser = k;
	j->running = 1;
	if (!j->first_run_ms)
		j->first_run_ms = cdp_wall_ms();
	snprintf(j->browser, sizeof(j->browser), "%s", k >= 0 ? w->pool.b[k].spec : url);
	store_job_set_state(w->st, j->id, STORE_JOB_RUNNING, j->tries, 0);
	if (k >= 0) {
		char m[500];
		cJSON *ev = cJSON_CreateObject();

		w->pool.b[k].running++;
		w->pool.b[k].jobs++;
		w->pool.rr = (unsigned)k + 1;	/* equals take turns */
		/* the job's events say where each run ran (emit logs it too) */
		snprintf(m, sizeof(m), "run %d on browser %s (pid %d%s)", j->tries,
			 w->pool.b[k].spec, (int)pid, warm ? ", prewarmed page" : "");
		cJSON_AddStringToObject(ev, "kind", "log");
		cJSON_AddStringToObject(ev, "level", "info");
		cJSON_AddStringToObject(ev, "message", m);
		cJSON_AddStringToObject(ev, "browser", w->pool.b[k].spec);
		cJSON_AddNumberToObject(ev, "run", j->tries);
		emit(w, j->id, j->attempt, ev);
	}
	log_info("job %s: run %d started (pid %d%s) on browser %s", j->id, j->tries, (int)pid,
		 warm ? ", prewarmed page" : "", j->browser);
}

static void handle_line(struct worker *w, struct slot *s, char *line, size_t n)
{
	cJSON *ev = cJSON_ParseWithLength(line, n);
	const char *kind = jstr(ev, "kind");

	if (!ev || !kind) {
		log_warn("job %s: unreadable line from the job process", s->job->id);
		cJSON_Delete(ev);
		return;
	}
	if (!strcmp(kind, "result")) {
		cJSON_Delete(s->result);
		s->result = ev;
		return;
	}
	if (strcmp(kind, "state") && strcmp(kind, "status") &&
	    (s->job->nevents >= JOB_EVENTS_MAX ||
	     s->job->nbytes + n > JOB_EVENT_BYTES_MAX)) {
		if (s->job->dropped++ == 0)
			log_warn("job %s: over its cap of %d events or %u bytes; further "
				 "events are dropped", s->job->id, JOB_EVENTS_MAX,
				 JOB_EVENT_BYTES_MAX);
		s->job->dropped_bytes += n;
		cJSON_Delete(ev);
		return;
	}
	s->job->nevents++;
	s->job->nbytes += n;
	emit(w, s->job->id, s->job->attempt, ev);
}

static void read_slot(struct worker *w, struct slot *s)
{
	char tmp[65536];

	while (!s->eof) {
		ssize_t k = read(s->fd, tmp, sizeof(tmp));
		char *nl;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return;	/* EAGAIN */
		if (k == 0) {
			s->eof = 1;
			break;
		}
		if (s->len + (size_t)k > LINE_MAX_BYTES) {
			log_error("job %s: a line from the job process is over %u bytes; dropped",
				  s->job->id, LINE_MAX_BYTES);
			s->len = 0;
			continue;
		}
		s->buf = realloc(s->buf, s->len + (size_t)k + 1);
		memcpy(s->buf + s->len, tmp, (size_t)k);
		s->len += (size_t)k;
		while (s->len && (nl = memchr(s->buf, '\n', s->len))) {
			size_t line = (size_t)(nl - s->buf);
			handle_line(w, s, s->buf, line);
			memmove(s->buf, nl + 1, s->len - line - 1);
			s->len -= line + 1;
		}
	}
}

static int64_t backoff_ms(const struct worker_opts *o, int tries)
{
	int64_t d = o->retry_base_ms;
	for (int i = 1; i < tries && d < o->retry_max_ms; i++)
		d *= 2;
	return d < o->retry_max_ms ? d : o->retry_max_ms;
}

/* The child is gone and its pipe drained: decide what happens to the job. */
static void finish_slot(struct worker *w, struct slot *s)
{
	struct wjob *j = s->job;
	cJSON *res = s->result, *r = cJSON_GetObjectItemCaseSensitive(res, "result");
	const char *cls = jstr(res, "error_class"), *msg = jstr(res, "error");
	const char *arts = jstr(res, "artifacts");
	int exit_code = cJSON_IsNumber(cJSON_GetObjectItem(res, "exit")) ?
		cJSON_GetObjectItem(res, "exit")->valueint : -1;
	int final_emitted = res && r && !cJSON_IsTrue(cJSON_GetObjectItem(r, "retrying"));
	int browser_lost = 0;
	char why[400];

	if (s->browser >= 0 && w->pool.b[s->browser].running > 0)
		w->pool.b[s->browser].running--;

	if (s->killed && !strcmp(s->killed, "deadline")) {
		snprintf(why, sizeof(why), "the job ran past its deadline of %d ms and was killed",
			 j->timeout_ms);
		cls = "transient";
		msg = why;
		final_emitted = 0;
		exit_code = -1;
	} else if (!res) {
		int sig = WIFSIGNALED(s->status) ? WTERMSIG(s->status) : 0;
		cls = "transient";
		if (sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
		    sig == SIGILL) {
			/* a crash repeats with the same script: running it again
			 * would only crash again */
			snprintf(why, sizeof(why), "the job process crashed (signal %d, %s) before "
				 "it reported; not retried", sig, strsignal(sig));
			cls = "script";
		} else if (sig) {
			snprintf(why, sizeof(why), "the job process died (signal %d) before it reported",
				 sig);
		} else {
			snprintf(why, sizeof(why), "the job process exited with status %d before it "
				 "reported", WEXITSTATUS(s->status));
		}
		msg = why;
	}
	if (arts && s->run_id > 0) {
		DIR *d = opendir(arts);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[1600];
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", arts, de->d_name);
			store_artifact_add(w->st, s->run_id, j->id, p);
		}
		if (d)
			closedir(d);
	}
	if (s->run_id > 0)
		store_run_end(w->st, s->run_id, exit_code, exit_code ? cls : NULL, exit_code ? msg : NULL);

	j->running = 0;
	/* A transient failure on a pool browser: is the browser still there?
	 * (A restarted one answers with its new ws URL, used from now on.)
	 * One that went away is not the job's fault: the run is retried at
	 * once on another browser and not charged to --max-tries. */
	if (s->browser >= 0 && exit_code != 0 && cls && !strcmp(cls, "transient") &&
	    (!s->killed || !strcmp(s->killed, "deadline")) &&
	    !check_browser(w, s->browser)) {
		browser_lost = 1;
		j->lost++;
	}
	if (s->killed && !strcmp(s->killed, "lease lost")) {
		emit_log(w, j->id, j->attempt, "warn", "lease lost: the job was aborted");
		store_job_set_state(w->st, j->id, STORE_JOB_DROPPED, j->tries, 0);
		log_warn("job %s: lease lost; aborted", j->id);
		w->m.jobs_lease_lost++;
		job_unlink(w, j);
	} else if (s->killed && !strcmp(s->killed, "shutdown")) {
		emit_log(w, j->id, j->attempt, "warn", "the worker stopped; job handed back");
		complete(w, j, "released", NULL, NULL, NULL, NULL);
	} else if (exit_code == 0) {
		complete(w, j, "ok", r, NULL, NULL, NULL);
	} else if (cls && !strcmp(cls, "transient") && charged_tries(w, j) < w->o->max_tries &&
		   !stop_requested) {
		int64_t d = browser_lost ? 0 : backoff_ms(w->o, charged_tries(w, j));
		char detail[1200];
		cJSON *ev = cJSON_CreateObject();
		if (browser_lost) {
			snprintf(detail, sizeof(detail), "browser %s went away (%s); run %d again on "
				 "a browser that answers: %s", w->pool.b[s->browser].spec,
				 w->pool.b[s->browser].why, j->tries + 1, msg ? msg : "transient error");
			w->m.retries_browser++;
		} else {
			snprintf(detail, sizeof(detail), "run %d of %d in %.1f s: %s",
				 charged_tries(w, j) + 1, w->o->max_tries, (double)d / 1000.0,
				 msg ? msg : "transient error");
			w->m.retries_transient++;
		}
		cJSON_AddStringToObject(ev, "kind", "status");
		cJSON_AddStringToObject(ev, "status", "retrying");
		cJSON_AddStringToObject(ev, "detail", detail);
		emit(w, j->id, j->attempt, ev);
		j->next_try_ms = cdp_wall_ms() + d;
		store_job_set_state(w->st, j->id, STORE_JOB_READY, j->tries, store_now_ms() + d);
	} else {
		if (!final_emitted) {
			cJSON *ev = cJSON_CreateObject();
			if (failed_state(j->action)) {
				cJSON_AddStringToObject(ev, "kind", "state");
				cJSON_AddStringToObject(ev, "user", who(j->body));
				cJSON_AddStringToObject(ev, "from", running_state(j->action));
				cJSON_AddStringToObject(ev, "state", failed_state(j->action));
			} else {
				cJSON_AddStringToObject(ev, "kind", "status");
				cJSON_AddStringToObject(ev, "status", !strcmp(j->action, "validate") ?
							"validation_failed" : "failed");
			}
			cJSON_AddStringToObject(ev, "detail", msg ? msg : "job failed");
			emit(w, j->id, j->attempt, ev);
		}
		if (r && failed_state(j->action) && !jstr(r, "state"))
			cJSON_AddStringToObject(r, "state", failed_state(j->action));
		complete(w, j, "failed", r, cls, msg ? msg : "job failed", arts);
	}
	close(s->fd);
	free(s->buf);
	cJSON_Delete(s->result);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* ------------------------------------------------------------ browser */

static void reap(struct worker *w)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		if (prewarm_reaped(w, pid))
			continue;
		if (w->own_browser && pid == w->b.pid) {
			log_warn("chromium (pid %d) died; relaunching", (int)pid);
			w->m.relaunches++;
			kill(-pid, SIGKILL);	/* what is left of its group */
			w->b.pid = 0;
			browser_release(&w->b);
			/* the warm page was in the dead browser: a job handed to
			 * it would fail and be retried once more for nothing */
			prewarm_stop(w);
			continue;
		}
		for (int i = 0; i < w->o->slots; i++)
			if (w->slots[i].pid == pid) {
				w->slots[i].exited = 1;
				w->slots[i].status = status;
			}
	}
}

static void ensure_browser(struct worker *w)
{
	char err[700];

	if (!w->own_browser || w->b.ws_url || cdp_wall_ms() < w->browser_retry_ms)
		return;
	if (browser_launch(&w->b, NULL, 20000, err, sizeof(err))) {
		log_error("cannot launch chromium: %s (retrying in 5 s)", err);
		w->browser_retry_ms = cdp_wall_ms() + 5000;
	} else {
		log_info("chromium pid %d up", (int)w->b.pid);
	}
}

/* Health-check pool browser k now and say when it changes: 1 when up. */
static int check_browser(struct worker *w, int k)
{
	struct pool_browser *b = &w->pool.b[k];
	int was_checked = b->checked, was_up = b->up;
	int up = pool_check(b, BROWSER_CHECK_TIMEOUT_MS);

	if (up && (!was_checked || !was_up))
		log_info("browser %s %s (%s)", b->spec,
			 was_checked ? "answers again; back in use" : "answers", b->ws_url);
	else if (!up && (!was_checked || was_up)) {
		if (was_up)
			b->downs++;
		log_warn("browser %s %s: %s; no job goes to it until it answers again", b->spec,
			 was_up ? "is gone" : "does not answer", b->why);
		/* a page prewarmed there is on a dead browser */
		if (w->warm.pid && w->warm.browser == k)
			prewarm_stop(w);
	}
	return up;
}

/* Every --browser-check-ms: check each pool browser not checked lately
 * (a dead one too: it comes back into use when it answers). */
static void check_pool(struct worker *w)
{
	int64_t now = cdp_wall_ms();

	if (!w->pooled || now < w->next_check_ms)
		return;
	for (int k = 0; k < w->pool.n; k++)
		if (!w->pool.b[k].checked || now - w->pool.b[k].checked_ms >= w->o->browser_check_ms)
			check_browser(w, k);
	w->next_check_ms = now + (w->o->browser_check_ms < 1000 ? w->o->browser_check_ms : 1000);
}

/* A pool with no browser that answers claims nothing: the jobs would only
 * wait here while another worker could run them. */
static int browsers_up(const struct worker *w)
{
	for (int k = 0; k < w->pool.n; k++)
		if (w->pool.b[k].up)
			return 1;
	return !w->pooled;
}

/* The browser the next job (or prewarmed page) goes to: -1 our own
 * Chromium, a pool index (the least busy that answers, `prefer` among
 * equals; checked first unless it was just now), or NO_BROWSER. */
static int next_browser(struct worker *w, int prefer)
{
	if (!w->pooled)
		return w->b.ws_url ? -1 : NO_BROWSER;
	for (;;) {
		int k = pool_pick(&w->pool, prefer);
		if (k < 0)
			return NO_BROWSER;
		if (cdp_wall_ms() - w->pool.b[k].checked_ms < BROWSER_RECHECK_MS ||
		    check_browser(w, k))
			return k;
	}
}

/* ------------------------------------------------- coordinator traffic */

static void heartbeats(struct worker *w)
{
	int64_t now = cdp_wall_ms();
	struct wjob *j, *next;

	for (j = w->jobs; j; j = next) {
		cJSON *b, *reply = NULL;
		char path[300], err[600];
		int code;

		next = j->next;
		if (now < j->next_hb_ms)
			continue;
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "worker", w->cc.worker);
		cJSON_AddNumberToObject(b, "attempt", j->attempt);
		snprintf(path, sizeof(path), "/v1/jobs/%s/heartbeat", j->id);
		code = coord_post(&w->cc, path, b, &reply, err, sizeof(err));
		cJSON_Delete(b);
		cJSON_Delete(reply);
		if (code == 200) {
			int every = j->lease_s * 1000 / 3;
			j->next_hb_ms = now + (every < 500 ? 500 : every);
		} else if (code == 409 || code == 404) {
			log_warn("job %s: %s", j->id, err);
			if (j->running) {
				for (int i = 0; i < w->o->slots; i++)
					if (w->slots[i].job == j && w->slots[i].pid) {
						w->slots[i].killed = "lease lost";
						kill(w->slots[i].pid, SIGKILL);
					}
				j->next_hb_ms = now + 3600 * 1000;
			} else {
				emit_log(w, j->id, j->attempt, "warn", "lease lost before the job ran again");
				w->m.jobs_lease_lost++;
				store_job_set_state(w->st, j->id, STORE_JOB_DROPPED, j->tries, 0);
				job_unlink(w, j);
			}
		} else {
			/* coordinator away: keep working, try again soon */
			log_debug("job %s: heartbeat: %s", j->id, err);
			j->next_hb_ms = now + 1000;
		}
	}
}

/* The evidence a remote coordinator may keep: a PNG (screenshots: none is
 * taken once a secret was on screen) or text (every text file the run
 * writes goes through the redactor; a NUL byte means a binary a script
 * wrote itself, which nothing redacted: kept on the worker). */
static int upload_worthy(const char *name, const unsigned char *data, size_t n)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t len = strlen(name);

	if (!name_ok(name, 100) || name[0] == '.')
		return 0;
	if (len > 4 && !strcmp(name + len - 4, ".png"))
		return n >= sizeof(png) && !memcmp(data, png, sizeof(png));
	return memchr(data, 0, n) == NULL;
}

/* PUT the complete's artifacts (its run folder's evidence) to the
 * coordinator, so that it needs no disk shared with this worker.  0: done
 * (a file the coordinator refuses for good is logged and skipped); -1: the
 * coordinator is away: the complete waits in the outbox and the upload is
 * tried again with it (a PUT of the same name replaces). */
static int upload_artifacts(struct worker *w, const char *job_id, const cJSON *body,
			    const char *key)
{
	const cJSON *a;
	const cJSON *att = cJSON_GetObjectItem(body, "attempt");
	int sent = 0;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(body, "artifacts")) {
		const char *p = cJSON_GetStringValue(a), *name;
		char hw[200], ha[64], hk[120], path[2400], err[600];
		const char *hdrs[] = { hw, ha, hk, NULL };
		unsigned char *data = NULL;
		struct stat sb;
		size_t n = 0;
		FILE *f;
		int code;

		if (!p || !(name = strrchr(p, '/')) || !*++name)
			continue;
		if (sent >= UPLOAD_MAX_FILES) {
			log_warn("job %s: artifact %s not uploaded (more than %d files)", job_id,
				 name, UPLOAD_MAX_FILES);
			continue;
		}
		if (stat(p, &sb) || !S_ISREG(sb.st_mode))
			continue;	/* gone (runs dir cleaned): nothing to send */
		if (sb.st_size > UPLOAD_MAX_BYTES) {
			log_warn("job %s: artifact %s not uploaded (%lld bytes, over %d)", job_id,
				 name, (long long)sb.st_size, UPLOAD_MAX_BYTES);
			continue;
		}
		f = fopen(p, "rb");
		data = malloc((size_t)sb.st_size + 1);
		if (!f || !data || (n = fread(data, 1, (size_t)sb.st_size, f)) != (size_t)sb.st_size) {
			if (f)
				fclose(f);
			free(data);
			continue;
		}
		fclose(f);
		if (!upload_worthy(name, data, n)) {
			log_info("job %s: artifact %s stays on the worker (not a PNG or"
				 " redacted text)", job_id, name);
			free(data);
			continue;
		}
		snprintf(hw, sizeof(hw), "X-Idlcm-Worker: %s", w->cc.worker);
		snprintf(ha, sizeof(ha), "X-Idlcm-Attempt: %d", cJSON_IsNumber(att) ? att->valueint : 0);
		snprintf(hk, sizeof(hk), "X-Idlcm-Artifact-Key: %s", key);
		snprintf(path, sizeof(path), "/v1/jobs/%s/artifacts/%s", job_id, name);
		code = coord_put(&w->cc, path, data, n, hdrs, err, sizeof(err));
		free(data);
		if (code < 0 || code >= 500 || code == 401 || code == 408 || code == 429) {
			log_warn("job %s: artifact %s: %s (tried again with the complete)", job_id,
				 name, err);
			return -1;
		}
		if (code >= 400)
			log_warn("job %s: artifact %s not kept by the coordinator: %s", job_id,
				 name, err);
		else
			sent++;
	}
	return 0;
}

/* The coordinator is away: try the outbox again later, backing off
 * (0.5 s, doubling, at most 5 s). */
static void flush_later(struct worker *w)
{
	w->flush_backoff_ms = w->flush_backoff_ms ? w->flush_backoff_ms * 2 : 500;
	if (w->flush_backoff_ms > 5000)
		w->flush_backoff_ms = 5000;
	w->next_flush_ms = cdp_wall_ms() + w->flush_backoff_ms;
}

/* Deliver the outbox: each job's events in seq order, then its complete. */
static void flush(struct worker *w, int budget_ms)
{
	char ids[16][128];
	int64_t until = cdp_wall_ms() + budget_ms;
	int n;

	if (cdp_wall_ms() < w->next_flush_ms)
		return;
	n = store_outbox_jobs(w->st, ids, 16);
	for (int k = 0; k < n && cdp_wall_ms() < until; k++) {
		struct store_msg *m = NULL;
		int cnt = 0, i = 0;

		if (store_outbox_peek(w->st, ids[k], 200, &m, &cnt) || !cnt) {
			store_msgs_free(m, cnt);
			continue;
		}
		while (i < cnt) {
			char path[2200], err[600];
			cJSON *body = cJSON_CreateObject(), *arr = NULL, *reply = NULL;
			int from = i, code, attempt = -1;

			if (m[i].kind == STORE_MSG_EVENT) {
				arr = cJSON_AddArrayToObject(body, "events");
				for (; i < cnt && m[i].kind == STORE_MSG_EVENT; i++) {
					cJSON *ev = cJSON_Parse(m[i].body);
					cJSON *a = cJSON_GetObjectItem(ev, "attempt");
					int at = cJSON_IsNumber(a) ? a->valueint : 0;
					if (attempt >= 0 && at != attempt) {
						cJSON_Delete(ev);
						break;
					}
					attempt = at;
					cJSON_AddItemToArray(arr, ev ? ev : cJSON_CreateObject());
				}
				cJSON_AddNumberToObject(body, "attempt", attempt);
				snprintf(path, sizeof(path), "/v1/jobs/%s/events", ids[k]);
			} else {
				cJSON *up;
				cJSON_Delete(body);
				body = cJSON_Parse(m[i].body);
				i++;
				snprintf(path, sizeof(path), "/v1/jobs/%s/complete", ids[k]);
				/* the evidence first: the attempt is still its own */
				up = cJSON_DetachItemFromObject(body, UPLOAD_KEY);
				if (up && upload_artifacts(w, ids[k], body,
							   jstr(up, "key") ? jstr(up, "key") : "")) {
					cJSON_Delete(up);
					cJSON_Delete(body);
					flush_later(w);
					store_msgs_free(m, cnt);
					return;
				}
				cJSON_Delete(up);
			}
			code = coord_post(&w->cc, path, body, &reply, err, sizeof(err));
			cJSON_Delete(body);
			cJSON_Delete(reply);
			if (code == 200) {
				for (int x = from; x < i; x++)
					store_outbox_mark(w->st, m[x].id, 1, NULL);
				w->flush_backoff_ms = 0;
			} else if (code >= 400 && code < 500 && code != 401 && code != 403 &&
				   code != 408 && code != 429) {
				/* the coordinator will never take these: keep them, marked */
				if (code == 409)
					log_warn("job %s: lease lost: %s", ids[k], err);
				else
					log_warn("outbox: %s; %d message(s) set aside", err, i - from);
				for (int x = from; x < i; x++)
					store_outbox_mark(w->st, m[x].id, 2, err);
			} else {
				if (!w->flush_backoff_ms)
					log_warn("outbox: %s; %d message(s) wait for the coordinator",
						 err, store_outbox_pending(w->st));
				flush_later(w);
				store_msgs_free(m, cnt);
				return;
			}
		}
		store_msgs_free(m, cnt);
	}
}

static void claim_done(struct worker *w, int code, char *body, size_t len, const char *err)
{
	int64_t now = cdp_wall_ms();

	/* a 200 that is not a claim answer (a proxy's page, a broken
	 * coordinator) is backed off like a 5xx, not asked again at once */
	if (code == 200 && !accept_claim(w, body ? body : "", len)) {
		w->claim_backoff_ms = 0;
	} else if (code == 204) {
		w->claim_backoff_ms = 0;
	} else {
		if (code == 200)
			;	/* accept_claim said what was wrong */
		else if (code < 0)
			log_warn("coordinator unreachable: %s", err);
		else
			log_warn("claim: HTTP %d%s%.200s", code, body ? ": " : "", body ? body : "");
		w->claim_backoff_ms = w->claim_backoff_ms ? w->claim_backoff_ms * 2 : 500;
		if (w->claim_backoff_ms > 5000)
			w->claim_backoff_ms = 5000;
		w->next_claim_ms = now + w->claim_backoff_ms;
	}
	free(body);
}

/* ------------------------------------------------------------ the loop */

static int running_count(struct worker *w)
{
	int n = 0;
	for (int i = 0; i < w->o->slots; i++)
		n += w->slots[i].pid != 0;
	return n;
}

static void begin_stop(struct worker *w)
{
	struct wjob *j, *next;

	log_info("stopping: no more claims; %d job(s) running may finish within %d ms",
		 running_count(w), w->o->grace_ms);
	coord_claim_cancel(&w->cc);
	w->stop_at_ms = cdp_wall_ms() + w->o->grace_ms;
	for (j = w->jobs; j; j = next) {
		next = j->next;
		if (!j->running) {
			emit_log(w, j->id, j->attempt, "info", "the worker stopped; job handed back");
			complete(w, j, "released", NULL, NULL, NULL, NULL);
		}
	}
}

static void loop(struct worker *w)
{
	int stopping = 0;

	for (;;) {
		struct curl_waitfd fds[64];
		unsigned nfds = 0;
		int64_t now;
		int code;
		char *body = NULL, err[600];
		size_t len = 0;

		reap(w);
		for (int i = 0; i < w->o->slots; i++) {
			struct slot *s = &w->slots[i];
			if (!s->pid)
				continue;
			read_slot(w, s);
			if (s->exited && !s->eof) {
				/* its pipe may be held open by a grandchild: don't wait */
				s->eof = 1;
			}
			if (s->exited && s->eof)
				finish_slot(w, s);
		}
		now = cdp_wall_ms();
		if (stop_requested && !stopping) {
			stopping = 1;
			begin_stop(w);
		}
		if (stopping) {
			if (!running_count(w))
				break;
			if (now > w->stop_at_ms || stop_requested > 1)
				for (int i = 0; i < w->o->slots; i++)
					if (w->slots[i].pid && !w->slots[i].killed) {
						w->slots[i].killed = "shutdown";
						kill(w->slots[i].pid, SIGKILL);
					}
		}
		for (int i = 0; i < w->o->slots; i++) {
			struct slot *s = &w->slots[i];
			if (s->pid && !s->killed && now > s->kill_at_ms) {
				log_warn("job %s: past its deadline; killing pid %d", s->job->id,
					 (int)s->pid);
				s->killed = "deadline";
				kill(s->pid, SIGKILL);
			}
		}
		ensure_browser(w);
		check_pool(w);
		{
			struct wjob *j;
			for (j = w->jobs; j; j = j->next) {
				struct slot *s;
				int k;
				if (j->running || now < j->next_try_ms)
					continue;
				s = free_slot(w);
				if (!s)
					break;
				k = next_browser(w, w->warm.pid && !w->warm.retiring ?
						 w->warm.browser : -1);
				if (k == NO_BROWSER)
					break;
				start_job(w, j, s, k);
			}
		}
		prewarm_expire(w, stopping);
		if (!stopping)
			prewarm(w);
		heartbeats(w);
		drain_held(w, 0);
		flush(w, 2000);
		if (!stopping && !w->cc.claim && !w->held && w->njobs < w->o->slots &&
		    now >= w->next_claim_ms && browsers_up(w) &&
		    coord_claim_start(&w->cc, w->o->slots - w->njobs, w->o->apps, w->o->poll_s,
				      err, sizeof(err)))
			log_error("%s", err);

		for (int i = 0; i < w->o->slots && nfds < 64; i++)
			if (w->slots[i].pid && !w->slots[i].eof) {
				fds[nfds].fd = w->slots[i].fd;
				fds[nfds].events = CURL_WAIT_POLLIN;
				fds[nfds].revents = 0;
				nfds++;
			}
		if (chld_pipe[0] >= 0 && nfds < 64) {
			fds[nfds].fd = chld_pipe[0];
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds].revents = 0;
			nfds++;
		}
		/* with /metrics served from this loop, it wakes more often */
		if (coord_wait(&w->cc, fds, nfds, w->m.h ? 50 : 200, &code, &body, &len, err,
			       sizeof(err)))
			claim_done(w, code, body, len, err);
		chld_drain();
		wmetrics_service(&w->m);
	}
}

/* /metrics asks at each scrape. */
static void gauges(void *arg, struct wm_gauges *g)
{
	struct worker *w = arg;
	int64_t oldest = store_outbox_oldest_ms(w->st), now = store_now_ms();

	g->running = running_count(w);
	g->queued = w->njobs - g->running;
	g->held = w->nheld;
	g->outbox = store_outbox_pending(w->st);
	if (g->outbox < 0)
		g->outbox = 0;
	g->outbox += w->nheld;
	if (w->held && (!oldest || w->held->at_ms < oldest))
		oldest = w->held->at_ms;
	g->oldest_s = oldest && now > oldest ? (double)(now - oldest) / 1000.0 : 0;
	g->pool = w->pooled ? &w->pool : NULL;
	g->own_up = w->b.ws_url != NULL;
}

int worker_run(const struct worker_opts *o)
{
	struct worker w;
	struct sigaction sa;
	char err[700], host[100], id[160];
	int rc = 2, n;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.warm.ctl = w.warm.fd = -1;
	for (int i = 0; i < o->nbrowsers; i++) {
		int bad = o->browsers[i][0] == '@' ?
			pool_add_file(&w.pool, o->browsers[i] + 1, err, sizeof(err)) :
			pool_add(&w.pool, o->browsers[i], err, sizeof(err));
		if (bad) {
			fprintf(stderr, "idlcm-agent: %s\n", err);
			pool_free(&w.pool);
			return 2;
		}
	}
	w.pooled = w.pool.n > 0;
	w.own_browser = !w.pooled;
	w.m.gauges = gauges;
	w.m.arg = &w;
	if (o->worker_id) {
		snprintf(id, sizeof(id), "%s", o->worker_id);
	} else {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "worker");
		host[sizeof(host) - 1] = '\0';
		snprintf(id, sizeof(id), "%s-%d", host, (int)getpid());
	}
	keep_secrets_from_children();
	if (job_mkdir_p(o->runs_dir)) {
		fprintf(stderr, "idlcm-agent: cannot create runs dir %s: %s\n", o->runs_dir,
			strerror(errno));
		pool_free(&w.pool);
		return 2;
	}
	w.st = store_open(o->db, err, sizeof(err));
	if (!w.st) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		pool_free(&w.pool);
		return 2;
	}
	if (coord_client_init(&w.cc, o->coordinator, o->token_file, id, err, sizeof(err))) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		goto out;
	}
	w.slots = calloc((size_t)o->slots, sizeof(*w.slots));
	if (!w.slots)
		goto out;
	for (int i = 0; i < o->slots; i++)
		w.slots[i].fd = -1;
	n = store_job_abandon_stale(w.st);
	if (n > 0)
		log_warn("%d job(s) left unfinished by an earlier run: their leases lapse and "
			 "the coordinator requeues them", n);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (!pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK)) {
		sa.sa_handler = on_child;
		sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
		sigaction(SIGCHLD, &sa, NULL);
	}

	if (o->metrics_listen && wmetrics_start(&w.m, o->metrics_listen, err, sizeof(err))) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		goto out;
	}
	log_info("worker %s: %d slot(s), coordinator %s, db %s", id, o->slots,
		 o->coordinator, o->db);
	for (int k = 0; k < w.pool.n; k++)
		check_browser(&w, k);
	loop(&w);
	/* last chance for what is still held or in the outbox */
	if (drain_held(&w, 1)) {
		/* the store never came back: the log keeps what it could not */
		for (struct held *h = w.held; h; h = h->next) {
			char *t = h->ev ? cJSON_PrintUnformatted(h->ev) : NULL;
			log_error("job %s: not written to the store (%s): %s %s", h->job_id,
				  store_error(w.st), h->ev ? "event" : "complete",
				  t ? t : h->complete ? h->complete : "?");
			cJSON_free(t);
		}
	}
	w.next_flush_ms = 0;
	flush(&w, 5000);
	n = store_outbox_pending(w.st);
	if (n > 0)
		log_warn("%d message(s) stay in the outbox for the next start", n);
	log_info("worker stopped");
	rc = 0;
out:
	while (w.held) {
		struct held *h = w.held;
		w.held = h->next;
		cJSON_Delete(h->ev);
		free(h->complete);
		free(h);
	}
	while (w.jobs)
		job_unlink(&w, w.jobs);
	prewarm_stop(&w);
	free(w.slots);
	coord_client_release(&w.cc);
	browser_release(&w.b);
	reap(&w);
	wmetrics_stop(&w.m);
	pool_free(&w.pool);
	store_free(w.st);
	return rc;
}
