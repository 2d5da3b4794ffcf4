/* base64: the one decoder (screenshots from CDP, vault keys). */
#include "base64.h"

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;
	if (c == '/' || c == '_') return 63;
	return -1;
}

size_t base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	unsigned int acc = 0;
	int bits = 0;
	size_t len = 0, i;

	for (i = 0; i < n && in[i] != '='; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return BASE64_INVALID;
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len < cap)
				out[len] = (unsigned char)(acc >> bits);
			len++;
		}
	}
	for (; i < n; i++)	/* only padding may follow */
		if (in[i] != '=')
			return BASE64_INVALID;
	return len;
}
