/*
 * Fuzz target: lib/httpd request parsing — content-length, cookies, query
 * and the capped body — and routing, on a server with no socket (requests
 * built as lws hands them over).  The input is five fields separated by NUL
 * bytes: content-length, cookie header, cookie name, target, body.
 * Properties checked against plain models: content-length is 1*DIGIT and
 * over the cap answers 413; a cookie found is the first "name=" segment and
 * lies inside the header; a body within the cap arrives byte for byte, one
 * over what content-length promised answers 413; the longest route prefix
 * wins; the query value is the first such argument; nothing leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 64

static const char *routes[] = { "/a", "/a/b/", "/v1/jobs", "/" };

/* what the handler saw, for the checks */
static struct seen {
	int route;
	char rest[512];
	const char *body;
	size_t body_len;
	const char *q, *sid;
} seen;

static int handler(struct httpd_req *req, void *arg)
{
	seen.route = (int)(intptr_t)arg;
	snprintf(seen.rest, sizeof(seen.rest), "%s", httpd_req_rest(req));
	seen.body = httpd_req_body(req, &seen.body_len);
	seen.q = httpd_req_query(req, "q");
	seen.sid = httpd_req_cookie(req, "sid");
	return httpd_reply(req, 200, "text/plain", seen.body, seen.body_len);
}

static const char *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *start = *p, *nul = memchr(start, 0, (size_t)(end - start));
	*len = nul ? (size_t)(nul - start) : (size_t)(end - start);
	*p = nul ? nul + 1 : end;
	return (const char *)start;
}

/* A header value as lws keeps it: one line, leading spaces dropped. */
static char *dup_line(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	size_t len = nl ? (size_t)(nl - s) : n;
	while (len && *s == ' ') {
		s++;
		len--;
	}
	return strndup(s, len);
}

static void check_content_length(const char *s)
{
	size_t n = 0, want = 0, digits = strlen(s);
	int rc = httpd_parse_content_length(s, MAX_BODY, &n), big = 0;

	for (size_t i = 0; i < digits; i++) {
		if (s[i] < '0' || s[i] > '9') {
			if (rc != -1)
				abort();
			return;
		}
		if (want > (SIZE_MAX - 9) / 10)
			big = 1;
		else
			want = want * 10 + (size_t)(s[i] - '0');
	}
	if (!digits) {
		if (rc != -1)
			abort();
		return;
	}
	if (big || want > MAX_BODY) {
		if (rc != 1)
			abort();
	} else if (rc != 0 || n != want) {
		abort();
	}
}

static const char *cookie_model(const char *h, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	for (const char *seg = h; seg; ) {
		const char *semi = strchr(seg, ';');
		const char *s = seg;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t slen = semi ? (size_t)(semi - s) : strlen(s);
		if (slen > nlen && !strncmp(s, name, nlen) && s[nlen] == '=') {
			*len = slen - nlen - 1;
			return s + nlen + 1;
		}
		seg = semi ? semi + 1 : NULL;
	}
	return NULL;
}

static void check_cookie(const char *header, const char *name)
{
	size_t len = 0, mlen = 0;
	const char *v = httpd_cookie_find(header, name, &len);
	const char *m = cookie_model(header, name, &mlen);

	if (v != m || (v && len != mlen))
		abort();
	if (v && (v < header || v + len > header + strlen(header) ||
		  memchr(v, ';', len) || (v[len] && v[len] != ';')))
		abort();
	if (httpd_cookie_find(NULL, name, &len))
		abort();
}

static int best_route(const char *path)
{
	int best = -1;
	size_t best_len = 0;
	for (int i = 0; i < (int)(sizeof(routes) / sizeof(*routes)); i++) {
		size_t n = strlen(routes[i]);
		if (strncmp(path, routes[i], n))
			continue;
		if (routes[i][n - 1] != '/' && path[n] && path[n] != '/')
			continue;
		if (best < 0 || n > best_len) {
			best = i;
			best_len = n;
		}
	}
	return best;
}

