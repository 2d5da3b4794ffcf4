/*
 * script: the Lua side of a job.  C stays thin — send a CDP command, wait
 * for an event, sleep, encode JSON, log — and the page API is Lua (the
 * prelude in agent/lua/, compiled into the binary).  The sandbox follows
 * redis's script_lua.c: safe libraries only, no bytecode, and a count hook
 * that ends runaway loops; every wait in C honours the same deadline.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cassette.h"
#include "confine.h"
#include "base64.h"
#include "embedded.h"
#include "job.h"
#include "log.h"
#include "luajson.h"
#include "script.h"
#include "totp.h"

#define SCRIPT_MAX_BYTES (4u << 20)
#define DEFAULT_MEM_LIMIT ((size_t)512 << 20)
#define HOOK_EVERY 1000		/* instructions between deadline checks */
#define DEADLINE_GRACE_MS 2000	/* to report a deadline failure */
#define CLOSE_BUDGET_MS 1000	/* for __gc finalizers when the state closes */
#define CUT_SIGNAL SIGVTALRM	/* the deadline timer's signal (unused elsewhere) */

static const char ERROR_MT[] = "idlcm.error";
static const char HOST_KEY[] = "idlcm.host";	/* registry: private host table */
static const char *prelude_modules[] = { "prelude.lua", "helpers.lua", "page.lua", "locators.lua",
						 "network.lua", "files.lua", "steps.lua", "job.lua", NULL };

const struct embedded_file *embedded_find(const char *name)
{
	for (const struct embedded_file *f = embedded_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

void script_error_release(struct script_error *e)
{
	free(e->traceback);
	e->traceback = NULL;
}

static struct script_host *host_of(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ud;
}

int64_t script_host_now(struct script_host *h)
{
	return h->cdp ? cdp_now(h->cdp) : cdp_wall_ms();
}

/* ---- errors: tables with kind/message (and more), printable */

static int error_tostring(lua_State *L)
{
	lua_getfield(L, 1, "message");
	if (!lua_isstring(L, -1))
		lua_pushliteral(L, "error");
	return 1;
}

/* Push a new error table {kind=kind, message=msg}. */
static void push_error(lua_State *L, const char *kind, const char *msg)
{
	lua_createtable(L, 0, 4);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, msg);
	lua_setfield(L, -2, "message");
	luaL_setmetatable(L, ERROR_MT);
}

/* The first stack frame that belongs to the app script: "file:line". */
static int where_in_script(lua_State *L, int level, char *buf, size_t n)
{
	lua_Debug ar;
	for (; lua_getstack(L, level, &ar); level++) {
		if (!lua_getinfo(L, "Sl", &ar))
			continue;
		if (ar.source[0] == '@' && ar.currentline > 0) {
			snprintf(buf, n, "%s:%d", ar.short_src, ar.currentline);
			return 1;
		}
	}
	return 0;
}

/* ---- memory cap and deadline */

/* Every block the Lua state owns sits on a list behind a small header, so
 * a state abandoned mid-instruction (see deadline_error) can still be
 * freed block by block without asking Lua to walk its broken structures. */
struct mem_hdr {
	struct mem_hdr *prev, *next;
	size_t size;
	size_t pad;		/* keeps the payload 16-byte aligned */
};

static void cut_off(struct script_host *h);

/* The deadline timer may fire while a guarded string function is in here:
 * the cut-off waits until the block list and malloc are consistent. */
static void alloc_done(struct script_host *h)
{
	h->in_alloc = 0;
	if (h->cut_pending && h->in_strfn)
		cut_off(h);
}

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script_host *h = ud;
	struct mem_hdr *hd = ptr ? (struct mem_hdr *)ptr - 1 : NULL;
	size_t old = ptr ? hd->size : 0;
	(void)osize;

	if (nsize == 0) {
		if (hd) {
			h->in_alloc = 1;
			if (hd->prev)
				hd->prev->next = hd->next;
			else
				h->blocks = hd->next;
			if (hd->next)
				hd->next->prev = hd->prev;
			h->mem -= old;
			free(hd);
			alloc_done(h);
		}
		return NULL;
	}
	if (nsize > old && h->mem + (nsize - old) > h->mem_limit)
		return NULL;	/* Lua raises "not enough memory" */
	h->in_alloc = 1;
	if (hd) {
		struct mem_hdr *n = realloc(hd, sizeof(*hd) + nsize);
		if (!n) {
			alloc_done(h);
			return NULL;
		}
		hd = n;
	} else {
		hd = malloc(sizeof(*hd) + nsize);
		if (!hd) {
			alloc_done(h);
			return NULL;
		}
		hd->prev = NULL;
		hd->next = h->blocks;
	}
	/* (re)link: realloc may have moved the block */
	if (hd->prev)
		hd->prev->next = hd;
	else
		h->blocks = hd;
	if (hd->next)
		hd->next->prev = hd;
	hd->size = nsize;
	h->mem = h->mem - old + nsize;
	alloc_done(h);
	return hd + 1;
}

/* ---- the deadline inside long C calls
 *
 * The count hook never fires inside a C function, and Lua's pattern
 * matcher can backtrack for hours on a short string.  So the string
 * functions that can run long (find, match, gmatch, gsub, rep) run
 * guarded (no finalizer can run script or host code inside them: the
 * sandbox refuses __gc, see safe_setmetatable), and a timer signal at the wall deadline that lands in a guarded call jumps
 * out of it to the top-level call.  Only Lua's own state and the C
 * library's pure string routines are skipped over (the allocator defers
 * the jump until malloc is consistent), and the state is abandoned, never
 * used again, exactly like the hook's cut-off of a runaway script. */

static struct script_host *volatile running_host;	/* inside an armed call */

static void cut_off(struct script_host *h)
{
	h->poisoned = 1;
	h->in_strfn = 0;
	h->cut_pending = 0;
	siglongjmp(h->abort_jmp, 1);
}

static void on_cut_signal(int sig)
{
	struct script_host *h = running_host;
	int saved = errno;
	(void)sig;

	if (h && h->abort_armed && h->in_strfn && h->wall_deadline &&
	    cdp_wall_ms() >= h->wall_deadline) {
		if (h->in_alloc) {
			h->cut_pending = 1;
		} else {
			errno = saved;
			cut_off(h);
		}
	}
	errno = saved;
}

/* (Re)arm the one-shot timer at the wall deadline; 0 disarms it. */
static void arm_timer(struct script_host *h)
{
	struct itimerspec its;

	if (!h->has_timer)
		return;
	memset(&its, 0, sizeof(its));
	if (h->wall_deadline) {
		its.it_value.tv_sec = h->wall_deadline / 1000;
		its.it_value.tv_nsec = (long)(h->wall_deadline % 1000) * 1000000;
	}
	timer_settime(h->timer, TIMER_ABSTIME, &its, NULL);
}

