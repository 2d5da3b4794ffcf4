/*
 * The Integrations page (every integration, its status, its last
 * operation) and the integration details frame around the Users and
 * Activity tabs: status, Sync now, and the sync safeguard's halt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "pages.h"

static const char *const all_statuses[] = {
	"under_validation", "under_review", "validating", "validated", "validation_failed",
	"in_progress", "failed", "retrying", "up_to_date", NULL
};

static void status_badge(struct pg_buf *b, const char *status)
{
	pg_raw(b, "<span class=\"status s-");
	pg_text(b, status ? status : "none");
	pg_raw(b, "\" data-status=\"");
	pg_text(b, status ? status : "");
	pg_raw(b, "\">");
	pg_text(b, pg_status_label(status));
	pg_raw(b, "</span>");
}

/* "invite ada@example.com — completed" for the integration's latest job. */
static void last_operation(struct pg_ctx *x, const char *integration, int64_t *when)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT action, user_key, status, updated_ms, id"
				     " FROM jobs WHERE integration = ? ORDER BY n DESC LIMIT 1",
				     "t", integration);
	*when = 0;
	if (st && cstore_next(st)) {
		pg_raw(&x->b, "<a href=\"/admin/jobs/");
		pg_text(&x->b, cstore_text(st, 4));
		pg_raw(&x->b, "\">");
		pg_text(&x->b, cstore_text(st, 0));
		if (cstore_text(st, 1)) {
			pg_raw(&x->b, " ");
			pg_text(&x->b, cstore_text(st, 1));
		}
		pg_raw(&x->b, "</a> — ");
		pg_text(&x->b, cstore_text(st, 2));
		*when = cstore_int64(st, 3);
	} else {
		pg_raw(&x->b, "none yet");
	}
	cstore_done(st);
}

int pg_integrations(struct pg_ctx *x, const char *rest)
{
	struct cstore_rows *st;
	int n = 0;

	(void)rest;
	pg_begin(x, "Integrations", "integrations");
	pg_raw(&x->b, "<h1>Integrations</h1><table class=\"grid integrations\"><thead><tr>"
	       "<th>Integration</th><th>App</th><th>Status</th><th>Last operation</th><th>When</th>"
	       "<th>Users</th><th>Next daily sync</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT id, app, status, detail, updated_ms, next_sync_ms"
		       " FROM integrations ORDER BY id", NULL);
	while (st && cstore_next(st)) {
		const char *id = cstore_text(st, 0);
		int64_t when;
		n++;
		pg_raw(&x->b, "<tr data-integration=\"");
		pg_text(&x->b, id);
		pg_raw(&x->b, "\"><td><a href=\"/admin/integrations/");
		pg_text(&x->b, id);
		pg_raw(&x->b, "\">");
		pg_text(&x->b, id);
		pg_raw(&x->b, "</a></td><td>");
		pg_text(&x->b, cstore_text(st, 1));
		pg_raw(&x->b, "</td><td>");
		status_badge(&x->b, cstore_text(st, 2));
		if (cstore_text(st, 3)) {
			pg_raw(&x->b, "<div class=\"detail\">");
			pg_text(&x->b, cstore_text(st, 3));
			pg_raw(&x->b, "</div>");
		}
		pg_raw(&x->b, "</td><td>");
		last_operation(x, id, &when);
		pg_raw(&x->b, "</td><td>");
		pg_time(&x->b, when ? when : cstore_int64(st, 4));
		pg_printf(&x->b, "</td><td>%lld</td><td>", (long long)cstore_int(x->c->store, 0,
			  "SELECT count(*) FROM users WHERE integration = ?", "t", id));
		pg_time(&x->b, cstore_int64(st, 5));
		pg_raw(&x->b, "</td></tr>");
	}
	cstore_done(st);
	if (!n)
		pg_raw(&x->b, "<tr><td colspan=\"7\" class=\"empty\">No integrations yet: create one"
		       " (POST /v1/integrations) or enqueue a job.</td></tr>");
	pg_raw(&x->b, "</tbody></table><h2>Statuses</h2><dl class=\"legend\">");
	for (int i = 0; all_statuses[i]; i++) {
		static const char *const what[] = {
			"connected; the first integration of its app is being validated",
			"a person is looking at a failed validation",
			"an automated validation check runs",
			"the validation check passed",
			"the validation check did not pass",
			"an operation (invite, update, removal, sync) runs",
			"the latest operation did not complete",
			"the latest failed operation is being retried",
			"working; the last operation completed",
		};
		pg_raw(&x->b, "<dt>");
		status_badge(&x->b, all_statuses[i]);
		pg_raw(&x->b, "</dt><dd>");
		pg_text(&x->b, what[i]);
		pg_raw(&x->b, "</dd>");
	}
	pg_raw(&x->b, "</dl>");
	return pg_end(x);
}

/* The latest sync, when the safeguard halted it and nobody approved it
 * since: what it would have deleted and a button to go ahead. */
