/*
 * The integration's Users tab: every column of the product's Users table,
 * filtered, searched and paged on the server (10,000 users stay fast),
 * either generation of state names, and the per-user actions (retry,
 * exempt, remove) that enqueue jobs or set flags.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "pages.h"

#define PER_PAGE 50

/* Filter groups: each is a label and the states it covers. */
static const struct { const char *id, *label, *states; } filters[] = {
	{ "awaiting", "Awaiting (queued)", ",provisioning_awaiting,update_awaiting,delete_awaiting," },
	{ "ongoing", "Ongoing", ",inviting,updating,removing," },
	{ "failed", "Failed", ",invite_failed,update_failed,delete_failed,sync_failed,invite_expired," },
	{ "onboarded", "Onboarded", ",onboarded,pending_user_claim,pending_user_login," },
	{ "pending", "Pending user claim or login", ",pending_user_claim,pending_user_login," },
	{ "deleted", "Deleted / removed", ",deleted," },
	{ "unmatched", "Unmatched", ",unmatched," },
	{ "exempted", "Exempted", "" },
};

struct uq {
	const char *q, *state, *names;
	int page;
};

static void users_url(struct pg_buf *b, const char *id, const struct uq *u, const char *names,
		      int page)
{
	pg_raw(b, "/admin/integrations/");
	pg_text(b, id);
	pg_raw(b, "/users?names=");
	pg_url(b, names);
	if (u->q && *u->q) {
		pg_raw(b, "&amp;q=");
		pg_url(b, u->q);
	}
	if (u->state && *u->state) {
		pg_raw(b, "&amp;state=");
		pg_url(b, u->state);
	}
	if (page > 1)
		pg_printf(b, "&amp;page=%d", page);
}

static void login_method(struct pg_buf *b, const char *m, const char *sso, const char *app,
			 const char *username)
{
	if (!m)
		pg_raw(b, "—");
	else if (!strcmp(m, "pending_user_login"))
		pg_raw(b, "Pending user login");
	else if (!strcmp(m, "pending_user_claim"))
		pg_raw(b, "Pending user claim");
	else if (!strcmp(m, "sso")) {
		pg_text(b, app);
		pg_raw(b, " ");
		pg_text(b, sso ? sso : "SSO");
	} else if (!strcmp(m, "password")) {
		/* the connected account: credentials held in the vault */
		pg_raw(b, "Connected account");
		if (username) {
			pg_raw(b, " (");
			pg_text(b, username);
			pg_raw(b, ")");
		}
	} else {
		pg_text(b, m);
	}
}

/* ISO 8601 from the app as the other dates read: "2024-11-20 09:15 UTC". */
static void last_used(struct pg_buf *b, const char *t)
{
	if (!t || !*t)
		pg_raw(b, "—");
	else if (strlen(t) >= 16 && t[10] == 'T' && t[strlen(t) - 1] == 'Z') {
		pg_raw(b, "<time datetime=\"");
		pg_text(b, t);
		pg_raw(b, "\">");
		pg_text(b, (char[11]){ t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], 0 });
		pg_raw(b, " ");
		pg_text(b, (char[6]){ t[11], t[12], t[13], t[14], t[15], 0 });
		pg_raw(b, " UTC</time>");
	} else
		pg_text(b, t);
}

/* A list of strings or {name, detail} objects, as <li> items. */
static int list_items(struct pg_buf *b, const cJSON *arr)
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, arr) {
		const char *name = cJSON_IsString(e) ? e->valuestring :
			cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
		const char *detail = cJSON_GetStringValue(cJSON_GetObjectItem(e, "detail"));
		pg_raw(b, "<li>");
		pg_text(b, name ? name : "?");
		if (detail) {
			pg_raw(b, " <span class=\"detail\">");
			pg_text(b, detail);
			pg_raw(b, "</span>");
		}
		pg_raw(b, "</li>");
		n++;
	}
	return n;
}

/* The side drawer: a <details> whose body is a fixed panel, so it opens
 * without script and a table reader sees only its summary. */
static void drawer(struct pg_buf *b, const char *summary, const char *title, const char *user,
		   const cJSON *roles, const cJSON *ents)
{
	pg_raw(b, "<details class=\"drawer\"><summary>");
	pg_text(b, summary);
	pg_raw(b, "</summary><aside><h3>");
	pg_text(b, title);
	pg_raw(b, " — ");
	pg_text(b, user);
	pg_raw(b, "</h3><h4>App access (roles)</h4><ul class=\"roles\">");
	if (!list_items(b, roles))
		pg_raw(b, "<li class=\"empty\">no role</li>");
	pg_raw(b, "</ul><h4>Entitlements</h4><ul class=\"entitlements\">");
	if (!list_items(b, ents))
		pg_raw(b, "<li class=\"empty\">none</li>");
	pg_raw(b, "</ul></aside></details>");
}