static void timer_init(struct script_host *h)
{
	static int handler_installed;
	struct sigevent sev;

	if (!handler_installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_cut_signal;
		sa.sa_flags = SA_RESTART;	/* a timer that finds nothing to cut
						   must not fail a read or write */
		sigemptyset(&sa.sa_mask);
		sigaction(CUT_SIGNAL, &sa, NULL);
		handler_installed = 1;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = CUT_SIGNAL;
	h->has_timer = !timer_create(CLOCK_MONOTONIC, &sev, &h->timer);
	if (!h->has_timer)
		log_warn("no deadline timer (%s): a runaway pattern match is stopped "
			 "only by the hard backstop", strerror(errno));
}

/* The deadline passed: raise.  The first time, grant a short grace so the
 * runner can still report the failure; a script that swallows the error
 * and keeps running is cut off for good by a longjmp out of the VM (the
 * state is then abandoned, never touched again). */
static int deadline_error(lua_State *L, const char *during)
{
	struct script_host *h = host_of(L);
	char msg[300];

	if (h->deadline_hits++ == 0) {
		h->deadline = script_host_now(h) + DEADLINE_GRACE_MS;
		h->wall_deadline = cdp_wall_ms() + DEADLINE_GRACE_MS;
		arm_timer(h);
		if (h->cdp)
			h->cdp->deadline_ms = h->deadline;
	} else if (h->deadline_hits > 1 && h->abort_armed) {
		cut_off(h);
	}
	snprintf(msg, sizeof(msg), "script exceeded its deadline of %d ms%s%s%s",
		 h->timeout_ms, during ? " (during " : "", during ? during : "",
		 during ? ")" : "");
	push_error(L, "deadline", msg);
	return lua_error(L);
}

static void deadline_hook(lua_State *L, lua_Debug *ar)
{
	struct script_host *h = host_of(L);
	(void)ar;
	if (!h->deadline)
		return;
	if (script_host_now(h) < h->deadline && cdp_wall_ms() < h->wall_deadline)
		return;
	deadline_error(L, NULL);
}

void script_host_set_deadline(struct script_host *h, int timeout_ms)
{
	h->timeout_ms = timeout_ms;
	h->deadline_hits = 0;
	h->deadline = timeout_ms > 0 ? script_host_now(h) + timeout_ms : 0;
	h->wall_deadline = timeout_ms > 0 ? cdp_wall_ms() + timeout_ms : 0;
	arm_timer(h);
	if (h->cdp)
		h->cdp->deadline_ms = h->deadline;
}

/* ---- primitives */

static const char *opt_session(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING)
		return lua_tostring(L, idx);
	if (lua_type(L, idx) == LUA_TTABLE) {
		const char *s;
		lua_getfield(L, idx, "session");
		s = lua_tostring(L, -1);	/* stays alive: the table holds it */
		lua_pop(L, 1);
		return s;
	}
	return NULL;
}

static struct cdp *need_cdp(lua_State *L)
{
	struct script_host *h = host_of(L);
	if (!h->cdp) {
		push_error(L, "usage", "no browser in this run (cdp is unavailable)");
		lua_error(L);
	}
	return h->cdp;
}

/* Raise a cdp failure as a structured error. */
static int raise_cdp(lua_State *L, const char *method, struct cdp_error *err)
{
	if (err->kind == CDP_ERR_DEADLINE)
		return deadline_error(L, method);
	push_error(L, "cdp", err->message);
	lua_pushstring(L, cdp_err_kind_name(err->kind));
	lua_setfield(L, -2, "cdp");
	lua_pushstring(L, method);
	lua_setfield(L, -2, "method");
	lua_pushinteger(L, err->code);
	lua_setfield(L, -2, "code");
	/* A lost browser or a command that never answered may work next time. */
	lua_pushboolean(L, err->kind == CDP_ERR_TIMEOUT || err->kind == CDP_ERR_CLOSED);
	lua_setfield(L, -2, "transient");
	return lua_error(L);
}

/* A call the job's confinement refuses (agent/confine.c): a script bug
 * or an attack, never worth a retry. */
static int raise_refused(lua_State *L, const char *method, const char *why)
{
	push_error(L, "script", why);
	lua_pushstring(L, method);
	lua_setfield(L, -2, "method");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "refused");
	return lua_error(L);
}

/* cdp.send(method [, params [, {session=, timeout=, nowait=} | session]]);
 * nowait: send and return nothing, the reply is dropped when it comes */
static int l_cdp_send(lua_State *L)
{
	struct cdp *c = need_cdp(L);
	const char *method = luaL_checkstring(L, 1);
	const char *session = opt_session(L, 3);
	int timeout = 30000, nowait = 0;
	struct cdp_error err;
	cJSON *params = NULL, *result = NULL;
	char jerr[700];

	if (lua_type(L, 3) == LUA_TTABLE) {
		lua_getfield(L, 3, "timeout");
		if (lua_isnumber(L, -1) && lua_tonumber(L, -1) > 0)
			timeout = (int)lua_tonumber(L, -1);
		lua_pop(L, 1);
		lua_getfield(L, 3, "nowait");
		nowait = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		params = luajson_to_json(L, 2, jerr, sizeof(jerr));
		if (!params)
			return luaL_argerror(L, 2, jerr);
		if (!cJSON_IsObject(params)) {	/* {} and {1,2} are not params */
			cJSON_Delete(params);
			params = cJSON_CreateObject();
		}
	}
	if (!params)
		params = cJSON_CreateObject();
	if (c->confine && !c->confine->run_dir[0])
		snprintf(c->confine->run_dir, sizeof(c->confine->run_dir), "%s",
			 host_of(L)->artifacts_dir);
	if (c->confine && !c->confine->files_dir[0])
		snprintf(c->confine->files_dir, sizeof(c->confine->files_dir), "%s",
			 host_of(L)->files_dir);
	if (confine_check(c, method, params, session, jerr, sizeof(jerr))) {
		cJSON_Delete(params);
		return raise_refused(L, method, jerr);
	}
	if (nowait) {
		/* pipelined: commands on a session run in order, so only the
		 * last of a series needs to wait (its reply comes after theirs) */
		if (cdp_send_async(c, session, method, params, &err))
			return raise_cdp(L, method, &err);
		return 0;
	}
	if (cdp_call(c, session, method, params, timeout, &result, &err))
		return raise_cdp(L, method, &err);
	confine_after(c, method, result);
	luajson_push(L, result);
	cJSON_Delete(result);
	return 1;
}

/* cdp.wait_event(method, timeout_ms [, session]) → params, or nil on timeout */
static int l_cdp_wait_event(lua_State *L)
{
	struct cdp *c = need_cdp(L);
	const char *method = luaL_optstring(L, 1, NULL);
	int timeout = (int)luaL_optinteger(L, 2, 5000);
	const char *session = opt_session(L, 3);
	struct cdp_error err;
	cJSON *ev = NULL;
	char why[300];
	int rc;

	if (confine_check_events(c, session, method, why, sizeof(why)))
		return raise_refused(L, method ? method : "wait_event", why);
	rc = cdp_wait_event(c, session, method, timeout, &ev, &err);
	if (rc < 0)
		return raise_cdp(L, method ? method : "wait_event", &err);
	if (rc == 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "timeout");
		return 2;
	}
	luajson_push(L, cJSON_GetObjectItem(ev, "params"));
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	lua_pushstring(L, cJSON_GetStringValue(cJSON_GetObjectItem(ev, "method")));
	cJSON_Delete(ev);
	return 2;
}

