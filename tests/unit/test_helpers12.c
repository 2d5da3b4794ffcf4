/*
 * url, text and csv helpers (agent/lua/helpers.lua), run through the real
 * script host: each case is a Lua snippet in the sandbox and its exact
 * result, serialised with sorted keys so the comparison is stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "script.h"
#include "test.h"

static struct script_host host;
static char result[4096];

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

/* dump(v): arrays as [a,b], tables as {k=v} with sorted keys, strings %q */
static void host_up(void)
{
	char err[256];
	if (script_host_init(&host, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	run("function dump(v)\n"
	    "  if type(v) == 'string' then return string.format('%q', v):gsub('\\\\\\n', '\\\\n') end\n"
	    "  if type(v) ~= 'table' then return tostring(v) end\n"
	    "  local out, keys = {}, {}\n"
	    "  for i = 1, #v do out[#out + 1] = dump(v[i]) end\n"
	    "  for k in pairs(v) do if not (math.type(k) == 'integer' and k >= 1 and k <= #v) then keys[#keys + 1] = tostring(k) end end\n"
	    "  table.sort(keys)\n"
	    "  for _, k in ipairs(keys) do out[#out + 1] = k .. '=' .. dump(v[k]) end\n"
	    "  return '[' .. table.concat(out, ',') .. ']'\n"
	    "end\n");
}

static void test_url_encode_decode(void)
{
	host_up();
	ASSERT_STR_EQ(run("return url.encode('abcXYZ019-._~')"), "abcXYZ019-._~");
	ASSERT_STR_EQ(run("return url.encode('a b&c=d/e?f#g')"), "a%20b%26c%3Dd%2Fe%3Ff%23g");
	ASSERT_STR_EQ(run("return url.encode('ann+tag@example.com')"), "ann%2Btag%40example.com");
	ASSERT_STR_EQ(run("return url.encode('caf\\u{E9} \\u{2603}')"), "caf%C3%A9%20%E2%98%83");
	ASSERT_STR_EQ(run("return url.encode('%')"), "%25");
	ASSERT_STR_EQ(run("return url.encode('')"), "");
	ASSERT_STR_EQ(run("return url.encode(42)"), "42");
	ASSERT_STR_EQ(run("return url.encode('\\0\\n')"), "%00%0A");
	ASSERT_STR_CONTAINS(run("return url.encode(nil)"),
			    "url.encode: argument 1 must be a string (got nil)");
	ASSERT_STR_EQ(run("return url.decode('a%20b%2Fc%2fd')"), "a b/c/d");
	ASSERT_STR_EQ(run("return url.decode('caf%C3%A9')"), "caf\xc3\xa9");
	ASSERT_STR_EQ(run("return url.decode('100%')"), "100%");
	ASSERT_STR_EQ(run("return url.decode('%zz%4')"), "%zz%4");
	ASSERT_STR_EQ(run("return url.decode('a+b')"), "a+b");
	ASSERT_STR_EQ(run("local s = 'x y/\\u{E9}%~' return tostring(url.decode(url.encode(s)) == s)"), "true");
	script_host_release(&host);
}

static void test_url_build(void)
{
	host_up();
	ASSERT_STR_EQ(run("return url.build('https://a.test/users', {q='ann lee', page=2})"),
		      "https://a.test/users?page=2&q=ann%20lee");
	ASSERT_STR_EQ(run("return url.build('https://a.test/u?x=1', {b='2', a='1'})"),
		      "https://a.test/u?x=1&a=1&b=2");
	ASSERT_STR_EQ(run("return url.build('https://a.test/u?', {a=1})"), "https://a.test/u?a=1");
	ASSERT_STR_EQ(run("return url.build('https://a.test/u?x=1&', {a=1})"), "https://a.test/u?x=1&a=1");
	ASSERT_STR_EQ(run("return url.build('/s', {role={'admin','viewer'}, z=true})"),
		      "/s?role=admin&role=viewer&z=true");
	ASSERT_STR_EQ(run("return url.build('/s#/users', {q='a&b'})"), "/s?q=a%26b#/users");
	ASSERT_STR_EQ(run("return url.build('/s?k=v#top', {n=1})"), "/s?k=v&n=1#top");
	ASSERT_STR_EQ(run("return url.build('/s', {})"), "/s");
	ASSERT_STR_EQ(run("return url.build('/s')"), "/s");
	ASSERT_STR_EQ(run("return url.build('/s', {tags={}})"), "/s");
	ASSERT_STR_EQ(run("return url.build('/s', {['a b']='c'})"), "/s?a%20b=c");
	/* same table, same URL: keys are sorted, not in hash order */
	ASSERT_STR_EQ(run("local t = {} for i = 1, 30 do t['k' .. i] = i end "
			  "local a = url.build('/', t) for i = 1, 5 do if url.build('/', t) ~= a then return 'differs' end end "
			  "return a:sub(1, 22)"), "/?k1=1&k10=10&k11=11&k");
	ASSERT_STR_CONTAINS(run("return url.build('/s', 'q=1')"),
			    "url.build: argument 2 must be a table of query parameters (got string)");
	ASSERT_STR_CONTAINS(run("return url.build('/s', {a={x=1}})"),
			    "url.build: query value for \"a\" must be a string, number, boolean or array of them (got table)");
	ASSERT_STR_CONTAINS(run("return url.build('/s', {a={1, {2}}})"),
			    "url.build: query value for \"a\" must be a string, number, boolean or array of them (got table)");
	ASSERT_STR_CONTAINS(run("return url.build('/s', {f=function() end})"),
			    "query value for \"f\" must be a string, number, boolean or array of them (got function)");
	script_host_release(&host);
}

static void test_text_trim(void)
{
	host_up();
	ASSERT_STR_EQ(run("return '[' .. text.trim('  ann  ') .. ']'"), "[ann]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('\\t\\r\\n ann lee \\v\\f') .. ']'"), "[ann lee]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('\\u{A0}ann\\u{A0}') .. ']'"), "[ann]");
	ASSERT_STR_EQ(run("return '[' .. text.trim(' \\u{A0} \\u{A0}ann \\u{A0}b\\u{A0} \\u{A0}') .. ']'"),
		      "[ann \xc2\xa0" "b]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('') .. ']'"), "[]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('   ') .. ']'"), "[]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('\\u{A0}\\u{A0}') .. ']'"), "[]");
	ASSERT_STR_EQ(run("return '[' .. text.trim('x') .. ']'"), "[x]");
	/* a lone 0xC2 or 0xA0 byte is not NBSP: it stays */
	ASSERT_STR_EQ(run("return table.concat({string.byte(text.trim('\\xA0a\\xC2'), 1, -1)}, ' ')"), "160 97 194");
	/* other Unicode (an em space) is not trimmed: only ASCII and NBSP */
	ASSERT_STR_EQ(run("return table.concat({string.byte(text.trim('\\u{2003}a'), 1, -1)}, ' ')"), "226 128 131 97");
	ASSERT_STR_EQ(run("return text.trim(7)"), "7");
	ASSERT_STR_CONTAINS(run("return text.trim({})"), "text.trim: argument 1 must be a string (got table)");
	script_host_release(&host);
}

