/*
 * The coordinator's HTTP API: the worker protocol (claim with long poll,
 * heartbeat, events idempotent by (job, attempt, seq), complete), the
 * admin calls (enqueue, users table, job history, integration status) and
 * the lease bookkeeping that puts an expired job back in the queue.
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "coordinator.h"
#include "httpd.h"
#include "log.h"
#include "scim.h"
#include "states.h"

#define MAX_CAPACITY 64
#define MAX_EVENTS 1000

struct waiter {
	struct httpd_req *req;
	char worker[128];
	int capacity;
	cJSON *apps;
	struct waiter *next;
};

static const char *queued_state(const char *action)
{
	const struct action_states *st = action_lookup(action);
	return st ? st->queued : NULL;
}

/* An id or app name: 1-64 of [A-Za-z0-9._-] (it goes into paths and URLs). */
int coord_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	/* not "." or "..": a URL path segment of those is never routed as
	 * the name (the server resolves dot segments first) */
	if (!n || n > 64 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return 0;
	}
	return 1;
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static const char *user_key(const cJSON *user)
{
	const char *k = str(user, "email");
	if (!k)
		k = str(user, "username");
	if (!k)
		k = str(user, "id");
	return k;
}

/* Equal tokens, in time that tells nothing about where they differ:
 * both are hashed first, so not even the length shows. */
