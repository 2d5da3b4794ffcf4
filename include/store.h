#ifndef IDLCM_STORE_H
#define IDLCM_STORE_H
/*
 * store: the agent's SQLite file (WAL) — the local job queue, the event
 * outbox that is delivered to the coordinator at-least-once, runs and the
 * paths of their failure artifacts.  The schema grows by migrations only.
 *
 * Extending it (the vault, anything else): append a step to
 * store_migrations[] in agent/store.c — never edit or reorder a shipped
 * step — and use store_db() for your own statements.  The file's
 * PRAGMA user_version is the number of steps applied.
 */
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>

struct store;

/* Open (creating) path, set WAL + busy timeout, apply pending migrations.
 * NULL with err filled: unreadable file, or a schema newer than ours. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_free(struct store *);
sqlite3 *store_db(struct store *);
/* PRAGMA user_version: how many migration steps the file has. */
int store_schema_version(struct store *);
/* How many steps this build knows. */
int store_schema_latest(void);
/* Run sql (no rows): 0 or -1 (err filled). */
int store_exec(struct store *, char *err, size_t errlen, const char *sql);

/* ---- the local job queue: a claimed job until it is finished */
enum store_job_state {
	STORE_JOB_READY,	/* claimed, waiting for a slot or its retry time */
	STORE_JOB_RUNNING,
	STORE_JOB_DONE,		/* completed (the complete is in the outbox) */
	STORE_JOB_DROPPED,	/* lease lost, handed back or abandoned */
};
const char *store_job_state_name(enum store_job_state);
/* Remember a claimed job (id + its JSON); a second put of the same id and
 * attempt is a no-op.  1 inserted, 0 already there, -1 error. */
int store_job_put(struct store *, const char *id, int attempt, const char *body);
int store_job_set_state(struct store *, const char *id,
			enum store_job_state, int tries, int64_t next_try_ms);
/* Jobs left READY or RUNNING by an earlier process become DROPPED (their
 * leases lapse at the coordinator, which requeues them).  Returns how
 * many. */
int store_job_abandon_stale(struct store *);

/* Why the last write failed ("commit: database or disk is full"). */
const char *store_error(struct store *);

/* ---- the outbox */
enum store_msg_kind { STORE_MSG_EVENT = 0, STORE_MSG_COMPLETE = 1 };
struct store_msg {
	int64_t id;
	char job_id[128];
	enum store_msg_kind kind;
	int seq;		/* events: 1, 2, … per job; complete: the attempt */
	char *body;		/* JSON text */
};
/* Append an event: it gets the job's next seq (1, 2, …), written into ev
 * as "seq" before it is stored (ev is borrowed).  0 or -1. */
int store_outbox_add_event(struct store *, const char *job_id, cJSON *ev,
			   int *seq_out);
/* Append the job's complete for a claim attempt (JSON text); a second one
 * for the same attempt is a no-op.  Its seq is the attempt. */
int store_outbox_add_complete(struct store *, const char *job_id, int attempt,
			      const char *body);
/* The next seq an event of job_id will get. */
int store_outbox_next_seq(struct store *, const char *job_id);
/* Jobs with undelivered messages, the one waiting longest first. */
int store_outbox_jobs(struct store *, char (*ids)[128], int max);
/* A job's undelivered messages: its events in seq order, then its
 * complete; at most max.  *msgs is caller-freed (store_msgs_free). */
int store_outbox_peek(struct store *, const char *job_id, int max,
		      struct store_msg **msgs, int *n);
void store_msgs_free(struct store_msg *, int n);
/* Mark delivered (status 1) or rejected for good (status 2, reason). */
int store_outbox_mark(struct store *, int64_t id, int status, const char *reason);
int store_outbox_pending(struct store *);
/* created_ms of the oldest message not yet delivered; 0 when none. */
int64_t store_outbox_oldest_ms(struct store *);

/* ---- runs and artifacts */
int64_t store_run_begin(struct store *, const char *job_id, int attempt,
			int try_no, int pid);
int store_run_end(struct store *, int64_t run, int exit_code,
		  const char *error_class, const char *error);
int store_artifact_add(struct store *, int64_t run, const char *job_id,
		       const char *path);

int64_t store_now_ms(void);	/* wall clock, ms since the epoch */
#endif
