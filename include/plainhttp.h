#ifndef IDLCM_PLAINHTTP_H
#define IDLCM_PLAINHTTP_H
/*
 * plainhttp: one GET over plain http:// with a deadline — what a job
 * process needs to read a DevTools endpoint's /json/version, without
 * loading libcurl into every job (see curl_lazy.h).  The answer ends at
 * its Content-Length or when the server closes; no chunked bodies, no
 * redirects, no TLS (https goes to libcurl).
 */
#include <stddef.h>

/* GET url (http://host[:port]/path).  0 with *body (NUL-terminated, up to
 * limit bytes), *len and *status; -1 with err saying what went wrong
 * (the caller names the URL). */
int plainhttp_get(const char *url, int timeout_ms, size_t limit, char **body,
		  size_t *len, int *status, char *err, size_t errlen);

#endif
