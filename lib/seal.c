/*
 * seal: the one AES-256-GCM used for secrets at rest (include/seal.h).
 * The formats are those the vault and the coordinator wrote before they
 * shared this file: 12-byte nonce, 16-byte tag, the name as associated
 * data, no length prefix.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "seal.h"

static int gcm(int enc, const unsigned char *key, const char *aad,
	       const unsigned char *nonce, unsigned char *tag,
	       const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *x;
	int n = 0, ok;

	if (len > (size_t)1 << 30)	/* libcrypto counts in int */
		return -1;
	x = EVP_CIPHER_CTX_new();
	if (!x)
		return -1;
	ok = EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(x, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	     (len == 0 || EVP_CipherUpdate(x, out, &n, in, (int)len) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(x, out + len, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

int seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		 const void *in, size_t len, unsigned char nonce[SEAL_NONCE_LEN],
		 unsigned char *out, unsigned char tag[SEAL_TAG_LEN])
{
	if (RAND_bytes(nonce, SEAL_NONCE_LEN) != 1)
		return -1;
	return gcm(1, key, aad, nonce, tag, in, len, out);
}

int seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		 const unsigned char nonce[SEAL_NONCE_LEN], const unsigned char *in,
		 size_t len, const unsigned char tag[SEAL_TAG_LEN], unsigned char *out)
{
	unsigned char t[SEAL_TAG_LEN];

	memcpy(t, tag, sizeof(t));
	return gcm(0, key, aad, nonce, t, in, len, out);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int seal_unhex(const char *text, unsigned char *out, size_t cap, size_t *n)
{
	size_t len = strlen(text);

	if (len % 2 || len / 2 > cap || (!n && len / 2 != cap))
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval((unsigned char)text[2 * i]), lo = hexval((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	if (n)
		*n = len / 2;
	return 0;
}

char *seal_hex(const unsigned char key[SEAL_KEY_LEN], const char *aad,
	       const void *in, size_t len)
{
	size_t total = SEAL_NONCE_LEN + SEAL_TAG_LEN + len;
	unsigned char *buf = malloc(total);
	char *hex = NULL;

	if (!buf)
		return NULL;
	if (!seal_encrypt(key, aad, in, len, buf, buf + SEAL_NONCE_LEN + SEAL_TAG_LEN,
			  buf + SEAL_NONCE_LEN) &&
	    (hex = malloc(2 * total + 1))) {
		static const char digits[] = "0123456789abcdef";
		for (size_t i = 0; i < total; i++) {
			hex[2 * i] = digits[buf[i] >> 4];
			hex[2 * i + 1] = digits[buf[i] & 15];
		}
		hex[2 * total] = '\0';
	}
	OPENSSL_cleanse(buf, total);
	free(buf);
	return hex;
}

int seal_open_hex(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		  const char *hex, char **out, size_t *len)
{
	size_t cap = strlen(hex) / 2, n = 0, clen;
	unsigned char *buf = malloc(cap + 1);
	char *plain = NULL;
	int rc = -1;

	*out = NULL;
	if (!buf || seal_unhex(hex, buf, cap, &n) || n < SEAL_NONCE_LEN + SEAL_TAG_LEN)
		goto out;
	clen = n - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	plain = malloc(clen + 1);
	if (!plain || seal_decrypt(key, aad, buf, buf + SEAL_NONCE_LEN + SEAL_TAG_LEN, clen,
				   buf + SEAL_NONCE_LEN, (unsigned char *)plain)) {
		if (plain)
			OPENSSL_cleanse(plain, clen + 1);
		free(plain);
		goto out;
	}
	plain[clen] = '\0';
	*out = plain;
	if (len)
		*len = clen;
	rc = 0;
out:
	if (buf)
		OPENSSL_cleanse(buf, cap + 1);
	free(buf);
	return rc;
}
