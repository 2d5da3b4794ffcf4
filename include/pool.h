#ifndef IDLCM_POOL_H
#define IDLCM_POOL_H
/*
 * pool: the browsers a worker was given with --browser (one or several
 * DevTools endpoints, each http(s)://host:port or a ws(s):// URL): which
 * of them answer (GET /json/version, on an interval and before use), and
 * which one the next job goes to (the least busy that answers).
 */
#include <stddef.h>
#include <stdint.h>

#define POOL_MAX 64

struct pool_browser {
	char *spec;		/* as the operator gave it; names it in logs and reports */
	char *ws_url;		/* where a job connects; NULL until it first answered */
	int up;			/* the last health check answered */
	int checked;		/* checked at least once */
	int running;		/* jobs running on it now (the worker keeps this) */
	int64_t checked_ms;	/* when it was last checked */
	uint64_t jobs;		/* runs started on it */
	uint64_t downs;		/* times it was found gone */
	char why[400];		/* why the last check failed */
};

struct pool {
	struct pool_browser b[POOL_MAX];
	int n;
	unsigned rr;		/* where ties start: jobs spread over equals */
};

/* Add one endpoint: 0, or -1 with err (not a DevTools URL, pool full). */
int pool_add(struct pool *, const char *spec, char *err, size_t errlen);
/* Add every endpoint in a file, one a line ('#' comments, blank lines
 * skipped): 0, or -1 with err naming the file and line. */
int pool_add_file(struct pool *, const char *path, char *err, size_t errlen);
void pool_free(struct pool *);

/* Health-check one browser now (GET /json/version, timeout_ms): 1 up, 0
 * down (b->why says why).  An http(s) endpoint answers with its current
 * ws URL (a restarted browser has a new one); a ws(s) endpoint is used as
 * given, and is up when its host answers HTTP at all (a CDP service that
 * serves no /json/version is still there). */
int pool_check(struct pool_browser *, int timeout_ms);

/* The browser the next job should run on: of those up, the fewest
 * running; among equals prefer `prefer` (the one a page was prewarmed
 * on), else take turns.  -1 when none is up. */
int pool_pick(struct pool *, int prefer);
#endif
