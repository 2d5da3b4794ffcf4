#ifndef IDLCM_CASSETTE_H
#define IDLCM_CASSETTE_H
/*
 * cassette: recorded CDP sessions as JSON lines.  The recorder wraps a live
 * transport and saves every frame it saw; the replayer answers a job's
 * commands from a cassette, in order, on the recording's clock, no browser.
 *
 * A cassette file: line 1 is the header {"cassette":1, script, action, user,
 * account, epoch_ms, recorded}; then one record per frame
 *   {"t":MS,"dir":"send","id":N,"sessionId":S,"method":M,"params":{…}}
 *   {"t":MS,"dir":"recv","id":N,"sessionId":S,"result":{…}}   (or "error")
 *   {"t":MS,"dir":"event","sessionId":S,"method":M,"params":{…}}
 *   {"t":MS,"dir":"close","reason":R}
 *   {"t":MS,"dir":"clock"}            (the script read the clock: clock.now())
 *   {"t":MS,"dir":"data","name":N,"text":T}  (a file the job read: a download)
 * and last {"t":MS,"dir":"end","outcome":{exit, state, error_class, users}}.
 * t is milliseconds since the recording started.  Secrets appear only as
 * placeholders ("{{secret:account.password}}"); screenshots and other huge
 * strings are elided ("{{elided: N bytes…}}").
 */
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cdp.h"

#define CASSETTE_VERSION 1
#define CASSETTE_BIG_SEND 4096		/* sent strings past this: a hash */
#define CASSETTE_BIG_RECV (256u << 10)	/* received strings past this: elided */
/* A Runtime.evaluate in this object group answers with a response body
 * (page:request): its reply is kept whole, like Network.getResponseBody's. */
#define CASSETTE_BODY_GROUP "idlcm-body"

/* Rewrite tree in place the way a cassette stores it: secrets become
 * placeholders, big strings are elided.  `sent` selects the rules for
 * what we send (hashed, so replay can still compare them). */
void cassette_canonical(cJSON *tree, int sent);
/* From now on, a path in prefix (a folder of this run) is stored and
 * compared as "{{name}}/rest": record and replay run in other folders. */
void cassette_path_alias(const char *prefix, const char *name);

/* The first difference between expected and actual, for messages:
 * path ("params.text", "params.args[2]") and short excerpts of both
 * values.  0 when equal. */
struct cassette_diff {
	char path[200];
	char expected[240];
	char actual[240];
};
int cassette_diff(const cJSON *expected, const cJSON *actual,
		  struct cassette_diff *d);

/* What a run ended with, as the cassette's last line keeps it. */
cJSON *cassette_outcome(int exit, const cJSON *result, const char *error_class,
			const char *error);
/* 0 when actual is the recorded outcome, else -1 with why. */
int cassette_outcome_compare(const cJSON *recorded, const cJSON *actual,
			     char *why, size_t whylen);

/* ---- recording */
/* Wrap inner (taken); every frame through it is kept for the cassette. */
struct cdp_transport *cdp_record_wrap(struct cdp_transport *inner);
int cdp_is_recorder(const struct cdp_transport *);
/* Write the cassette: header fields (script, action, user, account), the
 * frames so far, and the outcome.  Written to path.tmp, then renamed. */
int cdp_record_save(struct cdp_transport *, const char *path,
		    const cJSON *header, const cJSON *outcome,
		    char *err, size_t errlen);

/* ---- replaying */
struct cdp_transport *cdp_replay_open(const char *path, char *err, size_t errlen);
/* The same from text in memory; name is used in messages. */
struct cdp_transport *cdp_replay_open_mem(const char *text, size_t len,
					  const char *name, char *err,
					  size_t errlen);
int cdp_is_replayer(const struct cdp_transport *);
const cJSON *cdp_replay_header(const struct cdp_transport *);
const cJSON *cdp_replay_outcome(const struct cdp_transport *);	/* or NULL */
/* The full divergence report (several lines), or NULL when none. */
const char *cdp_replay_divergence(const struct cdp_transport *);
/* After the job: 0 when every recorded command was replayed, else -1
 * with what the script left out (also kept as the divergence). */
int cdp_replay_finish(struct cdp_transport *, char *err, size_t errlen);
/* Commands replayed / in the cassette. */
void cdp_replay_counts(const struct cdp_transport *, int *done, int *total);

/* ---- `record` and `replay`: run with a cassette (agent/cmd_replay.c) */
#define EXIT_REPLAY_DIVERGED 3	/* the script did not do what was recorded */
enum run_mode { RUN_LIVE, RUN_RECORD, RUN_REPLAY };
struct job_outcome;
enum run_mode run_mode_of(const char *command);	/* "run", "record", "replay" */
/* record: check that the cassette can be written (exits 2 when not). */
void record_prepare(const char *cassette);
/* replay: open the cassette (exits 2 when it is unusable), check the
 * action, and default *user and *account to the recorded ones. */
struct cdp_transport *replay_prepare(const char *cassette, const char *action,
				     cJSON **user, cJSON **account);
/* After the job: record saves the cassette; replay checks that every
 * command was replayed and the outcome is the recorded one.  Returns the
 * exit code to use (rc, or 3 when the replay diverged). */
int cassette_after_job(enum run_mode, struct cdp *c, const char *cassette,
		       const char *script, const char *action, const cJSON *user,
		       const cJSON *account, const struct job_outcome *out, int rc);
#endif
