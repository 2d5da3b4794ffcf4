#ifndef IDLCM_WORKER_H
#define IDLCM_WORKER_H
/*
 * worker: the supervisor behind `idlcm-agent worker` — owns one Chromium
 * (relaunched when it dies) or spreads jobs over a pool of DevTools
 * endpoints (health-checked; a dead one's job runs again on another), claims jobs from the coordinator, runs each in
 * a forked child with its own CDP connection, enforces deadlines with
 * SIGKILL, heartbeats leases, retries transient failures with capped
 * exponential backoff, and delivers every event through the outbox.
 */
#include <cjson/cJSON.h>

#define WORKER_BROWSERS_MAX 64

struct worker_opts {
	const char *coordinator, *token_file, *db, *runs_dir;
	/* --browser: DevTools endpoints, or "@FILE" (one a line); none: the
	 * worker launches and owns one Chromium */
	const char *browsers[WORKER_BROWSERS_MAX];
	int nbrowsers;
	int browser_check_ms;		/* pool health checks, this often */
	const char *metrics_listen;	/* ADDR:PORT of GET /metrics, or NULL */
	const char *scripts_dir, *worker_id;
	const char *vault;		/* NULL: $IDLCM_VAULT or the default */
	const char *files_dir;		/* uploads: <files_dir>/<integration>/; NULL: none */
	cJSON *apps;			/* apps to claim for; NULL = any */
	int slots;
	int poll_s;			/* claim long poll */
	int job_timeout_ms;		/* when the job names none */
	int action_timeout_ms;
	int kill_grace_ms;		/* SIGKILL this long past a job's deadline */
	int max_tries;			/* runs of one claimed job (transient errors) */
	int retry_base_ms, retry_max_ms;
	int grace_ms;			/* on SIGTERM: how long running jobs may finish */
	int prewarm_max_ms;		/* a page opened ahead waits this long; 0: none */
};

void worker_opts_defaults(struct worker_opts *);
/* Serve until SIGTERM/SIGINT; 0 on a clean stop, 2 on a setup error. */
int worker_run(const struct worker_opts *);
#endif