static const char *filter_states(const char *state)
{
	for (size_t i = 0; state && i < sizeof(filters) / sizeof(filters[0]); i++)
		if (!strcmp(filters[i].id, state))
			return filters[i].states;
	return NULL;
}

int pg_users_tab(struct pg_ctx *x, const char *id)
{
	struct uq u = { httpd_req_query(x->req, "q"), httpd_req_query(x->req, "state"),
			httpd_req_query(x->req, "names"), 1 };
	const char *p = httpd_req_query(x->req, "page"), *fs;
	int older = u.names && !strcmp(u.names, "older"), exempt_only;
	char like[300] = "", app[80] = "";
	int64_t total, pages;
	struct cstore_rows *st;
	struct pg_buf back = { 0 };
	int shown = 0;

	if (p)
		u.page = atoi(p) > 0 ? atoi(p) : 1;
	if (u.q && *u.q) {
		size_t o = 0;
		like[o++] = '%';
		/* LIKE's own wildcards in the search are literal */
		for (const char *s = u.q; *s && o + 4 < sizeof(like); s++) {
			if (*s == '%' || *s == '_' || *s == '\\')
				like[o++] = '\\';
			like[o++] = (char)tolower((unsigned char)*s);
		}
		like[o++] = '%';
		like[o] = '\0';
	}
	fs = filter_states(u.state);
	exempt_only = u.state && !strcmp(u.state, "exempted");
	if (!fs)
		u.state = NULL;
	{
		struct cstore_rows *a = cstore_query(x->c->store, "SELECT app FROM integrations WHERE id = ?", "t", id);
		if (a && cstore_next(a))
			snprintf(app, sizeof(app), "%s", cstore_text(a, 0));
		cstore_done(a);
	}
/* LIKE is case-insensitive (ASCII) on SQLite, case-sensitive on
 * PostgreSQL: both sides go through the engine's own lower() */
#define USER_WHERE " FROM users WHERE integration = ?" \
	" AND (? = '' OR lower(user_key) LIKE lower(?) ESCAPE '\\'" \
	"   OR lower(coalesce(email, '')) LIKE lower(?) ESCAPE '\\'" \
	"   OR lower(coalesce(username, '')) LIKE lower(?) ESCAPE '\\'" \
	"   OR lower(coalesce(upstream_id, '')) LIKE lower(?) ESCAPE '\\'" \
	"   OR lower(coalesce(display_name, '')) LIKE lower(?) ESCAPE '\\')" \
	" AND (? = '' OR (exempt = 0 AND ? LIKE '%,' || state || ',%'))" \
	" AND (? = 0 OR exempt = 1)"
	total = cstore_int(x->c->store, 0, "SELECT count(*)" USER_WHERE, "tttttttttn", id, like, like,
			like, like, like, like, fs ? fs : "", fs ? fs : "", exempt_only);
	pages = total ? (total + PER_PAGE - 1) / PER_PAGE : 1;
	if (u.page > pages)
		u.page = (int)pages;

	users_url(&back, id, &u, older ? "older" : "newer", u.page);
	/* users_url escapes & for HTML; a form's back field wants the raw URL */
	for (char *s = back.s; s && (s = strstr(s, "&amp;")); )
		memmove(s + 1, s + 5, strlen(s + 5) + 1);
	x->back = back.s;

	/* filter and search: a GET form, so the URL says what is shown */
	pg_raw(&x->b, "<form method=\"get\" class=\"filters\" action=\"/admin/integrations/");
	pg_text(&x->b, id);
	pg_raw(&x->b, "/users\"><input type=\"search\" name=\"q\" placeholder=\"Search users\" value=\"");
	pg_text(&x->b, u.q);
	pg_raw(&x->b, "\"><select name=\"state\"><option value=\"\">All states</option>");
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		pg_printf(&x->b, "<option value=\"%s\"%s>", filters[i].id,
			  u.state && !strcmp(u.state, filters[i].id) ? " selected" : "");
		pg_text(&x->b, filters[i].label);
		pg_raw(&x->b, "</option>");
	}
	pg_printf(&x->b, "</select><input type=\"hidden\" name=\"names\" value=\"%s\">"
		  "<button type=\"submit\">Filter</button></form>", older ? "older" : "newer");
	pg_raw(&x->b, "<p class=\"switch\">State names: ");
	pg_raw(&x->b, "<a class=\"names-newer");
	pg_raw(&x->b, older ? "\" href=\"" : " active\" href=\"");
	users_url(&x->b, id, &u, "newer", u.page);
	pg_raw(&x->b, "\">newer</a> · <a class=\"names-older");
	pg_raw(&x->b, older ? " active\" href=\"" : "\" href=\"");
	users_url(&x->b, id, &u, "older", u.page);
	pg_raw(&x->b, "\">older</a></p>");
	{
		char path[160];
		int failed = (int)cstore_int(x->c->store, 0, "SELECT count(*) FROM users WHERE integration = ?"
					  " AND exempt = 0 AND state IN ('invite_failed', 'update_failed',"
					  " 'delete_failed')", "t", id);
		if (failed) {
			char label[60];
			snprintf(path, sizeof(path), "/admin/integrations/%s/users/action", id);
			snprintf(label, sizeof(label), "Retry all %d failed", failed);
			pg_button_form(x, path, label, "retry-all", "action", "retry_all", NULL);
		}
	}

	pg_raw(&x->b, "<table class=\"grid users\"><thead><tr><th>User</th><th>Username in app</th>"
	       "<th>App access</th><th>Entitlements</th><th>Last used</th><th>Login method</th>"
	       "<th>Active in app</th><th>Upstream user ID</th><th>Provisioning state</th>"
	       "<th>Actions</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT user_key, email, username, display_name, roles,"
		       " entitlements, last_used, login_method, sso_label, active, upstream_id, state,"
		       " exempt, detail, job_id" USER_WHERE " ORDER BY user_key LIMIT ? OFFSET ?",
		       "tttttttttnii", id, like, like, like, like, like, like, fs ? fs : "",
		       fs ? fs : "", exempt_only, (int64_t)PER_PAGE,
		       (int64_t)(u.page - 1) * PER_PAGE);
	while (st && cstore_next(st)) {
		const char *key = cstore_text(st, 0);
		const char *email = cstore_text(st, 1);
		const char *uname = cstore_text(st, 2);
		const char *dname = cstore_text(st, 3);
		const char *state = cstore_text(st, 11);
		int exempt = (int)cstore_int64(st, 12);
		cJSON *roles = cstore_text(st, 4) ?
			cJSON_Parse(cstore_text(st, 4)) : NULL;
		cJSON *ents = cstore_text(st, 5) ?
			cJSON_Parse(cstore_text(st, 5)) : NULL;
		char path[160], summary[200] = "";
		int nroles = cJSON_GetArraySize(roles);

		shown++;
		pg_raw(&x->b, "<tr data-user=\"");
		pg_text(&x->b, key);
		pg_raw(&x->b, "\" data-state=\"");
		pg_text(&x->b, exempt ? "exempted" : state);
		pg_raw(&x->b, "\"><td class=\"user\">");
		/* the matched user: empty for an app user the IdP does not know */
		if (!state || strcmp(state, "unmatched")) {
			if (dname) {
				pg_text(&x->b, dname);
				pg_raw(&x->b, " <span class=\"email\">");
			}
			pg_text(&x->b, email ? email : key);
			if (dname)
				pg_raw(&x->b, "</span>");
		}
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, uname ? uname : "—");
		pg_raw(&x->b, "</td><td class=\"access\">");
		if (nroles) {
			const cJSON *r0 = cJSON_GetArrayItem(roles, 0);
			snprintf(summary, sizeof(summary), "%s%s",
				 cJSON_IsString(r0) ? r0->valuestring : "?", nroles > 1 ? "" : "");
			if (nroles > 1)
				snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
					 " +%d", nroles - 1);
			drawer(&x->b, summary, "App access", email ? email : key, roles, ents);
		} else {
			pg_raw(&x->b, "—");
		}
		pg_raw(&x->b, "</td><td class=\"entitlements\">");
		if (cJSON_GetArraySize(ents)) {
			snprintf(summary, sizeof(summary), "%d", cJSON_GetArraySize(ents));
			drawer(&x->b, summary, "Entitlements", email ? email : key, roles, ents);
		} else if (cJSON_IsNumber(ents)) {
			/* the app tells only how many */
			pg_printf(&x->b, "%d", ents->valueint);
		} else {
			pg_raw(&x->b, "0");
		}
		pg_raw(&x->b, "</td><td>");
		last_used(&x->b, cstore_text(st, 6));
		pg_raw(&x->b, "</td><td>");
		login_method(&x->b, cstore_text(st, 7),
			     cstore_text(st, 8), app, uname);
		pg_raw(&x->b, "</td><td>");
		pg_raw(&x->b, cstore_is_null(st, 9) ? "—" :
		       (int)cstore_int64(st, 9) ? "Yes" : "No");
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 10) ? cstore_text(st, 10) : "—");
		pg_raw(&x->b, "</td><td class=\"pstate\"><span class=\"state st-");
		pg_text(&x->b, exempt ? "exempted" : state);
		pg_raw(&x->b, "\"");
		if (cstore_text(st, 13)) {
			pg_raw(&x->b, " title=\"");
			pg_text(&x->b, cstore_text(st, 13));
			pg_raw(&x->b, "\"");
		}
		pg_raw(&x->b, ">");
		pg_text(&x->b, pg_state_label(exempt ? "exempted" : state, older));
		pg_raw(&x->b, "</span></td><td class=\"row-actions\">");
		snprintf(path, sizeof(path), "/admin/integrations/%s/users/action", id);
		if (!exempt && state && (!strcmp(state, "invite_failed") ||
					 !strcmp(state, "update_failed") ||
					 !strcmp(state, "delete_failed")))
			pg_button_form(x, path, "Retry", "retry", "action", "retry", "user", key, NULL);
		pg_button_form(x, path, exempt ? "Unexempt" : "Exempt", "exempt", "action",
			       exempt ? "unexempt" : "exempt", "user", key, NULL);
		if (!exempt && (!state || (strcmp(state, "deleted") && strcmp(state, "removing") &&
					   strcmp(state, "delete_awaiting"))))
			pg_button_form(x, path, "Remove", "remove danger", "action", "remove", "user",
				       key, NULL);
		if (cstore_text(st, 14)) {
			pg_raw(&x->b, " <a class=\"job\" href=\"/admin/jobs/");
			pg_text(&x->b, cstore_text(st, 14));
			pg_raw(&x->b, "\">job</a>");
		}
		pg_raw(&x->b, "</td></tr>");
		cJSON_Delete(roles);
		cJSON_Delete(ents);
	}
	cstore_done(st);
	if (!shown)
		pg_raw(&x->b, "<tr><td colspan=\"10\" class=\"empty\">No users match.</td></tr>");
	pg_raw(&x->b, "</tbody></table><nav class=\"pager\">");
	if (u.page > 1) {
		pg_raw(&x->b, "<a class=\"prev\" href=\"");
		users_url(&x->b, id, &u, older ? "older" : "newer", u.page - 1);
		pg_raw(&x->b, "\">‹ Previous</a> ");
	}
	pg_printf(&x->b, "<span class=\"count\">page %d of %lld · %lld users</span>", u.page,
		  (long long)pages, (long long)total);
	if (u.page < pages) {
		pg_raw(&x->b, " <a class=\"next\" href=\"");
		users_url(&x->b, id, &u, older ? "older" : "newer", u.page + 1);
		pg_raw(&x->b, "\">Next ›</a>");
	}
	pg_raw(&x->b, "</nav>");
	/* x->back points into back until the page is rendered */
	x->back = NULL;
	free(back.s);
	return 0;
}

