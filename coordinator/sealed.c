/*
 * sealed: service-account secrets at rest in the coordinator's database.
 * Each secret-looking field of an integration's account (pass, secret,
 * token, key, otp) is stored as {"sealed": hex(nonce|tag|ciphertext)},
 * AES-256-GCM with "<integration>/<field>" as associated data, under a key
 * kept outside the database (--key-file, or <db>.key made at first start,
 * mode 0600): a copy of the database alone reveals no password.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "coordinator.h"
#include "privfile.h"
#include "seal.h"

#define KEY_LEN SEAL_KEY_LEN

static unsigned char key[KEY_LEN];
static int have_key;

static int is_secret_field(const char *name)
{
	static const char *hints[] = { "pass", "secret", "token", "key", "otp", NULL };
	for (int i = 0; name && hints[i]; i++)
		if (strcasestr(name, hints[i]))
			return 1;
	return 0;
}

int coord_sealing_init(const char *key_file, const char *dbpath, char *err, size_t n)
{
	char path[4200], *text;
	size_t got = 0;
	int rc;

	if (!key_file && getenv("IDLCM_COORDINATOR_KEY_FILE") && *getenv("IDLCM_COORDINATOR_KEY_FILE"))
		key_file = getenv("IDLCM_COORDINATOR_KEY_FILE");
	if (key_file) {
		snprintf(path, sizeof(path), "%s", key_file);
	} else {
		int fd;
		snprintf(path, sizeof(path), "%s.key", dbpath);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {	/* first start: a fresh key beside the database */
			unsigned char k[KEY_LEN];
			char hex[2 * KEY_LEN + 2];
			if (RAND_bytes(k, sizeof(k)) != 1) {
				close(fd);
				unlink(path);
				snprintf(err, n, "cannot make a key: no randomness");
				return -1;
			}
			for (int i = 0; i < KEY_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", k[i]);
			hex[2 * KEY_LEN] = '\n';
			hex[2 * KEY_LEN + 1] = '\0';
			OPENSSL_cleanse(k, sizeof(k));
			rc = write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex) ? 0 : -1;
			OPENSSL_cleanse(hex, sizeof(hex));
			if (close(fd) || rc) {
				unlink(path);
				snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, n, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	text = privfile_read(path, "key file", err, n);
	if (!text)
		return -1;
	rc = seal_unhex(text, key, sizeof(key), &got);
	privfile_free(text);
	if (rc || got != KEY_LEN) {
		snprintf(err, n, "%s must hold 32 bytes as 64 hex digits (try: openssl rand -hex 32)",
			 path);
		return -1;
	}
	have_key = 1;
	return 0;
}

/* Put s where f is, under f's name (f is freed); 1 when done. */
static int replace(cJSON *obj, cJSON *f, cJSON *s)
{
	char *name = strdup(f->string);
	int ok = name && cJSON_ReplaceItemInObjectCaseSensitive(obj, name, s);

	if (!ok)
		cJSON_Delete(s);
	free(name);
	return ok;
}

static cJSON *seal_one(const char *aad, const char *value)
{
	char *hex = seal_hex(key, aad, value, strlen(value));
	cJSON *o = NULL;

	if (hex) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "sealed", hex);
		free(hex);
	}
	return o;
}

char *coord_account_seal(const char *integration, const cJSON *account)
{
	cJSON *copy = cJSON_Duplicate(account, 1), *f;
	char *text;

	if (!copy)
		return NULL;
	for (f = have_key ? copy->child : NULL; f; f = f->next) {
		char aad[400];
		cJSON *s;
		if (!cJSON_IsString(f) || !is_secret_field(f->string))
			continue;
		snprintf(aad, sizeof(aad), "%s/%s", integration, f->string);
		s = seal_one(aad, f->valuestring);
		if (s && replace(copy, f, s))
			f = s;
	}
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return text;
}

int coord_account_open(const char *integration, cJSON *account)
{
	cJSON *f;
	int rc = 0;

	cJSON_ArrayForEach(f, account) {
		const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(f, "sealed"));
		char aad[400], *plain = NULL;
		cJSON *s;

		if (!cJSON_IsObject(f) || !hex)
			continue;
		snprintf(aad, sizeof(aad), "%s/%s", integration, f->string);
		if (!have_key || seal_open_hex(key, aad, hex, &plain, NULL)) {
			rc = -1;
			continue;
		}
		s = cJSON_CreateString(plain);
		if (s && replace(account, f, s))
			f = s;
		OPENSSL_cleanse(plain, strlen(plain));
		free(plain);
	}
	return rc;
}

void coord_account_refer(const char *integration, cJSON *account)
{
	cJSON *f;

	cJSON_ArrayForEach(f, account) {
		char ref[400];
		cJSON *r;
		if (!(cJSON_IsObject(f) && cJSON_GetObjectItem(f, "sealed")) &&
		    !(cJSON_IsString(f) && is_secret_field(f->string)))
			continue;
		snprintf(ref, sizeof(ref), COORD_REF_PREFIX "%s/%s", integration, f->string);
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "vault", ref);
		if (replace(account, f, r))
			f = r;
	}
}

char *coord_account_field(const char *integration, const cJSON *account,
			  const char *field, char *why, size_t n)
{
	cJSON *one = cJSON_CreateObject(), *f;
	char *value = NULL;

	f = cJSON_GetObjectItemCaseSensitive(account, field);
	if (!f || !(cJSON_IsString(f) || cJSON_GetObjectItem(f, "sealed"))) {
		snprintf(why, n, "integration \"%s\" has no secret \"%s\"", integration, field);
		cJSON_Delete(one);
		return NULL;
	}
	cJSON_AddItemToObject(one, field, cJSON_Duplicate(f, 1));
	if (coord_account_open(integration, one)) {
		snprintf(why, n, "the secret \"%s\" of integration \"%s\" does not open "
			 "with this key", field, integration);
	} else {
		f = cJSON_GetObjectItemCaseSensitive(one, field);
		value = cJSON_IsString(f) ? strdup(f->valuestring) : NULL;
		if (cJSON_IsString(f))
			OPENSSL_cleanse(f->valuestring, strlen(f->valuestring));
		if (!value)
			snprintf(why, n, "out of memory");
	}
	cJSON_Delete(one);
	return value;
}

static void keyed(const char *label, const char *job, int attempt, const char *worker,
		  char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char msg[600];

	/* a label of its own: never the same input as anything else keyed */
	snprintf(msg, sizeof(msg), "%s\n%s\n%d\n%s", label, job, attempt, worker);
	if (!have_key || !HMAC(EVP_sha256(), key, KEY_LEN, (const unsigned char *)msg,
			       strlen(msg), mac, &len) || len < 32) {
		out[0] = '\0';
		return;
	}
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

void coord_lease_key(const char *job, int attempt, const char *worker, char out[65])
{
	keyed("idlcm lease key", job, attempt, worker, out);
}

void coord_artifact_key(const char *job, int attempt, const char *worker, char out[65])
{
	keyed("idlcm artifact key", job, attempt, worker, out);
}
