/*
 * The daily sync: a timer on the server's loop that enqueues a sync job
 * per integration once a period, and the enqueue that "Sync now" and the
 * safeguard's approval share (the users the coordinator expects in the
 * app, the exempt ones, and an optional safeguard override).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "httpd.h"
#include "log.h"
#include "pages.h"

int pages_sync_every_s(const struct coord *c);
void **pages_sync_slot(struct coord *c);

struct sync_timer {
	lws_sorted_usec_list_t sul;	/* first: the callback gets its address */
	struct coord *c;
};

/* Users the IdP assigned (an upstream id, or an invite or update asked
 * for them) whom the app should hold: a sync that no longer finds them in
 * the app reports them deleted.  Users only an earlier listing found are
 * not expected: the sync calls them unmatched. */
#define EXPECTED_STATES "('onboarded', 'pending_user_claim', 'pending_user_login'," \
	" 'invite_expired', 'update_awaiting', 'updating', 'update_failed', 'sync_failed')"

int sync_enqueue(struct coord *c, const char *integration, const char *origin,
		 double ratio, char *id, size_t idn, char *err, size_t errn)
{
	struct cstore_rows *st;
	cJSON *job = NULL, *exp, *ex, *out = NULL;
	char app[80], ikey[160];
	int status, rc = -1;

	st = cstore_query(c->store, "SELECT id FROM jobs WHERE integration = ? AND action = 'sync'"
		       " AND status IN ('queued', 'running') ORDER BY n LIMIT 1", "t", integration);
	if (st && cstore_next(st)) {
		/* one sync at a time: a second press shows the one under way */
		snprintf(id, idn, "%s", cstore_text(st, 0));
		cstore_done(st);
		return 0;
	}
	cstore_done(st);
	st = cstore_query(c->store, "SELECT app FROM integrations WHERE id = ?", "t", integration);
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		snprintf(err, errn, "no integration \"%s\"", integration);
		return -1;
	}
	snprintf(app, sizeof(app), "%s", cstore_text(st, 0));
	cstore_done(st);

	job = cJSON_CreateObject();
	cJSON_AddStringToObject(job, "integration", integration);
	cJSON_AddStringToObject(job, "app", app);
	cJSON_AddStringToObject(job, "action", "sync");
	exp = cJSON_AddArrayToObject(job, "expected");
	ex = cJSON_AddArrayToObject(job, "exempt");
	/* Where an IdP drives the integration over SCIM, each of its users is
	 * expected with the roles the IdP's groups give (as the last job sent
	 * them), so a sync also sees the roles someone changed in the app.
	 * (SCIM users are IdP-assigned already: their upstream_id is set.) */
	st = cstore_query(c->store, "SELECT user_key, email, username, upstream_id, exempt,"
		       " (SELECT s.sent_view FROM scim_users s WHERE s.integration = users.integration"
		       "  AND s.user_key = users.user_key AND s.active = 1"
		       "  ORDER BY s.updated_ms DESC LIMIT 1) FROM users"
		       " WHERE integration = ? AND (exempt = 1 OR (state IN " EXPECTED_STATES
		       " AND (upstream_id IS NOT NULL OR EXISTS (SELECT 1 FROM jobs j"
		       "  WHERE j.integration = users.integration AND j.user_key = users.user_key"
		       "  AND j.action IN ('invite', 'update')))))"
		       " ORDER BY user_key", "t", integration);
	while (st && cstore_next(st)) {
		const char *key = cstore_text(st, 0);
		if ((int)cstore_int64(st, 4)) {
			cJSON_AddItemToArray(ex, cJSON_CreateString(key));
		} else {
			cJSON *u = cJSON_CreateObject(), *view, *roles;
			static const char *const k[] = { NULL, "email", "username", "upstream_id" };
			for (int i = 1; i < 4; i++)
				if (cstore_text(st, i))
					cJSON_AddStringToObject(u, k[i],
								cstore_text(st, i));
			if (!cJSON_GetObjectItem(u, "email") && !cJSON_GetObjectItem(u, "username"))
				cJSON_AddStringToObject(u, strchr(key, '@') ? "email" : "username", key);
			view = cstore_text(st, 5) ? cJSON_Parse(cstore_text(st, 5)) : NULL;
			roles = cJSON_GetObjectItemCaseSensitive(view, "roles");
			if (cJSON_IsArray(roles) && cJSON_GetArraySize(roles) > 0)
				cJSON_AddItemToObject(u, "roles", cJSON_Duplicate(roles, 1));
			cJSON_Delete(view);
			cJSON_AddItemToArray(exp, u);
		}
	}
	cstore_done(st);
	if (ratio > 0)
		cJSON_AddNumberToObject(job, "max_delete_ratio", ratio);
	snprintf(ikey, sizeof(ikey), "sync:%s:%lld", integration, (long long)cdb_now_ms());
	cJSON_AddStringToObject(job, "idempotency_key", ikey);
	status = coord_enqueue(c, job, &out, err, errn);
	if (status >= 400)
		goto out;
	snprintf(id, idn, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(out, "id")));
	cstore_exec(c->store, "UPDATE jobs SET origin = ? WHERE id = ?", "tt", origin, id);
	rc = 0;
out:
	cJSON_Delete(job);
	cJSON_Delete(out);
	return rc;
}

/* Every integration whose next sync is due gets one; an integration seen
 * for the first time gets its first one a period from now.  The UPDATE …
 * RETURNING claims the due ones: of several coordinator processes on one
 * PostgreSQL, each due integration goes to one (the row lock makes the
 * others see the new next_sync_ms). */
static void sync_due(struct coord *c)
{
	int64_t now = cdb_now_ms(), every = (int64_t)pages_sync_every_s(c) * 1000;
	struct cstore_rows *st;
	cJSON *ids = cJSON_CreateArray(), *i;

	cstore_exec(c->store, "UPDATE integrations SET next_sync_ms = ? WHERE next_sync_ms IS NULL",
		 "i", now + every);
	st = cstore_query(c->store, "UPDATE integrations SET next_sync_ms = ? WHERE next_sync_ms <= ?"
		       " RETURNING id", "ii", now + every, now);
	while (st && cstore_next(st))
		cJSON_AddItemToArray(ids, cJSON_CreateString(cstore_text(st, 0)));
	cstore_done(st);
	cJSON_ArrayForEach(i, ids) {
		char id[80], err[300];
		if (sync_enqueue(c, i->valuestring, "daily sync", 0, id, sizeof(id), err, sizeof(err)))
			log_warn("daily sync of \"%s\": %s", i->valuestring, err);
		else
			pg_activity(c, i->valuestring, "daily sync", "Daily sync started", NULL, id);
	}
	cJSON_Delete(ids);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct sync_timer *t = (struct sync_timer *)sul;
	int every = pages_sync_every_s(t->c);

	sync_due(t->c);
	/* look often enough to honour short periods (tests), at most once a minute */
	lws_sul_schedule(httpd_context(t->c->h), 0, &t->sul, on_tick,
			 (lws_usec_t)(every < 60 ? (every > 1 ? every / 2 : 1) : 60) * LWS_US_PER_SEC);
}

void sync_start(struct coord *c)
{
	void **slot = pages_sync_slot(c);
	struct sync_timer *t;

	if (!slot || *slot)
		return;
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->c = c;
	*slot = t;
	on_tick(&t->sul);
}

void sync_stop(struct coord *c)
{
	void **slot = pages_sync_slot(c);

	if (!slot || !*slot)
		return;
	lws_sul_cancel(&((struct sync_timer *)*slot)->sul);
	free(*slot);
	*slot = NULL;
}
