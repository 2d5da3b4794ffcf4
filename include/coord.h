#ifndef IDLCM_COORD_H
#define IDLCM_COORD_H
/*
 * coord: the worker's side of the coordinator protocol over libcurl — a
 * long-poll claim that runs in the background of the supervisor's loop
 * (curl multi), and short blocking calls for heartbeat, events and
 * complete.  The bearer token comes from a file and is never logged.
 */
#include <stddef.h>
#include "curl_lazy.h"
#include <cjson/cJSON.h>
#include "curlbuf.h"

#define COORD_MAX_CLAIM (32u << 20)	/* a claim answer larger than this is refused */


struct coord_client {
	char *base;		/* "https://host:port", no trailing slash: bases[cur] */
	char **bases;		/* every coordinator given, in order (failover) */
	int nbases, cur;
	char *auth;		/* "Authorization: Bearer …" */
	char worker[128];
	int call_timeout_ms;	/* heartbeat, events, complete */
	CURLM *multi;
	CURL *claim;		/* in flight, or NULL */
	struct curl_slist *claim_hdrs;
	char *claim_body;
	struct curl_buf claim_buf;
	char claim_err[CURL_ERROR_SIZE];
};

/* Read the token from token_file (refused when group/world can read it);
 * token_file NULL = no auth.  url: one coordinator, or several separated
 * by commas (coordinator processes sharing one PostgreSQL database): calls
 * go to one, and move to the next when it cannot be reached or answers
 * 502/503/504. */
int coord_client_init(struct coord_client *, const char *url, const char *token_file,
		      const char *worker, char *err, size_t errlen);
void coord_client_release(struct coord_client *);

/* POST body (borrowed) to base+path.  Returns the HTTP status, or -1 on a
 * transport error (err filled).  *reply: the parsed JSON answer or NULL. */
int coord_post(struct coord_client *, const char *path, const cJSON *body,
	       cJSON **reply, char *err, size_t errlen);

/* PUT len bytes of data (borrowed) to base+path, with extra headers
 * ("Name: value", NULL-terminated).  The HTTP status, or -1 on a
 * transport error; err filled for both and for an answer of 400 or more. */
int coord_put(struct coord_client *, const char *path, const void *data, size_t len,
	      const char *const *headers, char *err, size_t errlen);

/* Replace each {"vault": "coordinator:<integration>/<field>"} in account
 * by the secret's value, fetched from POST /v1/jobs/{job}/secret with the
 * job's lease (attempt, lease_key), and register it with the redactor.
 * 0, or -1 with err (the value never appears in it). */
#define COORD_REF_PREFIX "coordinator:"
int coord_resolve_secrets(struct coord_client *, const char *job, int attempt,
			  const char *lease_key, cJSON *account, char *err, size_t errlen);

/* Start a claim {worker, capacity, apps, wait_s} in the background. */
int coord_claim_start(struct coord_client *, int capacity, const cJSON *apps,
		      int wait_s, char *err, size_t errlen);
/* Abandon a claim in flight (on shutdown). */
void coord_claim_cancel(struct coord_client *);
/* Wait up to ms for the claim's progress or one of fds becoming readable
 * (revents filled).  Returns 1 when the claim finished: *status is the
 * HTTP status (or -1 with err), *body the answer (caller frees, may be
 * NULL).  0 otherwise. */
int coord_wait(struct coord_client *, struct curl_waitfd *fds, unsigned nfds, int ms,
	       int *status, char **body, size_t *len, char *err, size_t errlen);
#endif
