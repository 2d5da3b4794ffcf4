/*
 * vault unit tests: round trip, names bound to values, the wrong key and a
 * tampered ciphertext failing cleanly, key formats and the key file's mode
 * check, {"vault": name} references, and captured credentials.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "test.h"
#include "vault.h"

static char dbpath[256];
static unsigned char key1[VAULT_KEY_LEN], key2[VAULT_KEY_LEN];

static void fresh(void)
{
	snprintf(dbpath, sizeof(dbpath), "/tmp/idlcm-test-vault-%d.db", (int)getpid());
	unlink(dbpath);
	for (int i = 0; i < VAULT_KEY_LEN; i++) {
		key1[i] = (unsigned char)i;
		key2[i] = (unsigned char)(i + 1);
	}
}

static void test_round_trip(void)
{
	char err[300], *val = NULL;
	size_t len = 0;
	struct vault *v;
	struct stat st;
	cJSON *list;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "acme/admin", "s3cret-pw", 9, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_set(v, "empty", "", 0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_get(v, "acme/admin", &val, &len, err, sizeof(err)), 0);
	ASSERT_STR_EQ(val, "s3cret-pw");
	ASSERT_INT_EQ(len, 9);
	free(val);
	ASSERT_INT_EQ(vault_get(v, "empty", &val, &len, err, sizeof(err)), 0);
	ASSERT_INT_EQ(len, 0);
	free(val);
	/* overwrite */
	ASSERT_INT_EQ(vault_set(v, "acme/admin", "other", 5, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_get(v, "acme/admin", &val, &len, err, sizeof(err)), 0);
	ASSERT_STR_EQ(val, "other");
	free(val);
	ASSERT_INT_EQ(vault_get(v, "nope", &val, &len, err, sizeof(err)), VAULT_NOT_FOUND);
	ASSERT_STR_CONTAINS(err, "no vault entry \"nope\"");
	list = vault_list(v, err, sizeof(err));
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 2);	/* the check entry is hidden */
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "name")),
		      "acme/admin");
	cJSON_Delete(list);
	ASSERT_INT_EQ(vault_remove(v, "empty", err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_remove(v, "empty", err, sizeof(err)), VAULT_NOT_FOUND);
	vault_close(v);
	/* reopen: still there; the file is private */
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_get(v, "acme/admin", &val, &len, err, sizeof(err)), 0);
	ASSERT_STR_EQ(val, "other");
	free(val);
	vault_close(v);
	ASSERT_INT_EQ(stat(dbpath, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	unlink(dbpath);
}

static void test_no_plaintext_on_disk(void)
{
	char err[300], buf[65536];
	struct vault *v;
	FILE *f;
	size_t n;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "x", "PLAINTEXT-MARKER", 16, err, sizeof(err)), 0);
	vault_close(v);
	f = fopen(dbpath, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT(n > 0);
	ASSERT(!memmem(buf, n, "PLAINTEXT-MARKER", 16));
	unlink(dbpath);
}

static void test_wrong_key_fails_cleanly(void)
{
	char err[300];
	struct vault *v;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "a", "value-a", 7, err, sizeof(err)), 0);
	vault_close(v);
	err[0] = '\0';
	v = vault_open(dbpath, key2, err, sizeof(err));
	ASSERT(!v);
	ASSERT_STR_CONTAINS(err, "the key does not match");
	unlink(dbpath);
}

