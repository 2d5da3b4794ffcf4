/*
 * script unit tests: JSON <-> Lua conversion, and the sandbox — what a
 * script cannot reach, bytecode refused, runaway loops and memory stopped,
 * errors that name the file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "luajson.h"
#include "script.h"
#include "test.h"

static struct script_host host;

static void host_up(void)
{
	char err[256];
	if (script_host_init(&host, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
}

/* Run a chunk in the sandbox; returns its first result as a string
 * (tostring), or "ERR:" + message. */
static char result[2048];
static const char *run(const char *code)
{
	lua_State *L = host.L;
	if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") ||
	    lua_pcall(L, 0, 1, 0)) {
		const char *m = luaL_tolstring(L, -1, NULL);
		snprintf(result, sizeof(result), "ERR:%s", m ? m : "?");
		lua_pop(L, 2);
		return result;
	}
	snprintf(result, sizeof(result), "%s", luaL_tolstring(L, -1, NULL));
	lua_pop(L, 2);
	return result;
}

static char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "/tmp/idlcm-test-%d-%s", (int)getpid(), name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_json_roundtrip(void)
{
	const char *doc = "{\"a\":1,\"b\":[1,\"two\",null,true],\"c\":{\"d\":1.5},\"e\":null,\"f\":[]}";
	cJSON *in = cJSON_Parse(doc), *out;
	char err[200];
	char *s;

	host_up();
	luajson_push(host.L, in);
	out = luajson_to_json(host.L, -1, err, sizeof(err));
	lua_pop(host.L, 1);
	ASSERT(out != NULL);
	/* null in an object drops the key; in an array it keeps its place;
	 * an empty array stays an array (key order is Lua's, so compare) */
	{
		cJSON *want = cJSON_Parse("{\"a\":1,\"b\":[1,\"two\",null,true],\"c\":{\"d\":1.5},\"f\":[]}");
		s = cJSON_PrintUnformatted(out);
		if (!cJSON_Compare(want, out, 1))
			TEST_FAIL_("round trip gave %s", s);
		free(s);
		cJSON_Delete(want);
	}
	cJSON_Delete(in);
	cJSON_Delete(out);
	script_host_release(&host);
}

static void test_json_from_lua_tables(void)
{
	host_up();
	ASSERT_STR_EQ(run("return json.encode({1,2,3})"), "[1,2,3]");
	ASSERT_STR_EQ(run("return json.encode({})"), "{}");
	ASSERT_STR_EQ(run("return json.encode(json.array())"), "[]");
	ASSERT_STR_EQ(run("return json.encode({[1]=1,[3]=3})"), "{\"1\":1,\"3\":3}");
	ASSERT_STR_EQ(run("return json.encode({x=json.null})"), "{\"x\":null}");
	ASSERT_STR_EQ(run("return json.decode('[1,2.5,\"x\"]')[2]"), "2.5");
	ASSERT_STR_EQ(run("return math.type(json.decode('{\"n\":7}').n)"), "integer");
	ASSERT_STR_EQ(run("return json.decode('[null,1]')[1] == json.null"), "true");
	ASSERT_STR_CONTAINS(run("local t = {} t.self = t return json.encode(t)"), "nesting deeper");
	ASSERT_STR_CONTAINS(run("return json.encode(0/0)"), "cannot encode NaN");
	ASSERT_STR_CONTAINS(run("return json.encode({f=print})"), "cannot encode a function");
	ASSERT_STR_CONTAINS(run("return json.decode('{\"a\":')"), "invalid JSON");
	ASSERT_STR_EQ(run("return json.decode(json.encode({s='é \"q\" \\n'})).s"), "é \"q\" \n");
	script_host_release(&host);
}

