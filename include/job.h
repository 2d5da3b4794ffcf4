#ifndef IDLCM_JOB_H
#define IDLCM_JOB_H
/*
 * job: one job run in this process — load the app script in a fresh
 * sandbox, check it against the contract, open the job's page, run the
 * prelude's orchestration (agent/lua/job.lua) under a deadline, and turn
 * what happened into an exit code, a result and artifacts.
 */
#include <cjson/cJSON.h>
#include "browser.h"
#include "cdp.h"
#include "vault.h"

enum job_exit { JOB_OK = 0, JOB_FAILED = 1, JOB_USAGE = 2 };

/* A captured password: to the vault (the default), nowhere because no
 * vault key is set (the job then fails: the only copy would be lost), or
 * dropped on purpose (a replay writes no vault). */
enum job_capture { JOB_CAPTURE_VAULT = 0, JOB_CAPTURE_NONE, JOB_CAPTURE_DISCARD };

struct job_spec {
	const char *script;		/* path of the app script */
	const char *action;		/* invite, update, remove, list_users, validate, sync */
	cJSON *user, *account;		/* borrowed; may be NULL */
	int timeout_ms;			/* the whole job */
	int action_timeout_ms;		/* default wait of each page action */
	const char *artifacts_dir;	/* where failure evidence goes */
	const char *files_dir;		/* uploads may read files here; NULL = none */
	cJSON *expected, *exempt;	/* sync: IdP users, exempt users; borrowed */
	double max_delete_ratio;	/* sync safeguard; 0 = default 0.2 */
	int retry_transient;		/* a transient failure will be retried:
					   emit no final state for it */
	enum job_capture capture;	/* where a password an invite captured goes */
	void (*emit)(void *arg, cJSON *ev);	/* takes ev */
	void *emit_arg;
	/* Saved sign-in state (agent/session.c): the vault it lives in (NULL:
	 * none kept) and whether to ignore it and log in (--fresh-login). */
	struct vault *session_vault;
	int fresh_login;
	/* A page opened ahead of the job (the worker's prewarm): used instead
	 * of opening one; the job closes it like its own. */
	const struct page_handle *prewarmed;
};

struct job_outcome {
	enum job_exit exit;
	cJSON *result;			/* {ok, state, users, error:{class,…}} */
	char error[1400];		/* one line for people when exit != 0 */
	char error_class[32];
	int artifacts;			/* evidence was written to artifacts_dir */
	long round_trips;		/* CDP commands the job sent and awaited */
};

/* Is this an action the agent knows (lib/states.c)? */
int job_action_known(const char *action);

/* Run spec against the browser behind cdp (NULL: check only). */
void job_run(const struct job_spec *, struct cdp *, struct job_outcome *);
/* What the page API needs of a fresh page before the script's first call:
 * its main frame and the helper's init script (so that a worker's warm
 * child does it ahead of the job, off the job's critical path). */
struct cdp_error;
int job_page_prepare(struct cdp *, struct page_handle *, struct cdp_error *);
/* A captured password could not be stored (no vault, a failed write): the
 * job fails, class needs_human, state invite_failed, with why. */
void job_outcome_secret_lost(struct job_outcome *out, const char *why);
void job_outcome_release(struct job_outcome *);
/* mkdir -p with mode 0700. */
int job_mkdir_p(const char *dir);
/* JOB_CAPTURE_VAULT when a vault key is set in the environment, else
 * JOB_CAPTURE_NONE (the key itself is not kept). */
enum job_capture job_capture_from_env(void);
/* Register the account's secret-looking fields with the redactor. */
void job_register_secrets(cJSON *account);
#endif