/* Flip bits of a stored column, or move a ciphertext to another name. */
static void tamper(const char *sql)
{
	sqlite3 *db;
	ASSERT_INT_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	ASSERT_INT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_tampered_ciphertext_fails(void)
{
	char err[300], *val = (char *)"untouched";
	size_t len;
	struct vault *v;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "a", "value-a", 7, err, sizeof(err)), 0);
	ASSERT_INT_EQ(vault_set(v, "b", "value-b", 7, err, sizeof(err)), 0);
	vault_close(v);

	tamper("UPDATE entries SET ciphertext = X'00' || substr(ciphertext, 2) WHERE name = 'a'");
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_get(v, "a", &val, &len, err, sizeof(err)), -1);
	ASSERT(val == NULL);
	ASSERT_STR_CONTAINS(err, "cannot decrypt vault entry \"a\": wrong key or tampered entry");
	vault_close(v);

	/* the name is authenticated: b's ciphertext under c's name fails */
	tamper("INSERT INTO entries SELECT 'c', nonce, ciphertext, tag, updated_at "
	       "FROM entries WHERE name = 'b'");
	tamper("UPDATE entries SET tag = X'00000000000000000000000000000000' WHERE name = 'b'");
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_get(v, "c", &val, &len, err, sizeof(err)), -1);
	ASSERT_INT_EQ(vault_get(v, "b", &val, &len, err, sizeof(err)), -1);
	vault_close(v);
	unlink(dbpath);
}

static void test_key_formats(void)
{
	unsigned char k[VAULT_KEY_LEN];
	char err[300];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

	ASSERT_INT_EQ(vault_key_parse(hex, k, err, sizeof(err)), 0);
	ASSERT(!memcmp(k, key1, VAULT_KEY_LEN));
	ASSERT_INT_EQ(vault_key_parse("  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", k, err,
				      sizeof(err)), 0);
	ASSERT(!memcmp(k, key1, VAULT_KEY_LEN));
	ASSERT_INT_EQ(vault_key_parse("abcd", k, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "64 hex digits or as base64");
	/* 31 bytes of base64 */
	ASSERT_INT_EQ(vault_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", k, err,
				      sizeof(err)), -1);
}