static int token_equal(const char *given, const char *want)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)given, strlen(given), a);
	SHA256((const unsigned char *)want, strlen(want), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

static int authorized(struct coord *c, struct httpd_req *req)
{
	const char *h;

	if (!c->token)
		return 1;
	h = httpd_req_header(req, "authorization");
	if (h && !strncmp(h, "Bearer ", 7) && token_equal(h + 7, c->token))
		return 1;
	httpd_add_header(req, "www-authenticate", "Bearer");
	httpd_reply_error(req, 401, "missing or wrong bearer token");
	return 0;
}

static cJSON *json_col(struct cstore_rows *st, int col)
{
	const char *t = cstore_text(st, col);
	return t ? cJSON_Parse(t) : NULL;
}

static void add_text(cJSON *o, const char *k, struct cstore_rows *st, int col)
{
	const char *t = cstore_text(st, col);
	if (t)
		cJSON_AddStringToObject(o, k, t);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char buf[40];
	if (!ms) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	cdb_iso(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, k, buf);
}

static int set_status(struct coord *c, const char *integration, const char *status,
		      const char *detail, int settled)
{
	const char *keep = validation_status(c, integration, status, settled);

	if (keep != status && detail == NULL)	/* say why it did not move */
		detail = "waiting for this app's first validation to pass";
	return cstore_exec(c->store, "UPDATE integrations SET status = ?, detail = ?, updated_ms = ?"
		 " WHERE id = ?", "ttit", keep, detail,
		 cdb_now_ms(), integration);
}

/* Upsert a user row's state (and whatever else app_user tells): 0, or -1
 * when a write failed. */
static int set_user(struct coord *c, const char *integration, const char *key,
		    const char *state, const char *detail, const char *job_id,
		    const cJSON *app_user)
{
	int64_t now = cdb_now_ms();
	int bad = 0;

	if (!key)
		return 0;
	bad |= cstore_exec(c->store, "INSERT INTO users (integration, user_key, changed_ms)"
			" VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "tti", integration, key, now);
	if (state)
		bad |= cstore_exec(c->store, "UPDATE users SET state = ?, detail = ?, job_id = ?,"
				" changed_ms = ? WHERE integration = ? AND user_key = ?",
				"tttitt", state, detail, job_id, now, integration, key);
	if (app_user) {
		const cJSON *roles = cJSON_GetObjectItemCaseSensitive(app_user, "roles");
		const cJSON *active = cJSON_GetObjectItemCaseSensitive(app_user, "active");
		const cJSON *ents = cJSON_GetObjectItemCaseSensitive(app_user, "entitlements");
		char *r = roles ? cJSON_PrintUnformatted(roles) : NULL;
		char *en = cJSON_IsArray(ents) || cJSON_IsNumber(ents) ?
			cJSON_PrintUnformatted(ents) : NULL;
		bad |= cstore_exec(c->store, "UPDATE users SET"
			 " email = coalesce(?, email), username = coalesce(?, username),"
			 " login_method = coalesce(?, login_method),"
			 " sso_label = coalesce(?, sso_label), roles = coalesce(?, roles),"
			 " active = coalesce(?, active), last_used = coalesce(?, last_used),"
			 " upstream_id = coalesce(?, upstream_id),"
			 " display_name = coalesce(?, display_name),"
			 " entitlements = coalesce(?, entitlements)"
			 " WHERE integration = ? AND user_key = ?", "tttttttttttt",
			 str(app_user, "email"), str(app_user, "username"),
			 str(app_user, "login_method"), str(app_user, "sso_label"), r,
			 cJSON_IsBool(active) ? (cJSON_IsTrue(active) ? "1" : "0") : NULL,
			 str(app_user, "last_used"), str(app_user, "upstream_id"),
			 str(app_user, "display_name"), en, integration, key);
		cJSON_free(r);
		cJSON_free(en);
	}
	return bad ? -1 : 0;
}

/* A transaction's writes all land or none do: 0 after COMMIT, or -1
 * after ROLLBACK when any write (bad) or the COMMIT itself failed. */
static int finish_tx(struct coord *c, int bad)
{
	if (!bad && !cstore_commit(c->store))
		return 0;
	if (cstore_in_tx(c->store))
		cstore_rollback(c->store);
	return -1;
}

static int reply_db_error(struct httpd_req *req, struct coord *c, const char *what)
{
	return httpd_reply_error(req, 503, "%s: the coordinator cannot write its database (%s); "
				 "nothing was applied, try again", what, cstore_errmsg(c->store));
}

/* ------------------------------------------------------------ leases */

/* Running jobs past their lease go back to the queue (or fail for good
 * once they have used their attempts).  Returns how many were requeued. */
static int sweep(struct coord *c)
{
	int64_t now = cdb_now_ms();
	char sql[600];
	int n;

	/* the error object is built by the engine (one statement for every
	 * expired job); only the function's name differs */
	snprintf(sql, sizeof(sql), "UPDATE jobs SET status = 'failed', outcome = 'failed',"
		 " error = %s('class', 'transient', 'message',"
		 "   'the lease expired on attempt ' || attempt || ' of ' || max_attempts"
		 "   || ' (worker ' || coalesce(worker, '?') || ' went silent)'),"
		 " updated_ms = ? WHERE status = 'running' AND lease_until_ms < ?"
		 " AND attempt >= max_attempts",
		 cstore_dialect(c->store) == CSTORE_POSTGRES ? "json_build_object" : "json_object");
	cstore_exec(c->store, sql, "ii", now, now);
	cstore_exec(c->store, "UPDATE jobs SET status = 'queued', updated_ms = ?"
		 " WHERE status = 'running' AND lease_until_ms < ?", "ii", now, now);
	n = cstore_changes(c->store);
	if (n) {
		log_info("%d job(s) back in the queue (lease expired)", n);
		cstore_notify(c->store, COORD_JOBS_CHANNEL);
	}
	return n;
}

static int app_wanted(const cJSON *apps, const char *app)
{
	const cJSON *a;
	if (!cJSON_IsArray(apps) || !cJSON_GetArraySize(apps))
		return 1;
	cJSON_ArrayForEach(a, apps)
		if (cJSON_IsString(a) && !strcmp(a->valuestring, app))
			return 1;
	return 0;
}

/* A job for a user who has another job running waits for it: an IdP that
 * creates a user and changes them a second later must not have the update
 * race the invite on a second slot. */
static int user_busy(struct coord *c, const char *job_id)
{
	return cstore_int(c->store, 0, "SELECT count(*) FROM jobs j JOIN jobs r ON"
		       " r.integration = j.integration AND r.user_key = j.user_key"
		       " WHERE j.id = ? AND r.status = 'running' AND r.id <> j.id", "t", job_id) > 0;
}

/* May a job for this user be leased in this claim?  Not while another of
 * the user's jobs runs (user_busy).  On PostgreSQL two coordinator
 * processes claim at once, and neither sees the other's uncommitted
 * lease: both would find the user idle and run an update beside the
 * invite.  So a claim first takes a lock on the user for the rest of its
 * transaction; a claim that cannot (another is leasing one of the user's
 * jobs right now) leaves the job for later.  Trying, never waiting: two
 * claims each holding one user and wanting the other's cannot deadlock. */
static int user_free(struct coord *c, const char *job_id, const char *integration,
		     const char *user_key)
{
	if (!user_key || !*user_key)
		return 1;
	if (cstore_dialect(c->store) == CSTORE_POSTGRES) {
		char key[600];
		snprintf(key, sizeof(key), "user:%s\n%s", integration ? integration : "", user_key);
		if (cstore_int(c->store, 0, "SELECT CASE WHEN pg_try_advisory_xact_lock("
			       COORD_USER_LOCK_KEY ") THEN 1 ELSE 0 END", "t", key) != 1)
			return 0;
	}
	return !user_busy(c, job_id);
}

/* Is job id still queued and now ours to lease?  Its attempts so far,
 * or -1.  Another coordinator
 * process on the same PostgreSQL claims at the same time: each locks the
 * rows it takes (only those) and skips the ones another holds, so no job
 * is handed out twice and neither waits.  On SQLite the transaction's
 * write lock already makes the page read current. */
static int lock_queued(struct coord *c, const char *id, int page_attempt)
{
	struct cstore_rows *r;
	int attempt = -1;

	if (cstore_dialect(c->store) != CSTORE_POSTGRES)
		return page_attempt;
	r = cstore_query(c->store, "SELECT attempt FROM jobs WHERE id = ? AND status = 'queued'"
			 " FOR UPDATE SKIP LOCKED", "t", id);
	if (cstore_next(r))	/* read under the lock: the page may be stale */
		attempt = (int)cstore_int64(r, 0);
	cstore_done(r);
	return attempt;
}

/* Lease up to capacity queued jobs to worker: {jobs:[…]} or NULL. */
static cJSON *take_jobs(struct coord *c, const char *worker, int capacity,
			const cJSON *apps)
{
	struct cstore_rows *st = NULL;
	cJSON *out = NULL, *arr = NULL;
	int64_t now = cdb_now_ms(), after = -1;
	int got = 0, rows = 0, bad = 0;
	struct coord_hist waits = { 0 };

	if (cstore_begin(c->store))
		return NULL;
	/* Page through the queue in order: a worker restricted to some apps
	 * finds theirs however many other apps' jobs are queued ahead. */
	for (;;) {
		const char *id, *app;
		int lease_s, attempt;
		cJSON *job, *acct;

		if (!st) {
			if (got >= capacity)
				break;
			st = cstore_query(c->store, "SELECT j.id, j.body, j.app, j.lease_s, j.attempt,"
				       " i.account, j.n, j.updated_ms, j.integration, j.user_key"
				       " FROM jobs j LEFT JOIN integrations i ON i.id = j.integration"
				       " WHERE j.status = 'queued' AND j.n > ? ORDER BY j.n LIMIT 200",
				       "i", after);
			if (!st) {
				bad = 1;
				break;
			}
			rows = 0;
		}
		if (got >= capacity || !cstore_next(st)) {
			cstore_done(st);
			st = NULL;
			if (got >= capacity || rows < 200)
				break;
			continue;
		}
		rows++;
		after = cstore_int64(st, 6);
		id = cstore_text(st, 0);
		app = cstore_text(st, 2);
		lease_s = (int)cstore_int64(st, 3);
		if (!app_wanted(apps, app) ||
		    !user_free(c, id, cstore_text(st, 8), cstore_text(st, 9)) ||
		    (attempt = lock_queued(c, id, (int)cstore_int64(st, 4))) < 0)
			continue;
		attempt++;
		job = json_col(st, 1);
		if (!job)
			job = cJSON_CreateObject();
		if (cJSON_IsObject(job)) {
			cJSON_DeleteItemFromObject(job, "attempt");
			cJSON_DeleteItemFromObject(job, "lease_s");
			cJSON_AddNumberToObject(job, "attempt", attempt);
			cJSON_AddNumberToObject(job, "lease_s", lease_s);
			/* The answer names the account's secrets, never carries
			 * them: the worker fetches each (POST /v1/jobs/{id}/secret)
			 * with the lease key, while the lease lives. */
			acct = json_col(st, 5);
			if (acct)
				coord_account_refer(str(job, "integration") ?
						    str(job, "integration") : "", acct);
			if (acct && !cJSON_GetObjectItem(job, "account"))
				cJSON_AddItemToObject(job, "account", acct);
			else
				cJSON_Delete(acct);
			{
				char lk[65];
				coord_lease_key(id, attempt, worker, lk);
				cJSON_DeleteItemFromObject(job, "lease_key");
				if (lk[0])
					cJSON_AddStringToObject(job, "lease_key", lk);
				coord_artifact_key(id, attempt, worker, lk);
				cJSON_DeleteItemFromObject(job, "artifact_key");
				if (lk[0])
					cJSON_AddStringToObject(job, "artifact_key", lk);
			}
		}
		bad |= cstore_exec(c->store, "UPDATE jobs SET status = 'running', attempt = ?, worker = ?,"
				" lease_until_ms = ?, updated_ms = ? WHERE id = ?", "ntiit",
				attempt, worker, now + (int64_t)lease_s * 1000, now, id);
		metrics_claim_wait_observe(&waits, (double)(now - cstore_int64(st, 7)) / 1000.0);
		if (!arr) {
			out = cJSON_CreateObject();
			arr = cJSON_AddArrayToObject(out, "jobs");
		}
		cJSON_AddItemToArray(arr, job);
		got++;
	}
	cstore_done(st);
	/* a lease that was not written is not handed out */
	if (finish_tx(c, bad)) {
		cJSON_Delete(out);
		return NULL;
	}
	metrics_hist_add(&c->metrics.claim_wait, &waits);
	return out;
}

/* New work: answer the long polls that can take it. */
static void wake_waiters(struct coord *c)
{
	struct waiter **pp = &c->waiters;

	while (*pp) {
		struct waiter *w = *pp;
		cJSON *jobs = take_jobs(c, w->worker, w->capacity, w->apps);
		if (!jobs) {
			pp = &w->next;
			continue;
		}
		httpd_reply_json(w->req, 200, jobs);
		cJSON_Delete(jobs);
		httpd_resume(w->req);
		*pp = w->next;
		cJSON_Delete(w->apps);
		free(w);
	}
}

/* Jobs became claimable: answer this process's long polls, and tell the
 * other coordinator processes on the database (PostgreSQL NOTIFY: their
 * listeners wake theirs). */
static void jobs_changed(struct coord *c)
{
	cstore_notify(c->store, COORD_JOBS_CHANNEL);
	wake_waiters(c);
}

static void on_claim_wait(struct httpd_req *req, enum httpd_defer_reason why, void *arg)
{
	struct coord *c = arg;
	struct waiter **pp = &c->waiters, *w = NULL;

	while (*pp && (*pp)->req != req)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	w = *pp;
	*pp = w->next;
	if (why == HTTPD_DEFER_TIMEOUT) {
		cJSON *jobs;
		sweep(c);
		jobs = take_jobs(c, w->worker, w->capacity, w->apps);
		if (jobs)
			httpd_reply_json(req, 200, jobs);
		else
			httpd_reply_json(req, 204, NULL);
		cJSON_Delete(jobs);
	}
	cJSON_Delete(w->apps);
	free(w);
}

/* POST /v1/claim {worker, capacity, apps?, wait_s?} */
/* --test-hooks: the next n claims get a 200 that is not a claim answer
 * (what a captive portal or a misrouted proxy sends). */
static int garbage_claims;

static int h_claim(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *jerr, *worker;
	cJSON *body, *cap, *apps, *wait, *jobs, *a;
	int capacity, wait_s = c->max_wait_s;
	struct waiter *w;

	if (!authorized(c, req))
		return 0;
	if (garbage_claims > 0) {
		static const char page[] = "<html><body>Please sign in to the network</body></html>";
		garbage_claims--;
		return httpd_reply(req, 200, "text/html", page, sizeof(page) - 1);
	}
	body = httpd_req_json(req, &jerr);
	if (!body)
		return httpd_reply_error(req, 400, "claim: %s", jerr);
	worker = str(body, "worker");
	cap = cJSON_GetObjectItemCaseSensitive(body, "capacity");
	apps = cJSON_GetObjectItemCaseSensitive(body, "apps");
	wait = cJSON_GetObjectItemCaseSensitive(body, "wait_s");
	if (!cJSON_IsObject(body))
		return httpd_reply_error(req, 400, "claim: body must be a JSON object");
	if (!worker || !*worker || strlen(worker) > 120)
		return httpd_reply_error(req, 400, "claim: \"worker\" must be a non-empty string");
	if (!cJSON_IsNumber(cap) || cap->valuedouble < 1 || cap->valuedouble > MAX_CAPACITY ||
	    cap->valuedouble != (int)cap->valuedouble)
		return httpd_reply_error(req, 400, "claim: \"capacity\" must be a whole number "
					 "from 1 to %d", MAX_CAPACITY);
	if (apps && !cJSON_IsArray(apps))
		return httpd_reply_error(req, 400, "claim: \"apps\" must be an array of strings");
	cJSON_ArrayForEach(a, apps)
		if (!cJSON_IsString(a))
			return httpd_reply_error(req, 400, "claim: \"apps\" must be an array of strings");
	if (wait && (!cJSON_IsNumber(wait) || wait->valuedouble < 0 || wait->valuedouble > 300))
		return httpd_reply_error(req, 400, "claim: \"wait_s\" must be a number from 0 to 300");
	if (wait && wait->valuedouble < wait_s)
		wait_s = (int)wait->valuedouble;
	capacity = cap->valueint;

	sweep(c);
	jobs = take_jobs(c, worker, capacity, apps);
	if (jobs) {
		httpd_reply_json(req, 200, jobs);
		cJSON_Delete(jobs);
		return 0;
	}
	if (!wait_s)
		return httpd_reply_json(req, 204, NULL);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->req = req;
	snprintf(w->worker, sizeof(w->worker), "%s", worker);
	w->capacity = capacity;
	w->apps = apps ? cJSON_Duplicate(apps, 1) : NULL;
	w->next = c->waiters;
	c->waiters = w;
	httpd_defer(req, (unsigned)wait_s * 1000, on_claim_wait, c);
	return 0;
}

/* ------------------------------------------------------------ enqueue */

static int check_user(const cJSON *user, const char *action, char *err, size_t n)
{
	const cJSON *roles, *r;
	static const char *const strs[] = { "id", "upstream_id", "email", "username",
					    "display_name", NULL };

	if (!user) {
		snprintf(err, n, "%s needs a \"user\" object", action);
		return -1;
	}
	if (!cJSON_IsObject(user)) {
		snprintf(err, n, "\"user\" must be an object");
		return -1;
	}
	for (int i = 0; strs[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(user, strs[i]);
		if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
			snprintf(err, n, "\"user.%s\" must be a string", strs[i]);
			return -1;
		}
	}
	if (!str(user, "email") && !str(user, "username")) {
		snprintf(err, n, "\"user\" needs an \"email\" or \"username\"");
		return -1;
	}
	roles = cJSON_GetObjectItemCaseSensitive(user, "roles");
	if (roles && !cJSON_IsArray(roles)) {
		snprintf(err, n, "\"user.roles\" must be an array of strings");
		return -1;
	}
	cJSON_ArrayForEach(r, roles)
		if (!cJSON_IsString(r)) {
			snprintf(err, n, "\"user.roles\" must be an array of strings");
			return -1;
		}
	if (!strcmp(action, "update") && !roles) {
		snprintf(err, n, "update needs \"user.roles\"");
		return -1;
	}
	return 0;
}

static int num_field(const cJSON *j, const char *k, int lo, int hi, int dflt, int *out,
		     char *err, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    v->valuedouble != (int)v->valuedouble) {
		snprintf(err, n, "\"%s\" must be a whole number from %d to %d", k, lo, hi);
		return -1;
	}
	*out = v->valueint;
	return 0;
}

/* Validate and store one job: 201 new, 200 same idempotency key, 4xx.
 * dry_run: validate only (0 when it would be stored). */
static int enqueue_one(struct coord *c, const cJSON *j, cJSON **out, char *err, size_t n,
		       int dry_run)
{
	const char *integration = str(j, "integration"), *app = str(j, "app");
	const char *action = str(j, "action"), *id = str(j, "id");
	const char *ikey = str(j, "idempotency_key"), *have_app;
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
	const cJSON *account = cJSON_GetObjectItemCaseSensitive(j, "account");
	int lease_s, timeout_s, max_attempts, known = 0, status = 201, bad = 0;
	char idbuf[80];
	int64_t now = cdb_now_ms(), nextn;
	cJSON *job;
	char *text;

	if (!cJSON_IsObject(j))
		return snprintf(err, n, "a job must be a JSON object"), 400;
	if (!coord_valid_name(integration))
		return snprintf(err, n, "\"integration\" must be " COORD_NAME_RULE), 400;
	if (!coord_valid_name(app))
		return snprintf(err, n, "\"app\" must be " COORD_NAME_RULE), 400;
	known = action_lookup(action) != NULL;
	if (!known)
		return snprintf(err, n, "\"action\" must be one of invite, update, remove, "
				"list_users, validate, sync (got %s%s%s)", action ? "\"" : "",
				action ? action : "none", action ? "\"" : ""), 400;
	if (queued_state(action) && check_user(user, action, err, n))
		return 400;
	if (id && !coord_valid_name(id))
		return snprintf(err, n, "\"id\" must be " COORD_NAME_RULE), 400;
	if (ikey && strlen(ikey) > 200)
		return snprintf(err, n, "\"idempotency_key\" is longer than 200 bytes"), 400;
	if (cJSON_GetObjectItemCaseSensitive(j, "idempotency_key") && !ikey)
		return snprintf(err, n, "\"idempotency_key\" must be a string"), 400;
	if (account && !cJSON_IsObject(account))
		return snprintf(err, n, "\"account\" must be an object"), 400;
	{
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "expected"), *e;
		const cJSON *xm = cJSON_GetObjectItemCaseSensitive(j, "exempt");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "max_delete_ratio");
		int k = 0;
		const cJSON *cd = cJSON_GetObjectItemCaseSensitive(j, "correct_drift");
		if (cd && (!cJSON_IsBool(cd) || strcmp(action, "sync")))
			return snprintf(err, n, "\"correct_drift\" is true or false, on sync jobs"), 400;
		if ((ex || xm || r) && strcmp(action, "sync"))
			return snprintf(err, n, "\"expected\", \"exempt\" and \"max_delete_ratio\" "
					"are for sync jobs"), 400;
		if (ex && !cJSON_IsArray(ex))
			return snprintf(err, n, "\"expected\" must be an array of users"), 400;
		cJSON_ArrayForEach(e, ex) {
			if (!cJSON_IsObject(e) || (!str(e, "email") && !str(e, "username")))
				return snprintf(err, n, "expected[%d] must be a user with an \"email\" "
						"or \"username\"", k), 400;
			k++;
		}
		if (xm && !cJSON_IsArray(xm))
			return snprintf(err, n, "\"exempt\" must be an array"), 400;
		if (r && (!cJSON_IsNumber(r) || r->valuedouble <= 0 || r->valuedouble > 1))
			return snprintf(err, n, "\"max_delete_ratio\" must be a number above 0, "
					"at most 1"), 400;
	}
	if (num_field(j, "lease_s", 1, 3600, c->default_lease_s, &lease_s, err, n) ||
	    num_field(j, "timeout_s", 1, 24 * 3600, 300, &timeout_s, err, n) ||
	    num_field(j, "max_attempts", 1, 100, 5, &max_attempts, err, n))
		return 400;

	if (ikey && !dry_run) {
		struct cstore_rows *st = cstore_query(c->store, "SELECT id FROM jobs WHERE idempotency_key = ?",
					     "t", ikey);
		if (st && cstore_next(st)) {
			*out = cJSON_CreateObject();
			add_text(*out, "id", st, 0);
			cJSON_AddBoolToObject(*out, "existing", 1);
			cstore_done(st);
			return 200;
		}
		cstore_done(st);
	}
	{
		struct cstore_rows *st = cstore_query(c->store, "SELECT app FROM integrations WHERE id = ?",
					     "t", integration);
		have_app = NULL;
		if (st && cstore_next(st))
			have_app = cstore_text(st, 0);
		if (have_app && strcmp(have_app, app)) {
			snprintf(err, n, "integration \"%s\" is for app \"%s\", not \"%s\"",
				 integration, have_app, app);
			cstore_done(st);
			return 409;
		}
		cstore_done(st);
	}
	if (id && cstore_int(c->store, 0, "SELECT count(*) FROM jobs WHERE id = ?", "t", id))
		return snprintf(err, n, "job \"%s\" exists already", id), 409;
	if (dry_run)
		return 0;
	/* drawn only for a job stored: on PostgreSQL a number is a sequence's,
	 * and a checked-only batch would burn some */
	nextn = cstore_next_serial(c->store, "jobs", "n");
	if (!id) {
		snprintf(idbuf, sizeof(idbuf), "j%lld", (long long)nextn);
		id = idbuf;
		if (cstore_int(c->store, 0, "SELECT count(*) FROM jobs WHERE id = ?", "t", id))
			return snprintf(err, n, "job \"%s\" exists already", id), 409;
	}

	job = cJSON_CreateObject();
	cJSON_AddStringToObject(job, "id", id);
	cJSON_AddStringToObject(job, "integration", integration);
	cJSON_AddStringToObject(job, "app", app);
	cJSON_AddStringToObject(job, "action", action);
	if (user)
		cJSON_AddItemToObject(job, "user", cJSON_Duplicate(user, 1));
	if (str(j, "account_ref"))
		cJSON_AddStringToObject(job, "account_ref", str(j, "account_ref"));
	{
		static const char *const sync_keys[] = { "expected", "exempt", "max_delete_ratio", NULL };
		for (int i = 0; sync_keys[i]; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, sync_keys[i]);
			if (v)
				cJSON_AddItemToObject(job, sync_keys[i], cJSON_Duplicate(v, 1));
		}
	}
	cJSON_AddNumberToObject(job, "timeout_s", timeout_s);
	cJSON_AddNumberToObject(job, "max_attempts", max_attempts);
	cJSON_AddStringToObject(job, "idempotency_key", ikey ? ikey : id);
	text = cJSON_PrintUnformatted(job);

	if (cstore_begin(c->store)) {
		cJSON_free(text);
		cJSON_Delete(job);
		return snprintf(err, n, "cannot store job \"%s\": %s", id,
				cstore_errmsg(c->store)), 503;
	}
	bad |= cstore_exec(c->store, "INSERT INTO integrations (id, app, updated_ms)"
			" VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "tti", integration, app, now);
	if (account) {
		char *a = coord_account_seal(integration, account);
		bad |= !a || cstore_exec(c->store, "UPDATE integrations SET account = ? WHERE id = ?",
				      "tt", a, integration);
		cJSON_free(a);
	}
	if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "correct_drift")))
		bad |= cstore_exec(c->store, "UPDATE integrations SET correct_drift = ? WHERE id = ?",
				"nt", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j,
				"correct_drift")) ? 1 : 0, integration);
	if (bad || cstore_exec(c->store, "INSERT INTO jobs (id, n, integration, app, action, user_key, body,"
		     " idempotency_key, max_attempts, lease_s, created_ms, updated_ms)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "tittttttnnii",
		     id, nextn, integration, app, action, user ? user_key(user) : NULL, text,
		     ikey ? ikey : id, max_attempts, lease_s, now, now)) {
		int conflict = !bad && cstore_conflict(c->store);

		cstore_rollback(c->store);
		cJSON_free(text);
		cJSON_Delete(job);
		/* another coordinator process stored the same key meanwhile:
		 * the answer the check above would have given */
		if (conflict && ikey) {
			struct cstore_rows *st = cstore_query(c->store, "SELECT id FROM jobs"
							      " WHERE idempotency_key = ?", "t", ikey);
			if (cstore_next(st)) {
				*out = cJSON_CreateObject();
				add_text(*out, "id", st, 0);
				cJSON_AddBoolToObject(*out, "existing", 1);
				cstore_done(st);
				return 200;
			}
			cstore_done(st);
		}
		if (conflict)
			return snprintf(err, n, "job \"%s\" exists already", id), 409;
		return snprintf(err, n, "cannot store job \"%s\"", id), 500;
	}
	if (queued_state(action))
		bad |= set_user(c, integration, user_key(user), queued_state(action), NULL, id, user);
	bad |= set_status(c, integration, !strcmp(action, "validate") ? "validating" :
			  "in_progress", NULL, 0);
	cJSON_free(text);
	if (finish_tx(c, bad)) {
		cJSON_Delete(job);
		return snprintf(err, n, "cannot store job \"%s\": %s", id,
				cstore_errmsg(c->store)), 503;
	}
	*out = job;
	return status;
}

