/*
 * The integration's Activity tab: a read-only log (date, actor, event,
 * target) derived from the jobs (requested, finished), their first event
 * (in progress) and the activity table (what the pages and the scheduler
 * did that is not a job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "pages.h"

#define PER_PAGE 100

static void actor(struct pg_buf *b, const char *kind, const char *who)
{
	if (!strcmp(kind, "requested")) {
		/* who asked: the job's origin */
		if (!who || !strcmp(who, "API"))
			pg_raw(b, "API");
		else if (!strcmp(who, "web app"))
			pg_raw(b, "admin (web app)");
		else
			pg_text(b, who);
	} else if (!strcmp(kind, "note")) {
		pg_text(b, who ? who : "coordinator");
	} else {
		pg_raw(b, "worker ");
		pg_text(b, who ? who : "?");
	}
}

int pg_activity_tab(struct pg_ctx *x, const char *id)
{
	const char *p = httpd_req_query(x->req, "page");
	int page = p && atoi(p) > 0 ? atoi(p) : 1, n = 0;
	int64_t total;
	struct cstore_rows *st;

#define ACTIVITY \
	"SELECT created_ms AS at_ms, " PG_ORIGIN_SQL " AS who, 'requested' AS kind, action AS what," \
	"  user_key AS target, id AS job_id FROM jobs WHERE integration = ?" \
	" UNION ALL" \
	" SELECT min(e.received_ms), j.worker, 'progress', j.action, j.user_key, j.id" \
	"  FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.integration = ?" \
	"  GROUP BY j.id, j.worker, j.action, j.user_key" \
	" UNION ALL" \
	" SELECT updated_ms, worker, CASE status WHEN 'completed' THEN 'ok' ELSE 'failed' END," \
	"  action, user_key, id FROM jobs WHERE integration = ? AND status IN ('completed', 'failed')" \
	" UNION ALL" \
	" SELECT at_ms, actor, 'note', event, target, job_id FROM activity WHERE integration = ?"
	/* NULLS LAST: where SQLite puts a note without a job; PostgreSQL
	 * would put it first */
	total = cstore_int(x->c->store, 0, "SELECT count(*) FROM (" ACTIVITY ") a", "tttt", id, id, id, id);
	pg_raw(&x->b, "<table class=\"grid activity\"><thead><tr><th>Date</th><th>Actor</th>"
	       "<th>Event</th><th>Target</th></tr></thead><tbody>");
	st = cstore_query(x->c->store, "SELECT at_ms, who, kind, what, target, job_id FROM (" ACTIVITY ") a"
		       " ORDER BY at_ms DESC, job_id DESC NULLS LAST, kind DESC LIMIT ? OFFSET ?", "ttttii",
		       id, id, id, id, (int64_t)PER_PAGE, (int64_t)(page - 1) * PER_PAGE);
	while (st && cstore_next(st)) {
		const char *kind = cstore_text(st, 2);
		const char *what = cstore_text(st, 3);
		const char *job = cstore_text(st, 5);
		n++;
		pg_raw(&x->b, "<tr data-kind=\"");
		pg_text(&x->b, kind);
		pg_raw(&x->b, "\"><td>");
		pg_time(&x->b, cstore_int64(st, 0));
		pg_raw(&x->b, "</td><td>");
		actor(&x->b, kind, cstore_text(st, 1));
		pg_raw(&x->b, "</td><td>");
		if (job) {
			pg_raw(&x->b, "<a href=\"/admin/jobs/");
			pg_text(&x->b, job);
			pg_raw(&x->b, "\">");
		}
		pg_text(&x->b, !strcmp(kind, "note") ? what : pg_action_event(what, kind));
		if (job)
			pg_raw(&x->b, "</a>");
		pg_raw(&x->b, "</td><td>");
		pg_text(&x->b, cstore_text(st, 4) ? cstore_text(st, 4) : "");
		pg_raw(&x->b, "</td></tr>");
	}
	cstore_done(st);
	if (!n)
		pg_raw(&x->b, "<tr><td colspan=\"4\" class=\"empty\">Nothing happened yet.</td></tr>");
	pg_raw(&x->b, "</tbody></table><nav class=\"pager\">");
	if (page > 1)
		pg_printf(&x->b, "<a class=\"prev\" href=\"?page=%d\">‹ Newer</a> ", page - 1);
	pg_printf(&x->b, "<span class=\"count\">%lld events</span>", (long long)total);
	if ((int64_t)page * PER_PAGE < total)
		pg_printf(&x->b, " <a class=\"next\" href=\"?page=%d\">Older ›</a>", page + 1);
	pg_raw(&x->b, "</nav>");
	return 0;
}
