/*
 * httpd: a small HTTP/1.1 server on libwebsockets.  This file owns the lws
 * context and its one protocol callback, the route table, request parsing
 * (capped body, headers, cookies, query) and writing replies in chunks.
 */
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#define HTTPD_DEFAULT_MAX_BODY	(1024 * 1024)
#define HTTPD_CHUNK		(16 * 1024)
#define HTTPD_HDR_BUF		4096
#define HTTPD_MAX_FILE		(64 * 1024 * 1024)

struct route {
	unsigned methods;
	char *prefix;
	size_t len;
	int (*fn)(struct httpd_req *req, void *arg);
	void *arg;
};

struct httpd {
	struct lws_context *ctx;
	struct lws_protocols protocols[3];	/* http, fd watches, end */
	struct route *routes;
	size_t nroutes;
	size_t max_body;
	int port;
	char *server_name;
	volatile sig_atomic_t stopping;
	void (*idle_fn)(void *arg);
	void *idle_arg;
};

/* One watched fd (httpd_watch_fd), the opaque user data of its wsi. */
struct fd_watch {
	int (*fn)(void *arg);
	void *arg;
};

struct kv {
	char *name;
	char *value;
};

/*
 * One per connection (lws's per-session data), reused by each request on a
 * keep-alive connection and cleared between them by req_clear().
 */
#define QUERY_ARG_MAX 4096	/* one name=value of the query, with its NUL */

struct httpd_req {
	struct httpd *h;
	struct lws *wsi;

	/* the request */
	enum httpd_method method;
	char *path;
	const char *rest;
	struct kv *query;
	size_t nquery;
	char *body;
	size_t body_len, body_cap;
	cJSON *json;
	char **owned;		/* strings handed out by the getters */
	size_t nowned;
	unsigned too_large : 1;
	unsigned length_required : 1;
	unsigned query_too_long : 1;	/* a query argument did not fit: 414 */
	unsigned dispatched : 1;
	struct kv *dhdrs;	/* a detached request's headers (no wsi) */
	size_t ndhdrs;

	/* the reply */
	unsigned replied : 1;
	unsigned hdrs_sent : 1;
	unsigned close_after : 1;
	int status;
	char *ctype;
	unsigned char *out;	/* out_off (>= LWS_PRE) bytes of headroom, then the body */
	size_t out_off, out_len, out_sent;
	struct kv *rhdrs;
	size_t nrhdrs;
	unsigned delay_ms;

	/* a deferred reply (long poll) */
	unsigned deferred : 1;
	httpd_defer_fn *defer_cb;
	void *defer_arg;
};

