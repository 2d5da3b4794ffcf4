/*
 * The network and files page API's pure parts (issue 12 points 2 and 3):
 * URL patterns of wait_for_response, credentials in Network events made
 * secrets, folders of a run aliased in cassettes, and the replay of a
 * downloaded file from its cassette's "data" record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "cassette.h"
#include "cdp.h"
#include "log.h"
#include "script.h"
#include "test.h"

static struct script_host host;

/* network.matcher(pattern, "t")(url) from the prelude, as "1"/"0"/"ERR:…" */
static const char *matches(const char *pattern, const char *url)
{
	static char out[600];
	lua_State *L = host.L;

	lua_getfield(L, LUA_REGISTRYINDEX, "idlcm.host");
	lua_getfield(L, -1, "modules");
	lua_getfield(L, -1, "network");
	lua_getfield(L, -1, "matcher");
	lua_pushstring(L, pattern);
	lua_pushliteral(L, "t");
	if (lua_pcall(L, 2, 1, 0)) {
		snprintf(out, sizeof(out), "ERR:%s", luaL_tolstring(L, -1, NULL));
		lua_settop(L, 0);
		return out;
	}
	lua_pushstring(L, url);
	if (lua_pcall(L, 1, 1, 0)) {
		snprintf(out, sizeof(out), "ERR:%s", luaL_tolstring(L, -1, NULL));
		lua_settop(L, 0);
		return out;
	}
	snprintf(out, sizeof(out), "%d", lua_toboolean(L, -1));
	lua_settop(L, 0);
	return out;
}

