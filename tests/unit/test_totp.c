/*
 * totp unit tests: RFC 6238 Appendix B vectors for SHA-1/256/512 (from
 * the raw ASCII seeds and from their base32 form), RFC 4226 Appendix D
 * HOTP values, base32, verification windows, and the scripts' totp().
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "script.h"
#include "test.h"
#include "totp.h"

static const char SEED20[] = "12345678901234567890";
static const char SEED32[] = "12345678901234567890123456789012";
static const char SEED64[] =
	"1234567890123456789012345678901234567890123456789012345678901234";

static const struct {
	long long t;
	const char *sha1, *sha256, *sha512;
} vectors[] = {
	{ 59LL, "94287082", "46119246", "90693936" },
	{ 1111111109LL, "07081804", "68084774", "25091201" },
	{ 1111111111LL, "14050471", "67062674", "99943326" },
	{ 1234567890LL, "89005924", "91819424", "93441116" },
	{ 2000000000LL, "69279037", "90698825", "38618901" },
	{ 20000000000LL, "65353130", "77737706", "47863826" },
};

static void test_rfc6238_vectors_raw(void)
{
	char out[9];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint64_t ctr = (uint64_t)(vectors[i].t / 30);
		ASSERT_INT_EQ(totp_hotp((const unsigned char *)SEED20, 20, ctr, 8, TOTP_SHA1, out), 0);
		ASSERT_STR_EQ(out, vectors[i].sha1);
		ASSERT_INT_EQ(totp_hotp((const unsigned char *)SEED32, 32, ctr, 8, TOTP_SHA256, out), 0);
		ASSERT_STR_EQ(out, vectors[i].sha256);
		ASSERT_INT_EQ(totp_hotp((const unsigned char *)SEED64, 64, ctr, 8, TOTP_SHA512, out), 0);
		ASSERT_STR_EQ(out, vectors[i].sha512);
	}
}

static void test_rfc6238_vectors_base32(void)
{
	char b20[64], b32[80], b64[120], out[9], err[100];
	ASSERT(totp_base32_encode((const unsigned char *)SEED20, 20, b20, sizeof(b20)) > 0);
	ASSERT_STR_EQ(b20, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	ASSERT(totp_base32_encode((const unsigned char *)SEED32, 32, b32, sizeof(b32)) > 0);
	ASSERT(totp_base32_encode((const unsigned char *)SEED64, 64, b64, sizeof(b64)) > 0);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		ASSERT_INT_EQ(totp_code(b20, vectors[i].t, 30, 8, TOTP_SHA1, out, err, sizeof(err)), 0);
		ASSERT_STR_EQ(out, vectors[i].sha1);
		ASSERT_INT_EQ(totp_code(b32, vectors[i].t, 30, 8, TOTP_SHA256, out, err, sizeof(err)), 0);
		ASSERT_STR_EQ(out, vectors[i].sha256);
		ASSERT_INT_EQ(totp_code(b64, vectors[i].t, 30, 8, TOTP_SHA512, out, err, sizeof(err)), 0);
		ASSERT_STR_EQ(out, vectors[i].sha512);
	}
}

/* RFC 4226 Appendix D: HOTP of the same seed, counters 0..9, 6 digits. */
static void test_rfc4226_hotp(void)
{
	static const char *want[] = { "755224", "287082", "359152", "969429", "338314",
				      "254676", "287922", "162583", "399871", "520489" };
	char out[9];
	for (int i = 0; i < 10; i++) {
		ASSERT_INT_EQ(totp_hotp((const unsigned char *)SEED20, 20, (uint64_t)i, 6,
					TOTP_SHA1, out), 0);
		ASSERT_STR_EQ(out, want[i]);
	}
}

static void test_base32(void)
{
	unsigned char buf[64];
	char enc[64];
	/* RFC 4648 section 10 */
	ASSERT_INT_EQ(totp_base32_decode("MZXW6YTBOI======", buf, sizeof(buf)), 6);
	ASSERT(!memcmp(buf, "foobar", 6));
	ASSERT_INT_EQ(totp_base32_decode("mzxw 6ytb-oi", buf, sizeof(buf)), 6);
	ASSERT(!memcmp(buf, "foobar", 6));
	ASSERT_INT_EQ(totp_base32_encode((const unsigned char *)"fooba", 5, enc, sizeof(enc)), 8);
	ASSERT_STR_EQ(enc, "MZXW6YTB");
	ASSERT_INT_EQ(totp_base32_decode("MZXW1", buf, sizeof(buf)), -1);	/* 1 is not base32 */
	ASSERT_INT_EQ(totp_base32_decode("MZXW6YTBOI", buf, 3), -1);		/* too long */
}

