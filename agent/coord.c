/*
 * coord: HTTP calls to the coordinator.  TLS peers are verified (libcurl's
 * default, set explicitly so nobody turns it off by accident); only http
 * and https; every answer is size-capped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coord.h"
#include "curlbuf.h"
#include "privfile.h"
#include "log.h"

#define CALL_REPLY_MAX (1u << 20)


static int read_token(const char *path, char **out, char *err, size_t errlen)
{
	char *tok = privfile_read(path, "token file", err, errlen);
	int rc = 0;

	if (!tok)
		return -1;
	if (strchr(tok, '\n')) {
		snprintf(err, errlen, "the token file \"%s\" must hold one line", path);
		rc = -1;
	} else {
		secret_register(tok);	/* never in a log line */
		if (asprintf(out, "Authorization: Bearer %s", tok) < 0)
			rc = -1;
	}
	privfile_free(tok);
	return rc;
}

int coord_client_init(struct coord_client *cc, const char *url, const char *token_file,
		      const char *worker, char *err, size_t errlen)
{
	memset(cc, 0, sizeof(*cc));
	/* first: coord_client_release calls into libcurl */
	if (curl_lazy_load(err, errlen))
		return -1;
	for (const char *p = url; ; ) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char **nb;

		if (strncmp(p, "http://", 7) && strncmp(p, "https://", 8)) {
			snprintf(err, errlen, "--coordinator wants http:// or https://, not \"%.*s\"",
				 (int)n, p);
			return -1;
		}
		while (n && p[n - 1] == '/')
			n--;
		nb = realloc(cc->bases, (size_t)(cc->nbases + 1) * sizeof(*nb));
		if (!nb || !(nb[cc->nbases] = strndup(p, n))) {
			if (nb)
				cc->bases = nb;
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cc->bases = nb;
		cc->nbases++;
		if (!comma)
			break;
		p = comma + 1;
	}
	cc->base = cc->bases[0];
	snprintf(cc->worker, sizeof(cc->worker), "%s", worker);
	cc->call_timeout_ms = 10000;
	if (token_file && read_token(token_file, &cc->auth, err, errlen))
		return -1;
	cc->multi = curl_multi_init();
	if (!cc->base || !cc->multi) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	return 0;
}

void coord_client_release(struct coord_client *cc)
{
	if (!curl_lazy.easy_init) {	/* libcurl never loaded: nothing of it to free */
		memset(cc, 0, sizeof(*cc));
		return;
	}
	coord_claim_cancel(cc);
	if (cc->multi)
		curl_multi_cleanup(cc->multi);
	for (int i = 0; i < cc->nbases; i++)
		free(cc->bases[i]);
	free(cc->bases);
	free(cc->auth);
	memset(cc, 0, sizeof(*cc));
}

/* The coordinator in use is away (or cannot serve): the next one given
 * takes the calls from now on.  Any of them serves every job, since they
 * share one database. */
static void failover(struct coord_client *cc, const char *why)
{
	const char *was = cc->base;

	if (cc->nbases < 2)
		return;
	cc->cur = (cc->cur + 1) % cc->nbases;
	cc->base = cc->bases[cc->cur];
	log_warn("coordinator %s: %s; switching to %s", was, why, cc->base);
}

static int unavailable(long code)
{
	return code == 502 || code == 503 || code == 504;
}

static CURL *easy(struct coord_client *cc, const char *path, const char *body,
		  struct curl_slist **hdrs, struct curl_buf *buf, char *cerr, long timeout_ms)
{
	CURL *h = curl_easy_init();
	char url[2048];

	if (!h)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", cc->base, path);
	*hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (cc->auth)
		*hdrs = curl_slist_append(*hdrs, cc->auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_buf_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "idlcm-agent");
	return h;
}

