/*
 * vault: AES-256-GCM entries in a SQLite file.  Each value gets a fresh
 * random nonce and is bound to its name (AAD), so a ciphertext copied to
 * another name, or flipped by one bit, fails to open instead of yielding
 * garbage.  A sealed check value catches the wrong key at open time.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "base64.h"
#include "log.h"
#include "privfile.h"
#include "seal.h"
#include "sqldb.h"
#include "vault.h"

#define NONCE_LEN SEAL_NONCE_LEN
#define TAG_LEN SEAL_TAG_LEN
#define NAME_MAX_LEN 200
#define VALUE_MAX_LEN (1u << 20)
static const char CHECK_NAME[] = "\001idlcm-vault-check";
static const char CHECK_VALUE[] = "idlcm vault v1";

struct vault {
	sqlite3 *db;
	unsigned char key[VAULT_KEY_LEN];
};

/* ---- keys */

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}


int vault_key_parse(const char *text, unsigned char key[VAULT_KEY_LEN],
		    char *err, size_t errlen)
{
	const char *s = text, *e;
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 2 * VAULT_KEY_LEN) {
		size_t i;
		for (i = 0; i < VAULT_KEY_LEN; i++) {
			int hi = hexval((unsigned char)s[2 * i]);
			int lo = hexval((unsigned char)s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				break;
			key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i == VAULT_KEY_LEN)
			return 0;
	}
	{
		unsigned char buf[VAULT_KEY_LEN];
		if (base64_decode(s, n, buf, sizeof(buf)) == VAULT_KEY_LEN) {
			memcpy(key, buf, VAULT_KEY_LEN);
			OPENSSL_cleanse(buf, sizeof(buf));
			return 0;
		}
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	OPENSSL_cleanse(key, VAULT_KEY_LEN);
	snprintf(err, errlen, "the vault key must be 32 bytes written as 64 hex digits "
		 "or as base64 (try: openssl rand -hex 32)");
	return -1;
}

int vault_key_file(const char *path, unsigned char key[VAULT_KEY_LEN],
		   char *err, size_t errlen)
{
	char *text;
	int rc;

	text = privfile_read(path, "vault key file", err, errlen);
	if (!text)
		return -1;
	rc = vault_key_parse(text, key, err, errlen);
	privfile_free(text);
	if (rc) {
		char why[200];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return rc;
}

int vault_key_from_env(unsigned char key[VAULT_KEY_LEN], char *err, size_t errlen)
{
	const char *file = getenv("IDLCM_VAULT_KEY_FILE");
	const char *text = getenv("IDLCM_VAULT_KEY");

	if (file && *file)
		return vault_key_file(file, key, err, errlen);
	if (text && *text) {
		secret_register(text);
		if (vault_key_parse(text, key, err, errlen)) {
			char why[200];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "IDLCM_VAULT_KEY: %s", why);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "no vault key: set IDLCM_VAULT_KEY_FILE to a file of mode 0600, "
		 "or IDLCM_VAULT_KEY, holding 32 bytes as 64 hex digits or base64");
	return -1;
}

const char *vault_default_path(void)
{
	const char *p = getenv("IDLCM_VAULT");
	return p && *p ? p : "idlcm-vault.db";
}

/* ---- sealing: lib/seal.c, shared with the coordinator */

/* ---- storage */

static int name_ok(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > NAME_MAX_LEN) {
		snprintf(err, errlen, "a vault entry name is 1 to %d characters", NAME_MAX_LEN);
		return 0;
	}
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "a vault entry name cannot hold control characters");
			return 0;
		}
	return 1;
}