static int l_cdp_drop_events(lua_State *L)
{
	struct cdp *c = need_cdp(L);
	char why[300];

	if (confine_check_events(c, opt_session(L, 2), luaL_optstring(L, 1, NULL), why,
				 sizeof(why)))
		return raise_refused(L, luaL_optstring(L, 1, "drop_events"), why);
	cdp_drop_events(c, opt_session(L, 2), luaL_optstring(L, 1, NULL));
	return 0;
}

/* cdp.autoreply(session, on_event, method, params|nil) */
static int l_cdp_autoreply(lua_State *L)
{
	struct cdp *c = need_cdp(L);
	const char *session = luaL_optstring(L, 1, "");
	const char *on = luaL_checkstring(L, 2);
	const char *method = luaL_optstring(L, 3, NULL);
	cJSON *params = NULL;
	char jerr[700];

	if (lua_istable(L, 4)) {
		params = luajson_to_json(L, 4, jerr, sizeof(jerr));
		if (!params)
			return luaL_argerror(L, 4, jerr);
	}
	/* The reply is sent later, unseen: check it now like any cdp.send. */
	if (method && params &&
	    (confine_check_events(c, session, on, jerr, sizeof(jerr)) ||
	     confine_check(c, method, params, session, jerr, sizeof(jerr)))) {
		cJSON_Delete(params);
		return raise_refused(L, method, jerr);
	}
	cdp_autoreply(c, session, on, method, params);
	return 0;
}

/* What the script reads is recorded and replayed (cdp_script_now): it
 * ends up in commands, e.g. a wait's remaining budget. */
static int l_clock_now(lua_State *L)
{
	struct script_host *h = host_of(L);
	lua_pushinteger(L, (lua_Integer)(h->cdp ? cdp_script_now(h->cdp) : cdp_wall_ms()));
	return 1;
}

/* The transport's wall clock: a replay answers with the recording's. */
static int l_clock_epoch(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)cdp_epoch_ms(host_of(L)->cdp));
	return 1;
}

/* clock.sleep(ms): a pause that keeps CDP events flowing. */
static int l_clock_sleep(lua_State *L)
{
	struct script_host *h = host_of(L);
	lua_Integer ms = luaL_checkinteger(L, 1);
	struct cdp_error err;

	if (ms <= 0)
		return 0;
	if (h->cdp) {
		if (cdp_pump(h->cdp, (int)ms, &err))
			return raise_cdp(L, "sleep", &err);
	} else {
		int64_t until = cdp_wall_ms() + ms;
		if (h->deadline && until > h->deadline)
			until = h->deadline;
		while (cdp_wall_ms() < until) {
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
		deadline_hook(L, NULL);
	}
	return 0;
}

static int l_log(lua_State *L)
{
	int level = (int)lua_tointeger(L, lua_upvalueindex(1));
	luaL_Buffer b;
	int n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, ' ');
	}
	luaL_pushresult(&b);
	log_script((enum log_level)level, lua_tostring(L, -1));
	return 0;
}

/* ---- random: OpenSSL's RAND_bytes for scripts that set passwords.  What
 * it hands out is registered as a secret before the script sees it, so it
 * cannot reach a log, a frame or evidence in clear. */
#define RANDOM_MAX 1024

static int l_random_bytes(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	unsigned char buf[RANDOM_MAX];

	luaL_argcheck(L, n >= 1 && n <= RANDOM_MAX, 1, "random.bytes wants 1 to 1024 bytes");
	if (RAND_bytes(buf, (int)n) != 1)
		return luaL_error(L, "random.bytes: the system has no randomness to give");
	lua_pushlstring(L, (const char *)buf, (size_t)n);
	/* raw bytes rarely reach text, but a printable run can: register it */
	secret_register_as(lua_tostring(L, -1), "random");
	OPENSSL_cleanse(buf, sizeof(buf));
	return 1;
}

/* random.password(n [, {classes}]): n characters with at least one of each
 * class asked for (default lower, upper, digit, symbol), uniform choices by
 * rejection sampling. */
