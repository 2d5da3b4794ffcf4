/*
 * Fuzz target: base32 TOTP secrets (lib/totp.c) as people paste them into
 * a vault entry or an app's MFA page.  Properties: the decoder never writes
 * past cap and refuses (-1) rather than truncates; what decodes re-encodes
 * to the same letters (ignoring case, spaces, dashes, padding and the
 * trailing bits); every byte string round-trips through the encoder; the
 * encoder refuses a short buffer; and a secret that decodes gives a TOTP
 * code of exactly the digits asked for.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *enc, *canon;
	unsigned char *dec = malloc(size + 1), *back = malloc(size + 1), small[8];
	size_t cap = size ? data[0] % 8 : 0, enc_cap = size * 8 / 5 + 2, k = 0;
	int n, m;

	memcpy(text, data, size);
	text[size] = '\0';

	/* Decode as text, into a big and a short buffer. */
	n = totp_base32_decode(text, dec, size + 1);
	m = totp_base32_decode(text, small, cap);
	if (n >= 0 && (size_t)n <= cap) {
		if (m != n || memcmp(dec, small, (size_t)n))
			abort();
	} else if (m != -1) {
		abort();	/* too long for cap must refuse, not truncate */
	}
	enc = malloc(enc_cap);
	canon = malloc(strlen(text) + 1);
	if (n >= 0) {
		/* The letters that made those bytes, normalised: every
		 * character that is not ignored, upper case, whole bytes only. */
		for (const char *p = text; *p; p++)
			if (*p != ' ' && *p != '-' && *p != '=' && *p != '\t')
				canon[k++] = (char)toupper((unsigned char)*p);
		if (totp_base32_encode(dec, (size_t)n, enc, enc_cap) < 0)
			abort();
		/* the encoding of n bytes is ceil(8n/5) letters, a prefix of
		 * the input's letters except for the last (its spare bits) */
		if (strlen(enc) != ((size_t)n * 8 + 4) / 5 || strlen(enc) > k)
			abort();
		if (strlen(enc) > 0 && strncmp(enc, canon, strlen(enc) - 1))
			abort();
		if (n > 0 && n <= TOTP_MAX_KEY) {
			char code[9], err[100];
			int digits = 6 + (int)(size % 3);
			if (totp_code(text, (int64_t)size * 1000, 30, digits, TOTP_SHA1,
				      code, err, sizeof(err)))
				abort();
			if (strlen(code) != (size_t)digits)
				abort();
			for (int i = 0; i < digits; i++)
				if (!isdigit((unsigned char)code[i]))
					abort();
			if (!totp_verify(text, (int64_t)size * 1000, 30, digits, TOTP_SHA1,
					 0, code))
				abort();
		}
	}

	/* Encode the raw bytes and decode them back. */
	if (totp_base32_encode(data, size, enc, enc_cap) < 0)
		abort();
	if (totp_base32_decode(enc, back, size) != (int)size || memcmp(back, data, size))
		abort();
	/* a buffer one short of the letters and the NUL is refused */
	if (size && totp_base32_encode(data, size, enc, strlen(enc)) != -1)
		abort();

	free(text);
	free(dec);
	free(back);
	free(enc);
	free(canon);
	return 0;
}