int coord_post(struct coord_client *cc, const char *path, const cJSON *body,
	       cJSON **reply, char *err, size_t errlen)
{
	struct curl_buf buf = { .limit = CALL_REPLY_MAX };
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	char *text = cJSON_PrintUnformatted(body);
	CURL *h;
	CURLcode rc;
	long code = 0;

	if (reply)
		*reply = NULL;
	if (!text || !(h = easy(cc, path, text, &hdrs, &buf, cerr, cc->call_timeout_ms))) {
		cJSON_free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	cJSON_free(text);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "POST %s: %s", path,
			 buf.overflow ? "answer too large" : cerr[0] ? cerr : curl_easy_strerror(rc));
		free(buf.data);
		if (!buf.overflow)
			failover(cc, err);
		return -1;
	}
	if (reply && buf.data)
		*reply = cJSON_ParseWithLength(buf.data, buf.len);
	if (code >= 400) {
		cJSON *m = reply && *reply ? cJSON_GetObjectItem(*reply, "error") : NULL;
		snprintf(err, errlen, "POST %s: HTTP %ld%s%s", path, code,
			 cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
		if (unavailable(code))
			failover(cc, err);
	}
	/* an answer may carry a secret (/secret): leave none in the heap */
	if (buf.data)
		explicit_bzero(buf.data, buf.len);
	free(buf.data);
	return (int)code;
}

int coord_put(struct coord_client *cc, const char *path, const void *data, size_t len,
	      const char *const *headers, char *err, size_t errlen)
{
	struct curl_buf buf = { .limit = CALL_REPLY_MAX };
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode rc;
	long code = 0;
	cJSON *reply;

	/* a few MB at a modest link speed: longer than a JSON call's budget */
	if (!(h = easy(cc, path, NULL, &hdrs, &buf, cerr, cc->call_timeout_ms * 3L))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_slist_free_all(hdrs);
	hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	if (cc->auth)
		hdrs = curl_slist_append(hdrs, cc->auth);
	for (int i = 0; headers && headers[i]; i++)
		hdrs = curl_slist_append(hdrs, headers[i]);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "PUT %s: %s", path,
			 buf.overflow ? "answer too large" : cerr[0] ? cerr : curl_easy_strerror(rc));
		free(buf.data);
		if (!buf.overflow)
			failover(cc, err);
		return -1;
	}
	if (code >= 400) {
		cJSON *m;
		reply = buf.data ? cJSON_ParseWithLength(buf.data, buf.len) : NULL;
		m = cJSON_GetObjectItem(reply, "error");
		snprintf(err, errlen, "PUT %s: HTTP %ld%s%s", path, code,
			 cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
		cJSON_Delete(reply);
		if (unavailable(code))
			failover(cc, err);
	}
	free(buf.data);
	return (int)code;
}

int coord_claim_start(struct coord_client *cc, int capacity, const cJSON *apps,
		      int wait_s, char *err, size_t errlen)
{
	cJSON *b = cJSON_CreateObject();

	if (cc->claim)
		return 0;
	cJSON_AddStringToObject(b, "worker", cc->worker);
	cJSON_AddNumberToObject(b, "capacity", capacity);
	if (apps)
		cJSON_AddItemToObject(b, "apps", cJSON_Duplicate(apps, 1));
	cJSON_AddNumberToObject(b, "wait_s", wait_s);
	cc->claim_body = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	memset(&cc->claim_buf, 0, sizeof(cc->claim_buf));
	cc->claim_buf.limit = COORD_MAX_CLAIM;
	cc->claim_err[0] = '\0';
	cc->claim = cc->claim_body ? easy(cc, "/v1/claim", cc->claim_body, &cc->claim_hdrs,
					  &cc->claim_buf, cc->claim_err,
					  (long)wait_s * 1000 + 15000) : NULL;
	if (!cc->claim || curl_multi_add_handle(cc->multi, cc->claim)) {
		snprintf(err, errlen, "cannot start a claim");
		coord_claim_cancel(cc);
		return -1;
	}
	return 0;
}

void coord_claim_cancel(struct coord_client *cc)
{
	if (cc->claim) {
		curl_multi_remove_handle(cc->multi, cc->claim);
		curl_easy_cleanup(cc->claim);
		cc->claim = NULL;
	}
	curl_slist_free_all(cc->claim_hdrs);
	cc->claim_hdrs = NULL;
	cJSON_free(cc->claim_body);
	cc->claim_body = NULL;
	free(cc->claim_buf.data);
	memset(&cc->claim_buf, 0, sizeof(cc->claim_buf));
}

