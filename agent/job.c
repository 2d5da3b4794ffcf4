/*
 * job: the C half of running a job.  States and check-first logic live in
 * agent/lua/job.lua (they work on the Lua tables scripts return); this file
 * owns what must survive a broken script: the sandbox, the deadline, the
 * page's browser context, exit codes and failure evidence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <openssl/crypto.h>

#include "browser.h"
#include "embedded.h"
#include "job.h"
#include "log.h"
#include "luajson.h"
#include "script.h"
#include "session.h"
#include "states.h"
#include "vault.h"

int job_action_known(const char *action)
{
	return action_lookup(action) != NULL;
}

void job_register_secrets(cJSON *account)
{
	static const char *hints[] = { "pass", "secret", "token", "key", "otp", NULL };
	cJSON *f;

	cJSON_ArrayForEach(f, account) {
		if (!cJSON_IsString(f) || !f->string)
			continue;
		for (int i = 0; hints[i]; i++)
			if (strcasestr(f->string, hints[i])) {
				char label[128];
				snprintf(label, sizeof(label), "account.%s", f->string);
				secret_register_as(f->valuestring, label);
				break;
			}
	}
}

enum job_capture job_capture_from_env(void)
{
	unsigned char key[VAULT_KEY_LEN];
	char err[300];
	int rc = vault_key_from_env(key, err, sizeof(err));

	OPENSSL_cleanse(key, sizeof(key));
	return rc ? JOB_CAPTURE_NONE : JOB_CAPTURE_VAULT;
}

void job_outcome_secret_lost(struct job_outcome *out, const char *why)
{
	/* The only copy of the password is gone: not a success. */
	out->exit = JOB_FAILED;
	if (out->result) {
		cJSON_ReplaceItemInObject(out->result, "ok", cJSON_CreateFalse());
		if (cJSON_GetObjectItem(out->result, "state"))
			cJSON_ReplaceItemInObject(out->result, "state",
						  cJSON_CreateString("invite_failed"));
	}
	snprintf(out->error_class, sizeof(out->error_class), "needs_human");
	snprintf(out->error, sizeof(out->error), "%s; fix the vault, then reset the user's "
		 "password in the app", why);
}

void job_outcome_release(struct job_outcome *o)
{
	cJSON_Delete(o->result);
	o->result = NULL;
}

int job_page_prepare(struct cdp *c, struct page_handle *p, struct cdp_error *err)
{
	const struct embedded_file *f = embedded_find("helper.js");
	cJSON *params, *res = NULL, *id;
	struct cdp_error ignored;

	if (p->frame_id[0])
		return 0;
	if (cdp_call(c, p->session_id, "Page.getFrameTree", NULL, 10000, &res, err))
		return -1;
	id = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "frameTree"),
						     "frame"), "id");
	if (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof(p->frame_id)) {
		cJSON_Delete(res);
		err->kind = CDP_ERR_PROTOCOL;
		snprintf(err->message, sizeof(err->message), "browser reply lacks frameTree.frame.id");
		return -1;
	}
	snprintf(p->frame_id, sizeof(p->frame_id), "%s", id->valuestring);
	cJSON_Delete(res);
	/* The helper goes into its world as each document starts (page.lua's
	 * Page:_world): no round trips to set it up after every navigation.
	 * A browser without it falls back to creating the world by hand. */
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "source", f ? f->data : "");
	cJSON_AddStringToObject(params, "worldName", "idlcm");
	cJSON_AddBoolToObject(params, "runImmediately", 1);
	res = NULL;
	p->helper = f && !cdp_call(c, p->session_id, "Page.addScriptToEvaluateOnNewDocument",
				   params, 10000, &res, &ignored);
	cJSON_Delete(res);
	return 0;
}

/* host.open_page(): the job's browser context and page, closed by C;
 * returns its session id, main frame id and whether the helper is in. */
struct page_slot {
	struct cdp *cdp;
	struct page_handle page;
	int open;
	const struct job_spec *spec;
	char session[256];	/* vault name of the sign-in state, "" = none kept */
	char init_id[64];	/* the storage-seeding init script, while it runs */
};
static struct page_slot *current_slot;

