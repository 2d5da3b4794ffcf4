#ifndef IDLCM_TEXTBUF_H
#define IDLCM_TEXTBUF_H
/*
 * textbuf: text built piece by piece in a growing buffer, always
 * NUL-terminated.  A failed allocation sets oom and drops what follows, so
 * a writer checks once at the end.  Start from { 0 }; free(p) when done.
 */
#include <stddef.h>

struct textbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void textbuf_put(struct textbuf *, const char *s, size_t n);
void textbuf_str(struct textbuf *, const char *s);
#endif