static int enqueue(struct coord *c, struct httpd_req *req)
{
	const char *jerr;
	cJSON *body = httpd_req_json(req, &jerr), *list, *out, *j;
	char err[300];
	int status = 201, i = 0;

	if (!body)
		return httpd_reply_error(req, 400, "enqueue: %s", jerr);
	list = cJSON_GetObjectItemCaseSensitive(body, "jobs");
	if (!list) {
		cJSON *one = NULL;
		status = enqueue_one(c, body, &one, err, sizeof(err), 0);
		if (status >= 400)
			return httpd_reply_error(req, status, "enqueue: %s", err);
		jobs_changed(c);
		httpd_reply_json(req, status, one);
		cJSON_Delete(one);
		return 0;
	}
	if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list) || cJSON_GetArraySize(list) > 1000)
		return httpd_reply_error(req, 400, "enqueue: \"jobs\" must be an array of 1 to 1000 jobs");
	/* check every job first so that a bad one enqueues nothing */
	cJSON_ArrayForEach(j, list) {
		cJSON *none = NULL;
		int s = enqueue_one(c, j, &none, err, sizeof(err), 1);
		cJSON_Delete(none);
		if (s >= 400)
			return httpd_reply_error(req, s, "enqueue: jobs[%d]: %s", i, err);
		i++;
	}
	out = cJSON_CreateObject();
	cJSON_AddArrayToObject(out, "jobs");
	i = 0;
	cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(body, "jobs")) {
		cJSON *one = NULL;
		int s = enqueue_one(c, j, &one, err, sizeof(err), 0);
		if (s >= 400) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "index", i);
			cJSON_AddStringToObject(e, "error", err);
			cJSON_AddItemToArray(cJSON_GetObjectItem(out, "jobs"), e);
			status = 207;
		} else {
			cJSON_AddItemToArray(cJSON_GetObjectItem(out, "jobs"), one);
		}
		i++;
	}
	jobs_changed(c);
	httpd_reply_json(req, status, out);
	cJSON_Delete(out);
	return 0;
}