static int open_failed(lua_State *L, const struct cdp_error *err)
{
	lua_createtable(L, 0, 3);
	lua_pushstring(L, err->kind == CDP_ERR_DEADLINE ? "deadline" : "cdp");
	lua_setfield(L, -2, "kind");
	lua_pushfstring(L, "cannot open a page: %s", err->message);
	lua_setfield(L, -2, "message");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "transient");
	return lua_error(L);
}

static int l_open_page(lua_State *L)
{
	struct page_slot *s = current_slot;
	struct cdp_error err;

	if (!s || !s->cdp)
		return luaL_error(L, "no browser in this run");
	if (s->open)
		return luaL_error(L, "the job's page is already open");
	if (s->spec && s->spec->prewarmed) {
		/* the worker opened it while the previous job ran */
		s->page = *s->spec->prewarmed;
		s->open = 1;
	} else if (browser_open_page(s->cdp, &s->page, &err)) {
		return open_failed(L, &err);
	} else {
		s->open = 1;
	}
	if (job_page_prepare(s->cdp, &s->page, &err)) {
		return open_failed(L, &err);
	}
	lua_pushstring(L, s->page.session_id);
	lua_pushstring(L, s->page.frame_id);
	lua_pushboolean(L, s->page.helper);
	return 3;
}

/* ---- saved sign-in state: host.session_*(), used by job.lua's sign_in */

static struct page_slot *session_slot(void)
{
	struct page_slot *s = current_slot;
	return s && s->open && s->session[0] && s->spec->session_vault ? s : NULL;
}

/* host.session_restore() → true when a saved state went into the context */
static int l_session_restore(lua_State *L)
{
	struct page_slot *s = session_slot();
	char err[400];
	int rc;

	if (!s || s->spec->fresh_login) {
		lua_pushboolean(L, 0);
		return 1;
	}
	rc = session_restore(s->cdp, &s->page, s->spec->session_vault, s->session,
			     s->init_id, sizeof(s->init_id), err, sizeof(err));
	if (rc < 0)
		log_warn("%s; logging in", err);
	lua_pushboolean(L, rc == 1);
	return 1;
}

/* host.session_settled(): the sign-in check is over; later documents
 * keep the storage they make. */
static int l_session_settled(lua_State *L)
{
	struct page_slot *s = current_slot;
	cJSON *p, *res = NULL;
	struct cdp_error err;

	if (s && s->open && s->init_id[0]) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "identifier", s->init_id);
		if (cdp_call(s->cdp, s->page.session_id, "Page.removeScriptToEvaluateOnNewDocument",
			     p, 5000, &res, &err))
			log_debug("remove the storage init script: %s", err.message);
		cJSON_Delete(res);
		s->init_id[0] = '\0';
	}
	(void)L;
	return 0;
}

/* host.session_save() → true when the state is in the vault */
static int l_session_save(lua_State *L)
{
	struct page_slot *s = session_slot();
	char err[400];
	int rc = -1;

	if (s) {
		rc = session_save(s->cdp, &s->page, s->spec->session_vault, s->session,
				  err, sizeof(err));
		if (rc)
			log_warn("the sign-in state was not kept: %s", err);
	}
	lua_pushboolean(L, rc == 0);
	return 1;
}

/* host.session_forget(): a rejected state goes, cookies and vault entry */
static int l_session_forget(lua_State *L)
{
	struct page_slot *s = session_slot();
	(void)L;
	if (s)
		session_forget(s->cdp, &s->page, s->spec->session_vault, s->session);
	return 0;
}

/* The script's name (acme for scripts/apps/acme.lua): the app part of the
 * session's vault name, as for captured credentials. */
static void app_of_script(const char *script, char *app, size_t n)
{
	const char *base = strrchr(script, '/');
	size_t len;

	snprintf(app, n, "%s", base ? base + 1 : script);
	len = strlen(app);
	if (len > 4 && !strcmp(app + len - 4, ".lua"))
		app[len - 4] = '\0';
}

