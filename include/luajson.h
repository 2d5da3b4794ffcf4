#ifndef IDLCM_LUAJSON_H
#define IDLCM_LUAJSON_H
/*
 * luajson: JSON values <-> Lua values.  Objects and arrays become tables;
 * null becomes nil inside objects (the key is absent) and json.null inside
 * arrays (positions keep).  A table encodes as an array when it is marked
 * with json.array() or its keys are exactly 1..n (n > 0); else an object.
 */
#include <lua.h>
#include <cjson/cJSON.h>

#define LUAJSON_MAX_DEPTH 200
#define LUAJSON_MAX_VALUES 2000000	/* per conversion */

/* Push j onto the stack. */
void luajson_push(lua_State *L, const cJSON *j);
/* Convert the value at idx; NULL with err on a cycle, a function, a
 * non-finite number, a non-string key or more than LUAJSON_MAX_VALUES values. */
cJSON *luajson_to_json(lua_State *L, int idx, char *err, size_t errlen);
/* The json.null sentinel and the array marker's metatable, installed as
 * the global table `json` with encode, decode, null, array. */
int luaopen_json(lua_State *L);
void luajson_push_null(lua_State *L);
int luajson_is_null(lua_State *L, int idx);
#endif