static void test_url_patterns(void)
{
	char err[256];
	const char *u = "http://127.0.0.1:4242/ledger/api/users?page=2";

	if (script_host_init(&host, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	/* globs: ** crosses "/", * does not, ? . + are literal */
	ASSERT_STR_EQ(matches("**/api/users*", u), "1");
	ASSERT_STR_EQ(matches("**/api/users", u), "0");		/* the query is part of it */
	ASSERT_STR_EQ(matches("**/api/users?page=*", u), "1");
	ASSERT_STR_EQ(matches("http://127.0.0.1:4242/*/api/users*", u), "1");
	ASSERT_STR_EQ(matches("http://127.0.0.1:4242/*/users*", u), "0");
	ASSERT_STR_EQ(matches("**/api/users?page=*", "http://x/api/usersXpage=2"), "0");
	ASSERT_STR_EQ(matches("http://127?0?0?1:4242/**", u), "0");
	/* Lua patterns start with ^; anything else is the exact URL */
	ASSERT_STR_EQ(matches("^http://[%d.]+:%d+/ledger/api/users%?page=%d+$", u), "1");
	ASSERT_STR_EQ(matches(u, u), "1");
	ASSERT_STR_EQ(matches("http://127.0.0.1:4242/ledger/api/users", u), "0");
	ASSERT_STR_CONTAINS(matches("^[", u), "ERR:t: bad Lua pattern");
	ASSERT_STR_CONTAINS(matches("", u), "t wants a URL pattern");
	script_host_release(&host);
}

static cJSON *parse(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	if (!j)
		TEST_FAIL_("bad JSON in the test: %s", s);
	return j;
}

static void test_credentials_become_secrets(void)
{
	cJSON *p;

	secret_clear_all();
	p = parse("{\"headers\":{\"Cookie\":\"fx_app=tok-aaaa1111; theme=darkmode\","
		  "\"Accept\":\"plainvalue\"}}");
	cdp_scrub_network("Network.requestWillBeSentExtraInfo", p);
	cJSON_Delete(p);
	ASSERT(secret_present("x tok-aaaa1111 x", 16));
	ASSERT(secret_present("darkmode", 8));
	ASSERT(!secret_present("plainvalue", 10));
	/* short values are preferences, not credentials */
	p = parse("{\"headers\":{\"cookie\":\"theme=dark; lang=en-GB1\"}}");
	cdp_scrub_network("Network.requestWillBeSentExtraInfo", p);
	cJSON_Delete(p);
	ASSERT(!secret_present("dark", 4));
	ASSERT(!secret_present("en-GB1", 6));

	p = parse("{\"headersText\":\"HTTP/1.1 200 OK\\r\\nSet-Cookie: sid=zz-bbbb2222; Path=/; "
		  "HttpOnly\\r\\nContent-Type: text/html\\r\\n\\r\\n\"}");
	cdp_scrub_network("Network.responseReceivedExtraInfo", p);
	cJSON_Delete(p);
	ASSERT(secret_present("zz-bbbb2222", 11));
	ASSERT(!secret_present("HttpOnly", 8));

	p = parse("{\"request\":{\"headers\":{\"authorization\":\"Bearer eyJ-cccc3333\"}},"
		  "\"associatedCookies\":[{\"cookie\":{\"name\":\"a\",\"value\":\"dddd4444\"}}]}");
	cdp_scrub_network("Network.requestWillBeSent", p);
	cJSON_Delete(p);
	ASSERT(secret_present("eyJ-cccc3333", 12));
	ASSERT(secret_present("dddd4444", 8));

	/* other domains are left alone */
	p = parse("{\"headers\":{\"Cookie\":\"k=eeee5555\"}}");
	cdp_scrub_network("Page.frameNavigated", p);
	cJSON_Delete(p);
	ASSERT(!secret_present("eeee5555", 8));
	secret_clear_all();
}

static void test_run_folders_are_aliased(void)
{
	cJSON *j = parse("{\"downloadPath\":\"/tmp/r1/downloads\",\"files\":[\"/tmp/r1/downloads/x.csv\","
			 "\"/tmp/r1/downloadsX/y\",\"/tmp/files/a.csv\",\"rel/tmp/r1/downloads\"]}");
	char *s;

	cassette_path_alias("/tmp/r1/downloads", "downloads");
	cassette_path_alias("/tmp/files", "files");
	cassette_canonical(j, 1);
	s = cJSON_PrintUnformatted(j);
	ASSERT_STR_EQ(s, "{\"downloadPath\":\"{{downloads}}\",\"files\":[\"{{downloads}}/x.csv\","
		      "\"/tmp/r1/downloadsX/y\",\"{{files}}/a.csv\",\"rel/tmp/r1/downloads\"]}");
	free(s);
	cJSON_Delete(j);
}

static void test_download_replays_from_its_record(void)
{
	static const char cas[] =
		"{\"cassette\":1}\n"
		"{\"t\":1,\"dir\":\"send\",\"id\":1,\"method\":\"Page.enable\"}\n"
		"{\"t\":2,\"dir\":\"recv\",\"id\":1,\"result\":{}}\n"
		"{\"t\":3,\"dir\":\"data\",\"name\":\"download:a.csv\",\"text\":\"id,name\\r\\n1,\\\"Lee, Ann\\\"\\r\\n\"}\n"
		"{\"t\":4,\"dir\":\"clock\"}\n"
		"{\"t\":9,\"dir\":\"end\",\"outcome\":{\"exit\":0}}\n";
	char err[300];
	struct cdp_transport *t = cdp_replay_open_mem(cas, sizeof(cas) - 1, "mem", err, sizeof(err));
	struct cdp *c;
	char *text;
	size_t n = 0;
	cJSON *res = NULL;
	struct cdp_error ce;

	ASSERT(t != NULL);
	c = cdp_new(t);
	ASSERT_INT_EQ(cdp_call(c, NULL, "Page.enable", NULL, 1000, &res, &ce), 0);
	cJSON_Delete(res);
	ASSERT(cdp_host_data(c, "download:b.csv", NULL, 0, &n) == NULL);
	text = cdp_host_data(c, "download:a.csv", "ignored", 7, &n);
	ASSERT_STR_EQ(text, "id,name\r\n1,\"Lee, Ann\"\r\n");
	ASSERT_INT_EQ(n, strlen(text));
	free(text);
	/* handed out once; the clock read after it still replays */
	ASSERT(cdp_host_data(c, "download:a.csv", NULL, 0, &n) == NULL);
	ASSERT_INT_EQ(cdp_script_now(c), 4);
	cdp_free(c);
}

/* A browser that answers every command with a 300 KiB string. */
struct big_tr {
	struct cdp_transport base;
	int pending[8], n;
	int64_t now;
};

static int big_send(struct cdp_transport *b, const char *msg, size_t len, char *err, size_t el)
{
	struct big_tr *t = (struct big_tr *)b;
	cJSON *m = cJSON_ParseWithLength(msg, len);
	(void)err;
	(void)el;
	t->pending[t->n++] = cJSON_GetObjectItem(m, "id")->valueint;
	cJSON_Delete(m);
	return 0;
}

static int big_recv(struct cdp_transport *b, char **msg, size_t *len, int ms, char *err, size_t el)
{
	struct big_tr *t = (struct big_tr *)b;
	size_t big = 300u << 10;
	(void)ms;
	(void)err;
	(void)el;
	if (!t->n)
		return 0;
	*msg = malloc(big + 100);
	memcpy(*msg, "{\"id\":", 6);
	*len = 6 + (size_t)sprintf(*msg + 6, "%d,\"result\":{\"body\":\"", t->pending[--t->n]);
	memset(*msg + *len, 'x', big);
	*len += big;
	memcpy(*msg + *len, "\"}}", 4);
	*len += 3;
	t->now++;
	return 1;
}

static int64_t big_now(struct cdp_transport *b) { return ((struct big_tr *)b)->now; }
static void big_free(struct cdp_transport *b) { free(b); }

static const struct cdp_transport_ops big_ops = {
	"big", big_send, big_recv, big_now, big_free, NULL, NULL, NULL
};

static void test_bodies_are_kept_whole_in_cassettes(void)
{
	struct big_tr *inner = calloc(1, sizeof(*inner));
	struct cdp *c;
	cJSON *res = NULL, *p;
	struct cdp_error ce;
	char err[300], path[] = "/tmp/idlcm-test-network-XXXXXX", *text;
	FILE *f;
	long size;
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	close(fd);
	inner->base.ops = &big_ops;
	c = cdp_new(cdp_record_wrap(&inner->base));
	/* a plain evaluate: its big reply is elided */
	p = cJSON_Parse("{\"expression\":\"x\"}");
	ASSERT_INT_EQ(cdp_call(c, "S", "Runtime.evaluate", p, 1000, &res, &ce), 0);
	cJSON_Delete(res);
	/* a body: getResponseBody, and page:request's evaluate */
	p = cJSON_Parse("{\"requestId\":\"1\"}");
	ASSERT_INT_EQ(cdp_call(c, "S", "Network.getResponseBody", p, 1000, &res, &ce), 0);
	cJSON_Delete(res);
	p = cJSON_Parse("{\"expression\":\"y\",\"objectGroup\":\"" CASSETTE_BODY_GROUP "\"}");
	ASSERT_INT_EQ(cdp_call(c, "S", "Runtime.evaluate", p, 1000, &res, &ce), 0);
	cJSON_Delete(res);
	ASSERT_INT_EQ(cdp_record_save(c->tr, path, NULL, NULL, err, sizeof(err)), 0);
	cdp_free(c);
	f = fopen(path, "rb");
	ASSERT(f != NULL);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = malloc((size_t)size + 1);
	ASSERT_INT_EQ(fread(text, 1, (size_t)size, f), size);
	text[size] = '\0';
	fclose(f);
	remove(path);
	ASSERT_STR_CONTAINS(text, "{{elided: 307200 bytes}}");
	/* two whole bodies: the elided one plus 2 × 300 KiB */
	ASSERT(size > 2 * (300 << 10));
	ASSERT(size < 3 * (300 << 10));
	free(text);
}

int main(void)
{
	TEST_RUN(test_url_patterns);
	TEST_RUN(test_credentials_become_secrets);
	TEST_RUN(test_run_folders_are_aliased);
	TEST_RUN(test_download_replays_from_its_record);
	TEST_RUN(test_bodies_are_kept_whole_in_cassettes);
	return TEST_REPORT();
}
