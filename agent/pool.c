/*
 * pool: the worker's browsers (--browser, repeatable or @file), their
 * health checks and the choice of the next job's browser.  The worker owns
 * the "running" counts and when to check; this module only knows how.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browser.h"
#include "cdp.h"
#include "pool.h"

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

int pool_add(struct pool *p, const char *spec, char *err, size_t errlen)
{
	size_t n = strlen(spec);
	const char *rest;

	if (has_prefix(spec, "http://") || has_prefix(spec, "ws://"))
		rest = strstr(spec, "//") + 2;
	else if (has_prefix(spec, "https://") || has_prefix(spec, "wss://"))
		rest = strstr(spec, "//") + 2;
	else {
		snprintf(err, errlen, "--browser wants ws://… or http://host:port, not \"%.200s\"",
			 spec);
		return -1;
	}
	if (!*rest || *rest == '/' || n > 1000) {
		snprintf(err, errlen, "--browser \"%.200s\" names no host", spec);
		return -1;
	}
	for (const char *c = spec; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			snprintf(err, errlen, "--browser \"%.200s\" has a space or control "
				 "character in it", spec);
			return -1;
		}
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->b[i].spec, spec)) {
			snprintf(err, errlen, "--browser %.200s is given twice", spec);
			return -1;
		}
	if (p->n >= POOL_MAX) {
		snprintf(err, errlen, "too many browsers (at most %d)", POOL_MAX);
		return -1;
	}
	memset(&p->b[p->n], 0, sizeof(p->b[p->n]));
	p->b[p->n].spec = strdup(spec);
	if (!p->b[p->n].spec) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->n++;
	return 0;
}

int pool_add_file(struct pool *p, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1200], e[600];
	int lineno = 0, added = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read the browser list %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			fclose(f);
			return -1;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		end = s + strlen(s);
		while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
				   end[-1] == '\t'))
			*--end = '\0';
		if (!*s || *s == '#')
			continue;
		if (pool_add(p, s, e, sizeof(e))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
			fclose(f);
			return -1;
		}
		added++;
	}
	fclose(f);
	if (!added) {
		snprintf(err, errlen, "the browser list %s names no browser", path);
		return -1;
	}
	return 0;
}

void pool_free(struct pool *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->b[i].spec);
		free(p->b[i].ws_url);
	}
	p->n = 0;
}

/* ws://host:port/devtools/… → http://host:port (wss → https). */
static void http_base(const char *spec, char *out, size_t n)
{
	const char *scheme = has_prefix(spec, "wss://") || has_prefix(spec, "https://") ?
		"https" : "http";
	const char *host = strstr(spec, "//") + 2;
	size_t hl = strcspn(host, "/?#");

	snprintf(out, n, "%s://%.*s", scheme, (int)hl, host);
}

int pool_check(struct pool_browser *b, int timeout_ms)
{
	char base[1200], err[400];
	char *ws = NULL;
	long code = 0;
	int is_ws = has_prefix(b->spec, "ws://") || has_prefix(b->spec, "wss://");
	int rc;

	http_base(b->spec, base, sizeof(base));
	rc = browser_version(base, timeout_ms, &ws, &code, err, sizeof(err));
	b->checked = 1;
	b->checked_ms = cdp_wall_ms();
	if (is_ws) {
		free(ws);
		if (!code) {
			snprintf(b->why, sizeof(b->why), "%s", err);
			return b->up = 0;
		}
		if (!b->ws_url)
			b->ws_url = strdup(b->spec);
		b->why[0] = '\0';
		return b->up = b->ws_url != NULL;
	}
	if (rc) {
		snprintf(b->why, sizeof(b->why), "%s", err);
		return b->up = 0;
	}
	free(b->ws_url);
	b->ws_url = ws;
	b->why[0] = '\0';
	return b->up = 1;
}

int pool_pick(struct pool *p, int prefer)
{
	int best = -1;

	for (int k = 0; k < p->n; k++) {
		int i = (int)((p->rr + (unsigned)k) % (unsigned)p->n);
		const struct pool_browser *b = &p->b[i];

		if (!b->up || !b->ws_url)
			continue;
		if (best < 0 || b->running < p->b[best].running ||
		    (b->running == p->b[best].running && i == prefer))
			best = i;
	}
	return best;
}
