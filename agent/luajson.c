/*
 * luajson: the one place where JSON and Lua values meet — CDP results,
 * job payloads and script data all cross here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "luajson.h"

static const char ARRAY_MT[] = "idlcm.json.array";
/* json.null is a light userdata whose address is this byte. */
static const char null_tag = 0;

void luajson_push_null(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&null_tag);
}

int luajson_is_null(lua_State *L, int idx)
{
	return lua_islightuserdata(L, idx) &&
	       lua_touserdata(L, idx) == (void *)&null_tag;
}

static void push_array_mt(lua_State *L)
{
	if (luaL_newmetatable(L, ARRAY_MT)) {
		lua_pushliteral(L, "array");
		lua_setfield(L, -2, "__jsontype");
	}
}

static void push_value(lua_State *L, const cJSON *j, int depth)
{
	const cJSON *c;
	lua_Integer n = 1;

	luaL_checkstack(L, 4, "json too deep");
	if (depth > LUAJSON_MAX_DEPTH) {
		lua_pushnil(L);
		return;
	}
	if (cJSON_IsString(j)) {
		lua_pushstring(L, j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			lua_pushinteger(L, (lua_Integer)d);
		else
			lua_pushnumber(L, d);
	} else if (cJSON_IsBool(j)) {
		lua_pushboolean(L, cJSON_IsTrue(j));
	} else if (cJSON_IsArray(j)) {
		lua_createtable(L, cJSON_GetArraySize(j), 0);
		cJSON_ArrayForEach(c, j) {
			if (cJSON_IsNull(c))
				luajson_push_null(L);
			else
				push_value(L, c, depth + 1);
			lua_rawseti(L, -2, n++);
		}
		push_array_mt(L);
		lua_setmetatable(L, -2);
	} else if (cJSON_IsObject(j)) {
		lua_createtable(L, 0, 4);
		cJSON_ArrayForEach(c, j) {
			if (cJSON_IsNull(c) || !c->string)
				continue;
			push_value(L, c, depth + 1);
			lua_setfield(L, -2, c->string);
		}
	} else {
		lua_pushnil(L);
	}
}

void luajson_push(lua_State *L, const cJSON *j)
{
	if (!j)
		lua_pushnil(L);
	else
		push_value(L, j, 0);
}

/* Is the table at idx an array: marked, or keys exactly 1..n with n > 0? */
static int table_is_array(lua_State *L, int idx, lua_Integer *len)
{
	lua_Integer count = 0, max = 0;

	if (lua_getmetatable(L, idx)) {
		int marked;
		lua_getfield(L, -1, "__jsontype");
		marked = lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "array");
		lua_pop(L, 2);
		if (marked) {
			*len = (lua_Integer)lua_rawlen(L, idx);
			return 1;
		}
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TNUMBER || !lua_isinteger(L, -1) ||
		    lua_tointeger(L, -1) < 1) {
			lua_pop(L, 1);
			return 0;
		}
		count++;
		if (lua_tointeger(L, -1) > max)
			max = lua_tointeger(L, -1);
	}
	*len = max;
	return count > 0 && count == max;
}

static cJSON *to_json(lua_State *L, int idx, int depth, long *budget, char *err,
		      size_t errlen)
{
	cJSON *out = NULL;
	lua_Integer len;

	idx = lua_absindex(L, idx);
	/* A table referenced twice is encoded twice: 100 levels of {a=t, b=t}
	 * would be 2^100 values, in C, where no deadline reaches. */
	if (--*budget < 0) {
		snprintf(err, errlen, "json: more than %d values (a table shared many times?)",
			 LUAJSON_MAX_VALUES);
		return NULL;
	}
	if (depth > LUAJSON_MAX_DEPTH) {
		snprintf(err, errlen, "json: nesting deeper than %d (a cycle?)",
			 LUAJSON_MAX_DEPTH);
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return cJSON_CreateNull();
	case LUA_TBOOLEAN:
		return cJSON_CreateBool(lua_toboolean(L, idx));
	case LUA_TNUMBER: {
		double d = lua_tonumber(L, idx);
		if (!isfinite(d)) {
			snprintf(err, errlen, "json: cannot encode %s",
				 isnan(d) ? "NaN" : "infinity");
			return NULL;
		}
		return cJSON_CreateNumber(d);
	}
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		if (strlen(s) != n) {
			snprintf(err, errlen, "json: cannot encode a string with a NUL byte");
			return NULL;
		}
		return cJSON_CreateString(s);
	}
	case LUA_TLIGHTUSERDATA:
		if (luajson_is_null(L, idx))
			return cJSON_CreateNull();
		break;
	case LUA_TTABLE:
		luaL_checkstack(L, 6, "json too deep");
		if (table_is_array(L, idx, &len)) {
			out = cJSON_CreateArray();
			for (lua_Integer i = 1; out && i <= len; i++) {
				cJSON *item;
				lua_rawgeti(L, idx, i);
				item = to_json(L, -1, depth + 1, budget, err, errlen);
				lua_pop(L, 1);
				if (!item) {
					cJSON_Delete(out);
					return NULL;
				}
				cJSON_AddItemToArray(out, item);
			}
			return out;
		}
		out = cJSON_CreateObject();
		lua_pushnil(L);
		while (out && lua_next(L, idx)) {
			cJSON *item;
			char key[64];
			const char *k;
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2)) {
				snprintf(key, sizeof(key), "%lld",
					 (long long)lua_tointeger(L, -2));
				k = key;
			} else {
				snprintf(err, errlen, "json: object keys must be strings, not %s",
					 luaL_typename(L, -2));
				lua_pop(L, 2);
				cJSON_Delete(out);
				return NULL;
			}
			item = to_json(L, -1, depth + 1, budget, err, errlen);
			if (!item) {
				lua_pop(L, 2);
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToObject(out, k, item);
			lua_pop(L, 1);
		}
		return out;
	default:
		break;
	}
	snprintf(err, errlen, "json: cannot encode a %s", luaL_typename(L, idx));
	return NULL;
}

cJSON *luajson_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
	long budget = LUAJSON_MAX_VALUES;
	return to_json(L, idx, 0, &budget, err, errlen);
}

static int l_encode(lua_State *L)
{
	char err[200];
	cJSON *j;
	char *s;

	luaL_checkany(L, 1);
	j = luajson_to_json(L, 1, err, sizeof(err));
	if (!j)
		return luaL_error(L, "%s", err);
	s = lua_toboolean(L, 2) ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		return luaL_error(L, "json: out of memory");
	lua_pushstring(L, s);
	free(s);
	return 1;
}

static int l_decode(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);

	if (!j) {
		size_t at = end && end >= s ? (size_t)(end - s) : 0;
		return luaL_error(L, "json: invalid JSON at byte %d", (int)at + 1);
	}
	luajson_push(L, j);
	cJSON_Delete(j);
	return 1;
}

static int l_array(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	push_array_mt(L);
	lua_setmetatable(L, 1);
	return 1;
}

int luaopen_json(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "encode", l_encode }, { "decode", l_decode },
		{ "array", l_array }, { NULL, NULL }
	};
	luaL_newlib(L, fns);
	luajson_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