int coord_enqueue(struct coord *c, const cJSON *job, cJSON **out, char *err, size_t n)
{
	int status = enqueue_one(c, job, out, err, n, 0);
	if (status < 400)
		jobs_changed(c);
	return status;
}

/* ------------------------------------------------------ per-job calls */

static int heartbeat(struct coord *c, struct httpd_req *req, const char *id)
{
	const char *jerr, *worker, *status = NULL, *holder = NULL;
	cJSON *body = httpd_req_json(req, &jerr), *out, *att;
	struct cstore_rows *st;
	int attempt = 0, lease_s = 0, want;
	int64_t until;

	if (!body || !cJSON_IsObject(body))
		return httpd_reply_error(req, 400, "heartbeat: %s", body ? "body must be an object" : jerr);
	worker = str(body, "worker");
	if (!worker)
		return httpd_reply_error(req, 400, "heartbeat: \"worker\" must be a string");
	att = cJSON_GetObjectItemCaseSensitive(body, "attempt");
	if (att && !cJSON_IsNumber(att))
		return httpd_reply_error(req, 400, "heartbeat: \"attempt\" must be a number");
	sweep(c);
	st = cstore_query(c->store, "SELECT status, worker, attempt, lease_s FROM jobs WHERE id = ?", "t", id);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	status = cstore_text(st, 0);
	holder = cstore_text(st, 1);
	attempt = (int)cstore_int64(st, 2);
	lease_s = (int)cstore_int64(st, 3);
	want = att ? att->valueint : attempt;
	/* the holder keeps its lease, and gets it back if it lapsed while
	 * nobody else claimed the job */
	if (holder && !strcmp(holder, worker) && want == attempt &&
	    (!strcmp(status, "running") || !strcmp(status, "queued"))) {
		cstore_done(st);
		until = cdb_now_ms() + (int64_t)lease_s * 1000;
		/* only if it is still this holder's attempt: another coordinator
		 * process may have requeued and leased it since the read */
		if (cstore_exec(c->store, "UPDATE jobs SET status = 'running', lease_until_ms = ?,"
			     " updated_ms = ? WHERE id = ? AND worker = ? AND attempt = ?"
			     " AND status IN ('running', 'queued')", "iittn", until, cdb_now_ms(), id,
			     worker, attempt))
			return reply_db_error(req, c, "heartbeat");
		if (!cstore_changes(c->store))
			return httpd_reply_error(req, 409, "lease lost: job \"%s\" changed hands "
						 "(attempt %d)", id, attempt);
		out = cJSON_CreateObject();
		cJSON_AddNumberToObject(out, "lease_until", (double)until);
		cJSON_AddNumberToObject(out, "lease_s", lease_s);
		httpd_reply_json(req, 200, out);
		cJSON_Delete(out);
		return 0;
	}
	httpd_reply_error(req, 409, "lease lost: job \"%s\" is %s%s%s (attempt %d)", id, status,
			  holder ? " with " : "", holder ? holder : "", attempt);
	cstore_done(st);
	return 0;
}