static int l_random_password(lua_State *L)
{
	static const struct { const char *name, *chars; } classes[] = {
		{ "lower", "abcdefghijklmnopqrstuvwxyz" }, { "upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" },
		{ "digit", "0123456789" }, { "symbol", "!#$%&()*+,-./:;<=>?@[]^_{|}~" },
	};
	enum { NCLASS = 4 };
	lua_Integer n = luaL_checkinteger(L, 1);
	const char *use[NCLASS];
	char pool[128], pw[RANDOM_MAX + 1];
	size_t nuse = 0, plen = 0;

	luaL_argcheck(L, n >= 4 && n <= 256, 1, "random.password wants a length of 4 to 256");
	if (lua_istable(L, 2)) {
		size_t len = lua_rawlen(L, 2);
		for (size_t i = 1; i <= len; i++) {
			const char *name;
			size_t k;
			lua_rawgeti(L, 2, (lua_Integer)i);
			name = lua_tostring(L, -1);
			for (k = 0; k < NCLASS && (!name || strcmp(name, classes[k].name)); k++)
				;
			if (k == NCLASS)
				return luaL_error(L, "random.password: unknown class \"%s\" (lower, "
						  "upper, digit, symbol)", name ? name : "?");
			lua_pop(L, 1);
			use[nuse++] = classes[k].chars;
			if (nuse == NCLASS)
				break;
		}
	} else if (!lua_isnoneornil(L, 2)) {
		return luaL_argerror(L, 2, "a list of classes, e.g. {\"lower\", \"digit\"}");
	}
	if (!nuse)
		for (size_t k = 0; k < NCLASS; k++)
			use[nuse++] = classes[k].chars;
	if ((size_t)n < nuse)
		return luaL_error(L, "random.password: %d characters cannot hold %d classes",
				  (int)n, (int)nuse);
	for (size_t k = 0; k < nuse; k++) {
		snprintf(pool + plen, sizeof(pool) - plen, "%s", use[k]);
		plen += strlen(use[k]);
	}
	/* draw until every class appears (a few tries at most for n >= 8) */
	for (int tries = 0;; tries++) {
		int seen[NCLASS] = { 0 }, all = 1;
		for (lua_Integer i = 0; i < n; i++) {
			unsigned char r;
			do {
				if (RAND_bytes(&r, 1) != 1)
					return luaL_error(L, "random.password: no randomness");
			} while (r >= 256 - 256 % plen);
			pw[i] = pool[r % plen];
			for (size_t k = 0; k < nuse; k++)
				if (strchr(use[k], pw[i]))
					seen[k] = 1;
		}
		pw[n] = '\0';
		for (size_t k = 0; k < nuse; k++)
			all &= seen[k];
		if (all || tries > 1000)
			break;
	}
	secret_register_as(pw, "random");
	lua_pushstring(L, pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	return 1;
}

/* totp(secret [, {digits=6, algorithm="SHA1", period=30, time=<now>}]):
 * the RFC 6238 code of a base32 secret, from the wall clock (UTC). */
static int l_totp(lua_State *L)
{
	const char *secret = luaL_checkstring(L, 1);
	lua_Integer digits = 6, period = 30;
	int64_t t = cdp_epoch_ms(host_of(L)->cdp) / 1000;	/* replays too */
	int alg = TOTP_SHA1;
	char code[9], err[160];

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "digits");
		if (!lua_isnil(L, -1))
			digits = luaL_checkinteger(L, -1);
		lua_getfield(L, 2, "period");
		if (!lua_isnil(L, -1))
			period = luaL_checkinteger(L, -1);
		lua_getfield(L, 2, "algorithm");
		if (!lua_isnil(L, -1)) {
			alg = totp_alg_parse(lua_tostring(L, -1));
			if (alg < 0)
				return luaL_argerror(L, 2, "algorithm must be SHA1, SHA256 or SHA512");
		}
		lua_getfield(L, 2, "time");
		if (!lua_isnil(L, -1))
			t = (int64_t)luaL_checkinteger(L, -1);
		lua_pop(L, 4);
	}
	if (digits < 6 || digits > 8 || period < 1 || period > 3600)
		return luaL_argerror(L, 2, "digits must be 6 to 8 and period 1 to 3600 s");
	/* A replay's account holds placeholders, not seeds: it types the
	 * placeholder the recording stored in place of the code (below). */
	if (!strncmp(secret, "{{secret:", 9)) {
		lua_pushliteral(L, "{{secret:totp}}");
		return 1;
	}
	if (totp_code(secret, t, (int)period, (int)digits, (enum totp_alg)alg, code,
		      err, sizeof(err))) {
		push_error(L, "script", err);
		return lua_error(L);
	}
	/* Recording: the code goes into the cassette as {{secret:totp}}.  (Not
	 * in live runs: a 6-digit secret would redact digits of timestamps.) */
	if (host_of(L)->cdp && cdp_is_recorder(host_of(L)->cdp->tr))
		secret_register_as(code, "totp");
	lua_pushstring(L, code);
	return 1;
}

/* secret(value) -> value: from now on, value is redacted from every log,
 * output, artifact and recording of this process (e.g. a password the
 * app showed once). */
static int l_secret(lua_State *L)
{
	secret_register(luaL_checkstring(L, 1));
	lua_settop(L, 1);
	return 1;
}

/* ---- private primitives for the prelude only */

static int l_host_emit(lua_State *L)
{
	struct script_host *h = host_of(L);
	char jerr[200];
	cJSON *ev;

	luaL_checktype(L, 1, LUA_TTABLE);
	ev = luajson_to_json(L, 1, jerr, sizeof(jerr));
	if (!ev)
		return luaL_argerror(L, 1, jerr);
	if (h->emit)
		h->emit(h->emit_arg, ev);
	else
		cJSON_Delete(ev);
	return 0;
}

/* host.quiet(on): pause debug logging (nested) while the script reads a
 * value it will register as a secret — CDP frames are logged as they
 * arrive, before the script has seen, let alone registered, the value. */
static int l_host_quiet(lua_State *L)
{
	static int depth;
	static enum log_level saved;

	if (lua_toboolean(L, 1)) {
		if (depth++ == 0) {
			saved = log_get_level();
			if (saved > LOG_INFO)
				log_set_level(LOG_INFO);
		}
	} else if (depth > 0 && --depth == 0) {
		log_set_level(saved);
	}
	return 0;
}

/* host.round_trips() → CDP commands sent and awaited so far (0 without a
 * browser): steps.lua notes each page call's count. */
static int l_host_round_trips(lua_State *L)
{
	struct script_host *h = host_of(L);
	lua_pushinteger(L, h->cdp ? h->cdp->round_trips : 0);
	return 1;
}

static int l_host_where(lua_State *L)
{
	char buf[256];
	if (where_in_script(L, 1, buf, sizeof(buf)))
		lua_pushstring(L, buf);
	else
		lua_pushnil(L);
	return 1;
}

static int l_host_embedded(lua_State *L)
{
	const struct embedded_file *f = embedded_find(luaL_checkstring(L, 1));
	if (!f)
		return luaL_error(L, "no embedded file \"%s\"", lua_tostring(L, 1));
	lua_pushlstring(L, f->data, f->len);
	return 1;
}


/* host.write_artifact(name, data [, "base64"]) → path under the artifacts
 * dir.  Names are plain file names: scripts never choose a directory. */
static int l_host_write_artifact(lua_State *L)
{
	struct script_host *h = host_of(L);
	const char *name = luaL_checkstring(L, 1);
	size_t n;
	const char *data = luaL_checklstring(L, 2, &n);
	int is_b64 = lua_isstring(L, 3) && !strcmp(lua_tostring(L, 3), "base64");
	char path[2200];
	unsigned char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	if (!*name || strchr(name, '/') || name[0] == '.' || strlen(name) > 200)
		return luaL_argerror(L, 1, "artifact names are plain file names");
	if (!h->artifacts_dir[0])
		return luaL_error(L, "no artifacts directory for this run");
	if (job_mkdir_p(h->artifacts_dir))
		return luaL_error(L, "cannot create %s: %s", h->artifacts_dir,
				  strerror(errno));
	if (is_b64) {
		outlen = base64_decode(data, n, NULL, 0);
		if (outlen == BASE64_INVALID)
			return luaL_argerror(L, 2, "not base64");
		out = malloc(outlen + 1);
		if (!out)
			return luaL_error(L, "out of memory");
		base64_decode(data, n, out, outlen);
		data = (const char *)out;
		n = outlen;
	} else {
		/* Text artifacts (page.html, frame-N.html …) go through the same
		 * redactor as the logs; images cannot, and are not taken once a
		 * secret was on screen. */
		out = (unsigned char *)secret_redact(data, n, &outlen);
		if (!out)
			return luaL_error(L, "out of memory");
		data = (const char *)out;
		n = outlen;
	}
	snprintf(path, sizeof(path), "%s/%s", h->artifacts_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
		if (f)
			fclose(f);
		free(out);
		return luaL_error(L, "cannot write %s: %s", path, strerror(errno));
	}
	free(out);
	lua_pushstring(L, path);
	return 1;
}

/* host.downloads(on) → the folder downloads land in, or nil: for the
 * page API only (scripts never choose where files go).  On: the job's
 * browser context saves downloads into <run folder>/downloads; off:
 * downloads are denied again (the default). */