static void sync_halt(struct pg_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT id, status, error, result FROM jobs"
				     " WHERE integration = ? AND action = 'sync'"
				     " ORDER BY n DESC LIMIT 1", "t", id);
	cJSON *err = NULL, *res = NULL, *sum, *gone, *g;
	const char *msg;
	char jid[80];

	if (!st || !cstore_next(st) ||
	    strcmp(cstore_text(st, 1), "failed") ||
	    !cstore_text(st, 2))
		goto out;
	snprintf(jid, sizeof(jid), "%s", cstore_text(st, 0));
	err = cJSON_Parse(cstore_text(st, 2));
	res = cstore_text(st, 3) ? cJSON_Parse(cstore_text(st, 3))
					 : NULL;
	msg = cJSON_GetStringValue(cJSON_GetObjectItem(err, "message"));
	if (!msg || !strstr(msg, "sync safeguard"))
		goto out;
	sum = cJSON_GetObjectItem(res, "summary");
	gone = cJSON_GetObjectItem(sum, "would_delete");
	pg_raw(&x->b, "<section class=\"halt\" role=\"alert\"><h2>Sync halted by the safeguard</h2><p>");
	pg_text(&x->b, msg);
	pg_raw(&x->b, "</p>");
	if (cJSON_GetArraySize(gone)) {
		pg_printf(&x->b, "<p>It would have deleted these %d users:</p><ul class=\"would-delete\">",
			  cJSON_GetArraySize(gone));
		cJSON_ArrayForEach(g, gone) {
			pg_raw(&x->b, "<li>");
			pg_text(&x->b, cJSON_GetStringValue(g));
			pg_raw(&x->b, "</li>");
		}
		pg_raw(&x->b, "</ul>");
	}
	{
		char action[120];
		snprintf(action, sizeof(action), "/admin/jobs/%s/approve", jid);
		pg_button_form(x, action, "Approve and apply", "danger approve", NULL);
	}
	pg_raw(&x->b, "</section>");
out:
	cJSON_Delete(err);
	cJSON_Delete(res);
	cstore_done(st);
}

int pg_integration(struct pg_ctx *x, const char *id, const char *tab)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT app, status, detail, updated_ms, next_sync_ms"
				     " FROM integrations WHERE id = ?", "t", id);
	char path[160];
	int64_t when;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(x->req, 404, "no integration \"%s\"", id);
	}
	pg_begin(x, id, "integrations");
	pg_raw(&x->b, "<p class=\"crumbs\"><a href=\"/admin/integrations\">Integrations</a> ›</p>"
	       "<div class=\"head\"><h1>");
	pg_text(&x->b, id);
	pg_raw(&x->b, "</h1> <span class=\"app\">");
	pg_text(&x->b, cstore_text(st, 0));
	pg_raw(&x->b, "</span> ");
	status_badge(&x->b, cstore_text(st, 1));
	pg_raw(&x->b, "<div class=\"actions\">");
	snprintf(path, sizeof(path), "/admin/integrations/%s/sync", id);
	pg_button_form(x, path, "Sync now", "primary sync-now", NULL);
	snprintf(path, sizeof(path), "/admin/integrations/%s/validate", id);
	pg_button_form(x, path, "Run health check", "health-check", NULL);
	pg_raw(&x->b, "</div></div><p class=\"meta\">Last operation: ");
	last_operation(x, id, &when);
	pg_raw(&x->b, ", ");
	pg_time(&x->b, when);
	pg_raw(&x->b, " · next daily sync: ");
	pg_time(&x->b, cstore_int64(st, 4));
	if (cstore_text(st, 2)) {
		pg_raw(&x->b, "</p><p class=\"detail\">");
		pg_text(&x->b, cstore_text(st, 2));
	}
	pg_raw(&x->b, "</p>");
	cstore_done(st);
	sync_halt(x, id);
	pg_printf(&x->b, "<nav class=\"tabs\"><a href=\"/admin/integrations/%s/users\"%s>Users</a>"
		  "<a href=\"/admin/integrations/%s/activity\"%s>Activity</a>"
		  "<a href=\"/admin/jobs?integration=%s\">Jobs</a></nav>", id,
		  !strcmp(tab, "users") ? " class=\"active\"" : "", id,
		  !strcmp(tab, "activity") ? " class=\"active\"" : "", id);
	if (!strcmp(tab, "activity"))
		pg_activity_tab(x, id);
	else
		pg_users_tab(x, id);
	return pg_end(x);
}

/* "Run health check": a validate job (login and list the users). */
int pg_validate_now(struct pg_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT app FROM integrations WHERE id = ?", "t", id);
	cJSON *job, *out = NULL;
	char err[300], ikey[120], back[160];
	int status;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(x->req, 404, "no integration \"%s\"", id);
	}
	job = cJSON_CreateObject();
	cJSON_AddStringToObject(job, "integration", id);
	cJSON_AddStringToObject(job, "app", cstore_text(st, 0));
	cstore_done(st);
	cJSON_AddStringToObject(job, "action", "validate");
	snprintf(ikey, sizeof(ikey), "web:validate:%s:%lld", id, (long long)cdb_now_ms());
	cJSON_AddStringToObject(job, "idempotency_key", ikey);
	status = coord_enqueue(x->c, job, &out, err, sizeof(err));
	cJSON_Delete(job);
	if (status >= 400) {
		cJSON_Delete(out);
		return httpd_reply_error(x->req, status, "health check: %s", err);
	}
	cstore_exec(x->c->store, "UPDATE jobs SET origin = 'web app' WHERE id = ?", "t",
		 cJSON_GetStringValue(cJSON_GetObjectItem(out, "id")));
	cJSON_Delete(out);
	snprintf(back, sizeof(back), "/admin/integrations/%s/activity", id);
	return pg_back(x, back);
}
