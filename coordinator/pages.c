/*
 * The admin pages' shared part: the sign-in (password file, sessions in
 * the store, HttpOnly SameSite=Strict cookie), CSRF on every form, the
 * layout and its embedded CSS/JS, labels, and the /admin routes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "embedded.h"
#include "httpd.h"
#include "log.h"
#include "pages.h"
#include "privfile.h"


/* tools/embed.c -n admin_assets: coordinator/assets/ (admin.css, admin.js) */
extern const struct embedded_file admin_assets[];
#define SESSION_MS (12 * 3600 * 1000LL)
#define COOKIE "idlcm_admin"

struct pages {
	char *password;
	char *artifacts_dir;	/* only files under it are served */
	int sync_every_s;	/* the daily sync's period */
	void *sync;		/* sync.c's timer */
};

/* ------------------------------------------------------------ buffers */

static void grow(struct pg_buf *b, size_t more)
{
	size_t want = b->n + more + 1;
	char *p;

	if (b->oom || want <= b->cap)
		return;
	p = realloc(b->s, want * 2);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->s = p;
	b->cap = want * 2;
}

static void put(struct pg_buf *b, const char *s, size_t n)
{
	grow(b, n);
	if (b->oom)
		return;
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

void pg_raw(struct pg_buf *b, const char *s)
{
	if (s)
		put(b, s, strlen(s));
}

void pg_printf(struct pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

void pg_text(struct pg_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': pg_raw(b, "&lt;"); break;
		case '>': pg_raw(b, "&gt;"); break;
		case '&': pg_raw(b, "&amp;"); break;
		case '"': pg_raw(b, "&quot;"); break;
		case '\'': pg_raw(b, "&#39;"); break;
		default: put(b, s, 1);
		}
	}
}

void pg_url(struct pg_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch))
			put(b, s, 1);
		else
			pg_printf(b, "%%%02X", ch);
	}
}

void pg_time(struct pg_buf *b, int64_t ms)
{
	char iso[40];

	if (ms <= 0) {
		pg_raw(b, "—");
		return;
	}
	cdb_iso(ms, iso, sizeof(iso));
	/* 2026-11-29T15:04:05Z shown as 2026-11-29 15:04:05 UTC */
	pg_printf(b, "<time datetime=\"%s\">%.10s %.8s UTC</time>", iso, iso, iso + 11);
}

/* ------------------------------------------------------------ labels */

static const struct { const char *id, *label; } statuses[] = {
	{ "under_validation", "Under validation" },
	{ "under_review", "Under review" },
	{ "validating", "Validating" },
	{ "validated", "Validated" },
	{ "validation_failed", "Validation failed" },
	{ "in_progress", "In progress" },
	{ "failed", "Failed" },
	{ "retrying", "Retrying" },
	{ "up_to_date", "Up to date" },
};

const char *pg_status_label(const char *status)
{
	for (size_t i = 0; status && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!strcmp(statuses[i].id, status))
			return statuses[i].label;
	return status ? status : "—";
}

/* Each state the agent reports, in the newer names (the seed's second
 * article) and the older ones (its first). */
static const struct { const char *id, *newer, *older; } states[] = {
	{ "provisioning_awaiting", "Provisioning awaiting", "Inviting" },
	{ "inviting", "Provisioning ongoing", "Inviting" },
	{ "invite_failed", "Provisioning failed", "Invite failed" },
	{ "pending_user_claim", "Onboarded", "Pending user claim" },
	{ "pending_user_login", "Onboarded", "Pending user login" },
	{ "invite_expired", "Provisioning failed", "Invite expired" },
	{ "onboarded", "Onboarded", "Onboarded" },
	{ "update_awaiting", "Update awaiting", "Awaiting update" },
	{ "updating", "Update ongoing", "Awaiting update" },
	{ "update_failed", "Update failed", "Update failed" },
	{ "delete_awaiting", "Delete awaiting", "Removing" },
	{ "removing", "Delete ongoing", "Removing" },
	{ "delete_failed", "Delete failed", "Removed failed" },
	{ "deleted", "Deleted", "Removed" },
	{ "sync_failed", "Sync failed", "Sync failed" },
	{ "unmatched", "Unmatched user", "Unmatched user" },
	{ "exempted", "Exempted", "Exempted" },
};