static void fail(struct job_outcome *o, enum job_exit code, const char *cls,
		 const char *msg)
{
	o->exit = code;
	snprintf(o->error_class, sizeof(o->error_class), "%s", cls);
	snprintf(o->error, sizeof(o->error), "%s", msg);
}

/* The runner (job.lua) never returned — its state was cut off or it
 * raised past its own handler — so C reports what it would have: the
 * failed state (or status) and a result the caller can pass on.  A
 * transient failure the worker will retry gets no final state. */
static void runner_lost(const struct job_spec *spec, struct cdp *c, struct job_outcome *o,
			const char *kind, const char *msg)
{
	const struct action_states *st = action_lookup(spec->action);
	int transient = !strcmp(kind, "deadline") || !strcmp(kind, "timeout") ||
			!strcmp(kind, "transient");
	const char *cls = transient ? "transient" : "script";
	cJSON *res = cJSON_CreateObject(), *err, *ev;

	fail(o, JOB_FAILED, cls, msg);
	cJSON_AddStringToObject(res, "action", spec->action);
	cJSON_AddBoolToObject(res, "ok", 0);
	err = cJSON_AddObjectToObject(res, "error");
	cJSON_AddStringToObject(err, "class", cls);
	cJSON_AddStringToObject(err, "kind", kind);
	cJSON_AddStringToObject(err, "message", msg);
	if (transient && spec->retry_transient) {
		cJSON_AddBoolToObject(res, "retrying", 1);
		o->result = res;
		return;
	}
	ev = cJSON_CreateObject();
	if (st && st->running) {
		const cJSON *u = spec->user;
		const char *who = cJSON_GetStringValue(cJSON_GetObjectItem(u, "email"));
		if (!who)
			who = cJSON_GetStringValue(cJSON_GetObjectItem(u, "username"));
		cJSON_AddStringToObject(res, "state", st->failed);
		cJSON_AddStringToObject(ev, "kind", "state");
		cJSON_AddStringToObject(ev, "user", who ? who : "?");
		cJSON_AddStringToObject(ev, "from", st->running);
		cJSON_AddStringToObject(ev, "state", st->failed);
	} else {
		cJSON_AddStringToObject(ev, "kind", "status");
		cJSON_AddStringToObject(ev, "status", !strcmp(spec->action, "validate") ?
					"validation_failed" : "failed");
		if (!strcmp(spec->action, "sync"))
			cJSON_AddStringToObject(res, "state", "sync_failed");
	}
	cJSON_AddStringToObject(ev, "detail", msg);
	cJSON_AddNumberToObject(ev, "at", (double)cdp_epoch_ms(c));
	if (spec->emit)
		spec->emit(spec->emit_arg, ev);
	else
		cJSON_Delete(ev);
	o->result = res;
}

/* Step events (agent/lua/steps.lua) stay here for steps.json; every
 * other event goes on to the caller. */
#define STEPS_KEPT 1000
struct step_log {
	cJSON *steps;
	void (*emit)(void *arg, cJSON *ev);
	void *arg;
};

static void collect_event(void *arg, cJSON *ev)
{
	struct step_log *s = arg;
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "kind"));

	if (kind && !strcmp(kind, "step")) {
		if (!s->steps) {
			cJSON_Delete(ev);
			return;
		}
		cJSON_DeleteItemFromObject(ev, "kind");
		cJSON_DeleteItemFromObject(ev, "at");
		if (cJSON_GetArraySize(s->steps) >= STEPS_KEPT)
			cJSON_DeleteItemFromArray(s->steps, 0);
		cJSON_AddItemToArray(s->steps, ev);
		return;
	}
	if (s->emit)
		s->emit(s->arg, ev);
	else
		cJSON_Delete(ev);
}

/* Write text to dir/name through the redactor. */
static void write_evidence(const char *dir, const char *name, const char *text)
{
	char path[2200];
	size_t n;
	char *clean = secret_redact(text, strlen(text), &n);
	FILE *f;

	if (!clean)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fwrite(clean, 1, n, f);
		fclose(f);
	}
	free(clean);
}

