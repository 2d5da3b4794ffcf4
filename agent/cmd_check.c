/*
 * idlcm-agent check <script>: what can be known about an app script with
 * no browser.  It loads the script in the job sandbox (syntax errors and
 * top-level runtime errors, with their line), checks the app table against
 * the contract, and scans the source (agent/lua/check.lua) for page and
 * locator methods that do not exist.  Exit 0 clean, 1 problems, 2 usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "cli.h"
#include "embedded.h"
#include "log.h"
#include "luajson.h"
#include "script.h"

#define CHECK_MAX_BYTES (4u << 20)
#define CHECK_STEP_MS 5000	/* deadline of each step: load, contract, scan */

struct problems {
	int n;
	const char *path;
};

static void say(struct problems *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct problems *p, int line, const char *fmt, ...)
{
	va_list ap;
	if (line > 0)
		printf("%s:%d: ", p->path, line);
	else
		printf("%s: ", p->path);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	p->n++;
}

/* "path:12: msg" from Lua → line 12, msg. */
static int split_lua_message(const char *path, const char *msg, const char **rest)
{
	size_t n = strlen(path);
	char *end;
	long line;

	*rest = msg;
	if (strncmp(msg, path, n) || msg[n] != ':')
		return 0;
	line = strtol(msg + n + 1, &end, 10);
	if (end == msg + n + 1 || *end != ':')
		return 0;
	*rest = end + 1 + (end[1] == ' ');
	return (int)line;
}

/* Run the static scan (check.lua) with the method lists from the prelude. */
static int static_scan(struct script_host *h, const char *src, size_t n,
		       struct problems *p)
{
	lua_State *L = h->L;
	const struct embedded_file *f = embedded_find("check.lua");
	struct script_error e;
	int base;

	if (!f) {
		fprintf(stderr, "idlcm-agent: check.lua is missing from this build\n");
		return -1;
	}
	if (h->poisoned)	/* the script's state was cut off: nothing to scan with */
		return 0;
	base = lua_gettop(L);
	script_host_set_deadline(h, CHECK_STEP_MS);
	if (luaL_loadbufferx(L, f->data, f->len, "=check.lua", "t") != LUA_OK) {
		fprintf(stderr, "idlcm-agent: check: %s\n", lua_tostring(L, -1));
		lua_settop(L, base);
		return -1;
	}
	/* The prelude's private host table, as every prelude module gets it. */
	lua_getfield(L, LUA_REGISTRYINDEX, "idlcm.host");
	if (script_host_pcall(h, 1, 1, &e))
		goto lua_fail;
	lua_getfield(L, -1, "scan");
	lua_pushlstring(L, src, n);
	lua_getfield(L, LUA_REGISTRYINDEX, "idlcm.host");
	lua_getfield(L, -1, "modules");
	lua_getfield(L, -1, "steps");
	lua_getfield(L, -1, "methods");
	lua_remove(L, -2);
	lua_remove(L, -2);
	lua_remove(L, -2);
	if (script_host_pcall(h, 0, 1, &e))	/* steps.methods() */
		goto lua_fail;
	if (script_host_pcall(h, 2, 1, &e))	/* check.scan(src, methods) */
		goto lua_fail;
	for (lua_Integer i = 1;; i++) {
		int line;
		lua_rawgeti(L, -1, i);
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		lua_getfield(L, -1, "line");
		lua_getfield(L, -2, "message");
		line = (int)lua_tointeger(L, -2);
		say(p, line, "%s", lua_tostring(L, -1));
		lua_pop(L, 3);
	}
	lua_settop(L, base);
	return 0;
lua_fail:
	fprintf(stderr, "idlcm-agent: check: %s\n", e.message);
	script_error_release(&e);
	if (!h->poisoned)
		lua_settop(L, base);
	return -1;
}

static const char *required[] = { "login", "list_users", "invite", "update",
				   "remove", NULL };
static const char *optional[] = { "find_user", "validate", NULL };

/* Under pcall: app (arg 1) → {field = type name, ..., name = bool}.  The
 * app table's own __index may raise or loop; our table is plain. */
static int contract_probe(lua_State *L)
{
	lua_newtable(L);
	for (int pass = 0; pass < 2; pass++) {
		const char **names = pass ? optional : required;
		for (int i = 0; names[i]; i++) {
			lua_getfield(L, 1, names[i]);
			lua_pushstring(L, luaL_typename(L, -1));
			lua_setfield(L, 2, names[i]);
			lua_pop(L, 1);
		}
	}
	lua_getfield(L, 1, "name");
	lua_pushboolean(L, lua_type(L, -1) == LUA_TSTRING);
	lua_setfield(L, 2, "name");
	lua_pop(L, 1);
	return 1;
}

