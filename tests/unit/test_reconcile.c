/*
 * reconcile unit tests: agent/lua/job.lua's M.reconcile, the heart of a
 * sync — matching on email or username in any case, unmatched, exempted
 * (by list or by field), deleted, and the summary the safeguard reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "luajson.h"
#include "script.h"
#include "test.h"

/* job.reconcile(app_users, expected, exempt) → {users=, summary=} as JSON. */
static cJSON *reconcile(const char *app_users, const char *expected, const char *exempt)
{
	struct script_host h;
	char err[256];
	cJSON *a = cJSON_Parse(app_users), *e = cJSON_Parse(expected), *x = cJSON_Parse(exempt);
	cJSON *out = NULL;
	lua_State *L;

	if (script_host_init(&h, NULL, err, sizeof(err)))
		TEST_FAIL_("init: %s", err);
	L = h.L;
	lua_getfield(L, LUA_REGISTRYINDEX, "idlcm.host");
	lua_getfield(L, -1, "modules");
	lua_getfield(L, -1, "job");
	lua_getfield(L, -1, "reconcile");
	luajson_push(L, a);
	luajson_push(L, e);
	luajson_push(L, x);
	if (lua_pcall(L, 3, 2, 0))
		TEST_FAIL_("reconcile: %s", lua_tostring(L, -1));
	lua_createtable(L, 0, 2);
	lua_insert(L, -3);
	lua_setfield(L, -3, "summary");
	lua_setfield(L, -2, "users");
	out = luajson_to_json(L, -1, err, sizeof(err));
	script_host_release(&h);
	cJSON_Delete(a);
	cJSON_Delete(e);
	cJSON_Delete(x);
	return out;
}

static const char *state_of(cJSON *r, const char *email)
{
	cJSON *u;
	cJSON_ArrayForEach(u, cJSON_GetObjectItem(r, "users")) {
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(u, "email"));
		if (e && !strcmp(e, email))
			return cJSON_GetStringValue(cJSON_GetObjectItem(u, "state"));
	}
	return "(absent)";
}

static int summary(cJSON *r, const char *k)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(r, "summary"), k)->valueint;
}

static void test_every_state(void)
{
	cJSON *r = reconcile(
		"[{\"email\":\"Ann@X.test\",\"roles\":[\"a\"],\"active\":true},"
		" {\"email\":\"bo@x.test\",\"invite\":\"pending\"},"
		" {\"email\":\"cy@x.test\",\"invite\":\"expired\"},"
		" {\"email\":\"dee@x.test\",\"username\":\"dee\"},"
		" {\"email\":\"ed@x.test\"},"
		" {\"email\":\"fi@x.test\",\"login_method\":\"pending_user_login\"},"
		" {\"email\":\"admin@x.test\"}]",
		"[{\"id\":\"1\",\"email\":\"ann@x.test\"},{\"id\":\"2\",\"email\":\"bo@x.test\"},"
		" {\"id\":\"3\",\"email\":\"cy@x.test\"},{\"id\":\"4\",\"username\":\"DEE\"},"
		" {\"id\":\"6\",\"email\":\"fi@x.test\"},"
		" {\"id\":\"9\",\"email\":\"gone@x.test\"},"
		" {\"id\":\"10\",\"email\":\"svc@x.test\",\"exempt\":true}]",
		"[\"ADMIN@x.test\"]");
	ASSERT(r);
	ASSERT_STR_EQ(state_of(r, "Ann@X.test"), "onboarded");
	ASSERT_STR_EQ(state_of(r, "bo@x.test"), "pending_user_claim");
	ASSERT_STR_EQ(state_of(r, "cy@x.test"), "invite_expired");
	ASSERT_STR_EQ(state_of(r, "dee@x.test"), "onboarded");	/* by username */
	ASSERT_STR_EQ(state_of(r, "ed@x.test"), "unmatched");
	ASSERT_STR_EQ(state_of(r, "fi@x.test"), "pending_user_login");
	ASSERT_STR_EQ(state_of(r, "admin@x.test"), "exempted");
	ASSERT_STR_EQ(state_of(r, "gone@x.test"), "deleted");
	ASSERT_STR_EQ(state_of(r, "svc@x.test"), "(absent)");	/* exempt: never deleted */
	ASSERT_INT_EQ(summary(r, "app_users"), 7);
	ASSERT_INT_EQ(summary(r, "matched"), 5);
	ASSERT_INT_EQ(summary(r, "unmatched"), 1);
	ASSERT_INT_EQ(summary(r, "exempted"), 1);
	ASSERT_INT_EQ(summary(r, "deleted"), 1);
	ASSERT_INT_EQ(summary(r, "managed"), 6);
	{
		cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "users"), 0);
		ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(u, "upstream_id")), "1");
		ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(u, "matched")), "ann@x.test");
	}
	cJSON_Delete(r);
}

/* One IdP user matches one app user, even when two app users share it. */
static void test_one_match_each(void)
{
	cJSON *r = reconcile("[{\"email\":\"a@x.test\"},{\"username\":\"a@x.test\"}]",
			     "[{\"email\":\"a@x.test\"}]", "[]");
	ASSERT(r);
	ASSERT_INT_EQ(summary(r, "matched"), 1);
	ASSERT_INT_EQ(summary(r, "unmatched"), 1);
	cJSON_Delete(r);
}

static void test_empty_app_deletes_everyone(void)
{
	cJSON *r = reconcile("[]", "[{\"email\":\"a@x.test\"},{\"email\":\"b@x.test\"}]", "[]");
	ASSERT(r);
	ASSERT_INT_EQ(summary(r, "deleted"), 2);
	ASSERT_INT_EQ(summary(r, "managed"), 2);	/* 100%: the safeguard's case */
	cJSON_Delete(r);
}

int main(void)
{
	TEST_RUN(test_every_state);
	TEST_RUN(test_one_match_each);
	TEST_RUN(test_empty_app_deletes_everyone);
	return TEST_REPORT();
}