/* One secret of the job's service account, to the worker that holds the
 * job's live lease and shows its lease key: {worker, attempt, lease_key,
 * ref} → {value}.  Refused (403) for anyone else, another job's
 * integration, a lapsed lease or an attempt that is over; the value is
 * never logged, and the answer is not to be cached. */
static int secret(struct coord *c, struct httpd_req *req, const char *id)
{
	const char *jerr, *worker, *ref, *key, *status, *holder, *integ, *field;
	cJSON *body = httpd_req_json(req, &jerr), *att, *acct = NULL, *out;
	struct cstore_rows *st;
	char lk[65], why[300], ihave[200];
	int attempt, live;
	int64_t until;
	char *value;

	if (!body || !cJSON_IsObject(body))
		return httpd_reply_error(req, 400, "secret: %s", body ? "body must be an object" : jerr);
	worker = str(body, "worker");
	ref = str(body, "ref");
	key = str(body, "lease_key");
	att = cJSON_GetObjectItemCaseSensitive(body, "attempt");
	if (!worker || !ref || !key || !cJSON_IsNumber(att))
		return httpd_reply_error(req, 400, "secret: \"worker\", \"attempt\", \"lease_key\" "
					 "and \"ref\" are required");
	if (strncmp(ref, COORD_REF_PREFIX, strlen(COORD_REF_PREFIX)) ||
	    !strchr(ref + strlen(COORD_REF_PREFIX), '/'))
		return httpd_reply_error(req, 400, "secret: \"ref\" must look like "
					 "\"coordinator:<integration>/<field>\"");
	sweep(c);
	st = cstore_query(c->store, "SELECT j.status, j.worker, j.attempt, j.lease_until_ms,"
		       " j.integration, i.account FROM jobs j"
		       " LEFT JOIN integrations i ON i.id = j.integration WHERE j.id = ?", "t", id);
	if (!cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	status = cstore_text(st, 0);
	holder = cstore_text(st, 1);
	attempt = (int)cstore_int64(st, 2);
	until = cstore_int64(st, 3);
	integ = cstore_text(st, 4);
	snprintf(ihave, sizeof(ihave), "%s", integ ? integ : "");
	coord_lease_key(id, attempt, worker, lk);
	live = status && !strcmp(status, "running") && holder && !strcmp(holder, worker) &&
	       att->valueint == attempt && until >= cdb_now_ms() && lk[0] &&
	       strlen(key) == strlen(lk) && !CRYPTO_memcmp(key, lk, strlen(lk));
	if (!live) {
		cstore_done(st);
		return httpd_reply_error(req, 403, "secret: job \"%s\" attempt %d is not leased to "
					 "\"%s\" with that key", id, att->valueint, worker);
	}
	field = ref + strlen(COORD_REF_PREFIX);
	if (strncmp(field, ihave, strlen(ihave)) || field[strlen(ihave)] != '/') {
		cstore_done(st);
		return httpd_reply_error(req, 403, "secret: \"%s\" is not a secret of job \"%s\"'s "
					 "integration \"%s\"", ref, id, ihave);
	}
	field += strlen(ihave) + 1;
	if (cstore_text(st, 5))
		acct = cJSON_Parse(cstore_text(st, 5));
	cstore_done(st);
	value = coord_account_field(ihave, acct, field, why, sizeof(why));
	cJSON_Delete(acct);
	if (!value)
		return httpd_reply_error(req, 404, "secret: %s", why);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "value", value);
	OPENSSL_cleanse(value, strlen(value));
	free(value);
	httpd_add_header(req, "cache-control", "no-store");
	httpd_reply_json(req, 200, out);
	{
		cJSON *v = cJSON_GetObjectItem(out, "value");
		if (cJSON_IsString(v))
			OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(out);
	return 0;
}

/* A state event moves the job's own user, under the job's key (SCIM
 * keys the user by its email or username, which a worker may spell in
 * another case); a job for one user cannot move, or create, another.  A job
 * without a user (sync) may name any. */
static int apply_event(struct coord *c, const char *integration, const char *job_id,
		       const char *ukey, const cJSON *ev)
{
	const char *kind = str(ev, "kind"), *user = str(ev, "user");

	if (!strcmp(kind, "state") && str(ev, "state")) {
		if (ukey[0]) {
			if (!user || strcasecmp(user, ukey))
				return 0;
			user = ukey;
		}
		return set_user(c, integration, user, str(ev, "state"), str(ev, "detail"),
				job_id, NULL);
	}
	if (!strcmp(kind, "status") && str(ev, "status"))
		return set_status(c, integration, str(ev, "status"), str(ev, "detail"), 0);
	return 0;
}

/* Are all of these events stored already (a redelivery)? */
static int all_stored(struct coord *c, const char *id, int attempt, const cJSON *list)
{
	const cJSON *ev;
	cJSON_ArrayForEach(ev, list)
		if (!cstore_int(c->store, 0, "SELECT count(*) FROM events WHERE job_id = ? AND"
			     " attempt = ? AND seq = ?", "tnn", id, attempt,
			     cJSON_GetObjectItem(ev, "seq")->valueint))
			return 0;
	return 1;
}

static int events(struct coord *c, struct httpd_req *req, const char *id)
{
	const char *jerr;
	cJSON *body = httpd_req_json(req, &jerr), *list, *ev, *att, *out;
	char integration[80], ukey[256] = "", status[16];
	struct cstore_rows *st;
	int attempt, current, i = 0, fresh = 0, dup = 0, bad = 0;

	if (!body || !cJSON_IsObject(body))
		return httpd_reply_error(req, 400, "events: %s", body ? "body must be an object" : jerr);
	list = cJSON_GetObjectItemCaseSensitive(body, "events");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > MAX_EVENTS)
		return httpd_reply_error(req, 400, "events: \"events\" must be an array of at most %d events",
					 MAX_EVENTS);
	cJSON_ArrayForEach(ev, list) {
		cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
		if (!cJSON_IsObject(ev))
			return httpd_reply_error(req, 400, "events[%d]: must be an object", i);
		if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble != (int)seq->valuedouble)
			return httpd_reply_error(req, 400, "events[%d]: \"seq\" must be a whole number >= 1", i);
		if (!str(ev, "kind"))
			return httpd_reply_error(req, 400, "events[%d]: \"kind\" must be a string", i);
		i++;
	}
	att = cJSON_GetObjectItemCaseSensitive(body, "attempt");
	if (att && (!cJSON_IsNumber(att) || att->valuedouble < 0))
		return httpd_reply_error(req, 400, "events: \"attempt\" must be a number");
	st = cstore_query(c->store, "SELECT integration, attempt, status, user_key FROM jobs"
		       " WHERE id = ?", "t", id);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	snprintf(integration, sizeof(integration), "%s", cstore_text(st, 0));
	current = (int)cstore_int64(st, 1);
	snprintf(status, sizeof(status), "%s", cstore_text(st, 2));
	if (cstore_text(st, 3))
		snprintf(ukey, sizeof(ukey), "%s", cstore_text(st, 3));
	attempt = att ? att->valueint : current;
	cstore_done(st);

	/* Only the job's current attempt, and only before its complete: a
	 * late or foreign event changes nothing.  A redelivery of what is
	 * stored already is still answered as one. */
	if (attempt != current || !strcmp(status, "completed") || !strcmp(status, "failed")) {
		if (all_stored(c, id, attempt, list)) {
			c->metrics.events_duplicated += (uint64_t)cJSON_GetArraySize(list);
			out = cJSON_CreateObject();
			cJSON_AddNumberToObject(out, "applied", 0);
			cJSON_AddNumberToObject(out, "duplicates", cJSON_GetArraySize(list));
			httpd_reply_json(req, 200, out);
			cJSON_Delete(out);
			return 0;
		}
		if (attempt != current)
			return httpd_reply_error(req, 409, "stale: job \"%s\" is on attempt %d, not "
						 "%d; events not applied", id, current, attempt);
		return httpd_reply_error(req, 409, "late: job \"%s\" is already %s; events not "
					 "applied", id, status);
	}

	if (cstore_begin(c->store))
		return reply_db_error(req, c, "events");
	/* PostgreSQL: another coordinator process may be completing the job
	 * right now: hold its row, and look again (SQLite's write lock made
	 * the check above current already). */
	if (cstore_dialect(c->store) == CSTORE_POSTGRES) {
		struct cstore_rows *lk = cstore_query(c->store, "SELECT id FROM jobs WHERE id = ?"
						      " AND attempt = ? AND status NOT IN"
						      " ('completed', 'failed') FOR UPDATE", "tn",
						      id, attempt);
		int current_still = cstore_next(lk);

		cstore_done(lk);
		if (!lk) {
			cstore_rollback(c->store);
			return reply_db_error(req, c, "events");
		}
		if (!current_still) {
			cstore_rollback(c->store);
			return httpd_reply_error(req, 409, "late: job \"%s\" finished or moved to "
						 "another attempt meanwhile; events not applied", id);
		}
	}
	cJSON_ArrayForEach(ev, list) {
		char *text = cJSON_PrintUnformatted(ev);
		cJSON *at = cJSON_GetObjectItemCaseSensitive(ev, "at");
		int rc = cstore_exec(c->store, "INSERT INTO events (job_id, attempt, seq, at_ms,"
				  " kind, body, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"
				  " ON CONFLICT DO NOTHING", "tnnitti",
				  id, attempt, cJSON_GetObjectItem(ev, "seq")->valueint,
				  cJSON_IsNumber(at) ? (int64_t)at->valuedouble : 0, str(ev, "kind"),
				  text, cdb_now_ms());
		cJSON_free(text);
		bad |= rc;
		if (!rc && cstore_changes(c->store)) {
			fresh++;
			bad |= apply_event(c, integration, id, ukey, ev);
		} else if (!rc) {
			dup++;
		}
	}
	if (finish_tx(c, bad))
		return reply_db_error(req, c, "events");
	c->metrics.events_applied += (uint64_t)fresh;
	c->metrics.events_duplicated += (uint64_t)dup;
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "applied", fresh);
	cJSON_AddNumberToObject(out, "duplicates", dup);
	httpd_reply_json(req, 200, out);
	cJSON_Delete(out);
	return 0;
}

