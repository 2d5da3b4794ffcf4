/*
 * The Jobs page: each job (or parent job, its status rolled up from its
 * children) with its trigger, error class and whether a person is needed;
 * a job's page with its failure screenshot and report; the artifacts the
 * worker referenced, served to the signed-in admin; approving a sync the
 * safeguard halted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "httpd.h"
#include "pages.h"
#include "rollup.h"

#define PER_PAGE 100
#define MAX_ARTIFACT (32u << 20)

const char *pages_artifacts_dir(const struct coord *c);

static const char *trigger(const char *origin)
{
	return origin ? origin : "API";
}

/* A job's status as a person reads it: a job back in the queue after a
 * failed attempt, or one whose worker reported it retries, is retrying. */
static const char *job_status(struct cstore *db, const char *id, const char *status, int attempt)
{
	if (!strcmp(status, "queued") && attempt > 0)
		return "retrying";
	if (!strcmp(status, "running")) {
		struct cstore_rows *st = cstore_query(db, "SELECT body FROM events WHERE job_id = ? AND"
					     " kind = 'status' ORDER BY attempt DESC, seq DESC LIMIT 1",
					     "t", id);
		int retry = st && cstore_next(st) &&
			strstr(cstore_text(st, 0), "\"retrying\"");
		cstore_done(st);
		return retry ? "retrying" : "running";
	}
	return status;
}

static void badge(struct pg_buf *b, const char *status)
{
	pg_raw(b, "<span class=\"jstatus j-");
	for (const char *s = status; *s; s++)
		pg_raw(b, *s == ' ' ? "_" : (char[2]){ *s, 0 });
	pg_raw(b, "\">");
	pg_text(b, status);
	pg_raw(b, "</span>");
}

struct jrow {
	char status[24];
	char cls[40];
	char human[300];
};

static void job_facts(struct cstore *db, const char *id, struct jrow *r)
{
	struct cstore_rows *st = cstore_query(db, "SELECT status, attempt, error FROM jobs WHERE id = ?", "t", id);

	memset(r, 0, sizeof(*r));
	if (!st || !cstore_next(st)) {
		cstore_done(st);
		snprintf(r->status, sizeof(r->status), "queued");
		return;
	}
	snprintf(r->status, sizeof(r->status), "%s", job_status(db, id,
		 cstore_text(st, 0), (int)cstore_int64(st, 1)));
	if (cstore_text(st, 2)) {
		cJSON *e = cJSON_Parse(cstore_text(st, 2));
		const char *cls = cJSON_GetStringValue(cJSON_GetObjectItem(e, "class"));
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
		snprintf(r->cls, sizeof(r->cls), "%s", cls ? cls : "");
		if (cls && (!strcmp(cls, "needs_human") || !strcmp(cls, "script")))
			snprintf(r->human, sizeof(r->human), "%s", msg ? msg : "yes");
		cJSON_Delete(e);
	}
	cstore_done(st);
}

/* The group's children's facts rolled up into r. */
static int group_facts(struct cstore *db, const char *gid, struct jrow *r)
{
	struct cstore_rows *st = cstore_query(db, "SELECT id FROM jobs WHERE parent = ? ORDER BY n", "t", gid);
	const char *sts[256];
	struct jrow kids[256];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	while (st && cstore_next(st) && n < 256) {
		job_facts(db, cstore_text(st, 0), &kids[n]);
		sts[n] = kids[n].status;
		if (kids[n].cls[0] && !strstr(r->cls, kids[n].cls))
			snprintf(r->cls + strlen(r->cls), sizeof(r->cls) - strlen(r->cls), "%s%s",
				 r->cls[0] ? ", " : "", kids[n].cls);
		if (kids[n].human[0] && !r->human[0])
			snprintf(r->human, sizeof(r->human), "%s", kids[n].human);
		n++;
	}
	cstore_done(st);
	snprintf(r->status, sizeof(r->status), "%s", rollup_status(sts, n));
	return (int)n;
}