static int l_host_downloads(lua_State *L)
{
	struct script_host *h = host_of(L);
	struct cdp *c = need_cdp(L);
	struct cdp_error err;
	char dir[1100], abs[PATH_MAX];

	if (!c->confine)
		return luaL_error(L, "downloads: the job's page is not open");
	if (!lua_toboolean(L, 1)) {
		if (confine_downloads(c, NULL, &err))
			return raise_cdp(L, "Browser.setDownloadBehavior", &err);
		lua_pushnil(L);
		return 1;
	}
	if (!h->artifacts_dir[0])
		return luaL_error(L, "downloads: no run folder for this job");
	snprintf(dir, sizeof(dir), "%s/downloads", h->artifacts_dir);
	if (job_mkdir_p(dir))
		return luaL_error(L, "cannot create %s: %s", dir, strerror(errno));
	if (!realpath(dir, abs))	/* Chromium wants an absolute path */
		return luaL_error(L, "cannot resolve %s: %s", dir, strerror(errno));
	cassette_path_alias(abs, "downloads");
	if (confine_downloads(c, abs, &err))
		return raise_cdp(L, "Browser.setDownloadBehavior", &err);
	lua_pushstring(L, abs);
	return 1;
}


/* host.frames_network(session): frames from other sites that attach below
 * the page's session from now on turn Network on before they run (a frame
 * that fetches as it loads would otherwise answer before anyone listens).
 * One fixed step, never a method the caller names: the step bypasses the
 * script's allowlist. */
static int l_host_frames_network(lua_State *L)
{
	struct cdp *c = need_cdp(L);
	cJSON *p = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(p, "maxPostDataSize", 0);
	rc = cdp_auto_attach_add_step(c, luaL_checkstring(L, 1), "Network.enable", p);
	cJSON_Delete(p);
	lua_pushboolean(L, rc == 0);
	return 1;
}

/* host.url_ok(url) → true, or nil and why: the confinement's rule for
 * URLs a script asks for (web only, never the DevTools endpoint), for
 * page:request. */