static int put(struct vault *v, const char *name, const void *value, size_t len,
	       char *err, size_t errlen)
{
	unsigned char nonce[NONCE_LEN], tag[TAG_LEN], *ct;
	sqlite3_stmt *st = NULL;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc = -1;

	if (len > VALUE_MAX_LEN) {
		snprintf(err, errlen, "a vault value is at most 1 MiB");
		return -1;
	}
	ct = malloc(len + 16);
	if (!ct) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (seal_encrypt(v->key, name, value, len, nonce, ct, tag)) {
		snprintf(err, errlen, "cannot encrypt \"%s\"", name);
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (sqlite3_prepare_v2(v->db,
		"INSERT INTO entries(name, nonce, ciphertext, tag, updated_at) "
		"VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET "
		"nonce = ?2, ciphertext = ?3, tag = ?4, updated_at = ?5", -1, &st, NULL) ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 2, nonce, NONCE_LEN, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 3, ct, (int)len, SQLITE_STATIC) ||
	    sqlite3_bind_blob(st, 4, tag, TAG_LEN, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot store \"%s\": %s", name, sqlite3_errmsg(v->db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	OPENSSL_cleanse(ct, len + 16);
	free(ct);
	return rc;
}

static int fetch(struct vault *v, const char *name, char **value, size_t *len,
		 char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	*value = NULL;
	if (sqlite3_prepare_v2(v->db, "SELECT nonce, ciphertext, tag FROM entries "
			       "WHERE name = ?1", -1, &st, NULL) ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC)) {
		snprintf(err, errlen, "cannot read the vault: %s", sqlite3_errmsg(v->db));
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		snprintf(err, errlen, "no vault entry \"%s\"", name);
		rc = VAULT_NOT_FOUND;
		goto out;
	}
	if (step != SQLITE_ROW) {
		snprintf(err, errlen, "cannot read the vault: %s", sqlite3_errmsg(v->db));
		goto out;
	}
	{
		const unsigned char *nonce = sqlite3_column_blob(st, 0);
		const unsigned char *ct = sqlite3_column_blob(st, 1);
		const unsigned char *tag = sqlite3_column_blob(st, 2);
		int nlen = sqlite3_column_bytes(st, 0), clen = sqlite3_column_bytes(st, 1);
		int tlen = sqlite3_column_bytes(st, 2);
		char *out;

		if (!nonce || nlen != NONCE_LEN || !tag || tlen != TAG_LEN || clen < 0) {
			snprintf(err, errlen, "vault entry \"%s\" is damaged", name);
			goto out;
		}
		out = malloc((size_t)clen + 16 + 1);
		if (!out) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (seal_decrypt(v->key, name, nonce, ct, (size_t)clen, tag, (unsigned char *)out)) {
			OPENSSL_cleanse(out, (size_t)clen + 17);
			free(out);
			snprintf(err, errlen, "cannot decrypt vault entry \"%s\": wrong key or "
				 "tampered entry", name);
			goto out;
		}
		out[clen] = '\0';
		*value = out;
		if (len)
			*len = (size_t)clen;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* The vault's schema, step by step (see lib/sqldb.c); append, never edit. */
static const char *const vault_migrations[] = {
	"CREATE TABLE IF NOT EXISTS entries(name TEXT PRIMARY KEY, nonce BLOB NOT NULL,"
	" ciphertext BLOB NOT NULL, tag BLOB NOT NULL, updated_at TEXT NOT NULL)",
	NULL
};

struct vault *vault_open(const char *path, const unsigned char key[VAULT_KEY_LEN],
			 char *err, size_t errlen)
{
	struct vault *v = calloc(1, sizeof(*v));
	char *check = NULL;
	int fd, rc;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(v->key, key, VAULT_KEY_LEN);
	/* SQLite creates files 0644: make it 0600 first (its journal follows). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the vault \"%s\": %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	v->db = sqldb_open(path, vault_migrations, err, errlen);
	if (!v->db)
		goto fail;
	rc = fetch(v, CHECK_NAME, &check, NULL, err, errlen);
	if (rc == VAULT_NOT_FOUND) {
		if (put(v, CHECK_NAME, CHECK_VALUE, strlen(CHECK_VALUE), err, errlen))
			goto fail;
	} else if (rc || strcmp(check, CHECK_VALUE)) {
		snprintf(err, errlen, "cannot open the vault \"%s\": the key does not match "
			 "the one it was created with", path);
		free(check);
		goto fail;
	}
	free(check);
	return v;
fail:
	vault_close(v);
	return NULL;
}

struct vault *vault_open_env(const char *path, char *err, size_t errlen)
{
	unsigned char key[VAULT_KEY_LEN];
	struct vault *v;

	if (vault_key_from_env(key, err, errlen))
		return NULL;
	v = vault_open(path ? path : vault_default_path(), key, err, errlen);
	OPENSSL_cleanse(key, sizeof(key));
	return v;
}

void vault_close(struct vault *v)
{
	if (!v)
		return;
	sqlite3_close(v->db);
	OPENSSL_cleanse(v->key, sizeof(v->key));
	free(v);
}

int vault_set(struct vault *v, const char *name, const void *value, size_t len,
	      char *err, size_t errlen)
{
	if (!name_ok(name, err, errlen))
		return -1;
	return put(v, name, value, len, err, errlen);
}

int vault_get(struct vault *v, const char *name, char **value, size_t *len,
	      char *err, size_t errlen)
{
	*value = NULL;
	if (!name_ok(name, err, errlen))
		return -1;
	return fetch(v, name, value, len, err, errlen);
}

int vault_remove(struct vault *v, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (!name_ok(name, err, errlen))
		return -1;
	if (sqlite3_prepare_v2(v->db, "DELETE FROM entries WHERE name = ?1", -1, &st, NULL) ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) ||
	    sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot remove \"%s\": %s", name, sqlite3_errmsg(v->db));
	} else if (sqlite3_changes(v->db) == 0) {
		snprintf(err, errlen, "no vault entry \"%s\"", name);
		rc = VAULT_NOT_FOUND;
	} else {
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

cJSON *vault_list(struct vault *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int step;

	if (!arr || sqlite3_prepare_v2(v->db, "SELECT name, updated_at FROM entries "
				       "WHERE name >= ' ' ORDER BY name", -1, &st, NULL)) {
		snprintf(err, errlen, "cannot read the vault: %s", sqlite3_errmsg(v->db));
		cJSON_Delete(arr);
		return NULL;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", (const char *)sqlite3_column_text(st, 0));
		cJSON_AddStringToObject(e, "updated_at", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddItemToArray(arr, e);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the vault: %s", sqlite3_errmsg(v->db));
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/* ---- references in job data */

static const char *ref_of(const cJSON *o)
{
	const cJSON *n;

	if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 1)
		return NULL;
	n = cJSON_GetObjectItemCaseSensitive(o, "vault");
	return cJSON_GetStringValue(n);
}

/* Replace child c of parent by n, keeping c's key in an object.  By
 * pointer, not by key: with a key given twice, replacing "the" key would
 * hit the first one and leave c in place (vault_resolve then looped). */
static int replace(cJSON *parent, cJSON *c, cJSON *n)
{
	if (!n)
		return 0;
	if (c->string && cJSON_IsObject(parent)) {
		size_t len = strlen(c->string) + 1;
		char *key = cJSON_malloc(len);
		if (!key)
			return 0;
		memcpy(key, c->string, len);
		if (n->string && !(n->type & cJSON_StringIsConst))
			cJSON_free(n->string);
		n->string = key;
		n->type &= ~cJSON_StringIsConst;
	}
	return cJSON_ReplaceItemViaPointer(parent, c, n);
}

int vault_refs_present(const cJSON *obj)
{
	const cJSON *c;

	if (ref_of(obj))
		return 1;
	cJSON_ArrayForEach(c, obj)
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && vault_refs_present(c))
			return 1;
	return 0;
}

int vault_resolve(struct vault *v, cJSON *obj, char *err, size_t errlen)
{
	cJSON *c;

	/* an entry is one string: it can stand for a field, not the whole
	 * account (it would stay a reference, and the script see no fields) */
	if (ref_of(obj)) {
		snprintf(err, errlen, "the whole object refers to vault entry \"%s\": "
			 "refer to it from a field, e.g. {\"password\": {\"vault\": \"%s\"}}",
			 ref_of(obj), ref_of(obj));
		return -1;
	}

	cJSON_ArrayForEach(c, obj) {
		const char *name = ref_of(c);
		char *value = NULL;
		cJSON *s;
		int rc;

		if (!name) {
			if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && vault_resolve(v, c, err, errlen))
				return -1;
			continue;
		}
		if (!v) {
			snprintf(err, errlen, "\"%s\" refers to vault entry \"%s\" but no vault "
				 "is open", c->string ? c->string : "?", name);
			return -1;
		}
		rc = vault_get(v, name, &value, NULL, err, errlen);
		if (rc)
			return -1;
		secret_register(value);
		s = cJSON_CreateString(value);
		OPENSSL_cleanse(value, strlen(value));
		free(value);
		if (!s || !replace(obj, c, s)) {
			cJSON_Delete(s);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c = s;
	}
	return 0;
}

int vault_capture_credentials(struct vault *v, const char *app, const cJSON *job_user,
			      cJSON *result, char *err, size_t errlen)
{
	cJSON *cred = cJSON_GetObjectItemCaseSensitive(result, "credentials");
	cJSON *pw = cJSON_GetObjectItemCaseSensitive(cred, "password");
	cJSON *au = cJSON_GetObjectItemCaseSensitive(result, "app_user");
	const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cred, "username"));
	char name[NAME_MAX_LEN + 1];
	int rc = 0;

	if (!cJSON_IsString(pw))
		return 0;
	secret_register(pw->valuestring);
	if (!who || !*who)
		who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job_user, "email"));
	if (!who || !*who)
		who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job_user, "username"));
	snprintf(name, sizeof(name), "%s/%s", app, who ? who : "unknown");
	if (!v) {
		snprintf(err, errlen, "credentials for %s were captured but not stored: no vault "
			 "key (IDLCM_VAULT_KEY_FILE / IDLCM_VAULT_KEY)", who ? who : "the user");
		replace(cred, pw, cJSON_CreateNull());
		cJSON_AddStringToObject(cred, "error", err);
		rc = -1;
	} else if (vault_set(v, name, pw->valuestring, strlen(pw->valuestring), err, errlen)) {
		replace(cred, pw, cJSON_CreateNull());
		cJSON_AddStringToObject(cred, "error", err);
		rc = -1;
	} else {
		cJSON *ref = cJSON_CreateObject();
		cJSON_AddStringToObject(ref, "vault", name);
		OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
		replace(cred, pw, ref);
		cJSON_AddStringToObject(cred, "vault", name);
		if (cJSON_IsObject(au)) {
			cJSON_DeleteItemFromObjectCaseSensitive(au, "login_method");
			cJSON_AddStringToObject(au, "login_method", "password");
			cJSON_DeleteItemFromObjectCaseSensitive(au, "credentials");
			cJSON_AddStringToObject(au, "credentials", name);
		}
		if (!cJSON_GetObjectItemCaseSensitive(result, "login_method"))
			cJSON_AddStringToObject(result, "login_method", "password");
	}
	return rc;
}