/* Role drift from a sync's users: keep each user's expected roles and
 * drift flag, and when the integration corrects drift, queue an update to
 * the expected roles (one per user and sync job: idempotent).  Runs after
 * the job's own transaction: enqueue_one opens its own. */
static void apply_drift(struct coord *c, const char *integration, const char *job_id,
			const cJSON *users)
{
	const cJSON *u;
	int correct = cstore_int(c->store, 0, "SELECT correct_drift FROM integrations WHERE id = ?",
			      "t", integration);

	cJSON_ArrayForEach(u, users) {
		const char *k = user_key(u);
		const cJSON *want = cJSON_GetObjectItemCaseSensitive(u, "expected_roles");
		const cJSON *drift = cJSON_GetObjectItemCaseSensitive(u, "drift");
		char *wt;

		if (!k || !cJSON_IsArray(want) || !cJSON_IsBool(drift))
			continue;
		wt = cJSON_PrintUnformatted(want);
		cstore_exec(c->store, "UPDATE users SET expected_roles = ?, drift = ?"
			 " WHERE integration = ? AND user_key = ?", "tntt", wt,
			 cJSON_IsTrue(drift) ? 1 : 0, integration, k);
		cJSON_free(wt);
		if (correct && cJSON_IsTrue(drift) &&
		    (!str(u, "state") || strcmp(str(u, "state"), "exempted"))) {
			cJSON *j = cJSON_CreateObject(), *user, *out = NULL;
			char ikey[400], err[300], app[80] = "";
			struct cstore_rows *st = cstore_query(c->store, "SELECT app FROM integrations WHERE id = ?",
						     "t", integration);
			if (st && cstore_next(st))
				snprintf(app, sizeof(app), "%s", cstore_text(st, 0));
			cstore_done(st);
			cJSON_AddStringToObject(j, "integration", integration);
			cJSON_AddStringToObject(j, "app", app);
			cJSON_AddStringToObject(j, "action", "update");
			user = cJSON_AddObjectToObject(j, "user");
			if (str(u, "email"))
				cJSON_AddStringToObject(user, "email", str(u, "email"));
			if (str(u, "username"))
				cJSON_AddStringToObject(user, "username", str(u, "username"));
			cJSON_AddItemToObject(user, "roles", cJSON_Duplicate(want, 1));
			snprintf(ikey, sizeof(ikey), "drift:%s:%s", job_id, k);
			cJSON_AddStringToObject(j, "idempotency_key", ikey);
			if (enqueue_one(c, j, &out, err, sizeof(err), 0) >= 300)
				log_warn("sync %s: cannot queue the drift correction of %s: %s",
					 job_id, k, err);
			cJSON_Delete(out);
			cJSON_Delete(j);
		}
	}
}

