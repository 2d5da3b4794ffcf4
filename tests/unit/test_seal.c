/*
 * seal unit tests: the one AES-256-GCM of lib/seal.c — round trips, the
 * name bound to the value, every tampered part and the wrong key refused,
 * the packed hex form — and what the old code wrote before the vault and
 * the coordinator shared it still opens: a vault entry and a coordinator
 * account field sealed by the old implementations (vectors below were
 * written by them, key 00 01 … 1f).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "coordinator.h"
#include "seal.h"
#include "test.h"
#include "vault.h"

static unsigned char key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];

static void keys(void)
{
	for (int i = 0; i < SEAL_KEY_LEN; i++) {
		key[i] = (unsigned char)i;
		other[i] = (unsigned char)(i + 1);
	}
}

static void unhex_or_fail(const char *hex, unsigned char *out, size_t cap)
{
	ASSERT_INT_EQ(seal_unhex(hex, out, cap, NULL), 0);
}

static void test_round_trip_and_binding(void)
{
	const char msg[] = "correct horse battery staple";
	unsigned char nonce[SEAL_NONCE_LEN], nonce2[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN];
	unsigned char ct[sizeof(msg)], ct2[sizeof(msg)], tag2[SEAL_TAG_LEN], out[sizeof(msg)];

	keys();
	ASSERT_INT_EQ(seal_encrypt(key, "app/admin", msg, sizeof(msg), nonce, ct, tag), 0);
	ASSERT(memcmp(ct, msg, sizeof(msg)) != 0);
	ASSERT_INT_EQ(seal_decrypt(key, "app/admin", nonce, ct, sizeof(msg), tag, out), 0);
	ASSERT_STR_EQ((char *)out, msg);
	/* a fresh nonce each time: the same value seals differently */
	ASSERT_INT_EQ(seal_encrypt(key, "app/admin", msg, sizeof(msg), nonce2, ct2, tag2), 0);
	ASSERT(memcmp(nonce, nonce2, sizeof(nonce)) != 0);
	ASSERT(memcmp(ct, ct2, sizeof(ct)) != 0);
	/* another name, another key, any bit changed: refused */
	ASSERT_INT_EQ(seal_decrypt(key, "app/other", nonce, ct, sizeof(msg), tag, out), -1);
	ASSERT_INT_EQ(seal_decrypt(other, "app/admin", nonce, ct, sizeof(msg), tag, out), -1);
	ct[3] ^= 1;
	ASSERT_INT_EQ(seal_decrypt(key, "app/admin", nonce, ct, sizeof(msg), tag, out), -1);
	ct[3] ^= 1;
	tag[0] ^= 0x80;
	ASSERT_INT_EQ(seal_decrypt(key, "app/admin", nonce, ct, sizeof(msg), tag, out), -1);
	tag[0] ^= 0x80;
	nonce[11] ^= 1;
	ASSERT_INT_EQ(seal_decrypt(key, "app/admin", nonce, ct, sizeof(msg), tag, out), -1);
	nonce[11] ^= 1;
	ASSERT_INT_EQ(seal_decrypt(key, "app/admin", nonce, ct, sizeof(msg), tag, out), 0);
	/* an empty value seals too */
	ASSERT_INT_EQ(seal_encrypt(key, "e", "", 0, nonce, ct, tag), 0);
	ASSERT_INT_EQ(seal_decrypt(key, "e", nonce, ct, 0, tag, out), 0);
}

static void test_hex_form(void)
{
	char *hex, *plain = NULL;
	size_t len = 0;

	keys();
	hex = seal_hex(key, "int/password", "s3cret", 6);
	ASSERT(hex != NULL);
	ASSERT_INT_EQ(strlen(hex), 2 * (SEAL_NONCE_LEN + SEAL_TAG_LEN + 6));
	ASSERT_INT_EQ(seal_open_hex(key, "int/password", hex, &plain, &len), 0);
	ASSERT_STR_EQ(plain, "s3cret");
	ASSERT_INT_EQ(len, 6);
	free(plain);
	ASSERT_INT_EQ(seal_open_hex(key, "int/token", hex, &plain, NULL), -1);
	ASSERT(plain == NULL);
	ASSERT_INT_EQ(seal_open_hex(other, "int/password", hex, &plain, NULL), -1);
	hex[strlen(hex) - 1] = hex[strlen(hex) - 1] == '0' ? '1' : '0';
	ASSERT_INT_EQ(seal_open_hex(key, "int/password", hex, &plain, NULL), -1);
	free(hex);
	/* not hex, odd length, shorter than nonce and tag */
	ASSERT_INT_EQ(seal_open_hex(key, "a", "zz", &plain, NULL), -1);
	ASSERT_INT_EQ(seal_open_hex(key, "a", "abc", &plain, NULL), -1);
	ASSERT_INT_EQ(seal_open_hex(key, "a", "00112233", &plain, NULL), -1);
	ASSERT_INT_EQ(seal_open_hex(key, "a", "", &plain, NULL), -1);
}

/* Written by agent/vault.c before lib/seal.c: `idlcm-agent vault set
 * acme/admin` of "old-vault-secret", and the vault's check value. */
