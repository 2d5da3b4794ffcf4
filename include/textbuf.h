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
/* Room for n more bytes without growing again (a writer that knows
 * roughly how much it will write saves the copies of doubling). */
void textbuf_grow(struct textbuf *, size_t n);
/* n bytes left unwritten (contents undefined), for the writer to fill
 * in later: a header whose numbers are known only at the end. */
void textbuf_skip(struct textbuf *, size_t n);
#endif
