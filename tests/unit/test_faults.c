/*
 * faults unit tests (issue 9, points 6-7): the deadline holds inside the
 * string functions the count hook cannot reach, a cut-off state is never
 * entered again, and error objects are read without running their
 * metamethods.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "script.h"
#include "test.h"

static char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "/tmp/idlcm-faults-%d-%s", (int)getpid(), name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load code as an app script under a deadline of ms; the error in e. */
static int load(struct script_host *h, const char *code, int ms, struct script_error *e)
{
	char err[256];
	char *path = write_tmp("app.lua", code);
	int rc;

	if (script_host_init(h, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	script_host_set_deadline(h, ms);
	rc = script_host_load_app(h, path, e);
	unlink(path);
	return rc;
}

static void pattern_case(const char *call, const char *fn)
{
	struct script_host h;
	struct script_error e;
	char code[512], want[100];

	snprintf(code, sizeof(code),
		 "local s, p = ('a'):rep(40), ('a*'):rep(30) .. 'c'\n%s\nreturn {}\n", call);
	ASSERT_INT_EQ(load(&h, code, 300, &e), -1);
	ASSERT_STR_EQ(e.kind, "deadline");
	snprintf(want, sizeof(want), "(inside %s)", fn);
	ASSERT_STR_CONTAINS(e.message, want);
	ASSERT(h.poisoned);
	script_error_release(&e);
	/* an abandoned state is never entered again */
	{
		cJSON *res = NULL;
		ASSERT_INT_EQ(script_host_call(&h, "job", "check", NULL, &res, &e), -1);
		ASSERT_STR_CONTAINS(e.message, "abandoned");
		ASSERT(res == NULL);
	}
	script_host_release(&h);
}

static void test_find_stopped(void) { pattern_case("s:find(p)", "string.find"); }
static void test_match_stopped(void) { pattern_case("string.match(s, p)", "string.match"); }
static void test_gmatch_stopped(void)
{
	pattern_case("for m in s:gmatch(p) do end", "string.gmatch");
}
static void test_gsub_stopped(void)
{
	pattern_case("s:gsub(p, function(x) return x end)", "string.gsub");
	pattern_case("s:gsub(p, {})", "string.gsub");
	pattern_case("s:gsub(p, '%0')", "string.gsub");
}

/* A pcall that swallows the cut-off cannot keep the script running. */
static void test_pattern_cutoff_not_swallowed(void)
{
	pattern_case("while true do pcall(string.find, s, p) end", "string.find");
}

/* Ordinary pattern work is untouched by the guard. */
static void test_patterns_still_work(void)
{
	struct script_host h;
	struct script_error e;
	const char *code =
		"local t = {}\n"
		"for w in ('a b c'):gmatch('%a') do t[#t + 1] = w end\n"
		"assert(#t == 3)\n"
		"assert(('hello'):find('l') == 3)\n"
		"assert(('x=1'):match('(%w)=(%d)') == 'x')\n"
		"assert(('abc'):gsub('%w', { a = 'A' }) == 'Abc')\n"
		"assert(('abc'):gsub('%w', function(c) return c:upper() end) == 'ABC')\n"
		"assert(('ab'):rep(3, ',') == 'ab,ab,ab')\n"
		"local ok, err = pcall(string.find, 'x', '[')\n"
		"assert(not ok and err:find('malformed'))\n"
		"return {}\n";

	ASSERT_INT_EQ(load(&h, code, 5000, &e), 0);
	ASSERT(!h.poisoned);
	script_host_release(&h);
}

/* An error object whose metamethods raise: a clear error, no abort. */
static void test_hostile_error_object(void)
{
	struct script_host h;
	struct script_error e;
	const char *code =
		"error(setmetatable({}, { __index = function() error('x') end,\n"
		"  __newindex = function() error('y') end,\n"
		"  __tostring = function() error('z') end }))\n";

	ASSERT_INT_EQ(load(&h, code, 5000, &e), -1);
	ASSERT_STR_CONTAINS(e.message, "no readable message");
	script_error_release(&e);
	script_host_release(&h);
}

/* Lua runs finalizers with hooks off: the sandbox refuses them. */
static void test_gc_refused(void)
{
	struct script_host h;
	struct script_error e;
	const char *code = "setmetatable({}, { __gc = function() while true do end end })\n"
			   "return {}\n";

	ASSERT_INT_EQ(load(&h, code, 5000, &e), -1);
	ASSERT_STR_CONTAINS(e.message, "__gc metamethods are not allowed");
	script_error_release(&e);
	script_host_release(&h);
}

int main(void)
{
	TEST_RUN(test_find_stopped);
	TEST_RUN(test_match_stopped);
	TEST_RUN(test_gmatch_stopped);
	TEST_RUN(test_gsub_stopped);
	TEST_RUN(test_pattern_cutoff_not_swallowed);
	TEST_RUN(test_patterns_still_work);
	TEST_RUN(test_hostile_error_object);
	TEST_RUN(test_gc_refused);
	return TEST_REPORT();
}