/* ------------------------------------------------------------ actions */

/* Enqueue action for the user row: origin "web app", optional group. */
static int enqueue_for(struct coord *c, const char *integration, const char *action,
		       const char *key, const char *group, char *err, size_t n)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT u.email, u.username, u.roles, u.upstream_id,"
				     " u.display_name, i.app, u.job_id FROM users u JOIN integrations i"
				     " ON i.id = u.integration WHERE u.integration = ? AND u.user_key = ?",
				     "tt", integration, key);
	cJSON *job = NULL, *user, *out = NULL, *prev = NULL;
	char ikey[200];
	int status = -1;

	if (!st || !cstore_next(st)) {
		snprintf(err, n, "no user \"%s\" in integration \"%s\"", key, integration);
		goto out;
	}
	/* a retry repeats the user's last job as it was asked */
	if (!strcmp(action, "retry")) {
		const char *jid = cstore_text(st, 6);
		struct cstore_rows *js = jid ? cstore_query(c->store, "SELECT body FROM jobs WHERE id = ?", "t", jid)
				       : NULL;
		if (js && cstore_next(js))
			prev = cJSON_Parse(cstore_text(js, 0));
		cstore_done(js);
		action = cJSON_GetStringValue(cJSON_GetObjectItem(prev, "action"));
		if (!action || (strcmp(action, "invite") && strcmp(action, "update") &&
				strcmp(action, "remove"))) {
			snprintf(err, n, "user \"%s\" has no invite, update or removal to retry", key);
			goto out;
		}
	}
	job = cJSON_CreateObject();
	cJSON_AddStringToObject(job, "integration", integration);
	cJSON_AddStringToObject(job, "app", cstore_text(st, 5));
	cJSON_AddStringToObject(job, "action", action);
	if (prev && cJSON_IsObject(cJSON_GetObjectItem(prev, "user"))) {
		cJSON_AddItemToObject(job, "user", cJSON_Duplicate(cJSON_GetObjectItem(prev, "user"), 1));
	} else {
		static const char *const cols[] = { "email", "username", NULL, "upstream_id",
						    "display_name" };
		user = cJSON_AddObjectToObject(job, "user");
		for (int i = 0; i < 5; i++)
			if (cols[i] && cstore_text(st, i))
				cJSON_AddStringToObject(user, cols[i],
							cstore_text(st, i));
		if (!cJSON_GetObjectItem(user, "email") && !cJSON_GetObjectItem(user, "username"))
			cJSON_AddStringToObject(user, "username", key);
		if (cstore_text(st, 2)) {
			cJSON *r = cJSON_Parse(cstore_text(st, 2));
			if (cJSON_IsArray(r))
				cJSON_AddItemToObject(user, "roles", r);
			else
				cJSON_Delete(r);
		}
	}
	/* each press is a new request: its own idempotency key */
	snprintf(ikey, sizeof(ikey), "web:%s:%s:%lld", action, key, (long long)cdb_now_ms());
	cJSON_AddStringToObject(job, "idempotency_key", ikey);
	status = coord_enqueue(c, job, &out, err, n);
	if (status >= 400) {
		status = -1;
		goto out;
	}
	cstore_exec(c->store, "UPDATE jobs SET origin = 'web app', parent = ? WHERE id = ?", "tt", group,
		 cJSON_GetStringValue(cJSON_GetObjectItem(out, "id")));
	pg_activity(c, integration, "admin", !strcmp(action, "remove") ? "User removal requested"
		    : "Retry requested", key, cJSON_GetStringValue(cJSON_GetObjectItem(out, "id")));
	status = 0;