/* steps.json: the job, its error, and each page call with its timing. */
static void write_steps(const char *dir, const struct job_spec *spec,
			const struct job_outcome *o, const cJSON *steps)
{
	cJSON *doc = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(doc, "script", spec->script);
	cJSON_AddStringToObject(doc, "action", spec->action);
	if (spec->user)
		cJSON_AddItemToObject(doc, "user", cJSON_Duplicate(spec->user, 1));
	cJSON_AddStringToObject(doc, "error_class", o->error_class);
	cJSON_AddStringToObject(doc, "error", o->error);
	cJSON_AddItemToObject(doc, "steps", cJSON_Duplicate(steps, 1));
	text = cJSON_Print(doc);
	if (text)
		write_evidence(dir, "steps.json", text);
	free(text);
	cJSON_Delete(doc);
}

int job_mkdir_p(const char *dir)
{
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

void job_run(const struct job_spec *spec, struct cdp *c, struct job_outcome *o)
{
	struct script_host h;
	struct script_error e = { .traceback = NULL };
	struct page_slot slot = { .cdp = c };
	struct step_log steps = { .steps = NULL };
	char err[512];
	cJSON *arg, *res = NULL;

	memset(o, 0, sizeof(*o));
	if (script_host_init(&h, c, err, sizeof(err))) {
		fail(o, JOB_USAGE, "internal", err);
		script_host_release(&h);
		return;
	}
	steps.steps = cJSON_CreateArray();
	steps.emit = spec->emit;
	steps.arg = spec->emit_arg;
	h.emit = collect_event;
	h.emit_arg = &steps;
	/* Created on first use: a run that succeeds leaves no folder. */
	if (spec->artifacts_dir)
		snprintf(h.artifacts_dir, sizeof(h.artifacts_dir), "%s", spec->artifacts_dir);
	if (spec->files_dir)
		snprintf(h.files_dir, sizeof(h.files_dir), "%s", spec->files_dir);
	{
		static const luaL_Reg fns[] = {
			{ "open_page", l_open_page },
			{ "session_restore", l_session_restore },
			{ "session_settled", l_session_settled },
			{ "session_save", l_session_save },
			{ "session_forget", l_session_forget },
			{ NULL, NULL }
		};
		lua_getfield(h.L, LUA_REGISTRYINDEX, "idlcm.host");
		luaL_setfuncs(h.L, fns, 0);
		lua_pop(h.L, 1);
	}
	slot.spec = spec;
	if (spec->session_vault && spec->account) {
		char app[200];
		app_of_script(spec->script, app, sizeof(app));
		session_name(slot.session, sizeof(slot.session), app, spec->account);
	}

	/* The deadline covers the script's own top level too. */
	script_host_set_deadline(&h, spec->timeout_ms);
	if (script_host_load_app(&h, spec->script, &e)) {
		fail(o, JOB_USAGE, e.kind, e.message);
		goto out;
	}

	arg = cJSON_CreateObject();
	cJSON_AddStringToObject(arg, "action", spec->action);
	if (script_host_call(&h, "job", "check", arg, &res, &e)) {
		cJSON_Delete(arg);
		fail(o, JOB_USAGE, e.kind, e.message);
		goto out;
	}
	cJSON_Delete(arg);
	if (!cJSON_IsTrue(cJSON_GetObjectItem(res, "ok"))) {
		char miss[300] = "";
		cJSON *m;
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(res, "missing")) {
			snprintf(miss + strlen(miss), sizeof(miss) - strlen(miss), "%s%s",
				 miss[0] ? ", " : "", cJSON_GetStringValue(m));
		}
		o->exit = JOB_USAGE;
		snprintf(o->error_class, sizeof(o->error_class), "contract");
		snprintf(o->error, sizeof(o->error),
			 "%s: the app table lacks function(s) %s (needed for %s)",
			 spec->script, miss, spec->action);
		goto out;
	}
	cJSON_Delete(res);
	res = NULL;
	if (!c) {
		o->exit = JOB_OK;
		goto out;
	}

	arg = cJSON_CreateObject();
	cJSON_AddStringToObject(arg, "action", spec->action);
	if (spec->user)
		cJSON_AddItemToObject(arg, "user", cJSON_Duplicate(spec->user, 1));
	if (spec->account)
		cJSON_AddItemToObject(arg, "account", cJSON_Duplicate(spec->account, 1));
	if (spec->action_timeout_ms > 0)
		cJSON_AddNumberToObject(arg, "action_timeout", spec->action_timeout_ms);
	/* sync: the IdP's users to reconcile with, and who is exempt */
	if (spec->expected)
		cJSON_AddItemToObject(arg, "expected", cJSON_Duplicate(spec->expected, 1));
	if (spec->exempt)
		cJSON_AddItemToObject(arg, "exempt", cJSON_Duplicate(spec->exempt, 1));
	if (spec->max_delete_ratio > 0)
		cJSON_AddNumberToObject(arg, "max_delete_ratio", spec->max_delete_ratio);
	cJSON_AddBoolToObject(arg, "artifacts", h.artifacts_dir[0] != 0);
	if (spec->retry_transient)
		cJSON_AddBoolToObject(arg, "retry_transient", 1);
	cJSON_AddStringToObject(arg, "capture", spec->capture == JOB_CAPTURE_NONE ? "none" :
				spec->capture == JOB_CAPTURE_DISCARD ? "discard" : "vault");
	current_slot = &slot;
	if (script_host_run_job(&h, arg, &res, &e)) {
		cJSON_Delete(arg);
		runner_lost(spec, c, o, e.kind, e.message);
		goto evidence;
	}
	cJSON_Delete(arg);
	o->result = res;
	res = NULL;
	if (cJSON_IsTrue(cJSON_GetObjectItem(o->result, "ok"))) {
		o->exit = JOB_OK;
		goto out;
	} else {
		cJSON *je = cJSON_GetObjectItem(o->result, "error");
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(je, "message"));
		const char *where = cJSON_GetStringValue(cJSON_GetObjectItem(je, "where"));
		const char *cls = cJSON_GetStringValue(cJSON_GetObjectItem(je, "class"));
		o->exit = JOB_FAILED;
		snprintf(o->error_class, sizeof(o->error_class), "%s", cls ? cls : "script");
		/* A Lua runtime error already names its file:line. */
		if (where && msg && !strstr(msg, where))
			snprintf(o->error, sizeof(o->error), "%s at %s", msg, where);
		else
			snprintf(o->error, sizeof(o->error), "%s", msg ? msg : "job failed");
	}