static void test_sandbox_hides_the_system(void)
{
	host_up();
	ASSERT_STR_EQ(run("return type(os)"), "nil");
	ASSERT_STR_EQ(run("return type(io)"), "nil");
	ASSERT_STR_EQ(run("return type(require)"), "nil");
	ASSERT_STR_EQ(run("return type(package)"), "nil");
	ASSERT_STR_EQ(run("return type(debug)"), "nil");
	ASSERT_STR_EQ(run("return type(dofile)"), "nil");
	ASSERT_STR_EQ(run("return type(loadfile)"), "nil");
	ASSERT_STR_EQ(run("return type(string.dump)"), "nil");
	ASSERT_STR_EQ(run("return type(collectgarbage)"), "nil");
	/* the prelude's private host table is not a global */
	ASSERT_STR_EQ(run("return type(host)"), "nil");
	/* what scripts do get */
	ASSERT_STR_EQ(run("return type(cdp.send)..type(json.encode)..type(clock.now)..type(log.info)"),
		      "functionfunctionfunctionfunction");
	ASSERT_STR_EQ(run("return string.format('%d', math.max(1, 2)) .. utf8.char(233)"), "2é");
	script_host_release(&host);
}

static void test_sandbox_refuses_bytecode(void)
{
	host_up();
	/* text still loads */
	ASSERT_STR_EQ(run("return load('return 1 + 1')()"), "2");
	/* a binary chunk (starts with ESC "Lua") is refused */
	ASSERT_STR_CONTAINS(run("local f, e = load('\\27Lua\\84\\0') return tostring(e)"),
			    "attempt to load a binary chunk");
	script_host_release(&host);
}

static void test_deadline_stops_endless_loop(void)
{
	struct script_error e;
	char *path = write_tmp("loop.lua", "local app = {}\nwhile true do end\nreturn app\n");

	host_up();
	script_host_set_deadline(&host, 200);
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "deadline");
	ASSERT_STR_CONTAINS(e.message, "script exceeded its deadline of 200 ms");
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

static void test_deadline_cannot_be_swallowed(void)
{
	struct script_error e;
	/* A script that catches every error and loops on: cut off for good. */
	char *path = write_tmp("swallow.lua",
		"while true do pcall(function() while true do end end) end\nreturn {}\n");

	host_up();
	script_host_set_deadline(&host, 100);
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "deadline");
	ASSERT_STR_CONTAINS(e.message, "kept running");
	script_error_release(&e);
	script_host_release(&host);	/* abandons the state; must not crash */
	unlink(path);
}

static void test_memory_cap(void)
{
	struct script_error e;
	char *path = write_tmp("mem.lua",
		"local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\nreturn {}\n");

	host_up();
	host.mem_limit = 32u << 20;
	script_host_set_deadline(&host, 20000);
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_CONTAINS(e.message, "out of memory");
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

static void test_syntax_error_names_file_and_line(void)
{
	struct script_error e;
	char *path = write_tmp("syntax.lua", "local app = {}\n\nfunction app.login(page)\n  if then\nend\nreturn app\n");

	host_up();
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "syntax");
	ASSERT_STR_CONTAINS(e.message, "syntax.lua:4:");
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

static void test_script_must_return_table(void)
{
	struct script_error e;
	char *path = write_tmp("noreturn.lua", "local app = {}\n");

	host_up();
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "contract");
	ASSERT_STR_CONTAINS(e.message, "must return the app table (it returned nil)");
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

static void test_runtime_error_where(void)
{
	struct script_error e;
	char *path = write_tmp("rt.lua", "local app = {}\nlocal x = nil\nlocal y = x.field\nreturn app\n");

	host_up();
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "script");
	ASSERT_STR_CONTAINS(e.message, "rt.lua:3: attempt to index a nil value");
	ASSERT_STR_CONTAINS(e.where, "rt.lua:3");
	ASSERT(e.traceback != NULL);
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

int main(void)
{
	TEST_RUN(test_json_roundtrip);
	TEST_RUN(test_json_from_lua_tables);
	TEST_RUN(test_sandbox_hides_the_system);
	TEST_RUN(test_sandbox_refuses_bytecode);
	TEST_RUN(test_deadline_stops_endless_loop);
	TEST_RUN(test_deadline_cannot_be_swallowed);
	TEST_RUN(test_memory_cap);
	TEST_RUN(test_syntax_error_names_file_and_line);
	TEST_RUN(test_script_must_return_table);
	TEST_RUN(test_runtime_error_where);
	return TEST_REPORT();
}