static void test_text_split(void)
{
	host_up();
	ASSERT_STR_EQ(run("return dump(text.split('a,b,c', ','))"), "[\"a\",\"b\",\"c\"]");
	ASSERT_STR_EQ(run("return dump(text.split('a,,c,', ','))"), "[\"a\",\"\",\"c\",\"\"]");
	ASSERT_STR_EQ(run("return dump(text.split('', ','))"), "[\"\"]");
	ASSERT_STR_EQ(run("return dump(text.split('abc', ','))"), "[\"abc\"]");
	/* plain by default: '.' and '%' are literal */
	ASSERT_STR_EQ(run("return dump(text.split('a.b.c', '.'))"), "[\"a\",\"b\",\"c\"]");
	ASSERT_STR_EQ(run("return dump(text.split('1%2%3', '%'))"), "[\"1\",\"2\",\"3\"]");
	ASSERT_STR_EQ(run("return dump(text.split('a :: b::c', '::'))"), "[\"a \",\" b\",\"c\"]");
	ASSERT_STR_EQ(run("return dump(text.split('a, b;c', '[,;]%s*', {plain=false}))"),
		      "[\"a\",\"b\",\"c\"]");
	ASSERT_STR_EQ(run("return dump(text.split('k=v=w', '=', {max=2}))"), "[\"k\",\"v=w\"]");
	ASSERT_STR_EQ(run("return dump(text.split('a,b,c', ',', {max=1}))"), "[\"a,b,c\"]");
	ASSERT_STR_EQ(run("return dump(text.split('a,b', ',', {max=5}))"), "[\"a\",\"b\"]");
	ASSERT_STR_CONTAINS(run("return text.split('a', '')"), "text.split: the separator is empty");
	ASSERT_STR_CONTAINS(run("return text.split('a', 'x*', {plain=false})"),
			    "text.split: the pattern \"x*\" matches the empty string");
	ASSERT_STR_CONTAINS(run("return text.split('a', ',', {max=0})"),
			    "text.split: max must be a whole number of 1 or more");
	ASSERT_STR_CONTAINS(run("return text.split('a', ',', {max=1.5})"),
			    "text.split: max must be a whole number of 1 or more");
	ASSERT_STR_CONTAINS(run("return text.split(nil, ',')"),
			    "text.split: argument 1 must be a string (got nil)");
	script_host_release(&host);
}