static int type_of(const char *name)
{
	static const int types[] = { LUA_TNIL, LUA_TBOOLEAN, LUA_TLIGHTUSERDATA,
				     LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TFUNCTION,
				     LUA_TUSERDATA, LUA_TTHREAD };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(lua_typename(NULL, types[i]), name))
			return types[i];
	return LUA_TNIL;
}

/* Which contract functions the app table has; say what is missing. */
static void contract(struct script_host *h, struct problems *p, char *have, size_t n)
{
	lua_State *L = h->L;
	struct script_error e;

	have[0] = '\0';
	script_host_set_deadline(h, CHECK_STEP_MS);
	lua_pushcfunction(L, contract_probe);
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->app_ref);
	if (script_host_pcall(h, 1, 1, &e)) {
		if (e.where[0])
			printf("%s: error while reading the app table: %s\n", e.where,
			       e.message), p->n++;
		else
			say(p, 0, "error while reading the app table: %s", e.message);
		script_error_release(&e);
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		const char **names = pass ? optional : required;
		for (int i = 0; names[i]; i++) {
			int t;
			lua_getfield(L, -1, names[i]);
			t = type_of(lua_tostring(L, -1));
			lua_pop(L, 1);
			if (t == LUA_TFUNCTION) {
				snprintf(have + strlen(have), n - strlen(have), "%s%s",
					 have[0] ? ", " : "", names[i]);
			} else if (t != LUA_TNIL) {
				say(p, 0, "app.%s must be a function (it is a %s)", names[i],
				    lua_typename(L, t));
			} else if (!pass) {
				say(p, 0, "missing contract function app.%s(page, %s)", names[i],
				    !strcmp(names[i], "login") ? "account" :
				    !strcmp(names[i], "list_users") ? "…" : "user");
			}
		}
	}
	lua_getfield(L, -1, "name");
	if (!lua_toboolean(L, -1))
		printf("%s: note: app.name is not set (messages use it)\n", p->path);
	lua_pop(L, 2);
}

int cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	struct script_host h;
	struct script_error e = { .traceback = NULL };
	struct problems p = { 0, NULL };
	char err[512], have[200] = "";
	char *src;
	size_t n;
	FILE *f;
	int loaded;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			cli_usage_error("check: unknown option \"%s\"", argv[i]);
		if (path)
			cli_usage_error("check: one script at a time (\"%s\")", argv[i]);
		path = argv[i];
	}
	if (!path)
		cli_usage_error("usage: idlcm-agent check <script>");
	p.path = path;
	f = fopen(path, "rb");
	if (!f)
		cli_usage_error("cannot read script %s: %s", path, strerror(errno));
	src = malloc(CHECK_MAX_BYTES + 1);
	n = src ? fread(src, 1, CHECK_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!src || n > CHECK_MAX_BYTES) {
		free(src);
		cli_usage_error("script %s is larger than %u bytes", path, CHECK_MAX_BYTES);
	}
	src[n] = '\0';

	if (script_host_init(&h, NULL, err, sizeof(err))) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		script_host_release(&h);
		free(src);
		return EXIT_USAGE;
	}
	/* Every step has a deadline: a script's top level, its app table's
	 * metamethods and its __gc finalizers (at release) can all loop. */
	script_host_set_deadline(&h, CHECK_STEP_MS);
	loaded = !script_host_load_app(&h, path, &e);
	if (!loaded) {
		const char *rest;
		int line = split_lua_message(path, e.message, &rest);
		if (!strcmp(e.kind, "syntax"))
			say(&p, line, "syntax error: %s", rest);
		else if (!strcmp(e.kind, "contract"))
			say(&p, 0, "%s", e.message);
		else if (line)
			say(&p, line, "error while loading: %s", rest);
		else if (e.where[0])
			printf("%s: error while loading: %s\n", e.where, e.message), p.n++;
		else
			say(&p, 0, "error while loading: %s", e.message);
	} else {
		contract(&h, &p, have, sizeof(have));
	}
	if (static_scan(&h, src, n, &p)) {
		script_error_release(&e);
		script_host_release(&h);
		free(src);
		return EXIT_USAGE;
	}
	if (p.n)
		printf("check: %d problem%s in %s\n", p.n, p.n == 1 ? "" : "s", path);
	else
		printf("ok: %s (%s)\n", path, have);
	script_error_release(&e);
	script_host_release(&h);
	free(src);
	return p.n ? EXIT_JOB_FAILED : 0;
}
