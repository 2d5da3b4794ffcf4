#ifndef IDLCM_SEAL_H
#define IDLCM_SEAL_H
/*
 * seal: AES-256-GCM with a fresh random nonce, bound to a name (the
 * associated data), for every secret at rest: the agent's vault (nonce,
 * ciphertext and tag in their own columns) and the coordinator's sealed
 * account fields (one hex string: nonce | tag | ciphertext).
 */
#include <stddef.h>

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16

/* out gets len bytes; nonce is made here.  0, or -1 (no randomness, or
 * libcrypto failed). */
int seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		 const void *in, size_t len, unsigned char nonce[SEAL_NONCE_LEN],
		 unsigned char *out, unsigned char tag[SEAL_TAG_LEN]);
/* out gets len bytes.  0, or -1: a wrong key, another name, or any bit of
 * nonce, ciphertext or tag changed. */
int seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		 const unsigned char nonce[SEAL_NONCE_LEN], const unsigned char *in,
		 size_t len, const unsigned char tag[SEAL_TAG_LEN], unsigned char *out);

/* The packed form: hex(nonce | tag | ciphertext), malloc'd, or NULL. */
char *seal_hex(const unsigned char key[SEAL_KEY_LEN], const char *aad,
	       const void *in, size_t len);
/* Open a packed form: *out (malloc'd, NUL-terminated, *len bytes before
 * it; the caller cleanses and frees it).  0, or -1 (not hex, too short,
 * or it does not open). */
int seal_open_hex(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		  const char *hex, char **out, size_t *len);

/* Hex digits to bytes: 0 when text is exactly 2 * cap digits (cap bytes
 * out), or with *n set to what it held when n is given and it fits. */
int seal_unhex(const char *text, unsigned char *out, size_t cap, size_t *n);
#endif
