/*
 * Fuzz target: what the vault decodes (agent/vault.c) — keys from the
 * environment or a key file, entries read back from the SQLite file (a
 * damaged or tampered row), {"vault": name} references inside job JSON,
 * and entries stored under names and values from outside.  The first byte
 * picks the mode.  Properties: a key parses exactly when it is 64 hex
 * digits or base64 of 32 bytes (surrounding whitespace aside) and parses
 * back the same from hex and base64; a row not sealed by the vault never
 * opens; what is stored reads back byte for byte; a resolved document has
 * no reference left, and every failure names its entry; nothing leaks or
 * hangs.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base64.h"
#include "log.h"
#include "vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct vault_db { sqlite3 *db; };	/* the first member of struct vault */

static struct vault *v;

static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, i;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t x = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[x >> 18 & 63]; out[o++] = a[x >> 12 & 63];
		out[o++] = a[x >> 6 & 63]; out[o++] = a[x & 63];
	}
	if (n - i == 2) {
		uint32_t x = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = a[x >> 18 & 63]; out[o++] = a[x >> 12 & 63];
		out[o++] = a[x >> 6 & 63]; out[o++] = '=';
	}
	out[o] = '\0';
}

static void keys(const char *text)
{
	unsigned char key[VAULT_KEY_LEN], again[VAULT_KEY_LEN], tmp[64];
	char err[300], hex[2 * VAULT_KEY_LEN + 1], b[64];
	const char *s = text, *e = text + strlen(text);
	int rc = vault_key_parse(text, key, err, sizeof(err)), want = 0;
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 64) {
		want = 1;
		for (size_t i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)s[i]))
				want = 0;
	}
	if (!want)
		want = base64_decode(s, n, tmp, sizeof(tmp)) == VAULT_KEY_LEN;
	if ((rc == 0) != want)
		abort();
	if (rc) {
		if (!strstr(err, "vault key"))
			abort();
		return;
	}
	for (int i = 0; i < VAULT_KEY_LEN; i++)
		sprintf(hex + 2 * i, "%02x", key[i]);
	if (vault_key_parse(hex, again, err, sizeof(err)) || memcmp(key, again, sizeof(key)))
		abort();
	b64(key, sizeof(key), b);
	if (vault_key_parse(b, again, err, sizeof(err)) || memcmp(key, again, sizeof(key)))
		abort();
}

static void damaged_row(const uint8_t *d, size_t n)
{
	sqlite3 *db = ((struct vault_db *)v)->db;
	sqlite3_stmt *st;
	size_t nl = n ? d[0] % 20 : 0, tl;
	char *value = NULL, err[300];
	int rc;

	d++, n = n ? n - 1 : 0;
	if (nl > n)
		nl = n;
	tl = n - nl > 0 ? d[nl - (nl ? 1 : 0)] % 20 : 0;
	if (tl > n - nl)
		tl = n - nl;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO entries VALUES ('fz', ?, ?, ?, 'x')",
			       -1, &st, NULL))
		abort();
	sqlite3_bind_blob(st, 1, d, (int)nl, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, d + nl + tl, (int)(n - nl - tl), SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, d + nl, (int)tl, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
	rc = vault_get(v, "fz", &value, NULL, err, sizeof(err));
	if (rc != -1 || value || !strstr(err, "\"fz\""))
		abort();	/* forged, it never opens */
}

static void round_trip(const uint8_t *d, size_t n)
{
	size_t nl = n ? d[0] % 40 : 0, len = 0;
	char *name, *value = NULL, err[300];
	int rc;

	d++, n = n ? n - 1 : 0;
	if (nl > n)
		nl = n;
	name = strndup((const char *)d, nl);
	rc = vault_set(v, name, d + nl, n - nl, err, sizeof(err));
	if (rc) {	/* only a bad name is refused here */
		int bad = !*name;
		for (const char *p = name; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				bad = 1;
		if (!bad)
			abort();
		free(name);
		return;
	}
	if (vault_get(v, name, &value, &len, err, sizeof(err)) || len != n - nl ||
	    memcmp(value, d + nl, len) || value[len])
		abort();
	free(value);
	if (vault_remove(v, name, err, sizeof(err)) ||
	    vault_get(v, name, &value, &len, err, sizeof(err)) != VAULT_NOT_FOUND)
		abort();
	free(name);
}

static void references(const uint8_t *d, size_t n)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)d, n);
	char err[300] = "";

	if (!doc)
		return;
	if (vault_resolve(v, doc, err, sizeof(err)) == 0) {
		if (vault_refs_present(doc))
			abort();	/* every reference replaced */
	} else if (!strstr(err, "vault entry") && !strstr(err, "out of memory")) {
		abort();
	}
	if (vault_resolve(NULL, doc, err, sizeof(err)) == 0 && vault_refs_present(doc))
		abort();
	cJSON_Delete(doc);
	secret_clear_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!v) {
		static const unsigned char key[VAULT_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		char path[64], err[300];
		snprintf(path, sizeof(path), "/tmp/idlcm-fuzz-vault-%d.db", (int)getpid());
		unlink(path);
		v = vault_open(path, key, err, sizeof(err));
		if (!v || vault_set(v, "acme/svc", "hunter2", 7, err, sizeof(err)) ||
		    vault_set(v, "totp", "JBSWY3DPEHPK3PXP", 16, err, sizeof(err)))
			abort();
		sqlite3_exec(((struct vault_db *)v)->db, "PRAGMA synchronous = OFF", NULL, NULL,
			     NULL);
		log_set_level(LOG_ERROR);
	}
	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0: {
		char *text = strndup((const char *)data + 1, size - 1);
		keys(text);
		free(text);
		break;
	}
	case 1: damaged_row(data + 1, size - 1); break;
	case 2: round_trip(data + 1, size - 1); break;
	default: references(data + 1, size - 1); break;
	}
	return 0;
}
