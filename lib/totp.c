/*
 * totp: HOTP/TOTP (RFC 4226, RFC 6238) and base32 (RFC 4648).  Dynamic
 * truncation as in RFC 4226 section 5.3; the counter is the big-endian
 * number of whole periods since the epoch.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "totp.h"

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int totp_alg_parse(const char *name)
{
	char n[16];
	size_t j = 0;

	if (!name)
		return -1;
	for (const char *p = name; *p && j + 1 < sizeof(n); p++)
		if (*p != '-' && *p != '_')
			n[j++] = (char)tolower((unsigned char)*p);
	n[j] = '\0';
	if (!strcmp(n, "sha1"))
		return TOTP_SHA1;
	if (!strcmp(n, "sha256"))
		return TOTP_SHA256;
	if (!strcmp(n, "sha512"))
		return TOTP_SHA512;
	return -1;
}

int totp_base32_decode(const char *in, unsigned char *out, size_t cap)
{
	unsigned int acc = 0;
	int bits = 0;
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		const char *at;
		int c = toupper((unsigned char)*p);

		if (c == ' ' || c == '-' || c == '=' || c == '\t')
			continue;
		at = c ? strchr(B32, c) : NULL;
		if (!at)
			return -1;
		acc = (acc << 5) | (unsigned)(at - B32);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	return (int)n;
}

int totp_base32_encode(const unsigned char *in, size_t len, char *out,
		       size_t cap)
{
	unsigned int acc = 0;
	int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			if (n + 1 >= cap)
				return -1;
			out[n++] = B32[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = B32[(acc << (5 - bits)) & 31];
	}
	if (n >= cap)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static const EVP_MD *md_of(enum totp_alg alg)
{
	switch (alg) {
	case TOTP_SHA256: return EVP_sha256();
	case TOTP_SHA512: return EVP_sha512();
	default: return EVP_sha1();
	}
}

int totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
	      int digits, enum totp_alg alg, char out[9])
{
	static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	uint32_t bin;
	int off;

	if (digits < 6 || digits > 8 || keylen > TOTP_MAX_KEY)
		return -1;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (!HMAC(md_of(alg), key, (int)keylen, msg, sizeof(msg), mac, &maclen) ||
	    maclen < 20)
		return -1;
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	{
		char buf[16];	/* room for any uint32_t: no truncation */
		snprintf(buf, sizeof(buf), "%0*u", digits, (unsigned)(bin % mod[digits - 6]));
		memcpy(out, buf, (size_t)digits + 1);
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int totp_code(const char *secret_b32, int64_t t, int period, int digits,
	      enum totp_alg alg, char out[9], char *err, size_t errlen)
{
	unsigned char key[TOTP_MAX_KEY];
	int n, rc;

	if (period <= 0 || digits < 6 || digits > 8 || t < 0) {
		snprintf(err, errlen, "totp: period must be positive and digits 6 to 8");
		return -1;
	}
	n = secret_b32 ? totp_base32_decode(secret_b32, key, sizeof(key)) : -1;
	if (n <= 0) {
		/* never echo the secret itself */
		snprintf(err, errlen, "totp: the secret is not valid base32");
		return -1;
	}
	rc = totp_hotp(key, (size_t)n, (uint64_t)(t / period), digits, alg, out);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc)
		snprintf(err, errlen, "totp: cannot compute the code");
	return rc;
}

int totp_verify(const char *secret_b32, int64_t t, int period, int digits,
		enum totp_alg alg, int window, const char *code)
{
	char want[9], err[100];
	int ok = 0;

	if (!code || strlen(code) != (size_t)digits)
		return 0;
	for (int w = -window; w <= window; w++) {
		int64_t at = t + (int64_t)w * period;
		if (at < 0 || totp_code(secret_b32, at, period, digits, alg, want,
					err, sizeof(err)))
			continue;
		/* compare in constant time; keep looping either way */
		ok |= !CRYPTO_memcmp(want, code, (size_t)digits);
	}
	return ok;
}