int pg_jobs(struct pg_ctx *x, const char *integration)
{
	const char *p = httpd_req_query(x->req, "page");
	int page = p && atoi(p) > 0 ? atoi(p) : 1, n = 0;
	const char *in = integration ? integration : "";
	struct cstore_rows *st;

	pg_begin(x, "Jobs", "jobs");
	pg_raw(&x->b, "<h1>Jobs");
	if (*in) {
		pg_raw(&x->b, " of <a href=\"/admin/integrations/");
		pg_text(&x->b, in);
		pg_raw(&x->b, "\">");
		pg_text(&x->b, in);
		pg_raw(&x->b, "</a>");
	}
	pg_raw(&x->b, "</h1><table class=\"grid jobs\"><thead><tr><th>Job</th><th>Integration</th>"
	       "<th>Task</th><th>Target</th><th>Trigger</th><th>Status</th><th>Error class</th>"
	       "<th>Person needed</th><th>Created</th><th>Updated</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT kind, id, integration, task, target, origin, created_ms,"
		       " updated_ms FROM ("
		       "SELECT 'group' AS kind, id, integration, title AS task, '' AS target, origin,"
		       "  created_ms, created_ms AS updated_ms, 0 AS n FROM job_groups"
		       "  WHERE ? = '' OR integration = ?"
		       " UNION ALL"
		       " SELECT 'job', id, integration, action, user_key, " PG_ORIGIN_SQL ","
		       "  created_ms, updated_ms, n"
		       "  FROM jobs WHERE parent IS NULL AND (? = '' OR integration = ?)"
		       ") a ORDER BY created_ms DESC, n DESC LIMIT ? OFFSET ?", "ttttii", in, in, in, in,
		       (int64_t)PER_PAGE, (int64_t)(page - 1) * PER_PAGE);
	while (st && cstore_next(st)) {
		const char *kind = cstore_text(st, 0);
		const char *id = cstore_text(st, 1);
		struct jrow r;
		int kids = 0;

		if (!strcmp(kind, "group"))
			kids = group_facts(x->c->store, id, &r);
		else
			job_facts(x->c->store, id, &r);
		n++;
		pg_raw(&x->b, "<tr data-job=\"");
		pg_text(&x->b, id);
		pg_raw(&x->b, "\"><td><a href=\"/admin/jobs/");
		pg_text(&x->b, id);
		pg_raw(&x->b, "\">");
		pg_text(&x->b, id);
		pg_raw(&x->b, "</a>");
		if (!strcmp(kind, "group"))
			pg_printf(&x->b, " <span class=\"kids\">(%d jobs)</span>", kids);
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 2));
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 3));
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 4));
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, trigger(cstore_text(st, 5)));
		pg_raw(&x->b, "</td><td>");
		badge(&x->b, r.status);
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, r.cls[0] ? r.cls : "—");
		pg_raw(&x->b, "</td><td>");
		pg_raw(&x->b, r.human[0] ? "Yes" : "No");
		pg_raw(&x->b, "</td><td>");
		pg_time(&x->b, cstore_int64(st, 6));
		pg_raw(&x->b, "</td><td>");
		pg_time(&x->b, cstore_int64(st, 7));
		pg_raw(&x->b, "</td></tr>");
	}
	cstore_done(st);
	if (!n)
		pg_raw(&x->b, "<tr><td colspan=\"10\" class=\"empty\">No jobs.</td></tr>");
	pg_raw(&x->b, "</tbody></table><nav class=\"pager\">");
	if (page > 1)
		pg_printf(&x->b, "<a class=\"prev\" href=\"?integration=%s&amp;page=%d\">‹ Newer</a> ",
			  in, page - 1);
	if (n == PER_PAGE)
		pg_printf(&x->b, " <a class=\"next\" href=\"?integration=%s&amp;page=%d\">Older ›</a>",
			  in, page + 1);
	pg_raw(&x->b, "</nav>");
	return pg_end(x);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void field(struct pg_buf *b, const char *name, const char *value)
{
	pg_raw(b, "<dt>");
	pg_text(b, name);
	pg_raw(b, "</dt><dd>");
	pg_text(b, value && *value ? value : "—");
	pg_raw(b, "</dd>");
}