static void test_key_file_mode(void)
{
	unsigned char k[VAULT_KEY_LEN];
	char path[256], err[300];
	FILE *f;

	fresh();
	snprintf(path, sizeof(path), "/tmp/idlcm-test-vault-key-%d", (int)getpid());
	unlink(path);
	f = fopen(path, "w");
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", f);
	fclose(f);
	chmod(path, 0644);
	ASSERT_INT_EQ(vault_key_file(path, k, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "has mode 0644 and can be read by group or others; it must be 0600");
	chmod(path, 0640);
	ASSERT_INT_EQ(vault_key_file(path, k, err, sizeof(err)), -1);
	chmod(path, 0600);
	ASSERT_INT_EQ(vault_key_file(path, k, err, sizeof(err)), 0);
	ASSERT(!memcmp(k, key1, VAULT_KEY_LEN));
	chmod(path, 0400);
	ASSERT_INT_EQ(vault_key_file(path, k, err, sizeof(err)), 0);
	/* the environment: the file wins over the variable */
	setenv("IDLCM_VAULT_KEY_FILE", path, 1);
	setenv("IDLCM_VAULT_KEY", "garbage", 1);
	ASSERT_INT_EQ(vault_key_from_env(k, err, sizeof(err)), 0);
	unsetenv("IDLCM_VAULT_KEY_FILE");
	ASSERT_INT_EQ(vault_key_from_env(k, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "IDLCM_VAULT_KEY:");
	unsetenv("IDLCM_VAULT_KEY");
	ASSERT_INT_EQ(vault_key_from_env(k, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "no vault key");
	ASSERT_INT_EQ(vault_key_file("/nonexistent/key", k, err, sizeof(err)), -1);
	unlink(path);
}

static void test_references_resolve_and_register(void)
{
	char err[300], *s;
	struct vault *v;
	cJSON *acct;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	ASSERT_INT_EQ(vault_set(v, "acme/admin", "pw-from-vault", 13, err, sizeof(err)), 0);
	acct = cJSON_Parse("{\"username\":\"admin\",\"password\":{\"vault\":\"acme/admin\"},"
			   "\"nested\":{\"x\":{\"vault\":\"acme/admin\"}}}");
	ASSERT(vault_refs_present(acct));
	ASSERT_INT_EQ(vault_resolve(v, acct, err, sizeof(err)), 0);
	ASSERT(!vault_refs_present(acct));
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(acct, "password")), "pw-from-vault");
	s = secret_redact("x pw-from-vault y", 17, NULL);
	ASSERT_STR_EQ(s, "x [redacted] y");
	free(s);
	cJSON_Delete(acct);
	acct = cJSON_Parse("{\"password\":{\"vault\":\"missing\"}}");
	ASSERT_INT_EQ(vault_resolve(v, acct, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "no vault entry \"missing\"");
	cJSON_Delete(acct);
	vault_close(v);
	unlink(dbpath);
}

static void test_capture_credentials(void)
{
	char err[300], *val = NULL, *text;
	struct vault *v;
	cJSON *res, *user;

	fresh();
	v = vault_open(dbpath, key1, err, sizeof(err));
	ASSERT(v);
	res = cJSON_Parse("{\"ok\":true,\"state\":\"pending_user_login\",\"credentials\":"
			  "{\"username\":\"zed@example.com\",\"password\":\"Gen-Pw-12345\"},"
			  "\"app_user\":{\"email\":\"zed@example.com\",\"login_method\":\"pending_user_login\"}}");
	user = cJSON_Parse("{\"email\":\"zed@example.com\"}");
	ASSERT_INT_EQ(vault_capture_credentials(v, "globex", user, res, err, sizeof(err)), 0);
	text = cJSON_PrintUnformatted(res);
	ASSERT(!strstr(text, "Gen-Pw-12345"));
	ASSERT_STR_CONTAINS(text, "\"password\":{\"vault\":\"globex/zed@example.com\"}");
	ASSERT_STR_CONTAINS(text, "\"login_method\":\"password\"");
	free(text);
	ASSERT_INT_EQ(vault_get(v, "globex/zed@example.com", &val, NULL, err, sizeof(err)), 0);
	ASSERT_STR_EQ(val, "Gen-Pw-12345");
	free(val);
	cJSON_Delete(res);
	/* no vault: the password is dropped, never reported */
	res = cJSON_Parse("{\"credentials\":{\"password\":\"Other-Pw-999\"}}");
	ASSERT_INT_EQ(vault_capture_credentials(NULL, "globex", user, res, err, sizeof(err)), -1);
	text = cJSON_PrintUnformatted(res);
	ASSERT(!strstr(text, "Other-Pw-999"));
	ASSERT_STR_CONTAINS(text, "not stored");
	free(text);
	cJSON_Delete(res);
	cJSON_Delete(user);
	vault_close(v);
	unlink(dbpath);
}

/* A secret with quotes and backslashes, as a JSON line and as a CDP frame
 * kept as a string in cdp-frames.json: redacted in every form. */
static void test_redacts_json_escaped_forms(void)
{
	const char *pw = "p\"w\\d\n1";	/* p"w\d<newline>1 */
	cJSON *frame = cJSON_CreateObject(), *list = cJSON_CreateArray();
	char *once, *twice, *r1, *r2;

	secret_register(pw);
	cJSON_AddStringToObject(frame, "text", pw);
	once = cJSON_PrintUnformatted(frame);
	cJSON_AddItemToArray(list, cJSON_CreateString(once));
	twice = cJSON_PrintUnformatted(list);
	r1 = secret_redact(once, strlen(once), NULL);
	r2 = secret_redact(twice, strlen(twice), NULL);
	ASSERT_STR_EQ(r1, "{\"text\":\"[redacted]\"}");
	ASSERT_STR_EQ(r2, "[\"{\\\"text\\\":\\\"[redacted]\\\"}\"]");
	free(once);
	free(twice);
	free(r1);
	free(r2);
	cJSON_Delete(frame);
	cJSON_Delete(list);
}

int main(void)
{
	TEST_RUN(test_redacts_json_escaped_forms);
	TEST_RUN(test_round_trip);
	TEST_RUN(test_no_plaintext_on_disk);
	TEST_RUN(test_wrong_key_fails_cleanly);
	TEST_RUN(test_tampered_ciphertext_fails);
	TEST_RUN(test_key_formats);
	TEST_RUN(test_key_file_mode);
	TEST_RUN(test_references_resolve_and_register);
	TEST_RUN(test_capture_credentials);
	secret_clear_all();
	return TEST_REPORT();
}