static int complete(struct coord *c, struct httpd_req *req, const char *id)
{
	const char *jerr, *outcome, *status, *action;
	cJSON *body = httpd_req_json(req, &jerr), *att, *err, *users, *u, *out;
	char integration[80], ukey[256] = "", act[32];
	struct cstore_rows *st;
	int attempt, ok, bad = 0;

	if (!body || !cJSON_IsObject(body))
		return httpd_reply_error(req, 400, "complete: %s", body ? "body must be an object" : jerr);
	outcome = str(body, "outcome");
	if (!outcome || (strcmp(outcome, "ok") && strcmp(outcome, "failed") &&
			 strcmp(outcome, "released")))
		return httpd_reply_error(req, 400, "complete: \"outcome\" must be \"ok\", \"failed\" "
					 "or \"released\"");
	att = cJSON_GetObjectItemCaseSensitive(body, "attempt");
	err = cJSON_GetObjectItemCaseSensitive(body, "error");
	users = cJSON_GetObjectItemCaseSensitive(body, "users");
	if (att && !cJSON_IsNumber(att))
		return httpd_reply_error(req, 400, "complete: \"attempt\" must be a number");
	if (err && !cJSON_IsObject(err))
		return httpd_reply_error(req, 400, "complete: \"error\" must be an object {class, message}");
	if (users && !cJSON_IsArray(users))
		return httpd_reply_error(req, 400, "complete: \"users\" must be an array");
	st = cstore_query(c->store, "SELECT integration, attempt, status, action, user_key FROM jobs"
		       " WHERE id = ?", "t", id);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	snprintf(integration, sizeof(integration), "%s", cstore_text(st, 0));
	attempt = (int)cstore_int64(st, 1);
	status = cstore_text(st, 2);
	action = cstore_text(st, 3);
	snprintf(act, sizeof(act), "%s", action);
	if (cstore_text(st, 4))
		snprintf(ukey, sizeof(ukey), "%s", cstore_text(st, 4));
	if (!strcmp(status, "completed") || !strcmp(status, "failed")) {
		cstore_done(st);
		out = cJSON_CreateObject();
		cJSON_AddBoolToObject(out, "already", 1);
		httpd_reply_json(req, 200, out);
		cJSON_Delete(out);
		return 0;
	}
	cstore_done(st);
	if (att && att->valueint != attempt)
		return httpd_reply_error(req, 409, "stale: job \"%s\" is on attempt %d, not %d", id,
					 attempt, att->valueint);
	if (!strcmp(outcome, "released")) {
		/* the attempt number stays used: its events are kept under it */
		if (cstore_exec(c->store, "UPDATE jobs SET status = 'queued', worker = NULL,"
			     " max_attempts = max_attempts + 1, updated_ms = ? WHERE id = ?", "it",
			     cdb_now_ms(), id))
			return reply_db_error(req, c, "complete");
		jobs_changed(c);
		out = cJSON_CreateObject();
		cJSON_AddBoolToObject(out, "released", 1);
		httpd_reply_json(req, 200, out);
		cJSON_Delete(out);
		return 0;
	}
	ok = !strcmp(outcome, "ok");
	if (cstore_begin(c->store))
		return reply_db_error(req, c, "complete");
	{
		char *et = err ? cJSON_PrintUnformatted(err) : NULL;
		cJSON *res = cJSON_Duplicate(body, 1);
		char *rt;
		/* a worker's own bookkeeping never lands in the job's row */
		cJSON_DeleteItemFromObject(res, "_upload");
		/* passwords belong in the vault, not in a job row: keep only a
		 * reference ({"vault": name}) */
		if (cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "credentials"),
						       "password")))
			cJSON_DeleteItemFromObject(res, "credentials");
		rt = cJSON_PrintUnformatted(res);
		/* The first write locks the job's row: a complete of the same
		 * attempt through another coordinator process waits for this
		 * one, then finds it finished and changes nothing. */
		bad |= cstore_exec(c->store, "UPDATE jobs SET status = ?, outcome = ?, error = ?,"
				" result = ?, updated_ms = ? WHERE id = ? AND attempt = ?"
				" AND status NOT IN ('completed', 'failed')", "ttttitn",
				ok ? "completed" : "failed", outcome, et, rt, cdb_now_ms(), id, attempt);
		cJSON_free(et);
		cJSON_free(rt);
		cJSON_Delete(res);
		if (!bad && !cstore_changes(c->store)) {
			cstore_rollback(c->store);
			out = cJSON_CreateObject();
			cJSON_AddBoolToObject(out, "already", 1);
			httpd_reply_json(req, 200, out);
			cJSON_Delete(out);
			return 0;
		}
	}
	if (ukey[0]) {
		const char *state = str(body, "state");
		bad |= set_user(c, integration, ukey, state,
				err ? str(err, "message") : str(body, "detail"), id,
				cJSON_GetObjectItemCaseSensitive(body, "app_user"));
	}
	cJSON_ArrayForEach(u, users) {
		const char *k = user_key(u);
		if (k)
			bad |= set_user(c, integration, k, str(u, "state"), NULL, id, u);
	}
	if (!ok) {
		/* a script-class failure (a selector that never matched: the app or
		 * the script changed) or needs_human is not retried: say who acts */
		const char *cls = err ? str(err, "class") : NULL, *msg = err ? str(err, "message") : NULL;
		char detail[1200];
		if (cls && (!strcmp(cls, "script") || !strcmp(cls, "needs_human")))
			snprintf(detail, sizeof(detail), "a person is needed (%s): %s", cls,
				 msg ? msg : "no message");
		else
			snprintf(detail, sizeof(detail), "%s", msg ? msg : "");
		bad |= set_status(c, integration, !strcmp(act, "validate") ?
				  "validation_failed" : "failed", detail[0] ? detail : NULL, 1);
	}
	else if (!strcmp(act, "validate"))
		bad |= set_status(c, integration, "validated", NULL, 1);
	else if (!cstore_int(c->store, 0, "SELECT count(*) FROM jobs WHERE integration = ? AND"
			  " status IN ('queued', 'running')", "t", integration))
		bad |= set_status(c, integration, "up_to_date", NULL, 1);
	if (finish_tx(c, bad))
		return reply_db_error(req, c, "complete");
	if (ok && users)
		apply_drift(c, integration, id, users);
	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "already", 0);
	httpd_reply_json(req, 200, out);
	cJSON_Delete(out);
	return 0;
}

static cJSON *job_json(struct cstore_rows *st, struct cstore *db, int with_events)
{
	/* columns: id, integration, app, action, user_key, status, attempt,
	 * worker, outcome, error, created_ms, updated_ms, body */
	cJSON *j = cJSON_CreateObject(), *e, *b;
	const char *id = cstore_text(st, 0);

	add_text(j, "id", st, 0);
	add_text(j, "integration", st, 1);
	add_text(j, "app", st, 2);
	add_text(j, "action", st, 3);
	add_text(j, "user", st, 4);
	add_text(j, "status", st, 5);
	cJSON_AddNumberToObject(j, "attempt", (int)cstore_int64(st, 6));
	add_text(j, "worker", st, 7);
	add_text(j, "outcome", st, 8);
	e = json_col(st, 9);
	cJSON_AddItemToObject(j, "error", e ? e : cJSON_CreateNull());
	add_time(j, "created", cstore_int64(st, 10));
	add_time(j, "updated", cstore_int64(st, 11));
	cJSON_AddNumberToObject(j, "events", (double)cstore_int(db, 0,
				"SELECT count(*) FROM events WHERE job_id = ?", "t", id));
	if (with_events) {
		struct cstore_rows *es = cstore_query(db, "SELECT body, attempt FROM events WHERE job_id = ?"
					     " ORDER BY attempt, seq", "t", id);
		cJSON *arr = cJSON_AddArrayToObject(j, "event_log");
		while (es && cstore_next(es)) {
			cJSON *ev = json_col(es, 0);
			if (ev) {
				cJSON_AddNumberToObject(ev, "attempt", (int)cstore_int64(es, 1));
				cJSON_AddItemToArray(arr, ev);
			}
		}
		cstore_done(es);
		b = json_col(st, 12);
		cJSON_DeleteItemFromObject(b, "account");
		cJSON_AddItemToObject(j, "job", b ? b : cJSON_CreateNull());
		b = json_col(st, 13);
		cJSON_AddItemToObject(j, "result", b ? b : cJSON_CreateNull());
	}
	return j;
}

#define JOB_COLS "id, integration, app, action, user_key, status, attempt, worker," \
	" outcome, error, created_ms, updated_ms, body, result"

static int job_get(struct coord *c, struct httpd_req *req, const char *id)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", "t", id);
	cJSON *j;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	}
	j = job_json(st, c->store, 1);
	cstore_done(st);
	/* the evidence its worker uploaded (the Jobs page serves it) */
	cJSON_AddItemToObject(j, "artifacts_stored", coord_artifact_names(c, id));
	httpd_reply_json(req, 200, j);
	cJSON_Delete(j);
	return 0;
}

static int job_list(struct coord *c, struct httpd_req *req)
{
	const char *integ = httpd_req_query(req, "integration");
	struct cstore_rows *st;
	cJSON *out, *arr;

	sweep(c);
	if (integ && !coord_valid_name(integ))
		return httpd_reply_error(req, 400, "jobs: bad integration \"%s\"", integ);
	st = cstore_query(c->store, integ ? "SELECT " JOB_COLS " FROM jobs WHERE integration = ? ORDER BY n"
			      : "SELECT " JOB_COLS " FROM jobs ORDER BY n", integ ? "t" : NULL, integ);
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "jobs");
	while (st && cstore_next(st))
		cJSON_AddItemToArray(arr, job_json(st, c->store, 0));
	cstore_done(st);
	httpd_reply_json(req, 200, out);
	cJSON_Delete(out);
	return 0;
}

