/*
 * Fuzz target: JSON from outside (CDP results, job payloads, --user) into
 * Lua and back.  Whatever parses must survive the round trip: the JSON that
 * comes back equals the input with object nulls dropped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "luajson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as luajson sees it: nulls inside objects vanish. */
static void drop_object_nulls(cJSON *j)
{
	cJSON *c = j ? j->child : NULL;
	while (c) {
		cJSON *next = c->next;
		if (cJSON_IsObject(j) && cJSON_IsNull(c))
			cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
		else
			drop_object_nulls(c);
		c = next;
	}
}

static int depth_of(const cJSON *j)
{
	int d = 0;
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
		int cd = depth_of(c);
		if (cd > d)
			d = cd;
	}
	return j ? d + 1 : 0;
}

/* Does this value survive as itself?  Empty objects and arrays are
 * ambiguous in Lua, {"1": …}-style keys read back as arrays, and a key
 * given twice can only be held once. */
static int comparable(const cJSON *j)
{
	if ((cJSON_IsObject(j) || cJSON_IsArray(j)) && !j->child)
		return 0;
	for (const cJSON *c = j->child; c; c = c->next) {
		if (cJSON_IsObject(j))
			for (const cJSON *o = c->next; o; o = o->next)
				if (c->string && o->string && !strcmp(c->string, o->string))
					return 0;
		if (cJSON_IsObject(j) && c->string && c->string[0] >= '0' && c->string[0] <= '9')
			return 0;
		if (cJSON_IsArray(j) && cJSON_IsNull(c))
			continue;
		if (!comparable(c))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *in = cJSON_ParseWithLength((const char *)data, size), *out;
	lua_State *L;
	char err[200];

	if (!in)
		return 0;
	if (depth_of(in) > LUAJSON_MAX_DEPTH - 2) {
		cJSON_Delete(in);
		return 0;
	}
	L = luaL_newstate();
	luajson_push(L, in);
	out = luajson_to_json(L, -1, err, sizeof(err));
	drop_object_nulls(in);
	if (out && comparable(in) && !cJSON_Compare(in, out, 1)) {
		/* numbers may lose precision through doubles both ways: only a
		 * structural difference is a bug */
		char *a = cJSON_PrintUnformatted(in), *b = cJSON_PrintUnformatted(out);
		int same = a && b && strlen(a) == strlen(b);
		free(a);
		free(b);
		if (!same)
			abort();
	}
	cJSON_Delete(out);
	cJSON_Delete(in);
	lua_close(L);
	return 0;
}
