/*
 * What a SCIM change means for the app: compare the user as the last job
 * saw it with the user now, queue invite / update / remove, fold a change
 * into a job nobody has claimed yet, and keep the Users table in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim.h"
#include "states.h"

static const char *jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

const char *scim_user_key(const cJSON *view)
{
	const char *k = jstr(view, "email");
	return k ? k : jstr(view, "username");
}

static int active(const cJSON *view)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "active"));
}

static char *job_body(const char *id, struct scim_ctx *x, const char *action, const cJSON *user)
{
	cJSON *j = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "integration", x->integ);
	cJSON_AddStringToObject(j, "app", x->app);
	cJSON_AddStringToObject(j, "action", action);
	cJSON_AddItemToObject(j, "user", cJSON_Duplicate(user, 1));
	cJSON_AddNumberToObject(j, "timeout_s", 300);
	cJSON_AddNumberToObject(j, "max_attempts", 5);
	cJSON_AddStringToObject(j, "idempotency_key", id);
	cJSON_AddStringToObject(j, "trigger", "scim");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

/* The Users table row follows the IdP: who the user is, where they come
 * from, and the queued state of the job just made. */
static void users_row(struct scim_ctx *x, const char *key, const cJSON *v, const char *state,
		      const char *job_id)
{
	char *roles = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(v, "roles"));
	int64_t now = cdb_now_ms();

	cstore_exec(x->c->store, "INSERT INTO users (integration, user_key, changed_ms)"
		 " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "tti", x->integ, key, now);
	cstore_exec(x->c->store, "UPDATE users SET upstream_id = ?, email = coalesce(?, email),"
		 " username = ?, display_name = ?, roles = coalesce(?, roles)"
		 " WHERE integration = ? AND user_key = ?", "ttttttt",
		 jstr(v, "upstream_id"), jstr(v, "email"), jstr(v, "username"),
		 jstr(v, "display_name"), roles, x->integ, key);
	if (state)
		cstore_exec(x->c->store, "UPDATE users SET state = ?, detail = NULL, job_id = ?,"
			 " changed_ms = ? WHERE integration = ? AND user_key = ?", "ttitt",
			 state, job_id, now, x->integ, key);
	cJSON_free(roles);
}

/* An IdP changed the user's email: the row, its queued jobs and the
 * events still to come (api.c reads the job's key) move to the new key. */
static void rename_key(struct scim_ctx *x, const char *from, const char *to)
{
	if (cstore_int(x->c->store, 0, "SELECT count(*) FROM users WHERE integration = ? AND"
		    " user_key = ?", "tt", x->integ, to))
		cstore_exec(x->c->store, "DELETE FROM users WHERE integration = ? AND user_key = ?", "tt",
			 x->integ, from);
	else
		cstore_exec(x->c->store, "UPDATE users SET user_key = ? WHERE integration = ? AND"
			 " user_key = ?", "ttt", to, x->integ, from);
	cstore_exec(x->c->store, "UPDATE jobs SET user_key = ? WHERE integration = ? AND user_key = ?",
		 "ttt", to, x->integ, from);
}

