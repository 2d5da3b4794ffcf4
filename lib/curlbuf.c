/* curlbuf: the one libcurl body collector (coordinator calls, /json/version). */
#include <stdlib.h>
#include <string.h>

#include "curlbuf.h"

size_t curl_buf_collect(char *p, size_t size, size_t n, void *arg)
{
	struct curl_buf *b = arg;
	size_t add = size * n;
	char *grown;

	if (b->len + add > b->limit) {
		b->overflow = 1;
		return 0;	/* aborts the transfer */
	}
	grown = realloc(b->data, b->len + add + 1);
	if (!grown)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}
