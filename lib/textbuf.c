/* textbuf: see textbuf.h. */
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

void textbuf_grow(struct textbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom || b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (b->len + n + 1 > cap)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void textbuf_put(struct textbuf *b, const char *s, size_t n)
{
	textbuf_grow(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void textbuf_skip(struct textbuf *b, size_t n)
{
	textbuf_grow(b, n);
	if (b->oom)
		return;
	b->len += n;
	b->p[b->len] = '\0';
}

void textbuf_str(struct textbuf *b, const char *s)
{
	textbuf_put(b, s, strlen(s));
}