int coord_wait(struct coord_client *cc, struct curl_waitfd *fds, unsigned nfds, int ms,
	       int *status, char **body, size_t *len, char *err, size_t errlen)
{
	CURLMsg *m;
	int running, left;

	curl_multi_poll(cc->multi, fds, nfds, ms, NULL);
	curl_multi_perform(cc->multi, &running);
	for (;;) {
		long code = 0;

		m = curl_multi_info_read(cc->multi, &left);
		if (!m)
			break;
		if (m->msg != CURLMSG_DONE || m->easy_handle != cc->claim)
			continue;
		curl_easy_getinfo(cc->claim, CURLINFO_RESPONSE_CODE, &code);
		*body = NULL;
		*len = 0;
		if (m->data.result != CURLE_OK) {
			*status = -1;
			snprintf(err, errlen, "claim: %s", cc->claim_buf.overflow ?
				 "the answer is larger than the 32 MiB limit" :
				 cc->claim_err[0] ? cc->claim_err :
				 curl_easy_strerror(m->data.result));
			if (!cc->claim_buf.overflow)
				failover(cc, err);
		} else {
			*status = (int)code;
			*body = cc->claim_buf.data;
			*len = cc->claim_buf.len;
			cc->claim_buf.data = NULL;
			if (unavailable(code)) {
				char why[40];
				snprintf(why, sizeof(why), "claim: HTTP %ld", code);
				failover(cc, why);
			}
		}
		coord_claim_cancel(cc);
		return 1;
	}
	return 0;
}

static const char *coordinator_ref(const cJSON *o)
{
	const char *r;

	if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 1)
		return NULL;
	r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "vault"));
	return r && !strncmp(r, COORD_REF_PREFIX, strlen(COORD_REF_PREFIX)) ? r : NULL;
}

int coord_resolve_secrets(struct coord_client *cc, const char *job, int attempt,
			  const char *lease_key, cJSON *account, char *err, size_t errlen)
{
	cJSON *f;

	cJSON_ArrayForEach(f, account) {
		const char *ref = coordinator_ref(f);
		cJSON *body, *reply = NULL, *v, *s;
		char path[300], cerr[400];
		int status;

		if (!ref)
			continue;
		if (!lease_key) {
			snprintf(err, errlen, "\"%s\" refers to the coordinator's \"%s\", but the "
				 "claim answer had no lease key", f->string ? f->string : "?", ref);
			return -1;
		}
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "worker", cc->worker);
		cJSON_AddNumberToObject(body, "attempt", attempt);
		cJSON_AddStringToObject(body, "lease_key", lease_key);
		cJSON_AddStringToObject(body, "ref", ref);
		snprintf(path, sizeof(path), "/v1/jobs/%s/secret", job);
		status = coord_post(cc, path, body, &reply, cerr, sizeof(cerr));
		cJSON_Delete(body);
		v = cJSON_GetObjectItem(reply, "value");
		if (status != 200 || !cJSON_IsString(v)) {
			snprintf(err, errlen, "cannot fetch \"%s\" from the coordinator: %s", ref,
				 status < 0 || status >= 400 ? cerr : "the answer has no value");
			cJSON_Delete(reply);
			return -1;
		}
		{
			/* the label the recorder writes in its place, as for a
			 * password given in clear (job_register_secrets) */
			char label[200];
			snprintf(label, sizeof(label), "account.%s", f->string ? f->string : "secret");
			secret_register_as(v->valuestring, label);
		}
		s = cJSON_CreateString(v->valuestring);
		explicit_bzero(v->valuestring, strlen(v->valuestring));
		cJSON_Delete(reply);
		/* by pointer, keeping the key (ReplaceItemViaPointer drops it) */
		if (s && f->string) {
			s->string = cJSON_malloc(strlen(f->string) + 1);
			if (s->string)
				memcpy(s->string, f->string, strlen(f->string) + 1);
		}
		if (!s || (f->string && !s->string) || !cJSON_ReplaceItemViaPointer(account, f, s)) {
			cJSON_Delete(s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		f = s;
	}
	return 0;
}