out:
	cstore_done(st);
	cJSON_Delete(job);
	cJSON_Delete(out);
	cJSON_Delete(prev);
	return status;
}

int pg_users_action(struct pg_ctx *x, const char *id)
{
	char action[32], key[256], err[400], back[160];
	struct coord *c = x->c;

	pg_form(x->req, "action", action, sizeof(action));
	pg_form(x->req, "user", key, sizeof(key));
	snprintf(back, sizeof(back), "/admin/integrations/%s/users", id);
	if (!strcmp(action, "exempt") || !strcmp(action, "unexempt")) {
		int on = !strcmp(action, "exempt");
		cstore_exec(c->store, "UPDATE users SET exempt = ?, changed_ms = ? WHERE integration = ?"
			 " AND user_key = ?", "nitt", on, cdb_now_ms(), id, key);
		if (!cstore_changes(c->store))
			return httpd_reply_error(x->req, 404, "no user \"%s\" in integration \"%s\"", key, id);
		pg_activity(c, id, "admin", on ? "User exempted" : "User exemption lifted", key, NULL);
		return pg_back(x, back);
	}
	if (!strcmp(action, "retry") || !strcmp(action, "remove")) {
		if (enqueue_for(c, id, action, key, NULL, err, sizeof(err)))
			return httpd_reply_error(x->req, 409, "%s: %s", action, err);
		return pg_back(x, back);
	}
	if (!strcmp(action, "retry_all")) {
		/* one parent job: its status rolls up from the retries */
		char gid[80], title[120];
		struct cstore_rows *st;
		int n = 0;
		snprintf(gid, sizeof(gid), "g%lld", (long long)cdb_now_ms());
		cstore_exec(c->store, "INSERT INTO job_groups (id, integration, title, origin, created_ms)"
			 " VALUES (?, ?, 'retry failed users', 'web app', ?)", "tti", gid, id,
			 cdb_now_ms());
		st = cstore_query(c->store, "SELECT user_key FROM users WHERE integration = ? AND exempt = 0"
			       " AND state IN ('invite_failed', 'update_failed', 'delete_failed')"
			       " ORDER BY user_key", "t", id);
		while (st && cstore_next(st))
			if (!enqueue_for(c, id, "retry", cstore_text(st, 0), gid,
					 err, sizeof(err)))
				n++;
		cstore_done(st);
		snprintf(title, sizeof(title), "retry %d failed users", n);
		cstore_exec(c->store, "UPDATE job_groups SET title = ? WHERE id = ?", "tt", title, gid);
		return pg_back(x, back);
	}
	return httpd_reply_error(x->req, 400, "unknown user action \"%s\" (retry, exempt, unexempt,"
				 " remove, retry_all)", action);
}