static void test_errors_and_digits(void)
{
	char out[9], err[100];
	ASSERT_INT_EQ(totp_code("not base32!", 59, 30, 6, TOTP_SHA1, out, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "not valid base32");
	ASSERT_INT_EQ(totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, 30, 9, TOTP_SHA1,
				out, err, sizeof(err)), -1);
	ASSERT_INT_EQ(totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, 30, 6, TOTP_SHA1,
				out, err, sizeof(err)), 0);
	ASSERT_STR_EQ(out, "287082");	/* the last 6 of 94287082 */
	ASSERT_INT_EQ(totp_code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, 30, 7, TOTP_SHA1,
				out, err, sizeof(err)), 0);
	ASSERT_STR_EQ(out, "4287082");
	ASSERT_INT_EQ(totp_alg_parse("SHA-256"), TOTP_SHA256);
	ASSERT_INT_EQ(totp_alg_parse("sha512"), TOTP_SHA512);
	ASSERT_INT_EQ(totp_alg_parse("md5"), -1);
}

static void test_verify_window(void)
{
	const char *s = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	ASSERT(totp_verify(s, 1111111109, 30, 8, TOTP_SHA1, 0, "07081804"));
	ASSERT(totp_verify(s, 1111111109 + 30, 30, 8, TOTP_SHA1, 1, "07081804"));
	ASSERT(!totp_verify(s, 1111111109 + 30, 30, 8, TOTP_SHA1, 0, "07081804"));
	ASSERT(!totp_verify(s, 1111111109 + 90, 30, 8, TOTP_SHA1, 1, "07081804"));
	ASSERT(!totp_verify(s, 1111111109, 30, 8, TOTP_SHA1, 1, "0708180"));
	ASSERT(!totp_verify(s, 1111111109, 30, 8, TOTP_SHA1, 1, NULL));
}

/* The scripts' global: totp(secret [, {digits=, algorithm=, period=, time=}]). */
static void test_lua_global(void)
{
	struct script_host h;
	char err[256];
	const char *code =
		"local s = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'\n"
		"local a = totp(s, {digits=8, time=59})\n"
		"local b = totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',"
		" {digits=8, algorithm='SHA256', time=1111111109})\n"
		"local c = totp(s, {digits=8, period=60, time=59})\n"
		"local d = totp(s)\n"
		"local ok, e = pcall(totp, 'bad!', {})\n"
		"local ok2, e2 = pcall(totp, s, {digits=5})\n"
		"return a .. ' ' .. b .. ' ' .. c .. ' ' .. #d .. ' ' .. tostring(ok) .. ' ' "
		"  .. tostring(e):gsub('.*: ', '') .. ' ' .. tostring(ok2)\n";
	ASSERT_INT_EQ(script_host_init(&h, NULL, err, sizeof(err)), 0);
	ASSERT_INT_EQ(luaL_loadbufferx(h.L, code, strlen(code), "=t", "t"), 0);
	if (lua_pcall(h.L, 0, 1, 0))
		TEST_FAIL_("lua: %s", lua_tostring(h.L, -1));
	/* c: period 60 at t=59 is counter 0: RFC 4226 HOTP(0) in 8 digits */
	ASSERT_STR_EQ(lua_tostring(h.L, -1),
		      "94287082 68084774 84755224 6 false the secret is not valid base32 false");
	script_host_release(&h);
}

int main(void)
{
	TEST_RUN(test_rfc6238_vectors_raw);
	TEST_RUN(test_rfc6238_vectors_base32);
	TEST_RUN(test_rfc4226_hotp);
	TEST_RUN(test_base32);
	TEST_RUN(test_errors_and_digits);
	TEST_RUN(test_verify_window);
	TEST_RUN(test_lua_global);
	return TEST_REPORT();
}
