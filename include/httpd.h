#ifndef IDLCM_HTTPD_H
#define IDLCM_HTTPD_H
/* httpd: a small HTTP/1.1 server on libwebsockets.  Owns the lws context,
 * routes requests by method + path prefix, hands handlers a parsed request
 * (headers, cookies, query, whole capped body) and sends their reply. */
#include <stddef.h>
#include <signal.h>

struct cJSON;
struct lws_context;

struct httpd;
struct httpd_req;

enum httpd_method {
	HTTPD_GET	= 1 << 0,
	HTTPD_HEAD	= 1 << 1,
	HTTPD_POST	= 1 << 2,
	HTTPD_PUT	= 1 << 3,
	HTTPD_PATCH	= 1 << 4,
	HTTPD_DELETE	= 1 << 5,
	HTTPD_OPTIONS	= 1 << 6,
	HTTPD_ANY	= (1 << 7) - 1,
};

struct httpd_config {
	const char *iface;	/* IPv4 address to bind; NULL = "127.0.0.1" */
	int port;		/* 0 = any free port, see httpd_port() */
	size_t max_body;	/* larger bodies get 413; 0 = 1 MiB */
	const char *server_name; /* "server:" header; NULL = "idlcm" */
};

/* Binds and listens; NULL with *err set (caller frees) on failure.  The
 * caller picks lws's log level (lws_set_log_level) before this. */
struct httpd *httpd_new(const struct httpd_config *cfg, char **err);
void httpd_free(struct httpd *h);

/*
 * Adds a route; prefix is copied.  The longest matching prefix wins ("/a"
 * matches "/a" and "/a/x", not "/ab"); a path whose prefixes have no route
 * for the method answers 405, no match at all 404.
 *
 * The handler answers one request: it calls one of the httpd_reply*()
 * functions and returns 0.  Returning non-zero, or replying nothing, makes
 * the server answer 500.  The request, and every string its getters
 * return, lives until the handler returns.
 */
int httpd_route(struct httpd *h, unsigned methods, const char *prefix,
		int (*fn)(struct httpd_req *req, void *arg), void *arg);

int httpd_port(const struct httpd *h);		/* the bound port */
struct lws_context *httpd_context(struct httpd *h);

/* Serves until httpd_stop(), or until *stop (may be NULL) is non-zero when
 * the loop wakes: lws 4.1 sleeps until the next event, so set it from a
 * handler.  Returns 0 on a requested stop, -1 if the event loop failed. */
int httpd_run(struct httpd *h, volatile sig_atomic_t *stop);
/* Async-signal-safe: wakes httpd_run() so it notices the stop. */
void httpd_stop(struct httpd *h);
/* httpd_run() until SIGINT or SIGTERM (SIGPIPE ignored): what a server's
 * main wants.  0 on a clean stop. */
int httpd_run_until_signal(struct httpd *h);
/* Watch fd (a database connection's socket) in the loop: fn(arg) runs
 * when it is readable, and returns -1 to stop watching.  The loop polls a
 * dup of fd, so fd stays its owner's to close.  0, or -1. */
int httpd_watch_fd(struct httpd *h, int fd, int (*fn)(void *arg), void *arg);
/* fn(arg) runs after every turn of the loop (for work an fd's owner read
 * early, while it was busy with something else). */
void httpd_set_idle(struct httpd *h, void (*fn)(void *arg), void *arg);

/* --- the request ------------------------------------------------------ */

enum httpd_method httpd_req_method(const struct httpd_req *req);
const char *httpd_req_method_name(const struct httpd_req *req); /* "GET" */
/* The decoded path, without the query: "/acme/api/users". */
const char *httpd_req_path(const struct httpd_req *req);
/* The path after the route's prefix ("users/u3" for prefix "/api/"). */
const char *httpd_req_rest(const struct httpd_req *req);
/* Header by case-insensitive name ("content-type"), cookie and decoded
 * query argument by name; NULL when absent. */
const char *httpd_req_header(struct httpd_req *req, const char *name);
const char *httpd_req_cookie(struct httpd_req *req, const char *name);
const char *httpd_req_query(struct httpd_req *req, const char *name);
/* The whole body, NUL-terminated (len excludes the NUL); "" when none. */
const char *httpd_req_body(const struct httpd_req *req, size_t *len);
/* The body parsed as JSON, owned by the request; NULL with *err pointing
 * at a static message when it is missing or not JSON. */