const char *pg_state_label(const char *state, int older)
{
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(states[i].id, state))
			return older ? states[i].older : states[i].newer;
	return state ? state : "—";
}

/* The activity log's event name for a job's action in a phase
 * ("requested", "progress", "ok", "failed"). */
const char *pg_action_event(const char *action, const char *phase)
{
	static const struct { const char *action, *req, *prog, *ok, *fail; } ev[] = {
		{ "invite", "User invite requested", "User invite in progress", "User invited",
		  "User invite failed" },
		{ "update", "User update requested", "User update in progress", "User updated",
		  "User update failed" },
		{ "remove", "User removal requested", "User removal in progress", "User removed",
		  "User removal failed" },
		{ "validate", "Health check triggered", "Health check in progress",
		  "Health validated", "Health check failed" },
		{ "sync", "Sync requested", "Sync in progress", "Sync completed", "Sync failed" },
		{ "list_users", "User list requested", "User list in progress", "Users listed",
		  "User list failed" },
	};
	for (size_t i = 0; action && i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (strcmp(ev[i].action, action))
			continue;
		if (!strcmp(phase, "requested"))
			return ev[i].req;
		if (!strcmp(phase, "progress"))
			return ev[i].prog;
		if (!strcmp(phase, "ok"))
			return ev[i].ok;
		return ev[i].fail;
	}
	return action ? action : "?";
}

void pg_activity(struct coord *c, const char *integration, const char *actor,
		 const char *event, const char *target, const char *job_id)
{
	cstore_exec(c->store, "INSERT INTO activity (integration, at_ms, actor, event, target, job_id)"
		 " VALUES (?, ?, ?, ?, ?, ?)", "titttt", integration, cdb_now_ms(), actor, event,
		 target, job_id);
}

/* ------------------------------------------------------------ forms */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int pg_form(struct httpd_req *req, const char *name, char *out, size_t n)
{
	size_t blen, nlen = strlen(name);
	const char *p = httpd_req_body(req, &blen);

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p), o = 0;
		if (len > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			for (size_t i = nlen + 1; i < len && o + 1 < n; i++) {
				char ch = p[i];
				if (ch == '+')
					ch = ' ';
				else if (ch == '%' && i + 2 < len && hexval(p[i + 1]) >= 0 &&
					 hexval(p[i + 2]) >= 0) {
					ch = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
					i += 2;
				}
				out[o++] = ch;
			}
			out[o] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	if (n)
		out[0] = '\0';
	return 0;
}

/* Compares without an early exit, so timing says nothing about a secret. */
static int same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;

	for (size_t i = 0; i < na; i++)
		d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return d == 0;
}