static int group_page(struct pg_ctx *x, const char *gid)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT integration, title, origin, created_ms"
				     " FROM job_groups WHERE id = ?", "t", gid);
	struct jrow r;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(x->req, 404, "no job \"%s\"", gid);
	}
	group_facts(x->c->store, gid, &r);
	pg_begin(x, gid, "jobs");
	pg_raw(&x->b, "<p class=\"crumbs\"><a href=\"/admin/jobs\">Jobs</a> ›</p><h1>Job ");
	pg_text(&x->b, gid);
	pg_raw(&x->b, "</h1><dl class=\"facts\">");
	field(&x->b, "Integration", cstore_text(st, 0));
	field(&x->b, "Task", cstore_text(st, 1));
	field(&x->b, "Trigger", trigger(cstore_text(st, 2)));
	field(&x->b, "Status", r.status);
	field(&x->b, "Person needed", r.human[0] ? r.human : "No");
	pg_raw(&x->b, "</dl>");
	cstore_done(st);
	pg_raw(&x->b, "<h2>Children</h2><table class=\"grid children\"><thead><tr><th>Job</th>"
	       "<th>Task</th><th>Target</th><th>Status</th><th>Error class</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT id, action, user_key FROM jobs WHERE parent = ? ORDER BY n",
		       "t", gid);
	while (st && cstore_next(st)) {
		const char *id = cstore_text(st, 0);
		job_facts(x->c->store, id, &r);
		pg_raw(&x->b, "<tr><td><a href=\"/admin/jobs/");
		pg_text(&x->b, id);
		pg_raw(&x->b, "\">");
		pg_text(&x->b, id);
		pg_raw(&x->b, "</a></td><td>");
		pg_text(&x->b, cstore_text(st, 1));
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 2));
		pg_raw(&x->b, "</td><td>");
		badge(&x->b, r.status);
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, r.cls[0] ? r.cls : "—");
		pg_raw(&x->b, "</td></tr>");
	}
	cstore_done(st);
	pg_raw(&x->b, "</tbody></table>");
	return pg_end(x);
}