struct cJSON *httpd_req_json(struct httpd_req *req, const char **err);

/* --- the reply: a later httpd_reply*() replaces an earlier one ---------- */

/* Adds a response header, e.g. ("set-cookie", "a=b; Path=/"); all headers
 * of a reply must fit in 4 KiB. */
int httpd_add_header(struct httpd_req *req, const char *name,
		     const char *value);
/* Holds the reply back for ms milliseconds (latency simulation). */
void httpd_delay(struct httpd_req *req, unsigned ms);

/*
 * A deferred reply (a long poll): the handler calls httpd_defer() and
 * returns 0 without replying.  Later, from any handler or callback on the
 * server's thread, reply with httpd_reply*() and call httpd_resume().
 * cb is called once with HTTPD_DEFER_TIMEOUT after timeout_ms (0: never;
 * it should reply, else the server answers 500) or HTTPD_DEFER_GONE when
 * the client hung up (forget req: it is no longer valid).
 */
enum httpd_defer_reason { HTTPD_DEFER_TIMEOUT, HTTPD_DEFER_GONE };
typedef void httpd_defer_fn(struct httpd_req *req,
			    enum httpd_defer_reason why, void *arg);
void httpd_defer(struct httpd_req *req, unsigned timeout_ms,
		 httpd_defer_fn *cb, void *arg);
/* Sends the reply given to a deferred request since. */
void httpd_resume(struct httpd_req *req);

int httpd_reply(struct httpd_req *req, int status, const char *content_type,
		const void *body, size_t len);
/*
 * Sends a body built in place, without copying it: buf (from malloc, taken
 * in every case) holds len bytes of body at buf + off, and off is at least
 * httpd_headroom(), the bytes the server writes in front of a body.
 */
int httpd_reply_built(struct httpd_req *req, int status, const char *content_type,
		      char *buf, size_t off, size_t len);
size_t httpd_headroom(void);
/* Sends json (not consumed; NULL sends no body, as for 204: lws then
 * closes the connection after the reply). */
int httpd_reply_json(struct httpd_req *req, int status,
		     const struct cJSON *json);
/* Sends {"error": "<printf message>"}. */
int httpd_reply_error(struct httpd_req *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int httpd_redirect(struct httpd_req *req, int status, const char *location);
/*
 * Serves root/rel with a content type from its extension.  rel is relative
 * to root; "..", "." and dot-file segments, backslashes and anything that
 * resolves outside root answer 404, as do directories and missing files.
 */
int httpd_reply_file(struct httpd_req *req, const char *root,
		     const char *rel);

/* Content type for a file name, by extension; never NULL. */
const char *httpd_mime_type(const char *name);

/* --- parsing, callable on its own ---------------------------------------- */

/* A content-length header value (1*DIGIT): 0 with *n set, 1 when it is
 * over max (413), -1 when it is not a length (the connection drops). */
int httpd_parse_content_length(const char *s, size_t max, size_t *n);
/* The value of cookie name in a cookie header ("a=1; b=2"), pointing
 * into header with its length in *len; NULL when absent or header is. */
const char *httpd_cookie_find(const char *header, const char *name,
			      size_t *len);

/* --- requests without a connection (unit tests and fuzzers) ------------- */

/* Routes only: no socket, no event loop. */
struct httpd *httpd_new_unbound(const struct httpd_config *cfg);
/* A request as lws would hand it over: target "/path?a=1&b=2" (not
 * urldecoded), headers as "name: value\n" lines (may be NULL), and the
 * body bytes that arrive (checked against content-length as live).  NULL
 * where a live server drops the connection. */
struct httpd_req *httpd_req_detached(struct httpd *h, enum httpd_method m,
				     const char *target, const char *headers,
				     const void *body, size_t len);
/* Routes it; a deferred reply's wait ends at once (as a timeout).  Returns
 * the status; *body (owned by req) and *len are the reply's body. */
int httpd_req_run(struct httpd_req *req, const char **body, size_t *len);
void httpd_req_free(struct httpd_req *req);
#endif
