/*
 * cdp_scrub: credentials that the job's page sends and receives (cookies,
 * Authorization headers) show up in Network events once the page API
 * watches responses.  Each value found is registered as a secret before
 * the frame is logged, kept for evidence or written to a cassette, so the
 * redactor that already guards those outputs replaces it everywhere.
 */
#include <string.h>
#include <strings.h>

#include "cdp.h"
#include "log.h"

/* Shorter values are preferences ("theme=dark"), not credentials: made
 * secrets they would redact ordinary words everywhere (and a cassette
 * would no longer replay commands that contain them). */
#define MIN_COOKIE_VALUE 8

static void register_value(const char *v, const char *label)
{
	if (v && strlen(v) >= MIN_COOKIE_VALUE)
		secret_register_as(v, label);
}

/* "a=1; b=2" (Cookie) or "a=1; Path=/; HttpOnly" lines (Set-Cookie):
 * register the value of each name=value pair that carries one. */
static void register_cookie_values(const char *s, int set_cookie)
{
	char buf[4096];
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, set_cookie ? "\n" : ";");
		const char *eq;
		size_t vlen;

		/* Set-Cookie: only the first pair of each line is the cookie */
		size_t pair = set_cookie ? strcspn(p, ";\n") : n;
		eq = memchr(p, '=', pair);
		if (eq) {
			vlen = pair - (size_t)(eq + 1 - p);
			if (vlen && vlen < sizeof(buf)) {
				memcpy(buf, eq + 1, vlen);
				buf[vlen] = '\0';
				register_value(buf, "cookie");
			}
		}
		p += n;
		while (*p == ';' || *p == '\n' || *p == ' ')
			p++;
	}
}

static void scrub_headers(const cJSON *headers)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, headers) {
		if (!cJSON_IsString(h) || !h->string)
			continue;
		if (!strcasecmp(h->string, "cookie")) {
			register_cookie_values(h->valuestring, 0);
		} else if (!strcasecmp(h->string, "set-cookie")) {
			register_cookie_values(h->valuestring, 1);
		} else if (!strcasecmp(h->string, "authorization") ||
			   !strcasecmp(h->string, "proxy-authorization")) {
			const char *sp = strchr(h->valuestring, ' ');
			register_value(h->valuestring, "authorization");
			if (sp)	/* "Bearer xyz": the token alone too */
				register_value(sp + 1, "authorization");
		}
	}
}

void cdp_scrub_network(const char *method, const cJSON *params)
{
	const cJSON *r, *c;

	if (!method || strncmp(method, "Network.", 8) || !params)
		return;
	scrub_headers(cJSON_GetObjectItem(params, "headers"));
	r = cJSON_GetObjectItem(params, "request");
	scrub_headers(cJSON_GetObjectItem(r, "headers"));
	r = cJSON_GetObjectItem(params, "response");
	scrub_headers(cJSON_GetObjectItem(r, "headers"));
	scrub_headers(cJSON_GetObjectItem(r, "requestHeaders"));
	/* requestWillBeSentExtraInfo: the cookies sent, one by one */
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(params, "associatedCookies"))
		register_value(cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(c, "cookie"), "value")), "cookie");
	/* responseReceivedExtraInfo: the raw header block */
	r = cJSON_GetObjectItem(params, "headersText");
	if (cJSON_IsString(r)) {
		const char *line = r->valuestring;
		while (line && *line) {
			if (!strncasecmp(line, "set-cookie:", 11)) {
				char one[4096];
				size_t n = strcspn(line + 11, "\r\n");
				if (n < sizeof(one)) {
					memcpy(one, line + 11, n);
					one[n] = '\0';
					register_cookie_values(one + strspn(one, " "), 1);
				}
			}
			line = strchr(line, '\n');
			if (line)
				line++;
		}
	}
}