int pg_job(struct pg_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT integration, app, action, user_key, "
				     PG_ORIGIN_SQL ","
				     " attempt, max_attempts, worker, error, result, created_ms,"
				     " updated_ms, parent FROM jobs WHERE id = ?", "t", id);
	cJSON *err = NULL, *res = NULL, *arts, *a;
	struct jrow r;
	char buf[64];

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return group_page(x, id);
	}
	job_facts(x->c->store, id, &r);
	if (cstore_text(st, 8))
		err = cJSON_Parse(cstore_text(st, 8));
	if (cstore_text(st, 9))
		res = cJSON_Parse(cstore_text(st, 9));
	pg_begin(x, id, "jobs");
	pg_raw(&x->b, "<p class=\"crumbs\"><a href=\"/admin/jobs\">Jobs</a> ›</p><h1>Job ");
	pg_text(&x->b, id);
	pg_raw(&x->b, " ");
	badge(&x->b, r.status);
	pg_raw(&x->b, "</h1><dl class=\"facts\">");
	field(&x->b, "Integration", cstore_text(st, 0));
	field(&x->b, "App", cstore_text(st, 1));
	field(&x->b, "Task", cstore_text(st, 2));
	field(&x->b, "Target", cstore_text(st, 3));
	field(&x->b, "Trigger", trigger(cstore_text(st, 4)));
	snprintf(buf, sizeof(buf), "%d of %d", (int)cstore_int64(st, 5), (int)cstore_int64(st, 6));
	field(&x->b, "Attempt", buf);
	field(&x->b, "Worker", cstore_text(st, 7));
	field(&x->b, "Parent job", cstore_text(st, 12));
	field(&x->b, "Error class", cJSON_GetStringValue(cJSON_GetObjectItem(err, "class")));
	field(&x->b, "Error", cJSON_GetStringValue(cJSON_GetObjectItem(err, "message")));
	field(&x->b, "Person needed", r.human[0] ? "Yes — a person must act before a retry" : "No");
	pg_raw(&x->b, "<dt>Created</dt><dd>");
	pg_time(&x->b, cstore_int64(st, 10));
	pg_raw(&x->b, "</dd><dt>Updated</dt><dd>");
	pg_time(&x->b, cstore_int64(st, 11));
	pg_raw(&x->b, "</dd></dl>");
	cstore_done(st);

	/* what the worker uploaded (any coordinator process has it), then
	 * what it named on its own disk (served from --artifacts-dir) */
	arts = coord_artifact_names(x->c, id);
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(res, "artifacts")) {
		cJSON *b;
		int dup = 0;
		if (!cJSON_IsString(a))
			continue;
		cJSON_ArrayForEach(b, arts)
			dup |= !strcmp(b->valuestring, base_name(a->valuestring));
		if (!dup)
			cJSON_AddItemToArray(arts, cJSON_CreateString(base_name(a->valuestring)));
	}
	if (cJSON_GetArraySize(arts)) {
		int shot = 0;
		pg_raw(&x->b, "<h2>Failure evidence</h2>");
		cJSON_ArrayForEach(a, arts)
			if (cJSON_IsString(a) && strstr(base_name(a->valuestring), ".png")) {
				pg_raw(&x->b, "<figure class=\"screenshot\"><img alt=\"the page when the job"
				       " failed\" src=\"/admin/jobs/");
				pg_text(&x->b, id);
				pg_raw(&x->b, "/artifacts/");
				pg_url(&x->b, base_name(a->valuestring));
				pg_raw(&x->b, "\"><figcaption>");
				pg_text(&x->b, base_name(a->valuestring));
				pg_raw(&x->b, "</figcaption></figure>");
				shot = 1;
			}
		if (!shot)
			pg_raw(&x->b, "<p class=\"none\">no screenshot (none is taken once a secret was"
			       " on screen)</p>");
		pg_raw(&x->b, "<h3>Report</h3><ul class=\"artifacts\">");
		cJSON_ArrayForEach(a, arts) {
			if (!cJSON_IsString(a))
				continue;
			pg_raw(&x->b, "<li><a href=\"/admin/jobs/");
			pg_text(&x->b, id);
			pg_raw(&x->b, "/artifacts/");
			pg_url(&x->b, base_name(a->valuestring));
			pg_raw(&x->b, "\">");
			pg_text(&x->b, base_name(a->valuestring));
			pg_raw(&x->b, "</a></li>");
		}
		pg_raw(&x->b, "</ul>");
	}
	cJSON_Delete(arts);
	pg_raw(&x->b, "<h2>Events</h2><table class=\"grid events\"><thead><tr><th>Attempt</th>"
	       "<th>#</th><th>Received</th><th>Kind</th><th>Detail</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT attempt, seq, received_ms, kind, body FROM events"
		       " WHERE job_id = ? ORDER BY attempt, seq", "t", id);
	while (st && cstore_next(st)) {
		cJSON *ev = cJSON_Parse(cstore_text(st, 4));
		const char *kind = cstore_text(st, 3);
		pg_printf(&x->b, "<tr><td>%d</td><td>%d</td><td>", (int)cstore_int64(st, 0),
			  (int)cstore_int64(st, 1));
		pg_time(&x->b, cstore_int64(st, 2));
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, kind);
		pg_raw(&x->b, "</td><td>");
		if (!strcmp(kind, "state")) {
			pg_text(&x->b, cJSON_GetStringValue(cJSON_GetObjectItem(ev, "user")));
			pg_raw(&x->b, " → ");
			pg_text(&x->b, cJSON_GetStringValue(cJSON_GetObjectItem(ev, "state")));
		} else if (!strcmp(kind, "status")) {
			pg_text(&x->b, cJSON_GetStringValue(cJSON_GetObjectItem(ev, "status")));
		} else {
			const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "message"));
			pg_text(&x->b, m ? m : cJSON_GetStringValue(cJSON_GetObjectItem(ev, "step")));
		}
		pg_raw(&x->b, "</td></tr>");
		cJSON_Delete(ev);
	}
	cstore_done(st);
	pg_raw(&x->b, "</tbody></table>");
	cJSON_Delete(err);
	cJSON_Delete(res);
	return pg_end(x);
}

/* Serves an artifact the job's complete referenced, when its real path is
 * under --artifacts-dir.  Only images keep their type: anything else is
 * text, so no page from a fixture or an app runs in the admin's origin. */
