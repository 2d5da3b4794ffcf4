#ifndef IDLCM_BASE64_H
#define IDLCM_BASE64_H
/* base64: decoding of both alphabets (standard and URL-safe). */
#include <stddef.h>
#include <stdint.h>

#define BASE64_INVALID SIZE_MAX

/* Decode in[0..n) into out (at most cap bytes); '=' padding may end it.
 * Returns the number of bytes the input holds (more than cap when it did
 * not fit), or BASE64_INVALID for a character outside the alphabet. */
size_t base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
#endif
