#ifndef IDLCM_VAULT_H
#define IDLCM_VAULT_H
/*
 * vault: secrets at rest — service-account credentials, TOTP seeds and
 * credentials captured during invites — in a SQLite file, each value
 * sealed with AES-256-GCM (random 96-bit nonce per entry, its name as AAD).
 *
 * The key: IDLCM_VAULT_KEY_FILE (a file of mode 0600 or stricter) or else
 * IDLCM_VAULT_KEY; either holds 32 bytes written as 64 hex digits or as
 * base64 (44 characters), surrounding whitespace ignored.
 * The file: --vault FILE, else IDLCM_VAULT, else ./idlcm-vault.db.
 */
#include <stddef.h>
#include <cjson/cJSON.h>

#define VAULT_KEY_LEN 32
#define VAULT_NOT_FOUND 1

struct vault;

/* 64 hex digits or base64 of exactly 32 bytes. */
int vault_key_parse(const char *text, unsigned char key[VAULT_KEY_LEN],
		    char *err, size_t errlen);
/* Read a key file; refused unless it is a regular file of mode 0600 (no
 * group or other bits). */
int vault_key_file(const char *path, unsigned char key[VAULT_KEY_LEN],
		   char *err, size_t errlen);
/* The key from IDLCM_VAULT_KEY_FILE or IDLCM_VAULT_KEY. */
int vault_key_from_env(unsigned char key[VAULT_KEY_LEN], char *err,
		       size_t errlen);
/* --vault's default: $IDLCM_VAULT or "idlcm-vault.db". */
const char *vault_default_path(void);

/* Open (creating it with mode 0600) the vault at path.  A vault remembers
 * a check value sealed with its key: the wrong key fails here, cleanly. */
struct vault *vault_open(const char *path, const unsigned char key[VAULT_KEY_LEN],
			 char *err, size_t errlen);
/* vault_open with the key from the environment (path NULL: default). */
struct vault *vault_open_env(const char *path, char *err, size_t errlen);
void vault_close(struct vault *);

int vault_set(struct vault *, const char *name, const void *value, size_t len,
	      char *err, size_t errlen);
/* 0 with *value malloc'd (NUL-terminated, *len bytes), VAULT_NOT_FOUND, or
 * -1 (a tampered entry or the wrong key). */
int vault_get(struct vault *, const char *name, char **value, size_t *len,
	      char *err, size_t errlen);
/* 0, VAULT_NOT_FOUND or -1. */
int vault_remove(struct vault *, const char *name, char *err, size_t errlen);
/* A JSON array of {name, updated_at}, sorted by name; NULL on error. */
cJSON *vault_list(struct vault *, char *err, size_t errlen);

/* True when obj holds a {"vault": "name"} reference anywhere. */
int vault_refs_present(const cJSON *obj);
/* Replace every {"vault": "name"} in obj by the entry's value (a string)
 * and register each value as a secret for the redactor. */
int vault_resolve(struct vault *, cJSON *obj, char *err, size_t errlen);

/* After an invite: when result.credentials.password is a string, store it
 * as "<app>/<user>" (user: credentials.username, else the job user's
 * email), and replace the password in result by {"vault": name}; the app
 * user's login method becomes "password".  v may be NULL: the password is
 * dropped and credentials.error says why.  0, or -1 with err. */
int vault_capture_credentials(struct vault *v, const char *app,
			      const cJSON *job_user, cJSON *result,
			      char *err, size_t errlen);
#endif