evidence:
	if (h.artifacts_dir[0] && c && !job_mkdir_p(h.artifacts_dir)) {
		cJSON *frames = cdp_recent_frames(c);
		char *text = cJSON_Print(frames);
		if (text) {
			write_evidence(h.artifacts_dir, "cdp-frames.json", text);
			free(text);
		}
		cJSON_Delete(frames);
		write_evidence(h.artifacts_dir, "error.txt", o->error);
		write_steps(h.artifacts_dir, spec, o, steps.steps);
		o->artifacts = 1;
	}
out:
	current_slot = NULL;
	if (c)
		c->deadline_ms = 0;	/* cleanup is not bound by the job's deadline */
	if (slot.open)
		browser_close_page(c, &slot.page);
	else if (spec->prewarmed && c) {
		/* never used (a usage error): it goes all the same */
		struct page_handle p = *spec->prewarmed;
		browser_close_page(c, &p);
	}
	if (c) {
		o->round_trips = c->round_trips;
		if (o->result)
			cJSON_AddNumberToObject(o->result, "cdp_round_trips", (double)c->round_trips);
		log_debug("job: %ld CDP round trips", c->round_trips);
	}
	cJSON_Delete(res);
	cJSON_Delete(steps.steps);
	script_error_release(&e);
	script_host_release(&h);
}