static void test_csv_decode(void)
{
	host_up();
	ASSERT_STR_EQ(run("return dump(csv.decode('email,name\\nann@x.test,Ann\\nbob@x.test,Bob\\n'))"),
		      "[[email=\"ann@x.test\",name=\"Ann\"],[email=\"bob@x.test\",name=\"Bob\"],"
		      "header=[\"email\",\"name\"]]");
	/* CRLF, no final line end */
	ASSERT_STR_EQ(run("return dump(csv.decode('a,b\\r\\n1,2\\r\\n3,4', {header=false}))"),
		      "[[\"a\",\"b\"],[\"1\",\"2\"],[\"3\",\"4\"]]");
	/* lone CR line ends (old Mac exports) */
	ASSERT_STR_EQ(run("return dump(csv.decode('a\\r1\\r', {header=false}))"), "[[\"a\"],[\"1\"]]");
	/* quoted: embedded comma, doubled quote, newline inside, empty quoted */
	ASSERT_STR_EQ(run("return dump(csv.decode('\"Lee, Ann\",\"say \"\"hi\"\"\",\"two\\nlines\",\"\"', {header=false}))"),
		      "[[\"Lee, Ann\",\"say \\\"hi\\\"\",\"two\\nlines\",\"\"]]");
	ASSERT_STR_EQ(run("return dump(csv.decode('\"a\\r\\nb\",c\\r\\n', {header=false}))"),
		      "[[\"a\\13\\nb\",\"c\"]]");
	/* a BOM at the start is dropped, not glued to the first header */
	ASSERT_STR_EQ(run("return dump(csv.decode('\\xEF\\xBB\\xBFemail\\nann@x.test').header)"),
		      "[\"email\"]");
	ASSERT_STR_EQ(run("return csv.decode('\\xEF\\xBB\\xBFemail\\nann@x.test')[1].email"), "ann@x.test");
	/* empty fields keep their place; blank lines are skipped */
	ASSERT_STR_EQ(run("return dump(csv.decode(',a,,\\n\\n\\nb\\n', {header=false}))"),
		      "[[\"\",\"a\",\"\",\"\"],[\"b\"]]");
	/* a line holding just "" is a record with one empty field */
	ASSERT_STR_EQ(run("return dump(csv.decode('\"\"\\n', {header=false}))"), "[[\"\"]]");
	/* other separators */
	ASSERT_STR_EQ(run("return dump(csv.decode('a;b\\n1;\"2;3\"', {sep=';'}))"),
		      "[[a=\"1\",b=\"2;3\"],header=[\"a\",\"b\"]]");
	ASSERT_STR_EQ(run("return dump(csv.decode('a\\tb\\n1\\t2', {sep='\\t', header=false}))"),
		      "[[\"a\",\"b\"],[\"1\",\"2\"]]");
	ASSERT_STR_EQ(run("return dump(csv.decode('a|b\\n1|2', {sep='|'}))"),
		      "[[a=\"1\",b=\"2\"],header=[\"a\",\"b\"]]");
	/* short rows leave the missing columns nil */
	ASSERT_STR_EQ(run("return dump(csv.decode('a,b,c\\n1'))"), "[[a=\"1\"],header=[\"a\",\"b\",\"c\"]]");
	/* empty input */
	ASSERT_STR_EQ(run("return dump(csv.decode(''))"), "[header=[]]");
	ASSERT_STR_EQ(run("return dump(csv.decode('', {header=false}))"), "[]");
	ASSERT_STR_EQ(run("return dump(csv.decode('a,b\\n'))"), "[header=[\"a\",\"b\"]]");
	/* unquoted fields keep their spaces and stray quotes as they are */
	ASSERT_STR_EQ(run("return dump(csv.decode(' a , b\"c', {header=false}))"),
		      "[[\" a \",\" b\\\"c\"]]");
	script_host_release(&host);
}