static int l_host_url_ok(lua_State *L)
{
	struct script_host *h = host_of(L);
	char why[500];
	const int *ports = h->cdp && h->cdp->confine ? h->cdp->confine->devtools_ports : NULL;

	if (confine_url_ok(luaL_checkstring(L, 1), ports, 1, why, sizeof(why))) {
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* <run folder>/input, created, absolute; "" when there is no run folder. */
static int input_dir(struct script_host *h, char *out, size_t n)
{
	char dir[1100];

	out[0] = '\0';
	if (!h->artifacts_dir[0])
		return 0;
	snprintf(dir, sizeof(dir), "%s/input", h->artifacts_dir);
	if (job_mkdir_p(dir) || !realpath(dir, out))
		return -1;
	if (strlen(out) >= n)
		return -1;
	cassette_path_alias(out, "input");
	return 0;
}

/* host.upload_path(path) → the real path of a file the job may upload:
 * inside --files-dir (relative paths start there) or the run folder's
 * input folder.  Raises, naming the path and the folders, otherwise:
 * "..", symlinks and absolute paths that lead out are refused. */
static int l_host_upload_path(lua_State *L)
{
	struct script_host *h = host_of(L);
	const char *path = luaL_checkstring(L, 1);
	char files[PATH_MAX] = "", input[PATH_MAX], real[PATH_MAX], why[700];
	char msg[2 * PATH_MAX + 800];
	const char *dirs[3];

	if (input_dir(h, input, sizeof(input)))
		input[0] = '\0';
	if (h->files_dir[0] && realpath(h->files_dir, files))
		cassette_path_alias(files, "files");
	dirs[0] = files;
	dirs[1] = input;
	dirs[2] = NULL;
	if (!files[0] && !input[0]) {
		push_error(L, "script", "set_input_files: this job has no files folder "
			   "(--files-dir) and no run folder to upload from");
		return lua_error(L);
	}
	if (!confine_file_in(path, files[0] ? files : input, dirs, real, sizeof(real), why,
			     sizeof(why))) {
		lua_pushstring(L, real);
		return 1;
	}
	snprintf(msg, sizeof(msg), "set_input_files: %s (a job uploads only files in %s%s%s)",
		 why, files[0] ? files : "", files[0] && input[0] ? " or " : "", input);
	push_error(L, "script", msg);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "refused");
	return lua_error(L);
}

/* host.write_input(name, text) → the path of a file made for an upload
 * (a bulk-invite CSV), in <run folder>/input; names are plain file names. */
static int l_host_write_input(lua_State *L)
{
	struct script_host *h = host_of(L);
	const char *name = luaL_checkstring(L, 1);
	size_t n;
	const char *data = luaL_checklstring(L, 2, &n);
	char dir[PATH_MAX], path[PATH_MAX + 256];
	FILE *f;

	if (!*name || strchr(name, '/') || name[0] == '.' || strlen(name) > 200)
		return luaL_argerror(L, 1, "an upload's name is a plain file name");
	if (input_dir(h, dir, sizeof(dir)) || !dir[0])
		return luaL_error(L, "set_input_files: no run folder to write %s into", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
		if (f)
			fclose(f);
		return luaL_error(L, "cannot write %s: %s", path, strerror(errno));
	}
	lua_pushstring(L, path);
	return 1;
}

#define DOWNLOAD_MAX_BYTES (32u << 20)

/* A suggested file name made safe for the downloads folder: no folders,
 * no leading dot, no control bytes; "download" when nothing is left. */
static void clean_name(const char *in, char *out, size_t n)
{
	const char *base = strrchr(in, '/');
	size_t j = 0;

	base = base ? base + 1 : in;
	if (strrchr(base, '\\'))
		base = strrchr(base, '\\') + 1;
	while (*base == '.')
		base++;
	for (; *base && j + 1 < n && j < 120; base++)
		out[j++] = ((unsigned char)*base < 32 || *base == 127) ? '_' : *base;
	out[j] = '\0';
	if (!j)
		snprintf(out, n, "download");
}

/* host.download_file(dir, guid, suggested) → path, text: the finished
 * download <dir>/<guid> renamed to its cleaned suggested name (a number
 * added when taken) and its content, through the transport (a replay
 * reads the recorded copy: no file is there). */
static int l_host_download_file(lua_State *L)
{
	struct script_host *h = host_of(L);
	struct cdp *c = need_cdp(L);
	const char *dir = luaL_checkstring(L, 1);
	const char *guid = luaL_checkstring(L, 2);
	const char *suggested = luaL_optstring(L, 3, "download");
	char from[PATH_MAX + 200], to[PATH_MAX + 300], name[128], stem[128];
	char *data = NULL, *text;
	size_t len = 0, tlen = 0;
	int replay = cdp_is_replayer(c->tr);
	struct stat st;
	(void)h;

	if (!*guid || strspn(guid, "0123456789abcdefABCDEF-") != strlen(guid))
		return luaL_argerror(L, 2, "not a download guid");
	clean_name(suggested, name, sizeof(name));
	snprintf(from, sizeof(from), "%s/%s", dir, guid);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	if (!replay) {
		FILE *f;
		snprintf(stem, sizeof(stem), "%s", name);
		for (int i = 2; !lstat(to, &st) && i < 1000; i++)
			snprintf(to, sizeof(to), "%s/%d-%s", dir, i, stem);
		if (rename(from, to))
			return luaL_error(L, "download %s: cannot move %s: %s", name, from,
					  strerror(errno));
		f = fopen(to, "rb");
		if (!f)
			return luaL_error(L, "download %s: cannot read %s: %s", name, to,
					  strerror(errno));
		data = malloc(DOWNLOAD_MAX_BYTES + 1);
		len = data ? fread(data, 1, DOWNLOAD_MAX_BYTES + 1, f) : 0;
		fclose(f);
		if (!data || len > DOWNLOAD_MAX_BYTES) {
			free(data);
			return luaL_error(L, "download %s is larger than %u MiB: its text is not read",
					  name, DOWNLOAD_MAX_BYTES >> 20);
		}
	}
	snprintf(from, sizeof(from), "download:%s", name);	/* from: no longer needed */
	text = cdp_host_data(c, from, data, len, &tlen);
	free(data);
	if (!text)
		return luaL_error(L, "download %s: the cassette holds no copy of it", name);
	lua_pushstring(L, to);
	lua_pushlstring(L, text, tlen);
	free(text);
	return 2;
}

/* ---- sandbox */

static int safe_load(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	const char *name = luaL_optstring(L, 2, "=(load)");
	int env = !lua_isnone(L, 4);

	if (luaL_loadbufferx(L, s, n, name, "t") != LUA_OK) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	if (env) {
		lua_pushvalue(L, 4);
		if (!lua_setupvalue(L, -2, 1))
			lua_pop(L, 1);
	}
	return 1;
}

/* Run the original string function (upvalue 1, named by upvalue 2) on
 * this call's arguments with the cut-off armed. */
static int guarded_call(lua_State *L)
{
	struct script_host *h = host_of(L);
	int n = lua_gettop(L), rc;

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	if (h->in_strfn || !h->wall_deadline || !h->abort_armed) {
		lua_call(L, n, LUA_MULTRET);
		return lua_gettop(L);
	}
	h->cut_in = lua_tostring(L, lua_upvalueindex(2));
	h->in_strfn = 1;
	/* after raising the flag: a timer that fired just before is seen here */
	if (cdp_wall_ms() >= h->wall_deadline) {
		h->in_strfn = 0;
		return deadline_error(L, h->cut_in);
	}
	rc = lua_pcall(L, n, LUA_MULTRET, 0);
	h->in_strfn = 0;
	if (rc == LUA_ERRMEM) {
		char msg[100];
		snprintf(msg, sizeof(msg), "script ran out of memory (limit %zu MiB)",
			 h->mem_limit >> 20);
		push_error(L, "script", msg);
	}
	if (rc != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

/* gsub's replacement function or table runs script code: unguarded. */
static int gsub_repl(lua_State *L)
{
	struct script_host *h = host_of(L);
	int was = h->in_strfn, n;

	h->in_strfn = 0;
	if (lua_type(L, lua_upvalueindex(1)) == LUA_TTABLE) {
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_pushvalue(L, 1);
		lua_gettable(L, -2);
		n = 1;
	} else {
		int args = lua_gettop(L);
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_insert(L, 1);
		lua_call(L, args, 1);
		n = 1;
	}
	h->in_strfn = was;
	/* the timer may have fired (unheeded) while script code ran */
	if (was && h->wall_deadline && cdp_wall_ms() >= h->wall_deadline) {
		h->in_strfn = 0;
		return deadline_error(L, h->cut_in);
	}
	return n;
}

static int guarded_gsub(lua_State *L)
{
	int t = lua_type(L, 3);
	if (t == LUA_TFUNCTION || t == LUA_TTABLE) {
		lua_pushvalue(L, 3);
		lua_pushcclosure(L, gsub_repl, 1);
		lua_replace(L, 3);
	}
	return guarded_call(L);
}

/* gmatch returns an iterator that does the matching: guard that one. */
static int guarded_gmatch(lua_State *L)
{
	int n = guarded_call(L);
	if (n != 1 || !lua_iscfunction(L, -1))
		return n;
	lua_pushliteral(L, "string.gmatch");
	lua_pushcclosure(L, guarded_call, 2);
	return 1;
}

static void guard_string_functions(lua_State *L)
{
	static const struct { const char *name; lua_CFunction wrap; } fns[] = {
		{ "find", guarded_call }, { "match", guarded_call },
		{ "gmatch", guarded_gmatch }, { "gsub", guarded_gsub },
		{ "rep", guarded_call }, { NULL, NULL }
	};
	char label[32];

	lua_getglobal(L, "string");
	for (int i = 0; fns[i].name; i++) {
		lua_getfield(L, -1, fns[i].name);
		snprintf(label, sizeof(label), "string.%s", fns[i].name);
		lua_pushstring(L, label);
		lua_pushcclosure(L, fns[i].wrap, 2);
		lua_setfield(L, -2, fns[i].name);
	}
	lua_pop(L, 1);
}

/* setmetatable without finalizers: Lua runs __gc with hooks off, so a
 * looping finalizer could never be stopped by the deadline. */
static int safe_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_argerror(L, 2, "__gc metamethods are not allowed in app "
					     "scripts (a finalizer runs where the deadline "
					     "cannot stop it)");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static void open_sandbox(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base }, { LUA_TABLIBNAME, luaopen_table },
		{ LUA_STRLIBNAME, luaopen_string }, { LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine },
		{ NULL, NULL }
	};
	static const char *drop[] = { "dofile", "loadfile", "collectgarbage", NULL };

	for (const luaL_Reg *l = libs; l->func; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	for (int i = 0; drop[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_pushcfunction(L, safe_load);
	lua_setglobal(L, "load");
	lua_getglobal(L, "setmetatable");
	lua_pushcclosure(L, safe_setmetatable, 1);
	lua_setglobal(L, "setmetatable");
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	guard_string_functions(L);
}

static void install_primitives(lua_State *L)
{
	static const luaL_Reg cdp_fns[] = {
		{ "send", l_cdp_send }, { "wait_event", l_cdp_wait_event },
		{ "drop_events", l_cdp_drop_events }, { "autoreply", l_cdp_autoreply },
		{ NULL, NULL }
	};
	static const luaL_Reg clock_fns[] = {
		{ "now", l_clock_now }, { "epoch_ms", l_clock_epoch },
		{ "sleep", l_clock_sleep }, { NULL, NULL }
	};
	static const luaL_Reg host_fns[] = {
		{ "emit", l_host_emit }, { "where", l_host_where }, { "quiet", l_host_quiet },
		{ "embedded", l_host_embedded }, { "round_trips", l_host_round_trips },
		{ "write_artifact", l_host_write_artifact },
		{ "downloads", l_host_downloads }, { "url_ok", l_host_url_ok },
		{ "upload_path", l_host_upload_path }, { "write_input", l_host_write_input },
		{ "download_file", l_host_download_file },
		{ "frames_network", l_host_frames_network }, { NULL, NULL }
	};
	static const struct { const char *name; enum log_level level; } levels[] = {
		{ "error", LOG_ERROR }, { "warn", LOG_WARN },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG }
	};

	luaL_newmetatable(L, ERROR_MT);
	lua_pushcfunction(L, error_tostring);
	lua_setfield(L, -2, "__tostring");
	/* getmetatable(err) must not hand scripts the shared metatable: one
	 * that added a raising __index would break every error after it. */
	lua_pushliteral(L, "idlcm.error");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	luaL_newlib(L, cdp_fns);
	lua_setglobal(L, "cdp");
	luaopen_json(L);
	lua_setglobal(L, "json");
	luaL_newlib(L, clock_fns);
	lua_setglobal(L, "clock");

	lua_createtable(L, 0, 4);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		lua_pushinteger(L, levels[i].level);
		lua_pushcclosure(L, l_log, 1);
		lua_setfield(L, -2, levels[i].name);
	}
	lua_setglobal(L, "log");
	lua_pushinteger(L, LOG_INFO);
	lua_pushcclosure(L, l_log, 1);
	lua_setglobal(L, "print");
	lua_pushcfunction(L, l_totp);
	lua_setglobal(L, "totp");
	lua_pushcfunction(L, l_secret);
	lua_setglobal(L, "secret");
	{
		static const luaL_Reg random_fns[] = {
			{ "bytes", l_random_bytes }, { "password", l_random_password },
			{ NULL, NULL }
		};
		luaL_newlib(L, random_fns);
		lua_setglobal(L, "random");
	}

	/* The private host table: reachable only from the registry and the
	 * prelude's chunk arguments, never from a script's globals. */
	luaL_newlib(L, host_fns);
	lua_newtable(L);
	lua_setfield(L, -2, "modules");
	luaL_getmetatable(L, ERROR_MT);
	lua_setfield(L, -2, "error_mt");
	lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
}

/* Message handler: keep tables (adding where/traceback), and turn strings
 * into error tables with a traceback. */
/* Error objects come from scripts: every read and write here is raw, so
 * no __index, __newindex or __tostring of theirs runs outside a pcall. */
static int msgh(lua_State *L)
{
	char where[256] = "";
	int has_where = where_in_script(L, 1, where, sizeof(where));

	if (!lua_istable(L, 1)) {
		const char *msg = lua_type(L, 1) == LUA_TSTRING ||
				  lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
		push_error(L, "script", msg ? msg : luaL_typename(L, 1));
		lua_replace(L, 1);
	}
	lua_settop(L, 1);
	lua_pushliteral(L, "where");
	lua_rawget(L, 1);
	if (lua_isnil(L, -1) && has_where) {
		lua_pushliteral(L, "where");
		lua_pushstring(L, where);
		lua_rawset(L, 1);
	}
	lua_pop(L, 1);
	lua_pushliteral(L, "traceback");
	luaL_traceback(L, L, NULL, 1);
	lua_rawset(L, 1);
	return 1;
}

static void copy_field(lua_State *L, int idx, const char *k, char *dst, size_t n)
{
	lua_pushstring(L, k);
	lua_rawget(L, idx < 0 ? idx - 1 : idx);
	if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
		snprintf(dst, n, "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
}

/* The error value on top of the stack → e; pops it. */
static void take_error(lua_State *L, struct script_error *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->kind, sizeof(e->kind), "script");
	if (lua_istable(L, -1)) {
		copy_field(L, -1, "kind", e->kind, sizeof(e->kind));
		copy_field(L, -1, "message", e->message, sizeof(e->message));
		copy_field(L, -1, "where", e->where, sizeof(e->where));
		lua_pushliteral(L, "traceback");
		lua_rawget(L, -2);
		if (lua_type(L, -1) == LUA_TSTRING)
			e->traceback = strdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	} else {
		snprintf(e->message, sizeof(e->message), "%s",
			 lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ?
			 lua_tostring(L, -1) : "error");
	}
	if (!e->message[0])
		snprintf(e->message, sizeof(e->message),
			 "the script raised an error object with no readable message");
	lua_pop(L, 1);
}

/* pcall with msgh: nargs below the function on the stack. */
static int protected_call(lua_State *L, int nargs, int nres, struct script_error *e)
{
	int base = lua_gettop(L) - nargs;
	int rc;

	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	rc = lua_pcall(L, nargs, nres, base);
	lua_remove(L, base);
	if (rc != LUA_OK) {
		take_error(L, e);
		if (rc == LUA_ERRMEM)
			snprintf(e->message, sizeof(e->message),
				 "script ran out of memory (limit %zu MiB)",
				 host_of(L)->mem_limit >> 20);
		return -1;
	}
	return 0;
}

/* A state cut off mid-instruction is never entered again. */
static int abandoned(struct script_host *h, struct script_error *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->kind, sizeof(e->kind), "deadline");
	snprintf(e->message, sizeof(e->message),
		 "script exceeded its deadline of %d ms; its state was abandoned",
		 h->timeout_ms);
	return -1;
}

/* A top-level call: a script that outlives its deadline grace lands here,
 * and so does a guarded string function the deadline timer cut off. */
static int armed_call(struct script_host *h, int nargs, int nres,
		      struct script_error *e)
{
	int rc;

	if (h->poisoned)
		return abandoned(h, e);
	if (sigsetjmp(h->abort_jmp, 1)) {
		h->abort_armed = 0;
		running_host = NULL;
		memset(e, 0, sizeof(*e));
		snprintf(e->kind, sizeof(e->kind), "deadline");
		if (h->cut_in)
			snprintf(e->message, sizeof(e->message),
				 "script exceeded its deadline of %d ms (inside %s); stopped",
				 h->timeout_ms, h->cut_in);
		else
			snprintf(e->message, sizeof(e->message),
				 "script exceeded its deadline of %d ms and kept running; "
				 "stopped", h->timeout_ms);
		return -1;
	}
	h->abort_armed = 1;
	running_host = h;
	rc = protected_call(h->L, nargs, nres, e);
	h->abort_armed = 0;
	running_host = NULL;
	return rc;
}

int script_host_pcall(struct script_host *h, int nargs, int nres,
		      struct script_error *e)
{
	memset(e, 0, sizeof(*e));
	if (h->poisoned)	/* never touched again, not even to pop */
		return abandoned(h, e);
	return armed_call(h, nargs, nres, e);
}

int script_host_init(struct script_host *h, struct cdp *c, char *err, size_t errlen)
{
	lua_State *L;
	struct script_error e;

	memset(h, 0, sizeof(*h));
	h->cdp = c;
	h->app_ref = LUA_NOREF;
	h->mem_limit = DEFAULT_MEM_LIMIT;
	timer_init(h);
	L = lua_newstate(capped_alloc, h);
	if (!L) {
		snprintf(err, errlen, "cannot create a Lua state");
		return -1;
	}
	h->L = L;
	open_sandbox(L);
	install_primitives(L);
	lua_sethook(L, deadline_hook, LUA_MASKCOUNT, HOOK_EVERY);

	for (int i = 0; prelude_modules[i]; i++) {
		const struct embedded_file *f = embedded_find(prelude_modules[i]);
		char chunk[64];
		if (!f) {
			snprintf(err, errlen, "prelude module %s is missing", prelude_modules[i]);
			return -1;
		}
		snprintf(chunk, sizeof(chunk), "=%s", f->name);
		if (luaL_loadbufferx(L, f->data, f->len, chunk, "t") != LUA_OK) {
			snprintf(err, errlen, "prelude: %s", lua_tostring(L, -1));
			lua_pop(L, 1);
			return -1;
		}
		lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
		if (protected_call(L, 1, 1, &e)) {
			snprintf(err, errlen, "prelude %s: %s", f->name, e.message);
			script_error_release(&e);
			return -1;
		}
		/* host.modules[name without .lua] = result */
		lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
		lua_getfield(L, -1, "modules");
		lua_pushvalue(L, -3);
		snprintf(chunk, sizeof(chunk), "%.*s", (int)(strlen(f->name) - 4), f->name);
		lua_setfield(L, -2, chunk);
		lua_pop(L, 3);
	}
	return 0;
}

/* lua_close runs the script's __gc finalizers: they get a short budget,
 * and one that loops past it abandons the state like any cut-off. */
static void close_state(struct script_host *h)
{
	h->deadline_hits = 1;	/* the first hit cuts off: no grace */
	h->deadline = script_host_now(h) + CLOSE_BUDGET_MS;
	h->wall_deadline = cdp_wall_ms() + CLOSE_BUDGET_MS;
	if (h->cdp)
		h->cdp->deadline_ms = h->deadline;
	arm_timer(h);
	if (!sigsetjmp(h->abort_jmp, 1)) {
		h->abort_armed = 1;
		running_host = h;
		lua_close(h->L);
	}
	h->abort_armed = 0;
	running_host = NULL;
	if (h->cdp)
		h->cdp->deadline_ms = 0;
}

void script_host_release(struct script_host *h)
{
	/* A state left by a longjmp out of the VM is inconsistent: don't let
	 * Lua walk it, free its blocks directly. */
	if (h->L && !h->poisoned)
		close_state(h);
	if (h->has_timer) {
		timer_delete(h->timer);
		h->has_timer = 0;
	}
	while (h->blocks) {
		struct mem_hdr *hd = h->blocks;
		h->blocks = hd->next;
		free(hd);
	}
	h->L = NULL;
}

int script_host_load_app(struct script_host *h, const char *path,
			 struct script_error *e)
{
	lua_State *L = h->L;
	FILE *f;
	char *buf;
	size_t n;
	char chunk[1100];

	memset(e, 0, sizeof(*e));
	if (h->poisoned)
		return abandoned(h, e);
	snprintf(h->script_path, sizeof(h->script_path), "%s", path);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(e->kind, sizeof(e->kind), "usage");
		snprintf(e->message, sizeof(e->message), "cannot open script %s: %s",
			 path, strerror(errno));
		return -1;
	}
	buf = malloc(SCRIPT_MAX_BYTES + 1);
	n = buf ? fread(buf, 1, SCRIPT_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf || n > SCRIPT_MAX_BYTES) {
		free(buf);
		snprintf(e->kind, sizeof(e->kind), "usage");
		snprintf(e->message, sizeof(e->message), "script %s is larger than %u bytes",
			 path, SCRIPT_MAX_BYTES);
		return -1;
	}
	snprintf(chunk, sizeof(chunk), "@%s", path);
	/* Text only: a precompiled chunk could break the VM's invariants. */
	if (luaL_loadbufferx(L, buf, n, chunk, "t") != LUA_OK) {
		free(buf);
		snprintf(e->kind, sizeof(e->kind), "syntax");
		snprintf(e->message, sizeof(e->message), "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	free(buf);
	if (armed_call(h, 0, 1, e))
		return -1;
	if (!lua_istable(L, -1)) {
		snprintf(e->kind, sizeof(e->kind), "contract");
		snprintf(e->message, sizeof(e->message),
			 "%s must return the app table (it returned %s)", path,
			 luaL_typename(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	h->app_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

static int push_module_fn(lua_State *L, const char *mod, const char *fn)
{
	lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
	lua_getfield(L, -1, "modules");
	lua_getfield(L, -1, mod);
	lua_getfield(L, -1, fn);
	lua_replace(L, -4);
	lua_pop(L, 2);
	return lua_isfunction(L, -1);
}

int script_host_call(struct script_host *h, const char *mod, const char *fn,
		     cJSON *arg, cJSON **result, struct script_error *e)
{
	lua_State *L = h->L;
	char jerr[200];

	memset(e, 0, sizeof(*e));
	*result = NULL;
	if (h->poisoned)
		return abandoned(h, e);
	if (!push_module_fn(L, mod, fn)) {
		lua_pop(L, 1);
		snprintf(e->message, sizeof(e->message), "prelude lacks %s.%s", mod, fn);
		return -1;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->app_ref);
	luajson_push(L, arg);
	if (armed_call(h, 2, 1, e))
		return -1;
	*result = luajson_to_json(L, -1, jerr, sizeof(jerr));
	lua_pop(L, 1);
	if (!*result) {
		snprintf(e->kind, sizeof(e->kind), "script");
		snprintf(e->message, sizeof(e->message), "result: %s", jerr);
		return -1;
	}
	return 0;
}

int script_host_run_job(struct script_host *h, cJSON *job, cJSON **result,
			struct script_error *e)
{
	int rc = script_host_call(h, "job", "run", job, result, e);
	const char *breach = h->cdp && h->cdp->confine ? h->cdp->confine->breach : "";
	char first[sizeof(e->message)];

	/* A page that left the web stops the job, even when the script caught
	 * every refusal (pcall) or failed on something else afterwards: its
	 * outcome is not to be trusted, and the failure names the breach. */
	if (!breach[0] || strstr(e->message, "the job is stopped"))
		return rc;
	if (rc == 0) {
		cJSON_Delete(*result);
		*result = NULL;
		snprintf(e->kind, sizeof(e->kind), "script");
		snprintf(e->message, sizeof(e->message), "the job is stopped: %s", breach);
		return -1;
	}
	snprintf(first, sizeof(first), "%s", e->message);
	snprintf(e->message, sizeof(e->message), "the job is stopped: %s (then: %.300s)",
		 breach, first);
	return rc;
}
