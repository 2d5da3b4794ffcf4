#ifndef IDLCM_CURLBUF_H
#define IDLCM_CURLBUF_H
/* curlbuf: a libcurl response body gathered into memory, capped. */
#include <stddef.h>

struct curl_buf {
	char *data;		/* NUL-terminated; caller frees */
	size_t len, limit;	/* past limit the transfer is aborted */
	int overflow;
};

/* CURLOPT_WRITEFUNCTION for a struct curl_buf (CURLOPT_WRITEDATA). */
size_t curl_buf_collect(char *p, size_t size, size_t n, void *arg);
#endif
