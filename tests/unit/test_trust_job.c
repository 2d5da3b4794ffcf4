/*
 * trust-job unit tests (issue 8): random.password / random.bytes from
 * OpenSSL registered as secrets, role drift in M.reconcile, --json lines
 * with keys in a fixed order, and a log line over the cap saying how much
 * was cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "log.h"
#include "luajson.h"
#include "output.h"
#include "script.h"
#include "test.h"

static struct script_host host;
static char result[4096];

/* Run a chunk in a fresh sandbox; its first result as a string, or "ERR:…". */
static const char *run(const char *code)
{
	char err[256];
	lua_State *L;

	if (script_host_init(&host, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	L = host.L;
	if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") || lua_pcall(L, 0, 1, 0))
		snprintf(result, sizeof(result), "ERR:%s", luaL_tolstring(L, -1, NULL));
	else
		snprintf(result, sizeof(result), "%s", luaL_tolstring(L, -1, NULL));
	script_host_release(&host);
	return result;
}

static void test_random_password_classes(void)
{
	ASSERT_STR_EQ(run("local p = random.password(32)\n"
			  "return #p .. (p:find('%l') and 'l' or '') .. (p:find('%u') and 'u' or '')"
			  " .. (p:find('%d') and 'd' or '') .. (p:find('[^%w]') and 's' or '')"), "32luds");
	ASSERT_STR_EQ(run("local p = random.password(12, {'digit'}) return p:match('^%d+$') and #p"),
		      "12");
	ASSERT_STR_EQ(run("local p = random.password(6, {'lower', 'upper'})\n"
			  "return (p:find('%l') and p:find('%u') and not p:find('[^%a]')) and 'ok' or p"),
		      "ok");
	ASSERT_STR_EQ(run("return random.password(16) ~= random.password(16)"), "true");
	ASSERT_STR_CONTAINS(run("return random.password(8, {'emoji'})"), "unknown class \"emoji\"");
	ASSERT_STR_CONTAINS(run("return random.password(2)"), "length of 4 to 256");
	ASSERT_STR_EQ(run("return #random.bytes(64)"), "64");
	ASSERT_STR_CONTAINS(run("return random.bytes(0)"), "1 to 1024 bytes");
}

/* What random.* hands out is a registered secret before the script sees it. */
static void test_random_is_secret(void)
{
	char pw[300], *clean;
	size_t n;

	secret_clear_all();
	snprintf(pw, sizeof(pw), "%s", run("return random.password(24)"));
	ASSERT_INT_EQ(strlen(pw), 24);
	ASSERT(secret_present(pw, strlen(pw)));
	clean = secret_redact(pw, strlen(pw), &n);
	ASSERT_STR_EQ(clean, "[redacted]");
	free(clean);
	secret_clear_all();
}

/* M.reconcile: per matched user the IdP's roles and a drift flag. */
static void test_reconcile_drift(void)
{
	char err[256];
	const char *app = "[{\"email\":\"a@x.test\",\"roles\":[\"Admin\"]},"
			  "{\"email\":\"b@x.test\",\"roles\":[\"member\"]},"
			  "{\"email\":\"c@x.test\",\"roles\":[\"member\"]}]";
	const char *exp = "[{\"email\":\"A@x.test\",\"roles\":[\"admin\"]},"
			  "{\"email\":\"b@x.test\",\"roles\":[\"admin\",\"member\"]},"
			  "{\"email\":\"c@x.test\"}]";
	cJSON *a = cJSON_Parse(app), *e = cJSON_Parse(exp), *sum, *users;
	lua_State *L;

	if (script_host_init(&host, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	L = host.L;
	lua_getfield(L, LUA_REGISTRYINDEX, "idlcm.host");
	lua_getfield(L, -1, "modules");
	lua_getfield(L, -1, "job");
	lua_getfield(L, -1, "reconcile");
	luajson_push(L, a);
	luajson_push(L, e);
	lua_newtable(L);
	if (lua_pcall(L, 3, 2, 0))
		TEST_FAIL_("reconcile: %s", lua_tostring(L, -1));
	sum = luajson_to_json(L, -1, err, sizeof(err));
	users = luajson_to_json(L, -2, err, sizeof(err));
	script_host_release(&host);
	cJSON_Delete(a);
	cJSON_Delete(e);
	ASSERT(sum && users);
	ASSERT_INT_EQ(cJSON_GetObjectItem(sum, "drifted")->valueint, 1);
	ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(users, 0), "drift")));
	ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(users, 1), "drift")));
	/* no roles from the IdP: no opinion on drift */
	ASSERT(!cJSON_GetObjectItem(cJSON_GetArrayItem(users, 2), "drift"));
	ASSERT(!cJSON_GetObjectItem(cJSON_GetArrayItem(users, 2), "expected_roles"));
	cJSON_Delete(sum);
	cJSON_Delete(users);
}

static char *capture_json_line(const char *doc)
{
	static char buf[1024];
	FILE *f = tmpfile();
	cJSON *j = cJSON_Parse(doc);
	size_t n;

	out_json_line(f, j);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cJSON_Delete(j);
	return buf;
}

static void test_json_keys_in_fixed_order(void)
{
	ASSERT_STR_EQ(capture_json_line("{\"z\":1,\"kind\":\"state\",\"b\":{\"y\":[{\"d\":1,\"c\":2}],"
					"\"a\":null},\"a\":\"x\"}"),
		      "{\"kind\":\"state\",\"a\":\"x\",\"b\":{\"a\":null,\"y\":[{\"c\":2,\"d\":1}]},"
		      "\"z\":1}\n");
	ASSERT_STR_EQ(capture_json_line("[3,{\"b\":1,\"a\":2}]"), "[3,{\"a\":2,\"b\":1}]\n");
	ASSERT_STR_EQ(capture_json_line("{}"), "{}\n");
}

static void test_log_cut_marker(void)
{
	char *big = malloc(20001), line[10000];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	memset(big, 'x', 20000);
	big[20000] = '\0';
	fflush(stderr);
	dup2(fileno(f), 2);
	log_script(LOG_INFO, big);	/* shown at the default level (warn) */
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(line, 1, sizeof(line) - 1, f);
	line[n] = '\0';
	fclose(f);
	free(big);
	ASSERT_STR_CONTAINS(line, " info  ");
	ASSERT_STR_CONTAINS(line, "x … [");
	ASSERT_STR_CONTAINS(line, " more bytes cut]\n");
	ASSERT(n < 8300);
}

int main(void)
{
	TEST_RUN(test_random_password_classes);
	TEST_RUN(test_random_is_secret);
	TEST_RUN(test_reconcile_drift);
	TEST_RUN(test_json_keys_in_fixed_order);
	TEST_RUN(test_log_cut_marker);
	return TEST_REPORT();
}