int pg_job_artifact(struct pg_ctx *x, const char *id, const char *name)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT result FROM jobs WHERE id = ?", "t", id);
	const char *root = pages_artifacts_dir(x->c), *type = "text/plain; charset=utf-8";
	cJSON *res = NULL, *a;
	char *real = NULL, *data = NULL;
	FILE *f = NULL;
	long len;
	int rc;

	if (st && cstore_next(st) && cstore_text(st, 0))
		res = cJSON_Parse(cstore_text(st, 0));
	cstore_done(st);
	{	/* uploaded by the worker: in the store, whatever the disk */
		unsigned char *bytes;
		size_t n;
		char stype[64];
		if (!coord_artifact_get(x->c, id, name, &bytes, &n, stype, sizeof(stype))) {
			cJSON_Delete(res);
			httpd_add_header(x->req, "x-content-type-options", "nosniff");
			httpd_add_header(x->req, "content-security-policy", "sandbox; default-src 'none'");
			httpd_add_header(x->req, "cache-control", "private, max-age=300");
			rc = httpd_reply(x->req, 200, !strcmp(stype, "image/png") ? "image/png" : type,
					 (const char *)bytes, n);
			free(bytes);
			return rc;
		}
	}
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(res, "artifacts"))
		if (cJSON_IsString(a) && !strcmp(base_name(a->valuestring), name)) {
			real = realpath(a->valuestring, NULL);
			break;
		}
	cJSON_Delete(res);
	if (!a) {
		rc = httpd_reply_error(x->req, 404, "job \"%s\" has no artifact \"%s\"", id, name);
		goto out;
	}
	if (!root) {
		rc = httpd_reply_error(x->req, 404, "artifact \"%s\" of job \"%s\" is on the worker:"
				       " start the coordinator with --artifacts-dir DIR (a directory"
				       " holding the worker's --runs-dir)", name, id);
		goto out;
	}
	if (!real || strncmp(real, root, strlen(root)) || real[strlen(root)] != '/') {
		rc = httpd_reply_error(x->req, 404, "artifact \"%s\" of job \"%s\" is not under"
				       " --artifacts-dir", name, id);
		goto out;
	}
	f = fopen(real, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || (size_t)len > MAX_ARTIFACT ||
	    fseek(f, 0, SEEK_SET)) {
		rc = httpd_reply_error(x->req, 404, "cannot read artifact \"%s\": %s", name,
				       f ? "too large or unreadable" : strerror(errno));
		goto out;
	}
	data = malloc((size_t)len + 1);
	if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
		rc = httpd_reply_error(x->req, 500, "cannot read artifact \"%s\"", name);
		goto out;
	}
	if (strstr(name, ".png"))
		type = "image/png";
	httpd_add_header(x->req, "x-content-type-options", "nosniff");
	httpd_add_header(x->req, "content-security-policy", "sandbox; default-src 'none'");
	httpd_add_header(x->req, "cache-control", "private, max-age=300");
	rc = httpd_reply(x->req, 200, type, data, (size_t)len);
out:
	if (f)
		fclose(f);
	free(data);
	free(real);
	return rc;
}

int pg_job_approve(struct pg_ctx *x, const char *id)
{
	struct cstore_rows *st = cstore_query(x->c->store, "SELECT integration, action, status, error FROM jobs"
				     " WHERE id = ?", "t", id);
	char integ[80], jid[80], err[300], back[200];
	int halted;

	if (!st || !cstore_next(st)) {
		cstore_done(st);
		return httpd_reply_error(x->req, 404, "no job \"%s\"", id);
	}
	snprintf(integ, sizeof(integ), "%s", cstore_text(st, 0));
	halted = !strcmp(cstore_text(st, 1), "sync") &&
		!strcmp(cstore_text(st, 2), "failed") &&
		cstore_text(st, 3) &&
		strstr(cstore_text(st, 3), "sync safeguard");
	cstore_done(st);
	if (!halted)
		return httpd_reply_error(x->req, 409, "job \"%s\" is not a sync the safeguard halted", id);
	/* the same sync, this once with the safeguard off */
	if (sync_enqueue(x->c, integ, "web app", 1.0, jid, sizeof(jid), err, sizeof(err)))
		return httpd_reply_error(x->req, 409, "approve: %s", err);
	pg_activity(x->c, integ, "admin", "Sync safeguard override approved", NULL, jid);
	snprintf(back, sizeof(back), "/admin/integrations/%s/users", integ);
	return pg_back(x, back);
}
