#ifndef IDLCM_TOTP_H
#define IDLCM_TOTP_H
/*
 * totp: one-time codes per RFC 4226 (HOTP) and RFC 6238 (TOTP) over
 * OpenSSL's HMAC, with the base32 secrets authenticator apps show.  Shared
 * by the agent (the scripts' totp() global) and the fixture server.
 */
#include <stddef.h>
#include <stdint.h>

enum totp_alg { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

#define TOTP_MAX_KEY 128	/* bytes of a decoded secret */

/* "SHA1" / "sha-256" / "SHA512" (any case, dash optional); -1 if unknown. */
int totp_alg_parse(const char *name);

/* RFC 4648 base32, any case, spaces, dashes and '=' padding ignored.
 * Returns the number of bytes written to out, or -1 (bad character, too
 * long for cap). */
int totp_base32_decode(const char *in, unsigned char *out, size_t cap);
/* Base32 without padding into out (NUL-terminated); -1 if out is short. */
int totp_base32_encode(const unsigned char *in, size_t len, char *out,
		       size_t cap);

/* HOTP(key, counter) with 6-8 digits into out (NUL-terminated). */
int totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
	      int digits, enum totp_alg alg, char out[9]);

/* TOTP of a base32 secret at unix time t (seconds).  period > 0,
 * digits 6-8.  Returns 0, or -1 with a message in err. */
int totp_code(const char *secret_b32, int64_t t, int period, int digits,
	      enum totp_alg alg, char out[9], char *err, size_t errlen);

/* 1 when code is the TOTP of secret at t, or up to `window` steps either
 * side (clock drift); 0 otherwise (also for a bad secret). */
int totp_verify(const char *secret_b32, int64_t t, int period, int digits,
		enum totp_alg alg, int window, const char *code);
#endif
