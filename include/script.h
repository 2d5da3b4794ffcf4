#ifndef IDLCM_SCRIPT_H
#define IDLCM_SCRIPT_H
/*
 * script: the sandboxed Lua 5.4 state a job runs in — only the safe
 * libraries, text chunks only, a memory cap, an instruction-count hook that
 * enforces the wall-clock deadline — plus the thin C primitives (cdp, json,
 * clock, log) and the embedded Lua prelude that builds the page API.
 */
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <lua.h>
#include <cjson/cJSON.h>
#include "cdp.h"

struct mem_hdr;

struct script_error {
	char kind[32];		/* "script", "deadline", "timeout", "business", … */
	char message[1024];
	char where[256];	/* "scripts/apps/acme.lua:42", or "" */
	char *traceback;	/* malloc'd or NULL */
};
void script_error_release(struct script_error *);

struct script_host {
	lua_State *L;
	struct cdp *cdp;	/* NULL when no browser is attached (check) */
	int64_t deadline;	/* on cdp's clock (else monotonic); 0 = none */
	/* The same deadline on the wall clock: a replay's clock stands still
	 * while a script spins, the wall clock does not. */
	int64_t wall_deadline;
	int timeout_ms;
	size_t mem, mem_limit;
	struct mem_hdr *blocks;	/* every block the Lua state owns */
	int app_ref;		/* registry ref of the loaded app table */
	int deadline_hits;	/* 1: in the grace period; 2+: cut off */
	/* The runner's own work after the script returned (failure evidence):
	 * the browser stays reachable past the deadline for it alone. */
	int runner_phase;
	size_t input_bytes;	/* written by set_input_files{text=} so far */
	int abort_armed, poisoned;
	sigjmp_buf abort_jmp;
	/* Cut-off inside a long C call (string patterns): a timer signal at the
	 * wall deadline ends the call when it lands in a guarded string
	 * function and not in the allocator (see script.c, "guard"). */
	volatile sig_atomic_t in_strfn, in_alloc, cut_pending;
	const char *cut_in;	/* the C function the cut-off landed in */
	timer_t timer;
	int has_timer;
	char script_path[1024];
	char artifacts_dir[1024];
	char files_dir[1024];	/* --files-dir: what uploads may read; "" = none */
	/* Every event the prelude emits (state, progress, log); takes ev. */
	void (*emit)(void *arg, cJSON *ev);
	void *emit_arg;
};

/* A fresh sandboxed state with the primitives and the prelude loaded. */
int script_host_init(struct script_host *, struct cdp *, char *err, size_t errlen);
void script_host_release(struct script_host *);
/* From now on, stop the script (and any wait in C) after timeout_ms. */
void script_host_set_deadline(struct script_host *, int timeout_ms);
int64_t script_host_now(struct script_host *);
/* Load and run an app script; it must return the app table. */
int script_host_load_app(struct script_host *, const char *path,
			 struct script_error *);
/* Call the prelude's job runner: job.run(app, job) → *result (caller
 * frees).  Errors that escape the runner land in e. */
int script_host_run_job(struct script_host *, cJSON *job, cJSON **result,
			struct script_error *e);
/* lua_pcall of the function below nargs on the stack, with the message
 * handler and the deadline's cut-off armed; for C code that must read
 * script values (whose metamethods may raise or loop). */
int script_host_pcall(struct script_host *, int nargs, int nres,
		      struct script_error *);
/* Call a prelude module function modname.fn(app) → *result; for `check`. */
int script_host_call(struct script_host *, const char *modname,
		     const char *fn, cJSON *arg, cJSON **result,
		     struct script_error *e);
#endif
