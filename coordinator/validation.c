/*
 * validation: the first integration of an app is validated before it is
 * trusted (the product's "Under validation" and "Under review" statuses).
 *
 * An integration created with "validate": true for an app no integration
 * has validated yet starts "under_validation" and gets a validate job
 * (sign in, read the users).  Until a validate job of that app succeeds,
 * the integration's status stays "under_validation" whatever its jobs do
 * (they still run: the IdP does not wait), and a failed validation turns
 * it "under_review": a person looks at the failed automation, fixes the
 * script or the account, and runs the health check again.  Its success
 * makes every integration of the app waiting on it "validated"; later
 * integrations of the app skip validation, as the seed describes.
 *
 * No schema of its own: "the app is validated" is a completed validate job
 * of the app, and the two statuses live in integrations.status.
 */
#include <stdio.h>
#include <string.h>

#include "coordinator.h"

int validation_app_done(struct coord *c, const char *app)
{
	return cstore_int(c->store, 0, "SELECT count(*) FROM jobs WHERE app = ? AND action = 'validate'"
		       " AND status = 'completed' AND outcome = 'ok'", "t", app) > 0;
}

static int waiting(const char *status)
{
	return status && (!strcmp(status, "under_validation") || !strcmp(status, "under_review"));
}

const char *validation_status(struct coord *c, const char *integration, const char *wanted,
			      int settled)
{
	struct cstore_rows *st = cstore_query(c->store, "SELECT status, app FROM integrations"
					      " WHERE id = ?", "t", integration);
	const char *out = wanted;

	if (cstore_next(st) && waiting(cstore_text(st, 0))) {
		const char *now = cstore_text(st, 0);
		if (!strcmp(wanted, "validated") && settled) {
			/* the app works here: every integration waiting on it moves */
			cstore_exec(c->store, "UPDATE integrations SET status = 'validated', detail = NULL,"
				 " updated_ms = ? WHERE app = ? AND id <> ? AND status IN"
				 " ('under_validation', 'under_review')", "itt", cdb_now_ms(),
				 cstore_text(st, 1), integration);
		} else if (!strcmp(wanted, "validation_failed")) {
			out = "under_review";
		} else {
			/* A script's own "validated" event lands here too: it
			 * arrives before its job is stored as completed, and were
			 * it to move the status, the app would look validated
			 * while validation_app_done says it is not (a second
			 * integration would be validated again).  Only the
			 * completion moves it, in the transaction with the job. */
			out = !strcmp(now, "under_review") ? "under_review" : "under_validation";
		}
	}
	cstore_done(st);
	return out;
}

int validation_begin(struct coord *c, const char *integration, const char *app,
		     char *err, size_t n)
{
	cJSON *job, *out = NULL;
	char ikey[200];
	int status;

	if (validation_app_done(c, app))
		return 0;	/* validated before: nothing to wait for */
	if (cstore_exec(c->store, "UPDATE integrations SET status = 'under_validation', detail = ?,"
		     " updated_ms = ? WHERE id = ?", "tit",
		     "the first integration of this app is being validated", cdb_now_ms(),
		     integration))
		return snprintf(err, n, "cannot mark \"%s\" under validation", integration), -1;
	job = cJSON_CreateObject();
	cJSON_AddStringToObject(job, "integration", integration);
	cJSON_AddStringToObject(job, "app", app);
	cJSON_AddStringToObject(job, "action", "validate");
	snprintf(ikey, sizeof(ikey), "validation:%s", integration);
	cJSON_AddStringToObject(job, "idempotency_key", ikey);
	status = coord_enqueue(c, job, &out, err, n);
	cJSON_Delete(job);
	if (status < 400)
		cstore_exec(c->store, "UPDATE jobs SET origin = 'validation' WHERE id = ?", "t",
			 cJSON_GetStringValue(cJSON_GetObjectItem(out, "id")));
	cJSON_Delete(out);
	return status < 400 ? 0 : -1;
}