static void set_err(char **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

static void kv_free(struct kv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

/* Appends a copy of name/value; takes nothing on failure. */
static int kv_add(struct kv **v, size_t *n, const char *name, size_t nlen,
		  const char *value, size_t vlen)
{
	struct kv *nv;
	char *a, *b;

	a = strndup(name, nlen);
	b = strndup(value, vlen);
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!a || !b || !nv) {
		free(a);
		free(b);
		if (nv)
			*v = nv;
		return -1;
	}
	*v = nv;
	nv[*n].name = a;
	nv[*n].value = b;
	(*n)++;
	return 0;
}

static void req_clear(struct httpd_req *req)
{
	struct httpd *h = req->h;
	size_t i;

	free(req->path);
	kv_free(req->query, req->nquery);
	free(req->body);
	cJSON_Delete(req->json);
	for (i = 0; i < req->nowned; i++)
		free(req->owned[i]);
	free(req->owned);
	free(req->ctype);
	free(req->out);
	kv_free(req->rhdrs, req->nrhdrs);
	kv_free(req->dhdrs, req->ndhdrs);
	memset(req, 0, sizeof(*req));
	req->h = h;
}

/* Keeps s until the request ends; returns s, or NULL (freeing s). */
static const char *req_keep(struct httpd_req *req, char *s)
{
	char **n;

	if (!s)
		return NULL;
	n = realloc(req->owned, (req->nowned + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return NULL;
	}
	req->owned = n;
	n[req->nowned++] = s;
	return s;
}

/* --- request getters ---------------------------------------------------- */

enum httpd_method httpd_req_method(const struct httpd_req *req)
{
	return req->method;
}

const char *httpd_req_method_name(const struct httpd_req *req)
{
	switch (req->method) {
	case HTTPD_GET: return "GET";
	case HTTPD_HEAD: return "HEAD";
	case HTTPD_POST: return "POST";
	case HTTPD_PUT: return "PUT";
	case HTTPD_PATCH: return "PATCH";
	case HTTPD_DELETE: return "DELETE";
	case HTTPD_OPTIONS: return "OPTIONS";
	default: return "?";
	}
}

const char *httpd_req_path(const struct httpd_req *req)
{
	return req->path ? req->path : "/";
}

const char *httpd_req_rest(const struct httpd_req *req)
{
	return req->rest ? req->rest : "";
}

static char *copy_token(struct lws *wsi, enum lws_token_indexes t)
{
	int len = lws_hdr_total_length(wsi, t);
	char *s;

	if (len <= 0)
		return NULL;
	s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	if (lws_hdr_copy(wsi, s, len + 1, t) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* lws stores headers it knows under a token ("content-type:"), others by
 * name; look in both. */
const char *httpd_req_header(struct httpd_req *req, const char *name)
{
	size_t nlen = strlen(name);
	char key[128];
	char *s;
	int t, len;

	if (!req->wsi) {
		for (size_t i = 0; i < req->ndhdrs; i++)
			if (!strcasecmp(req->dhdrs[i].name, name))
				return req->dhdrs[i].value;
		return NULL;
	}
	if (!nlen || nlen + 2 > sizeof(key))
		return NULL;
	for (t = WSI_TOKEN_HOST; t < WSI_TOKEN_COUNT; t++) {
		const char *tn =
			(const char *)lws_token_to_string((enum lws_token_indexes)t);

		if (!tn || strncasecmp(tn, name, nlen) || tn[nlen] != ':' ||
		    tn[nlen + 1])
			continue;
		return req_keep(req, copy_token(req->wsi,
						(enum lws_token_indexes)t));
	}
	for (t = 0; name[t]; t++)
		key[t] = (char)(name[t] >= 'A' && name[t] <= 'Z' ?
				name[t] + 32 : name[t]);
	key[t++] = ':';
	key[t] = '\0';
	len = lws_hdr_custom_length(req->wsi, key, t);
	if (len < 0)
		return NULL;
	s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	if (lws_hdr_custom_copy(req->wsi, s, len + 1, key, t) < 0) {
		free(s);
		return NULL;
	}
	return req_keep(req, s);
}

const char *httpd_cookie_find(const char *header, const char *name,
			      size_t *len)
{
	const char *c = header;
	size_t nlen = strlen(name);

	while (c && *c) {
		const char *end = strchr(c, ';');
		size_t n;

		while (*c == ' ' || *c == '\t')
			c++;
		n = end ? (size_t)(end - c) : strlen(c);
		if (n > nlen && !strncmp(c, name, nlen) && c[nlen] == '=') {
			*len = n - nlen - 1;
			return c + nlen + 1;
		}
		c = end ? end + 1 : NULL;
	}
	return NULL;
}

const char *httpd_req_cookie(struct httpd_req *req, const char *name)
{
	size_t len;
	const char *v = httpd_cookie_find(httpd_req_header(req, "cookie"),
					  name, &len);

	return v ? req_keep(req, strndup(v, len)) : NULL;
}

const char *httpd_req_query(struct httpd_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (!strcmp(req->query[i].name, name))
			return req->query[i].value;
	return NULL;
}

const char *httpd_req_body(const struct httpd_req *req, size_t *len)
{
	if (len)
		*len = req->body_len;
	return req->body ? req->body : "";
}

cJSON *httpd_req_json(struct httpd_req *req, const char **err)
{
	const char *dummy;

	if (!err)
		err = &dummy;
	if (req->json)
		return req->json;
	if (!req->body_len) {
		*err = "request body is empty, expected JSON";
		return NULL;
	}
	req->json = cJSON_ParseWithLength(req->body, req->body_len);
	if (!req->json)
		*err = "request body is not valid JSON";
	return req->json;
}

/* --- replies ------------------------------------------------------------ */

int httpd_add_header(struct httpd_req *req, const char *name,
		     const char *value)
{
	return kv_add(&req->rhdrs, &req->nrhdrs, name, strlen(name), value,
		      strlen(value));
}

void httpd_delay(struct httpd_req *req, unsigned ms)
{
	req->delay_ms = ms;
}

void httpd_defer(struct httpd_req *req, unsigned timeout_ms,
		 httpd_defer_fn *cb, void *arg)
{
	req->deferred = 1;
	req->defer_cb = cb;
	req->defer_arg = arg;
	req->delay_ms = timeout_ms;	/* armed by dispatch() */
}

void httpd_resume(struct httpd_req *req)
{
	if (!req->deferred || !req->replied)
		return;
	req->deferred = 0;
	req->delay_ms = 0;
	if (!req->wsi)
		return;
	lws_set_timer_usecs(req->wsi, LWS_SET_TIMER_USEC_CANCEL);
	lws_callback_on_writable(req->wsi);
}

/* Takes out: len bytes of body after off (>= LWS_PRE) bytes of headroom. */
static int reply_take(struct httpd_req *req, int status, const char *content_type,
		      unsigned char *out, size_t off, size_t len)
{
	char *ctype = NULL;

	if (content_type) {
		ctype = strdup(content_type);
		if (!ctype) {
			free(out);
			return -1;
		}
	}
	free(req->ctype);
	free(req->out);
	req->ctype = ctype;
	req->out = out;
	req->out_off = off;
	req->out_len = len;
	req->out_sent = 0;
	req->status = status;
	req->replied = 1;
	return 0;
}

int httpd_reply(struct httpd_req *req, int status, const char *content_type,
		const void *body, size_t len)
{
	unsigned char *out = malloc(LWS_PRE + len + 1);

	if (!out)
		return -1;
	if (len)
		memcpy(out + LWS_PRE, body, len);
	return reply_take(req, status, content_type, out, LWS_PRE, len);
}

size_t httpd_headroom(void)
{
	return LWS_PRE;
}

int httpd_reply_built(struct httpd_req *req, int status, const char *content_type,
		      char *buf, size_t off, size_t len)
{
	if (!buf || off < LWS_PRE) {
		free(buf);
		return -1;
	}
	return reply_take(req, status, content_type, (unsigned char *)buf, off, len);
}

int httpd_reply_json(struct httpd_req *req, int status, const cJSON *json)
{
	char *s;
	int rc;

	if (!json)
		return httpd_reply(req, status, NULL, NULL, 0);
	s = cJSON_PrintUnformatted(json);
	if (!s)
		return -1;
	rc = httpd_reply(req, status, "application/json", s, strlen(s));
	cJSON_free(s);
	return rc;
}

int httpd_reply_error(struct httpd_req *req, int status, const char *fmt, ...)
{
	cJSON *o = NULL;
	char *msg = NULL;
	va_list ap;
	int rc = -1;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		goto out;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "error", msg))
		goto out;
	rc = httpd_reply_json(req, status, o);
out:
	cJSON_Delete(o);
	free(msg);
	return rc;
}

int httpd_redirect(struct httpd_req *req, int status, const char *location)
{
	if (httpd_add_header(req, "location", location))
		return -1;
	return httpd_reply(req, status, "text/plain; charset=utf-8", "", 0);
}

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "wasm", "application/wasm" },
};