static int enqueue(struct scim_ctx *x, const char **action_p, const char *key, const cJSON *user,
		   char *job_id, size_t idn)
{
	const char *action = *action_p;
	struct cstore_rows *st;
	int64_t now = cdb_now_ms(), n;
	char *body;
	int rc;

	/* a job nobody has claimed yet is folded into or replaced by the new
	 * one, so that a worker never runs a change the IdP took back */
	/* no ORDER BY: it would steer SQLite to the (integration, n) index and
	 * a scan of every job of the integration; there is at most one such
	 * job per user anyway */
	st = cstore_query(x->c->store, "SELECT id, action FROM jobs WHERE integration = ? AND user_key = ?"
		       " AND status = 'queued' AND attempt = 0", "tt", x->integ, key);
	while (st && cstore_next(st)) {
		const char *qid = cstore_text(st, 0);
		const char *qact = cstore_text(st, 1);

		/* each write says again "still unclaimed": another coordinator
		 * process on the same PostgreSQL may have handed the job to a
		 * worker since the SELECT (SQLite's write lock rules that out) */
		if (!strcmp(action, "update") && (!strcmp(qact, "invite") || !strcmp(qact, "update"))) {
			int folded;
			body = job_body(qid, x, qact, user);
			folded = !cstore_exec(x->c->store, "UPDATE jobs SET body = ?, updated_ms = ? WHERE id = ?"
					   " AND status = 'queued' AND attempt = 0", "tit", body, now, qid) &&
				 cstore_changes(x->c->store) == 1;
			cJSON_free(body);
			if (folded) {
				snprintf(job_id, idn, "%s", qid);
				*action_p = action_lookup(qact)->action;	/* the folded job's */
				cstore_done(st);
				return 0;
			}
			continue;	/* claimed meanwhile: the change gets its own job */
		}
		cstore_exec(x->c->store, "UPDATE jobs SET status = 'completed', outcome = 'superseded',"
			 " updated_ms = ? WHERE id = ? AND status = 'queued' AND attempt = 0", "it", now,
			 qid);
	}
	cstore_done(st);
	n = cstore_next_serial(x->c->store, "jobs", "n");
	snprintf(job_id, idn, "j%lld", (long long)n);
	body = job_body(job_id, x, action, user);
	/* origin: the Jobs page's trigger column */
	rc = cstore_exec(x->c->store, "INSERT INTO jobs (id, n, integration, app, action, user_key, body,"
		      " idempotency_key, max_attempts, lease_s, created_ms, updated_ms, origin)"
		      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 5, ?, ?, ?, 'SCIM')", "tittttttnii",
		      job_id, n, x->integ, x->app, action, key, body, job_id,
		      x->c->default_lease_s ? x->c->default_lease_s : 60, now, now);
	cJSON_free(body);
	if (rc)
		return -1;
	cstore_exec(x->c->store, "UPDATE integrations SET status = 'in_progress', detail = NULL,"
		 " updated_ms = ? WHERE id = ?", "it", now, x->integ);
	return 0;
}

int scim_jobs_plan(struct scim_ctx *x, const cJSON *before, const cJSON *after, int deleted)
{
	const cJSON *now = deleted ? before : after;
	const char *action = NULL, *key, *old_key = before ? scim_user_key(before) : NULL;
	int deactivate = !strcmp(x->deactivate_mode, "deactivate");
	cJSON *user = NULL;
	char job_id[80] = "";
	int rc = 0;

	if (!now)
		return 0;
	key = scim_user_key(now);
	if (!key)
		return -1;
	if (deleted)
		action = "remove";
	else if (!before)
		action = active(after) ? "invite" : NULL;
	else if (active(before) && !active(after))
		action = deactivate ? "update" : "remove";
	else if (!active(before) && active(after))
		action = deactivate ? "update" : "invite";
	else if (active(after) && !cJSON_Compare(before, after, 1))
		action = "update";
	if (old_key && !deleted && strcmp(old_key, key))
		rename_key(x, old_key, key);
	user = cJSON_Duplicate(now, 1);
	if (action && !strcmp(action, "update") && deactivate) {
		/* the script sees the wanted state of the account */
		cJSON *attrs = cJSON_GetObjectItemCaseSensitive(user, "attributes");
		if (attrs) {
			cJSON_DeleteItemFromObjectCaseSensitive(attrs, "active");
			cJSON_AddBoolToObject(attrs, "active", active(now));
		}
	}
	if (action)
		rc = enqueue(x, &action, key, user, job_id, sizeof(job_id));
	if (!rc) {
		const struct action_states *as = action ? action_lookup(action) : NULL;
		users_row(x, key, now, as ? as->queued : NULL, job_id[0] ? job_id : NULL);
	}
	if (!rc && !deleted) {
		char *v = cJSON_PrintUnformatted(after);
		cstore_exec(x->c->store, "UPDATE scim_users SET sent_view = ? WHERE integration = ? AND"
			 " id = ?", "ttt", v, x->integ, jstr(after, "id"));
		cJSON_free(v);
	}
	cJSON_Delete(user);
	return rc;
}