static const struct { const char *name, *nonce, *ct, *tag, *plain; } old_vault[] = {
	{ "\001idlcm-vault-check", "9967D3CFC7E668CD9456131E", "07786135236C35576DEE412321D1",
	  "C781DF4E7E924671CA4512208C123074", "idlcm vault v1" },
	{ "acme/admin", "428955E8993B381C49190F02", "8A2FD89A5350C871CF56C1CD49D5442A",
	  "C3744F2D44A1543C360E9A6E6B90C1FA", "old-vault-secret" },
};

static void test_old_vault_entries_open(void)
{
	char path[200], err[300], *val = NULL;
	struct vault *v;
	sqlite3 *db;

	keys();
	for (size_t i = 0; i < sizeof(old_vault) / sizeof(old_vault[0]); i++) {
		unsigned char nonce[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN], ct[64], out[64];
		size_t n = strlen(old_vault[i].ct) / 2;
		unhex_or_fail(old_vault[i].nonce, nonce, sizeof(nonce));
		unhex_or_fail(old_vault[i].tag, tag, sizeof(tag));
		unhex_or_fail(old_vault[i].ct, ct, n);
		ASSERT_INT_EQ(seal_decrypt(key, old_vault[i].name, nonce, ct, n, tag, out), 0);
		out[n] = '\0';
		ASSERT_STR_EQ((char *)out, old_vault[i].plain);
	}
	/* the whole file: rows as the old code stored them open through vault_get */
	snprintf(path, sizeof(path), "/tmp/idlcm-test-seal-%d.db", (int)getpid());
	unlink(path);
	v = vault_open(path, key, err, sizeof(err));
	ASSERT(v != NULL);
	vault_close(v);
	ASSERT_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(old_vault) / sizeof(old_vault[0]); i++) {
		char sql[600];
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO entries(name, nonce, ciphertext, tag,"
			 " updated_at) VALUES('%s', x'%s', x'%s', x'%s', '2026-01-01T00:00:00Z')",
			 old_vault[i].name, old_vault[i].nonce, old_vault[i].ct, old_vault[i].tag);
		ASSERT_INT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	sqlite3_close(db);
	v = vault_open(path, key, err, sizeof(err));
	ASSERT(v != NULL);
	ASSERT_INT_EQ(vault_get(v, "acme/admin", &val, NULL, err, sizeof(err)), 0);
	ASSERT_STR_EQ(val, "old-vault-secret");
	free(val);
	vault_close(v);
	/* the old check value still tells the wrong key */
	ASSERT(vault_open(path, other, err, sizeof(err)) == NULL);
	unlink(path);
}

/* Written by coordinator/sealed.c before lib/seal.c: the account of
 * integration "oldint" with password "old-coord-secret". */
static const char OLD_ACCOUNT[] =
	"{\"base_url\":\"http://x\",\"username\":\"u\",\"password\":{\"sealed\":"
	"\"daabf4a437087594f25ff4930c3a1d9206e6b606540a3d0257d0b1334e42a3595a6344bd6247e54984be713d\"}}";

static void test_old_coordinator_fields_open(void)
{
	char path[200], err[300], *val;
	cJSON *acct;
	FILE *f;

	keys();
	snprintf(path, sizeof(path), "/tmp/idlcm-test-seal-%d.key", (int)getpid());
	unlink(path);
	f = fopen(path, "w");
	ASSERT(f != NULL);
	fprintf(f, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	fclose(f);
	chmod(path, 0600);
	ASSERT_INT_EQ(coord_sealing_init(path, "/nonexistent", err, sizeof(err)), 0);
	acct = cJSON_Parse(OLD_ACCOUNT);
	ASSERT_INT_EQ(coord_account_open("oldint", acct), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(acct, "password")), "old-coord-secret");
	cJSON_Delete(acct);
	/* one field, as the secret endpoint opens it */
	acct = cJSON_Parse(OLD_ACCOUNT);
	val = coord_account_field("oldint", acct, "password", err, sizeof(err));
	ASSERT(val != NULL);
	ASSERT_STR_EQ(val, "old-coord-secret");
	free(val);
	ASSERT(coord_account_field("otherint", acct, "password", err, sizeof(err)) == NULL);
	ASSERT_STR_CONTAINS(err, "does not open");
	/* and what it seals now, the old code's reader (same format) opens */
	{
		cJSON *plain = cJSON_Parse("{\"password\":\"new-secret\",\"username\":\"u\"}"), *back;
		char *text = coord_account_seal("newint", plain);
		ASSERT(text != NULL);
		ASSERT(strstr(text, "new-secret") == NULL);
		back = cJSON_Parse(text);
		ASSERT_INT_EQ(coord_account_open("newint", back), 0);
		ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(back, "password")), "new-secret");
		cJSON_Delete(back);
		cJSON_Delete(plain);
		cJSON_free(text);
	}
	cJSON_Delete(acct);
	unlink(path);
}

int main(void)
{
	TEST_RUN(test_round_trip_and_binding);
	TEST_RUN(test_hex_form);
	TEST_RUN(test_old_vault_entries_open);
	TEST_RUN(test_old_coordinator_fields_open);
	return TEST_REPORT();
}
