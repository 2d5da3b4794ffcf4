/*
 * Fuzz target: base64 (lib/base64.c) as it arrives from outside: CDP
 * screenshots, vault keys in the environment.  The input is decoded as
 * text; and it is encoded here (both alphabets, with and without padding)
 * and decoded back.  Properties: a decode never writes past cap, a short
 * cap yields a prefix of the full decode and the same length, the length
 * never exceeds 6 bits per character, and every encoding round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t encode(const uint8_t *in, size_t n, char *out, int urlsafe, int pad)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *a = urlsafe ? url : std;
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	return o;
}

static void round_trip(const uint8_t *in, size_t n, int urlsafe, int pad)
{
	char *enc = malloc(n / 3 * 4 + 5);
	unsigned char *dec = malloc(n + 1);
	size_t elen = encode(in, n, enc, urlsafe, pad);
	size_t got = base64_decode(enc, elen, dec, n);

	if (got != n || memcmp(dec, in, n))
		abort();
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t full, part, cap = size ? data[0] % 64 : 0;
	unsigned char *big = malloc(size + 1), *small = malloc(cap ? cap : 1);

	/* As text: what is decoded fits 6 bits per character, and a short
	 * buffer gets exactly the prefix it has room for. */
	full = base64_decode((const char *)data, size, big, size + 1);
	part = base64_decode((const char *)data, size, small, cap);
	if (full != part)
		abort();
	if (full != BASE64_INVALID) {
		if (full > size * 6 / 8)
			abort();
		if (memcmp(big, small, full < cap ? full : cap))
			abort();
		/* what decoded re-encodes and decodes to the same bytes */
		round_trip(big, full, 0, 1);
	}
	/* As bytes: every encoding decodes back. */
	round_trip(data, size, 0, 1);
	round_trip(data, size, 0, 0);
	round_trip(data, size, 1, 1);
	round_trip(data, size, 1, 0);
	free(big);
	free(small);
	return 0;
}