static void test_csv_errors(void)
{
	host_up();
	ASSERT_STR_CONTAINS(run("return csv.decode('a,b\\n1,\"2\\n3,4\\n')"),
			    "csv.decode: line 2: unterminated quote (the field opened there never closes)");
	/* the line counts the newlines inside earlier quoted fields */
	ASSERT_STR_CONTAINS(run("return csv.decode('a\\n\"x\\ny\"\\n\"z\\r\\n')"),
			    "csv.decode: line 4: unterminated quote");
	ASSERT_STR_CONTAINS(run("return csv.decode('a\\r\"x\\ry\"\\r\"z', {header=false})"),
			    "csv.decode: line 4: unterminated quote");
	ASSERT_STR_CONTAINS(run("return csv.decode('a\\n\"x\"y\\n')"),
			    "csv.decode: line 2: unexpected \"y\" after a closing quote");
	ASSERT_STR_CONTAINS(run("return csv.decode('a,b\\n1,2\\n1,2,3\\n')"),
			    "csv.decode: line 3 has 3 fields, the header has 2");
	ASSERT_STR_CONTAINS(run("return csv.decode('\\n\\nid,id\\n')"),
			    "csv.decode: line 3: the header repeats the column \"id\"");
	ASSERT_STR_CONTAINS(run("return csv.decode('a', {sep=';;'})"),
			    "csv.decode: sep must be one character other than a letter, digit, quote or line end (got \";;\")");
	ASSERT_STR_CONTAINS(run("return csv.decode('a', {sep='\"'})"), "csv.decode: sep must be one character");
	ASSERT_STR_CONTAINS(run("return csv.decode('a', {sep='\\n'})"), "csv.decode: sep must be one character");
	ASSERT_STR_CONTAINS(run("return csv.decode('a', {sep=1})"), "(got number)");
	ASSERT_STR_CONTAINS(run("return csv.decode(nil)"), "csv.decode: argument 1 must be a string (got nil)");
	/* the error points at the script's line, not inside the helper */
	ASSERT_STR_CONTAINS(run("local r = csv.decode('\"') return r"), "test:1: csv.decode: line 1: unterminated quote");
	script_host_release(&host);
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

/* A big export decoded inside the job's deadline budget: the decoder's
 * loops run under the count hook, so one call cannot outlast the job. */
static void test_csv_respects_the_deadline(void)
{
	struct script_error e;
	char *path = write_tmp("bigcsv.lua",
		"local rows = {}\n"
		"for i = 1, 20000 do rows[i] = 'u' .. i .. '@x.test,\"Name, ' .. i .. '\",admin' end\n"
		"local big = 'email,name,role\\n' .. table.concat(rows, '\\n')\n"
		"while true do csv.decode(big) end\n"
		"return {}\n");

	host_up();
	script_host_set_deadline(&host, 300);
	ASSERT_INT_EQ(script_host_load_app(&host, path, &e), -1);
	ASSERT_STR_EQ(e.kind, "deadline");
	ASSERT_STR_CONTAINS(e.message, "script exceeded its deadline of 300 ms");
	script_error_release(&e);
	script_host_release(&host);
	unlink(path);
}

/* The globals are where a script sees them, and a script that decodes a
 * big export in one call works (20,000 rows, exact figures). */
static void test_csv_big_export(void)
{
	host_up();
	ASSERT_STR_EQ(run("local rows = {} for i = 1, 20000 do rows[i] = 'u' .. i .. '@x.test,\"Lee, \"\"' .. i .. '\"\"\",r' end "
			  "local t = csv.decode('email,name,role\\r\\n' .. table.concat(rows, '\\r\\n')) "
			  "return #t .. ' ' .. t[20000].email .. ' ' .. t[20000].name .. ' ' .. t[1].role"),
		      "20000 u20000@x.test Lee, \"20000\" r");
	script_host_release(&host);
}

int main(void)
{
	TEST_RUN(test_url_encode_decode);
	TEST_RUN(test_url_build);
	TEST_RUN(test_text_trim);
	TEST_RUN(test_text_split);
	TEST_RUN(test_csv_decode);
	TEST_RUN(test_csv_errors);
	TEST_RUN(test_csv_respects_the_deadline);
	TEST_RUN(test_csv_big_export);
	return TEST_REPORT();
}