static const char *first_query(const char *target, const char *name, size_t *len)
{
	const char *q = strchr(target, '?');
	size_t nlen = strlen(name);
	while (q && *q) {
		const char *arg = q + 1, *amp = strchr(arg, '&');
		size_t alen = amp ? (size_t)(amp - arg) : strlen(arg);
		const char *eq = memchr(arg, '=', alen);
		size_t klen = eq ? (size_t)(eq - arg) : alen;
		if (alen && klen == nlen && !strncmp(arg, name, nlen)) {
			*len = eq ? alen - klen - 1 : 0;
			return eq ? eq + 1 : "";
		}
		q = amp;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct httpd *h;
	const uint8_t *p = data, *end = data + size;
	size_t cl_len, ck_len, nm_len, tg_len, body_len, n = 0, want_q_len = 0;
	const char *cl_s = field(&p, end, &cl_len), *ck_s = field(&p, end, &ck_len);
	const char *nm_s = field(&p, end, &nm_len), *tg_s = field(&p, end, &tg_len);
	const char *body = field(&p, end, &body_len), *reply, *want_q;
	char *cl = dup_line(cl_s, cl_len), *cookie = dup_line(ck_s, ck_len);
	char *name = dup_line(nm_s, nm_len), *target, *headers;
	struct httpd_req *req;
	size_t reply_len;
	int status, route, clrc;

	if (!h) {
		struct httpd_config cfg = { .max_body = MAX_BODY };
		h = httpd_new_unbound(&cfg);
		for (int i = 0; i < (int)(sizeof(routes) / sizeof(*routes)); i++)
			httpd_route(h, i == 1 ? HTTPD_POST : HTTPD_GET | HTTPD_POST,
				    routes[i], handler, (void *)(intptr_t)i);
	}
	check_content_length(cl);
	check_cookie(cookie, name);

	/* a path starts with '/', as lws guarantees */
	target = malloc(tg_len + 2);
	target[0] = '/';
	memcpy(target + 1, tg_s, tg_len);
	target[tg_len + 1] = '\0';
	headers = malloc(strlen(cl) + strlen(cookie) + 64);
	sprintf(headers, "%s%s\ncookie: %s\n", *cl ? "content-length: " : "x-none: 1", cl,
		cookie);
	memset(&seen, 0, sizeof(seen));
	seen.route = -1;
	clrc = *cl ? httpd_parse_content_length(cl, MAX_BODY, &n) : 0;
	req = httpd_req_detached(h, size % 2 ? HTTPD_POST : HTTPD_GET, target, headers,
				 body, body_len);
	if (clrc < 0) {
		if (req)
			abort();	/* a live server drops this connection */
		goto out;
	}
	if (!req)
		abort();
	status = httpd_req_run(req, &reply, &reply_len);
	{
		char *path = strndup(target, strcspn(target, "?"));
		route = best_route(path);
		free(path);
	}
	if (clrc > 0 || (body_len && body_len > n)) {
		if (status != 413 || seen.route != -1)
			abort();
	} else if (route == 1 && !(size % 2)) {
		/* GET on a POST-only route: 405, or a shorter prefix's GET */
		if (status == 200 && seen.route == 1)
			abort();
	} else if (route >= 0) {
		if (status != 200 || seen.route != route)
			abort();
		if (seen.body_len != body_len || memcmp(seen.body, body, body_len) ||
		    reply_len != body_len || memcmp(reply, body, body_len))
			abort();
		want_q = first_query(target, "q", &want_q_len);
		if (!want_q != !seen.q ||
		    (want_q && (strlen(seen.q) != want_q_len || memcmp(seen.q, want_q, want_q_len))))
			abort();
		{
			size_t clen = 0;
			const char *want_sid = cookie_model(cookie, "sid", &clen);
			if (!want_sid != !seen.sid ||
			    (want_sid && (strlen(seen.sid) != clen ||
					  memcmp(seen.sid, want_sid, clen))))
				abort();
		}
	}
	httpd_req_free(req);
out:
	free(cl);
	free(cookie);
	free(name);
	free(target);
	free(headers);
	return 0;
}