int pg_csrf_ok(struct pg_ctx *x)
{
	char tok[80];

	if (pg_form(x->req, "csrf", tok, sizeof(tok)) && same_secret(tok, x->s->csrf))
		return 1;
	static const char msg[] = "forbidden: the form lacks a valid CSRF token (reload the page)\n";

	httpd_reply(x->req, 403, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
	return 0;
}

int pg_back(struct pg_ctx *x, const char *fallback)
{
	char back[600];

	/* only a path of ours: never an open redirect */
	if (!pg_form(x->req, "back", back, sizeof(back)) || strncmp(back, "/admin/", 7) ||
	    strstr(back, "//") || strpbrk(back, "\r\n\\"))
		snprintf(back, sizeof(back), "%s", fallback);
	return httpd_redirect(x->req, 303, back);
}

void pg_form_open(struct pg_ctx *x, const char *action, const char *cls)
{
	pg_raw(&x->b, "<form method=\"post\" action=\"");
	pg_text(&x->b, action);
	pg_raw(&x->b, "\" class=\"");
	pg_text(&x->b, cls ? cls : "");
	pg_raw(&x->b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	pg_raw(&x->b, x->s->csrf);
	pg_raw(&x->b, "\"><input type=\"hidden\" name=\"back\" value=\"");
	pg_text(&x->b, x->back ? x->back : httpd_req_path(x->req));
	pg_raw(&x->b, "\">");
}

void pg_button_form(struct pg_ctx *x, const char *action, const char *label,
		    const char *cls, ...)
{
	va_list ap;
	const char *k, *v;

	pg_form_open(x, action, "inline");
	va_start(ap, cls);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		pg_raw(&x->b, "<input type=\"hidden\" name=\"");
		pg_text(&x->b, k);
		pg_raw(&x->b, "\" value=\"");
		pg_text(&x->b, v);
		pg_raw(&x->b, "\">");
	}
	va_end(ap);
	pg_raw(&x->b, "<button type=\"submit\" class=\"");
	pg_text(&x->b, cls);
	pg_raw(&x->b, "\">");
	pg_text(&x->b, label);
	pg_raw(&x->b, "</button></form>");
}

/* ------------------------------------------------------------ layout */

/* Our own files only, never in a frame: no injected script runs and no
 * other site can overlay the buttons. */
static void page_headers(struct httpd_req *req)
{
	httpd_add_header(req, "cache-control", "no-store");
	httpd_add_header(req, "content-security-policy", "default-src 'self'; frame-ancestors 'none';"
			 " form-action 'self'; base-uri 'none'");
	httpd_add_header(req, "x-frame-options", "DENY");
	httpd_add_header(req, "x-content-type-options", "nosniff");
	httpd_add_header(req, "referrer-policy", "same-origin");
}

static int fragment(struct pg_ctx *x)
{
	const char *f = httpd_req_header(x->req, "x-fragment");
	return f && !strcmp(f, "1");
}

void pg_begin(struct pg_ctx *x, const char *title, const char *active)
{
	static const struct { const char *id, *href, *label; } nav[] = {
		{ "integrations", "/admin/integrations", "Integrations" },
		{ "jobs", "/admin/jobs", "Jobs" },
	};

	if (fragment(x))
		return;
	pg_raw(&x->b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	pg_text(&x->b, title);
	pg_raw(&x->b, " · idlcm</title><link rel=\"stylesheet\" href=\"/admin/assets/admin.css\">"
	       "<script src=\"/admin/assets/admin.js\" defer></script></head><body>"
	       "<header class=\"top\"><a class=\"brand\" href=\"/admin/integrations\">idlcm</a><nav>");
	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++)
		pg_printf(&x->b, "<a href=\"%s\"%s>%s</a>", nav[i].href,
			  active && !strcmp(active, nav[i].id) ? " class=\"active\"" : "",
			  nav[i].label);
	pg_raw(&x->b, "</nav><span class=\"live\" title=\"updates while jobs run\"></span>");
	pg_form_open(x, "/admin/sign-out", "inline signout");
	pg_raw(&x->b, "<button type=\"submit\" class=\"link\">Sign out</button></form></header>"
	       "<main id=\"content\">");
}

int pg_end(struct pg_ctx *x)
{
	int rc;

	if (!fragment(x))
		pg_raw(&x->b, "</main></body></html>");
	if (x->b.oom) {
		free(x->b.s);
		x->b.s = NULL;
		return httpd_reply_error(x->req, 500, "out of memory rendering the page");
	}
	page_headers(x->req);
	rc = httpd_reply(x->req, 200, "text/html; charset=utf-8", x->b.s ? x->b.s : "", x->b.n);
	free(x->b.s);
	x->b.s = NULL;
	return rc;
}

/* ------------------------------------------------------------ sessions */

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[32];

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (getrandom(r, bytes, 0) != (ssize_t)bytes) {
		/* getrandom on Linux does not fail for 32 bytes once seeded;
		 * refuse rather than hand out a guessable id */
		fputs("idlcm-coordinator: getrandom failed\n", stderr);
		abort();
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

/* The store keys a session by the SHA-256 of its cookie, never the cookie:
 * a copy of the database signs nobody in.  Every coordinator process on
 * the database (and this one after a restart) knows the session. */
static void session_hash(const char *id, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)id, strlen(id), d);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* The request's session, read from the store into *s (id: the hash). */
static struct pg_session *session_of(struct coord *c, struct httpd_req *req,
				     struct pg_session *s)
{
	const char *id = httpd_req_cookie(req, COOKIE);
	struct cstore_rows *st;
	int found = 0;

	if (!id || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return NULL;
	memset(s, 0, sizeof(*s));
	session_hash(id, s->id);
	st = cstore_query(c->store, "SELECT csrf, expires_ms FROM admin_sessions"
			  " WHERE id_hash = ? AND expires_ms > ?", "ti", s->id, cdb_now_ms());
	if (st && cstore_next(st) && cstore_text(st, 0)) {
		snprintf(s->csrf, sizeof(s->csrf), "%s", cstore_text(st, 0));
		s->expires_ms = cstore_int64(st, 1);
		found = 1;
	}
	cstore_done(st);
	return found ? s : NULL;
}

/* A new session in the store; raw_id gets the cookie's value.  Expired
 * sessions are swept here (a sign-in is rare enough to pay for it). */
static int session_new(struct coord *c, char raw_id[65])
{
	char hash[65], csrf[65];
	int64_t now = cdb_now_ms();

	random_hex(raw_id, 32);
	random_hex(csrf, 32);
	session_hash(raw_id, hash);
	cstore_exec(c->store, "DELETE FROM admin_sessions WHERE expires_ms <= ?", "i", now);
	return cstore_exec(c->store, "INSERT INTO admin_sessions (id_hash, csrf, created_ms,"
			   " expires_ms) VALUES (?, ?, ?, ?)", "ttii", hash, csrf, now,
			   now + SESSION_MS);
}

/* The sign-in form carries a token that must match a cookie set with the
 * form (double submit), so no other site can sign a browser in. */
#define SIGNIN_COOKIE "idlcm_signin"

static int sign_in_page(struct httpd_req *req, const char *next, const char *error, int status)
{
	struct pg_buf b = { 0 };
	char tok[65], cookie[160];
	int rc;

	random_hex(tok, 32);
	snprintf(cookie, sizeof(cookie), SIGNIN_COOKIE "=%s; Path=/admin/sign-in; HttpOnly;"
		 " SameSite=Strict; Max-Age=3600", tok);
	pg_raw(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<title>Sign in · idlcm</title><link rel=\"stylesheet\" href=\"/admin/assets/admin.css\">"
	       "</head><body class=\"signin\"><main><h1>idlcm admin</h1>"
	       "<form method=\"post\" action=\"/admin/sign-in\" class=\"signin\">");
	if (error) {
		pg_raw(&b, "<p class=\"error\" role=\"alert\">");
		pg_text(&b, error);
		pg_raw(&b, "</p>");
	}
	pg_raw(&b, "<label>Admin password <input type=\"password\" name=\"password\" id=\"password\""
	       " autocomplete=\"current-password\" autofocus required></label>"
	       "<input type=\"hidden\" name=\"csrf\" value=\"");
	pg_raw(&b, tok);
	pg_raw(&b, "\"><input type=\"hidden\" name=\"next\" value=\"");
	pg_text(&b, next ? next : "");
	pg_raw(&b, "\"><button type=\"submit\">Sign in</button></form></main></body></html>");
	if (b.oom)
		return httpd_reply_error(req, 500, "out of memory");
	httpd_add_header(req, "set-cookie", cookie);
	page_headers(req);
	rc = httpd_reply(req, status, "text/html; charset=utf-8", b.s, b.n);
	free(b.s);
	return rc;
}

static int h_sign_in(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	struct pages *p = c->pages;
	char pw[512], next[600], cookie[200], tok[80], sid[65];
	const char *want = httpd_req_cookie(req, SIGNIN_COOKIE);

	if (httpd_req_method(req) != HTTPD_POST)
		return sign_in_page(req, httpd_req_query(req, "next"), NULL, 200);
	pg_form(req, "next", next, sizeof(next));
	if (!want || strlen(want) != 64 || !pg_form(req, "csrf", tok, sizeof(tok)) ||
	    !same_secret(tok, want))
		return sign_in_page(req, next, "the sign-in form expired: sign in again", 403);
	if (!pg_form(req, "password", pw, sizeof(pw)) || !same_secret(pw, p->password)) {
		/* a wrong guess costs a second: slows a password guesser */
		httpd_delay(req, 1000);
		log_warn("admin sign-in refused (wrong password)");
		return sign_in_page(req, next, "wrong password", 401);
	}
	memset(pw, 0, sizeof(pw));
	if (session_new(c, sid))
		return httpd_reply_error(req, 503, "sign-in: cannot keep the session: %s",
					 cstore_errmsg(c->store));
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/admin; HttpOnly; SameSite=Strict;"
		 " Max-Age=%lld", sid, SESSION_MS / 1000);
	explicit_bzero(sid, sizeof(sid));
	httpd_add_header(req, "set-cookie", cookie);
	httpd_add_header(req, "set-cookie", SIGNIN_COOKIE "=; Path=/admin/sign-in; HttpOnly;"
			 " SameSite=Strict; Max-Age=0");
	if (strncmp(next, "/admin/", 7) || strstr(next, "//") || strpbrk(next, "\r\n\\"))
		snprintf(next, sizeof(next), "/admin/integrations");
	return httpd_redirect(req, 303, next);
}

/* ------------------------------------------------------------ assets */

static int h_asset(struct httpd_req *req, void *arg)
{
	const char *name = httpd_req_rest(req);

	(void)arg;
	for (const struct embedded_file *f = admin_assets; f->name; f++)
		if (!strcmp(f->name, name)) {
			httpd_add_header(req, "cache-control", "no-cache");
			return httpd_reply(req, 200, httpd_mime_type(f->name), f->data, f->len);
		}
	return httpd_reply_error(req, 404, "no asset \"%s\"", name);
}

/* ------------------------------------------------------------ routing */

static int h_root(struct httpd_req *req, void *arg)
{
	(void)arg;
	return httpd_redirect(req, 303, "/admin/integrations");
}

static int valid_id(const char *s, size_t n)
{
	if (!n || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return 0;
	}
	return 1;
}

/* The stamp the live script polls: it changes whenever a job, an event, a
 * user, an integration or the activity log does. */
static int live_stamp(struct pg_ctx *x)
{
	struct cstore *db = x->c->store;
	char s[160];
	int n = snprintf(s, sizeof(s), "%lld.%lld.%lld.%lld.%lld",
			 (long long)cstore_int(db, 0, "SELECT max(updated_ms) FROM jobs", NULL),
			 (long long)cstore_int(db, 0, "SELECT count(*) FROM events", NULL),
			 (long long)cstore_int(db, 0, "SELECT max(changed_ms) FROM users", NULL),
			 (long long)cstore_int(db, 0, "SELECT max(updated_ms) FROM integrations", NULL),
			 (long long)cstore_int(db, 0, "SELECT count(*) FROM activity", NULL));
	httpd_add_header(x->req, "cache-control", "no-store");
	return httpd_reply(x->req, 200, "text/plain; charset=utf-8", s, (size_t)n);
}

static int h_admin(struct httpd_req *req, void *arg)
{
	struct coord *c = arg;
	struct pg_ctx x = { .c = c, .req = req };
	const char *rest = httpd_req_rest(req), *slash;
	enum httpd_method m = httpd_req_method(req);
	char id[80], loc[700];
	struct pg_session sess;

	x.s = session_of(c, req, &sess);
	if (!x.s) {
		struct pg_buf b = { 0 };
		int rc;
		if (m != HTTPD_GET)
			return httpd_reply_error(req, 401, "sign in first");
		pg_raw(&b, "/admin/sign-in?next=");
		pg_url(&b, httpd_req_path(req));
		snprintf(loc, sizeof(loc), "%s", b.s ? b.s : "/admin/sign-in");
		free(b.s);
		rc = httpd_redirect(req, 303, loc);
		return rc;
	}
	if (m == HTTPD_POST && !pg_csrf_ok(&x))
		return 0;
	if (!strcmp(rest, "sign-out") && m == HTTPD_POST) {
		/* gone from the store: signed out on every coordinator */
		cstore_exec(c->store, "DELETE FROM admin_sessions WHERE id_hash = ?", "t", x.s->id);
		memset(x.s, 0, sizeof(*x.s));
		httpd_add_header(req, "set-cookie", COOKIE "=; Path=/admin; HttpOnly; SameSite=Strict;"
				 " Max-Age=0");
		return httpd_redirect(req, 303, "/admin/sign-in");
	}
	if (!*rest)
		return httpd_redirect(req, 303, "/admin/integrations");
	if (!strcmp(rest, "live"))
		return live_stamp(&x);
	if (!strncmp(rest, "integrations", 12) && (!rest[12] || rest[12] == '/')) {
		rest += 12;
		if (!*rest || !strcmp(rest, "/"))
			return pg_integrations(&x, rest);
		rest++;
		slash = strchr(rest, '/');
		if (!valid_id(rest, slash ? (size_t)(slash - rest) : strlen(rest)))
			return httpd_reply_error(req, 404, "no integration \"%s\"", rest);
		snprintf(id, sizeof(id), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
		if (!slash && m == HTTPD_GET)
			return pg_integration(&x, id, "users");
		if (slash && m == HTTPD_GET && (!strcmp(slash, "/users") ||
						!strcmp(slash, "/activity")))
			return pg_integration(&x, id, slash + 1);
		if (slash && m == HTTPD_POST && !strcmp(slash, "/users/action"))
			return pg_users_action(&x, id);
		if (slash && m == HTTPD_POST && !strcmp(slash, "/validate"))
			return pg_validate_now(&x, id);
		if (slash && m == HTTPD_POST && !strcmp(slash, "/sync")) {
			char jid[80], err[300];
			if (sync_enqueue(c, id, "web app", 0, jid, sizeof(jid), err, sizeof(err)))
				return httpd_reply_error(req, 409, "sync now: %s", err);
			pg_activity(c, id, "admin", "Sync now pressed", NULL, jid);
			return pg_back(&x, "/admin/jobs");
		}
		return httpd_reply_error(req, 404, "no page \"%s\"", httpd_req_path(req));
	}
	if (!strncmp(rest, "jobs", 4) && (!rest[4] || rest[4] == '/')) {
		rest += 4;
		if (!*rest || !strcmp(rest, "/")) {
			const char *in = httpd_req_query(req, "integration");
			if (in && *in && !valid_id(in, strlen(in)))
				return httpd_reply_error(req, 400, "no integration \"%s\"", in);
			return pg_jobs(&x, in);
		}
		rest++;
		slash = strchr(rest, '/');
		if (!valid_id(rest, slash ? (size_t)(slash - rest) : strlen(rest)))
			return httpd_reply_error(req, 404, "no job \"%s\"", rest);
		snprintf(id, sizeof(id), "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest);
		if (!slash && m == HTTPD_GET)
			return pg_job(&x, id);
		if (slash && m == HTTPD_GET && !strncmp(slash, "/artifacts/", 11))
			return pg_job_artifact(&x, id, slash + 11);
		if (slash && m == HTTPD_POST && !strcmp(slash, "/approve"))
			return pg_job_approve(&x, id);
		return httpd_reply_error(req, 404, "no page \"%s\"", httpd_req_path(req));
	}
	return httpd_reply_error(req, 404, "no page \"%s\"", httpd_req_path(req));
}

/* The artifacts root, for pages_jobs.c. */
const char *pages_artifacts_dir(const struct coord *c);
const char *pages_artifacts_dir(const struct coord *c)
{
	return c->pages ? c->pages->artifacts_dir : NULL;
}

int pages_sync_every_s(const struct coord *c);
int pages_sync_every_s(const struct coord *c)
{
	return c->pages ? c->pages->sync_every_s : 0;
}

void **pages_sync_slot(struct coord *c);
void **pages_sync_slot(struct coord *c)
{
	return c->pages ? &c->pages->sync : NULL;
}

/* main() returns early on a bad option after ours were read, with its
 * struct coord gone: free what the options allocated then too. */
static struct pages *unreleased;

static void free_pages(struct pages *p)
{
	if (p->password) {
		memset(p->password, 0, strlen(p->password));
		free(p->password);
	}
	free(p->artifacts_dir);
	free(p);
}

static void pages_at_exit(void)
{
	if (unreleased)
		free_pages(unreleased);
	unreleased = NULL;
}

static struct pages *pages_of(struct coord *c)
{
	if (!c->pages) {
		c->pages = calloc(1, sizeof(*c->pages));
		if (!c->pages)
			return NULL;
		c->pages->sync_every_s = 24 * 3600;
		if (!unreleased)
			atexit(pages_at_exit);
		unreleased = c->pages;
	}
	return c->pages;
}

/* --admin-password-file F, --artifacts-dir D, --sync-every-s N:
 * 1 when opt is one of ours (val consumed), 0 when not, -1 on bad input. */
int pages_option(struct coord *c, const char *opt, const char *val, char *err, size_t n)
{
	struct pages *p;

	if (strcmp(opt, "--admin-password-file") && strcmp(opt, "--artifacts-dir") &&
	    strcmp(opt, "--sync-every-s"))
		return 0;
	p = pages_of(c);
	if (!p)
		return snprintf(err, n, "out of memory"), -1;
	if (!val)
		return snprintf(err, n, "%s wants a value", opt), -1;
	if (!strcmp(opt, "--admin-password-file")) {
		char *pw = privfile_read(val, "admin password file", err, n);
		if (!pw)
			return -1;
		if (strlen(pw) < 8) {
			privfile_free(pw);
			return snprintf(err, n, "the admin password in \"%s\" is shorter than 8 "
					"characters", val), -1;
		}
		free(p->password);
		p->password = strdup(pw);
		privfile_free(pw);
	} else if (!strcmp(opt, "--artifacts-dir")) {
		free(p->artifacts_dir);
		p->artifacts_dir = realpath(val, NULL);
		if (!p->artifacts_dir)
			return snprintf(err, n, "--artifacts-dir: cannot resolve \"%s\"", val), -1;
	} else {
		char *end;
		long v = strtol(val, &end, 10);
		if (*end || end == val || v < 1 || v > 7 * 24 * 3600)
			return snprintf(err, n, "--sync-every-s wants a whole number of seconds from 1 "
					"to 604800"), -1;
		p->sync_every_s = (int)v;
	}
	return 1;
}

int pages_routes(struct coord *c)
{
	/* no password, no pages: an admin UI open to anyone on the port is
	 * worse than none */
	if (!c->pages && !c->token)
		return 0;
	if (!pages_of(c))
		return -1;
	/* no password file: the bearer token signs in */
	if (!c->pages->password && c->token && !(c->pages->password = strdup(c->token)))
		return -1;
	sync_start(c);
	if (!c->pages->password)
		return 0;
	if (httpd_route(c->h, HTTPD_GET, "/admin", h_root, c) ||
	    httpd_route(c->h, HTTPD_GET | HTTPD_POST, "/admin/sign-in", h_sign_in, c) ||
	    httpd_route(c->h, HTTPD_GET, "/admin/assets/", h_asset, c) ||
	    httpd_route(c->h, HTTPD_GET | HTTPD_POST, "/admin/", h_admin, c))
		return -1;
	return 0;
}

void pages_release(struct coord *c)
{
	if (!c->pages)
		return;
	sync_stop(c);
	if (unreleased == c->pages)
		unreleased = NULL;
	free_pages(c->pages);
	c->pages = NULL;
}