const char *httpd_mime_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	size_t i;

	if (dot)
		for (i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
			if (!strcasecmp(dot + 1, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}

/* Every segment of rel must be a plain name: not empty, no leading dot
 * (covers "." and ".." and hidden files), no backslash or control byte. */
static int rel_path_ok(const char *rel)
{
	const char *s = rel;

	if (!*s)
		return 0;
	for (;;) {
		const char *end = strchr(s, '/');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		size_t i;

		if (!len || s[0] == '.')
			return 0;
		for (i = 0; i < len; i++)
			if (s[i] == '\\' || (unsigned char)s[i] < 0x20 ||
			    s[i] == 0x7f)
				return 0;
		if (!end)
			return 1;
		s = end + 1;
	}
}

int httpd_reply_file(struct httpd_req *req, const char *root,
		     const char *rel)
{
	char *full = NULL, *real_root = NULL, *real_full = NULL;
	unsigned char *data = NULL;
	size_t rlen, got = 0;
	struct stat st;
	int fd = -1, rc;

	while (*rel == '/')
		rel++;
	if (!rel_path_ok(rel))
		goto not_found;
	real_root = realpath(root, NULL);
	if (!real_root || asprintf(&full, "%s/%s", real_root, rel) < 0) {
		full = NULL;
		goto not_found;
	}
	/* symlinks inside root may not lead out of it */
	real_full = realpath(full, NULL);
	rlen = strlen(real_root);
	if (!real_full || strncmp(real_full, real_root, rlen) ||
	    real_full[rlen] != '/')
		goto not_found;
	fd = open(real_full, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > HTTPD_MAX_FILE)
		goto not_found;
	data = malloc(LWS_PRE + (size_t)st.st_size + 1);
	if (!data)
		goto fail;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + LWS_PRE + got,
				 (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	rc = reply_take(req, 200, httpd_mime_type(rel), data, LWS_PRE, got);
	data = NULL;
	if (!rc)
		rc = httpd_add_header(req, "cache-control", "no-cache");
	goto out;
not_found:
	rc = httpd_reply_error(req, 404, "no file \"%s\"", rel);
	goto out;
fail:
	rc = httpd_reply_error(req, 500, "cannot read \"%s\"", rel);
out:
	if (fd >= 0)
		close(fd);
	free(data);
	free(real_full);
	free(full);
	free(real_root);
	return rc;
}

/* --- routing and the lws callback --------------------------------------- */

static int prefix_matches(const struct route *r, const char *path)
{
	if (strncmp(path, r->prefix, r->len))
		return 0;
	return r->prefix[r->len - 1] == '/' || path[r->len] == '\0' ||
	       path[r->len] == '/';
}

static void dispatch(struct httpd_req *req)
{
	struct httpd *h = req->h;
	const struct route *best = NULL;
	int seen_prefix = 0, rc;
	size_t i;

	req->dispatched = 1;
	if (req->too_large) {
		req->close_after = 1;
		httpd_reply_error(req, 413, "request body larger than %zu bytes",
				  h->max_body);
		goto send;
	}
	if (req->query_too_long) {
		httpd_reply_error(req, 414, "a query argument is longer than %d bytes",
				  QUERY_ARG_MAX - 1);
		goto send;
	}
	if (req->length_required) {
		req->close_after = 1;
		httpd_reply_error(req, 411, "request body needs a "
				  "content-length (chunked is not supported)");
		goto send;
	}
	for (i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];

		if (!prefix_matches(r, req->path))
			continue;
		seen_prefix = 1;
		if ((r->methods & req->method) && (!best || r->len > best->len))
			best = r;
	}
	if (!best) {
		if (seen_prefix)
			httpd_reply_error(req, 405, "method %s not allowed on "
					  "\"%s\"", httpd_req_method_name(req),
					  req->path);
		else
			httpd_reply_error(req, 404, "no route for \"%s\"",
					  req->path);
		goto send;
	}
	req->rest = req->path + best->len;
	if (best->prefix[best->len - 1] != '/' && *req->rest == '/')
		req->rest++;
	rc = best->fn(req, best->arg);
	if (!rc && req->deferred && !req->replied) {
		if (req->delay_ms && req->wsi)
			lws_set_timer_usecs(req->wsi,
					    (lws_usec_t)req->delay_ms * 1000);
		return;	/* httpd_resume() sends the reply */
	}
	req->deferred = 0;
	if (rc || !req->replied) {
		/* nothing the handler meant for a good reply goes out */
		kv_free(req->rhdrs, req->nrhdrs);
		req->rhdrs = NULL;
		req->nrhdrs = 0;
		req->delay_ms = 0;
		if (httpd_reply_error(req, 500, "internal error handling "
				      "\"%s\"", req->path))
			req->replied = 0;
	}
send:
	/* lws expects the body a content-length announces: after HEAD's
	 * headers only closing ends the exchange cleanly */
	if (req->method == HTTPD_HEAD && req->out_len)
		req->close_after = 1;
	if (!req->replied) {
		/* out of memory even for the error: drop the connection */
		req->close_after = 1;
		req->status = 500;
		req->replied = 1;
	}
	if (!req->wsi)
		return;		/* detached: the caller reads the reply */
	if (req->delay_ms)
		lws_set_timer_usecs(req->wsi, (lws_usec_t)req->delay_ms * 1000);
	else
		lws_callback_on_writable(req->wsi);
}

static enum httpd_method lws_method(struct lws *wsi)
{
	char *uri;
	int len;

	switch (lws_http_get_uri_and_method(wsi, &uri, &len)) {
	case LWSHUMETH_GET: return HTTPD_GET;
	case LWSHUMETH_POST: return HTTPD_POST;
	case LWSHUMETH_OPTIONS: return HTTPD_OPTIONS;
	case LWSHUMETH_PUT: return HTTPD_PUT;
	case LWSHUMETH_PATCH: return HTTPD_PATCH;
	case LWSHUMETH_DELETE: return HTTPD_DELETE;
	case LWSHUMETH_HEAD: return HTTPD_HEAD;
	default: return 0;
	}
}

/* One "name=value" argument (no '=': an empty value). */
static int query_add(struct httpd_req *req, const char *arg, size_t len)
{
	const char *eq = memchr(arg, '=', len);

	return kv_add(&req->query, &req->nquery, arg,
		      eq ? (size_t)(eq - arg) : len, eq ? eq + 1 : "",
		      eq ? len - (size_t)(eq - arg) - 1 : 0);
}

/* lws hands over each "name=value" argument urldecoded as one fragment. */
static int parse_query(struct httpd_req *req)
{
	char buf[QUERY_ARG_MAX];
	int i;

	for (i = 0; ; i++) {
		int len = lws_hdr_copy_fragment(req->wsi, buf, sizeof(buf),
						WSI_TOKEN_HTTP_URI_ARGS, i);

		/* -1 is both "no more" and "does not fit": an argument left
		 * out would change what the request asks (a SCIM filter
		 * dropped answers every user), so one too long refuses it */
		if (len < 0) {
			if (lws_hdr_fragment_length(req->wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0)
				req->query_too_long = 1;
			break;
		}
		if (query_add(req, buf, (size_t)len))
			return -1;
	}
	return 0;
}

int httpd_parse_content_length(const char *s, size_t max, size_t *n)
{
	size_t v = 0;
	int big = 0;

	/* 1*DIGIT (RFC 9110): no sign, no space, no hex, no overflow */
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (SIZE_MAX - 9) / 10)
			big = 1;	/* beyond any cap; still all digits? */
		else
			v = v * 10 + (size_t)(*s - '0');
	}
	*n = v;
	return big || v > max ? 1 : 0;
}

/* A content-length arrived: 1 if a body follows, 0 if not, -1 to drop. */
static int expect_body(struct httpd_req *req, const char *clen)
{
	size_t n = 0;
	int rc = httpd_parse_content_length(clen, req->h->max_body, &n);

	if (rc < 0)
		return -1;
	if (rc > 0) {
		req->too_large = 1;
		return 0;
	}
	if (!n)
		return 0;
	req->body_cap = n;
	req->body = malloc(req->body_cap + 1);
	if (!req->body)
		return -1;
	req->body[0] = '\0';
	return 1;
}

/* Returns 1 if a body follows, 0 if not, -1 to drop the connection. */
static int begin_request(struct httpd_req *req, struct lws *wsi,
			 const char *path, size_t len)
{
	char clen[32];

	req_clear(req);
	req->wsi = wsi;
	req->method = lws_method(wsi);
	req->path = strndup(path, len);
	if (!req->path || parse_query(req))
		return -1;
	/* lws 4.1 does not decode chunked request bodies: refuse them
	 * rather than read the chunks as the next request */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		req->length_required = 1;
		return 0;
	}
	if (lws_hdr_copy(wsi, clen, sizeof(clen),
			 WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return 0;
	return expect_body(req, clen);
}

static int add_body(struct httpd_req *req, const void *in, size_t len)
{
	if (req->too_large || req->dispatched)
		return 0;
	if (len > req->body_cap - req->body_len) {
		/* more than content-length promised */
		req->too_large = 1;
		return 0;
	}
	memcpy(req->body + req->body_len, in, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
	return 0;
}

static int write_headers(struct httpd_req *req)
{
	unsigned char buf[LWS_PRE + HTTPD_HDR_BUF];
	unsigned char *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;
	lws_filepos_t clen = (lws_filepos_t)req->out_len;
	struct lws *wsi = req->wsi;
	size_t i;

	/* no content-length on 204 means lws ends the connection after it */
	if (req->status == 204 || req->status == 304)
		clen = LWS_ILLEGAL_HTTP_CONTENT_LEN;
	if (lws_add_http_common_headers(wsi, (unsigned)req->status,
					req->ctype, clen, &p, end))
		return -1;
	for (i = 0; i < req->nrhdrs; i++) {
		char name[128];
		size_t nlen = strlen(req->rhdrs[i].name);

		if (nlen + 2 > sizeof(name))
			return -1;
		memcpy(name, req->rhdrs[i].name, nlen);
		name[nlen] = ':';
		name[nlen + 1] = '\0';
		if (lws_add_http_header_by_name(wsi,
				(const unsigned char *)name,
				(const unsigned char *)req->rhdrs[i].value,
				(int)strlen(req->rhdrs[i].value), &p, end))
			return -1;
	}
	if (req->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
					 (const unsigned char *)"close", 5,
					 &p, end))
		return -1;
	return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static int on_writeable(struct httpd_req *req, struct lws *wsi)
{
	size_t chunk;
	int last, n;

	if (!req->replied || req->wsi != wsi)
		return 0;
	if (req->delay_ms)
		return 0;	/* woken early; the timer will ask again */
	if (!req->hdrs_sent) {
		if (write_headers(req))
			return -1;
		req->hdrs_sent = 1;
		if (!req->out_len || req->method == HTTPD_HEAD)
			goto done;
		lws_callback_on_writable(wsi);
		return 0;
	}
	chunk = req->out_len - req->out_sent;
	if (chunk > HTTPD_CHUNK)
		chunk = HTTPD_CHUNK;
	last = req->out_sent + chunk == req->out_len;
	/* the bytes before this chunk were sent already: lws may use them
	 * as its LWS_PRE headroom */
	n = lws_write(wsi, req->out + req->out_off + req->out_sent, chunk,
		      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
	if (n < 0 || (size_t)n != chunk)
		return -1;
	req->out_sent += chunk;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
done:
	{
		int close_it = req->close_after;

		req_clear(req);
		if (close_it)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct httpd_req *req = user;
	struct httpd *h;
	int rc;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		h = lws_context_user(lws_get_context(wsi));
		req->h = h;
		rc = begin_request(req, wsi, in, len);
		if (rc < 0)
			return -1;
		if (!rc)
			dispatch(req);
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (!req || !req->h)
			return -1;
		return add_body(req, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!req || !req->h)
			return -1;
		if (!req->dispatched)
			dispatch(req);
		return 0;
	case LWS_CALLBACK_TIMER:
		if (req && req->deferred && !req->replied && req->defer_cb) {
			req->delay_ms = 0;
			req->defer_cb(req, HTTPD_DEFER_TIMEOUT, req->defer_arg);
			if (!req->replied &&
			    httpd_reply_error(req, 500, "no reply to \"%s\"",
					      httpd_req_path(req)))
				return -1;
			httpd_resume(req);
			return 0;
		}
		if (req && req->replied) {
			req->delay_ms = 0;
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!req)
			return 0;
		return on_writeable(req, wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (req && req->h && req->deferred && req->defer_cb) {
			req->deferred = 0;
			req->defer_cb(req, HTTPD_DEFER_GONE, req->defer_arg);
		}
		if (req && req->h)
			req_clear(req);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* A watched fd became readable (or was closed by lws). */
static int watch_callback(struct lws *wsi, enum lws_callback_reasons reason,
			  void *user, void *in, size_t len)
{
	struct fd_watch *w = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (w && w->fn(w->arg) < 0)
			return -1;
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		lws_set_opaque_user_data(wsi, NULL);
		free(w);
		return 0;
	default:
		return 0;
	}
}

int httpd_watch_fd(struct httpd *h, int fd, int (*fn)(void *arg), void *arg)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
	struct fd_watch *w = calloc(1, sizeof(*w));
	lws_sock_file_fd_type u;
	struct lws *wsi;

	if (!w || !vh || fd < 0)
		goto fail;
	w->fn = fn;
	w->arg = arg;
	u.filefd = (lws_filefd_type)fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (u.filefd < 0)
		goto fail;
	wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u, "httpd-fd-watch", NULL);
	if (!wsi) {
		close(u.filefd);
		goto fail;
	}
	lws_set_opaque_user_data(wsi, w);
	return 0;
fail:
	free(w);
	return -1;
}

void httpd_set_idle(struct httpd *h, void (*fn)(void *arg), void *arg)
{
	h->idle_fn = fn;
	h->idle_arg = arg;
}

/* --- lifecycle ---------------------------------------------------------- */

/*
 * lws only logs why a bind failed; try the address first so the caller
 * gets the reason ("address already in use") in its error message.
 */
static int probe_bind(const char *iface, int port, char **err)
{
	struct sockaddr_in sa;
	int fd, one = 1, rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, iface, &sa.sin_addr) != 1) {
		set_err(err, "cannot listen on \"%s\": not an IPv4 address",
			iface);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		set_err(err, "cannot listen on %s:%d: %s", iface, port,
			strerror(errno));
	else
		rc = 0;
	close(fd);
	return rc;
}

struct httpd *httpd_new(const struct httpd_config *cfg, char **err)
{
	struct lws_context_creation_info info;
	struct httpd *h;
	struct lws_vhost *vh;

	h = calloc(1, sizeof(*h));
	if (!h) {
		set_err(err, "cannot allocate the http server");
		return NULL;
	}
	h->max_body = cfg->max_body ? cfg->max_body : HTTPD_DEFAULT_MAX_BODY;
	h->server_name = strdup(cfg->server_name ? cfg->server_name : "idlcm");
	if (!h->server_name) {
		set_err(err, "cannot allocate the http server");
		goto fail;
	}
	h->protocols[0].name = "http";
	h->protocols[0].callback = callback;
	h->protocols[0].per_session_data_size = sizeof(struct httpd_req);
	h->protocols[1].name = "httpd-fd-watch";
	h->protocols[1].callback = watch_callback;

	memset(&info, 0, sizeof(info));
	info.port = cfg->port;
	info.iface = cfg->iface ? cfg->iface : "127.0.0.1";
	if (cfg->port < 0 || cfg->port > 65535) {
		set_err(err, "cannot listen on port %d: not a port", cfg->port);
		goto fail;
	}
	if (probe_bind(info.iface, cfg->port, err))
		goto fail;
	info.protocols = h->protocols;
	info.user = h;
	info.server_string = h->server_name;
	info.max_http_header_data = 8192;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		set_err(err, "cannot listen on %s:%d", info.iface, cfg->port);
		goto fail;
	}
	vh = lws_get_vhost_by_name(h->ctx, "default");
	h->port = vh ? lws_get_vhost_listen_port(vh) : -1;
	if (h->port <= 0) {
		set_err(err, "cannot listen on %s:%d: no port bound",
			info.iface, cfg->port);
		goto fail;
	}
	return h;
fail:
	httpd_free(h);
	return NULL;
}

void httpd_free(struct httpd *h)
{
	size_t i;

	if (!h)
		return;
	if (h->ctx)
		lws_context_destroy(h->ctx);
	for (i = 0; i < h->nroutes; i++)
		free(h->routes[i].prefix);
	free(h->routes);
	free(h->server_name);
	free(h);
}

int httpd_route(struct httpd *h, unsigned methods, const char *prefix,
		int (*fn)(struct httpd_req *req, void *arg), void *arg)
{
	struct route *r;
	char *p;

	if (!prefix || prefix[0] != '/' || !fn)
		return -1;
	p = strdup(prefix);
	if (!p)
		return -1;
	r = realloc(h->routes, (h->nroutes + 1) * sizeof(*r));
	if (!r) {
		free(p);
		return -1;
	}
	h->routes = r;
	r += h->nroutes++;
	r->methods = methods;
	r->prefix = p;
	r->len = strlen(p);
	r->fn = fn;
	r->arg = arg;
	return 0;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

struct lws_context *httpd_context(struct httpd *h)
{
	return h->ctx;
}

int httpd_run(struct httpd *h, volatile sig_atomic_t *stop)
{
	while (!h->stopping && !(stop && *stop)) {
		if (lws_service(h->ctx, 0) < 0)
			return -1;
		if (h->idle_fn)
			h->idle_fn(h->idle_arg);
	}
	return 0;
}

void httpd_stop(struct httpd *h)
{
	h->stopping = 1;
	lws_cancel_service(h->ctx);
}

static struct httpd *signal_target;

static void stop_on_signal(int sig)
{
	(void)sig;
	if (signal_target)
		httpd_stop(signal_target);
}

int httpd_run_until_signal(struct httpd *h)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = stop_on_signal;
	signal_target = h;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	rc = httpd_run(h, NULL);
	signal_target = NULL;
	return rc;
}

/* --- requests without a connection (tests and fuzzers) ------------------ */

struct httpd *httpd_new_unbound(const struct httpd_config *cfg)
{
	struct httpd *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->max_body = cfg->max_body ? cfg->max_body : HTTPD_DEFAULT_MAX_BODY;
	h->port = -1;
	return h;
}

struct httpd_req *httpd_req_detached(struct httpd *h, enum httpd_method m,
				     const char *target, const char *headers,
				     const void *body, size_t len)
{
	struct httpd_req *req = calloc(1, sizeof(*req));
	const char *q = strchr(target, '?'), *clen = NULL;
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	int rc;

	if (!req)
		return NULL;
	req->h = h;
	req->method = m;
	req->path = strndup(target, plen);
	if (!req->path)
		goto fail;
	while (q && *q) {	/* lws would split at '&' and urldecode */
		const char *arg = q + 1, *amp = strchr(arg, '&');
		size_t alen = amp ? (size_t)(amp - arg) : strlen(arg);
		if (alen && query_add(req, arg, alen))
			goto fail;
		q = amp;
	}
	while (headers && *headers) {	/* "name: value\n" lines */
		const char *nl = strchr(headers, '\n'), *colon;
		size_t llen = nl ? (size_t)(nl - headers) : strlen(headers);
		colon = memchr(headers, ':', llen);
		if (colon) {
			const char *v = colon + 1;
			while (v < headers + llen && *v == ' ')
				v++;
			if (kv_add(&req->dhdrs, &req->ndhdrs, headers,
				   (size_t)(colon - headers), v,
				   (size_t)(headers + llen - v)))
				goto fail;
		}
		headers = nl ? nl + 1 : "";
	}
	if (httpd_req_header(req, "transfer-encoding")) {
		req->length_required = 1;
		return req;
	}
	clen = httpd_req_header(req, "content-length");
	rc = clen && *clen ? expect_body(req, clen) : 0;
	if (rc < 0)
		goto fail;
	if (len)	/* a body lws would hand over, promised or not */
		add_body(req, body, len);
	return req;
fail:
	httpd_req_free(req);
	return NULL;
}

int httpd_req_run(struct httpd_req *req, const char **body, size_t *len)
{
	dispatch(req);
	if (req->deferred && !req->replied && req->defer_cb) {
		/* the wait ends at once, as if it timed out */
		req->defer_cb(req, HTTPD_DEFER_TIMEOUT, req->defer_arg);
		req->deferred = 0;
		if (!req->replied)
			httpd_reply_error(req, 500, "no reply to \"%s\"",
					  httpd_req_path(req));
	}
	if (body)
		*body = req->out ? (const char *)req->out + req->out_off : "";
	if (len)
		*len = req->out_len;
	return req->status;
}

void httpd_req_free(struct httpd_req *req)
{
	if (!req)
		return;
	req_clear(req);
	free(req);
}