/* /v1/jobs, /v1/jobs/{id}, /v1/jobs/{id}/{heartbeat,events,complete} */
static int h_jobs(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *rest = httpd_req_rest(req), *slash;
	enum httpd_method m = httpd_req_method(req);
	char id[80];

	if (!authorized(c, req))
		return 0;
	if (!*rest) {
		if (m == HTTPD_POST)
			return enqueue(c, req);
		if (m == HTTPD_GET)
			return job_list(c, req);
		return httpd_reply_error(req, 405, "use GET or POST on /v1/jobs");
	}
	slash = strchr(rest, '/');
	snprintf(id, sizeof(id), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	if (!coord_valid_name(id))
		return httpd_reply_error(req, 404, "no job \"%s\"", id);
	if (!slash) {
		if (m != HTTPD_GET)
			return httpd_reply_error(req, 405, "use GET on /v1/jobs/{id}");
		return job_get(c, req, id);
	}
	if (!strncmp(slash, "/artifacts/", 11)) {
		if (m != HTTPD_PUT)
			return httpd_reply_error(req, 405, "use PUT on %s", httpd_req_path(req));
		return coord_artifact_put(c, req, id, slash + 11);
	}
	if (m != HTTPD_POST)
		return httpd_reply_error(req, 405, "use POST on %s", httpd_req_path(req));
	if (!strcmp(slash, "/heartbeat"))
		return heartbeat(c, req, id);
	if (!strcmp(slash, "/secret"))
		return secret(c, req, id);
	if (!strcmp(slash, "/events"))
		return events(c, req, id);
	if (!strcmp(slash, "/complete"))
		return complete(c, req, id);
	return httpd_reply_error(req, 404, "no route for \"%s\"", httpd_req_path(req));
}

/* /v1/integrations/{id}, /v1/integrations/{id}/users */
static int h_integrations(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *rest = httpd_req_rest(req), *slash;
	char id[80];
	struct cstore_rows *st;
	cJSON *out;

	if (!authorized(c, req))
		return 0;
	sweep(c);
	slash = strchr(rest, '/');
	snprintf(id, sizeof(id), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
	if (!coord_valid_name(id))
		return httpd_reply_error(req, 404, "no integration \"%s\"", id);
	st = cstore_query(c->store, "SELECT app, status, detail, updated_ms FROM integrations WHERE id = ?",
		       "t", id);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(req, 404, "no integration \"%s\"", id);
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", id);
	add_text(out, "app", st, 0);
	add_text(out, "status", st, 1);
	add_text(out, "detail", st, 2);
	add_time(out, "updated", cstore_int64(st, 3));
	cstore_done(st);
	integ_describe_into(c, id, out);
	if (!slash) {
		static const char *const sts[] = { "queued", "running", "completed", "failed", NULL };
		cJSON *jobs = cJSON_AddObjectToObject(out, "jobs");
		for (int i = 0; sts[i]; i++)
			cJSON_AddNumberToObject(jobs, sts[i], (double)cstore_int(c->store, 0,
						"SELECT count(*) FROM jobs WHERE integration = ? AND status = ?",
						"tt", id, sts[i]));
	} else if (!strcmp(slash, "/users")) {
		cJSON *arr = cJSON_AddArrayToObject(out, "users");
		st = cstore_query(c->store, "SELECT user_key, email, username, roles, state, login_method,"
			       " sso_label, active, last_used, detail, job_id, changed_ms,"
			       " expected_roles, drift"
			       " FROM users WHERE integration = ? ORDER BY user_key", "t", id);
		while (st && cstore_next(st)) {
			cJSON *u = cJSON_CreateObject(), *r;
			add_text(u, "user", st, 0);
			add_text(u, "email", st, 1);
			add_text(u, "username", st, 2);
			r = json_col(st, 3);
			cJSON_AddItemToObject(u, "roles", r ? r : cJSON_CreateArray());
			add_text(u, "state", st, 4);
			add_text(u, "login_method", st, 5);
			add_text(u, "sso_label", st, 6);
			if (cstore_is_null(st, 7))
				cJSON_AddNullToObject(u, "active");
			else
				cJSON_AddBoolToObject(u, "active", (int)cstore_int64(st, 7));
			add_text(u, "last_used", st, 8);
			add_text(u, "detail", st, 9);
			add_text(u, "job", st, 10);
			add_time(u, "last_change", cstore_int64(st, 11));
			r = json_col(st, 12);	/* the IdP's roles, when a sync saw them */
			if (r)
				cJSON_AddItemToObject(u, "expected_roles", r);
			if (!cstore_is_null(st, 13))
				cJSON_AddBoolToObject(u, "drift", (int)cstore_int64(st, 13));
			cJSON_AddItemToArray(arr, u);
		}
		cstore_done(st);
	} else {
		cJSON_Delete(out);
		return httpd_reply_error(req, 404, "no route for \"%s\"", httpd_req_path(req));
	}
	httpd_reply_json(req, 200, out);
	cJSON_Delete(out);
	return 0;
}

/* POST /v1/test/raw-job {job, pad_bytes?}: store a job exactly as given,
 * unchecked, so tests can see what a worker does with a malformed one.
 * Only with --test-hooks. */
/* POST /v1/test/garbage-claims {n}: see garbage_claims.  --test-hooks. */
static int h_test_garbage(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *jerr;
	cJSON *body = httpd_req_json(req, &jerr);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "n");

	if (!authorized(c, req))
		return 0;
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 1e6)
		return httpd_reply_error(req, 400, "garbage-claims: wants {n}");
	garbage_claims = n->valueint;
	return httpd_reply_json(req, 200, NULL);
}

static int h_test_raw(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	const char *jerr;
	cJSON *body = httpd_req_json(req, &jerr), *job, *pad, *out;
	char idbuf[80], *text, *padded = NULL;
	const char *id, *integ, *app, *action;
	int64_t nextn, now = cdb_now_ms();
	size_t padn = 0;

	if (!authorized(c, req))
		return 0;
	if (!body || !(job = cJSON_GetObjectItemCaseSensitive(body, "job")))
		return httpd_reply_error(req, 400, "raw-job: wants {job, pad_bytes?}");
	pad = cJSON_GetObjectItemCaseSensitive(body, "pad_bytes");
	if (cJSON_IsNumber(pad) && pad->valuedouble > 0 && pad->valuedouble <= 64 << 20)
		padn = (size_t)pad->valuedouble;
	nextn = cstore_next_serial(c->store, "jobs", "n");
	id = str(job, "id");
	if (!coord_valid_name(id)) {
		snprintf(idbuf, sizeof(idbuf), "j%lld", (long long)nextn);
		id = idbuf;
		if (cJSON_IsObject(job)) {
			cJSON_DeleteItemFromObject(job, "id");
			cJSON_AddStringToObject(job, "id", id);
		}
	}
	integ = coord_valid_name(str(job, "integration")) ? str(job, "integration") : "test";
	app = str(job, "app") ? str(job, "app") : "?";
	action = str(job, "action") ? str(job, "action") : "?";
	if (padn && cJSON_IsObject(job)) {
		padded = malloc(padn + 1);
		if (!padded)
			return -1;
		memset(padded, 'x', padn);
		padded[padn] = '\0';
		cJSON_AddStringToObject(job, "pad", padded);
		free(padded);
	}
	text = cJSON_PrintUnformatted(job);
	cstore_exec(c->store, "INSERT INTO integrations (id, app, updated_ms) VALUES (?, ?, ?)"
		 " ON CONFLICT DO NOTHING",
		 "tti", integ, app, now);
	cstore_exec(c->store, "INSERT INTO jobs (id, n, integration, app, action, body, max_attempts,"
		 " lease_s, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
		 "titttt" "nii", id, nextn, integ, app, action, text, c->default_lease_s, now, now);
	cJSON_free(text);
	jobs_changed(c);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", id);
	httpd_reply_json(req, 201, out);
	cJSON_Delete(out);
	return 0;
}

static int h_health(struct httpd_req *req, void *arg)
{
	(void)arg;
	return httpd_reply(req, 200, "text/plain", "ok\n", 3);
}

int coord_routes(struct coord *c)
{
	if (httpd_route(c->h, HTTPD_POST, "/v1/claim", h_claim, c) ||
	    httpd_route(c->h, HTTPD_ANY, "/v1/jobs", h_jobs, c) ||
	    httpd_route(c->h, HTTPD_GET, "/v1/integrations/", h_integrations, c) ||
	    httpd_route(c->h, HTTPD_GET, "/healthz", h_health, c))
		return -1;
	if (c->test_hooks && (httpd_route(c->h, HTTPD_POST, "/v1/test/raw-job", h_test_raw, c) ||
			      httpd_route(c->h, HTTPD_POST, "/v1/test/garbage-claims",
					  h_test_garbage, c)))
		return -1;
	return 0;
}

/* For the integrations and SCIM modules: the admin check and "jobs were
 * queued, answer the waiting claims". */
int coord_authorized(struct coord *c, struct httpd_req *req)
{
	return authorized(c, req);
}

void coord_jobs_added(struct coord *c)
{
	jobs_changed(c);
}

/* The users-table key an event of job_id is about: the key the job was
 * queued under (it follows the user when an IdP changes their email),
 * else what the event says. */

void coord_release(struct coord *c)
{
	while (c->waiters) {
		struct waiter *w = c->waiters;
		c->waiters = w->next;
		cJSON_Delete(w->apps);
		free(w);
	}
}

/* Another coordinator process on the database queued or released jobs:
 * answer this one's long polls too. */
static void on_jobs_notify(void *arg, const char *channel, const char *payload)
{
	wake_waiters(arg);
}

int coord_listen(struct coord *c)
{
	return cstore_listen(c->store, COORD_JOBS_CHANNEL, on_jobs_notify, c);
}
