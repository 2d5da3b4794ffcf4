/*
 * idlcm-agent record / replay: `run` with a cassette.  record runs the job
 * on Chromium through the recording transport and saves what it saw;
 * replay runs the same script with no browser, answered from the cassette,
 * and fails loudly when the script does something the recording did not.
 * cmd_run.c owns the options and the output; this file owns the cassette.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cassette.h"
#include "cli.h"
#include "job.h"
#include "log.h"

enum run_mode run_mode_of(const char *command)
{
	if (command && !strcmp(command, "record"))
		return RUN_RECORD;
	if (command && !strcmp(command, "replay"))
		return RUN_REPLAY;
	return RUN_LIVE;
}

struct cdp_transport *replay_prepare(const char *cassette, const char *action,
				     cJSON **user, cJSON **account)
{
	char err[700];
	struct cdp_transport *tr;
	const cJSON *h;
	const char *rec_action;

	if (!cassette)
		cli_usage_error("replay needs --cassette FILE");
	tr = cdp_replay_open(cassette, err, sizeof(err));
	if (!tr)
		cli_usage_error("%s", err);
	h = cdp_replay_header(tr);
	rec_action = cJSON_GetStringValue(cJSON_GetObjectItem(h, "action"));
	if (rec_action && strcmp(rec_action, action)) {
		char was[64];
		snprintf(was, sizeof(was), "%s", rec_action);
		tr->ops->free(tr);
		cli_usage_error("%s was recorded for the action \"%s\", not \"%s\"",
				cassette, was, action);
	}
	/* What the job was recorded with, unless given again. */
	if (!*user && cJSON_IsObject(cJSON_GetObjectItem(h, "user")))
		*user = cJSON_Duplicate(cJSON_GetObjectItem(h, "user"), 1);
	if (!*account && cJSON_IsObject(cJSON_GetObjectItem(h, "account")))
		*account = cJSON_Duplicate(cJSON_GetObjectItem(h, "account"), 1);
	return tr;
}

void record_prepare(const char *cassette)
{
	int fd;

	if (!cassette)
		cli_usage_error("record needs --cassette FILE");
	/* Fail now, not after a whole job on the browser (and leave no
	 * empty file behind when the job never runs). */
	if (!access(cassette, F_OK)) {
		if (access(cassette, W_OK))
			cli_usage_error("cannot write cassette %s: %m", cassette);
		return;
	}
	fd = open(cassette, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		cli_usage_error("cannot write cassette %s: %m", cassette);
	close(fd);
	unlink(cassette);
}

static cJSON *header_of(const char *script, const char *action, const cJSON *user,
			const cJSON *account)
{
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "script", script);
	cJSON_AddStringToObject(h, "action", action);
	if (user)
		cJSON_AddItemToObject(h, "user", cJSON_Duplicate(user, 1));
	if (account)
		cJSON_AddItemToObject(h, "account", cJSON_Duplicate(account, 1));
	return h;
}

int cassette_after_job(enum run_mode mode, struct cdp *c, const char *cassette,
		       const char *script, const char *action, const cJSON *user,
		       const cJSON *account, const struct job_outcome *out, int rc)
{
	char err[2600];
	cJSON *outcome;

	if (mode == RUN_LIVE || !c)
		return rc;
	outcome = cassette_outcome(rc, out->result, out->error_class, out->error);
	if (mode == RUN_RECORD) {
		cJSON *h = header_of(script, action, user, account);
		if (cdp_record_save(c->tr, cassette, h, outcome, err, sizeof(err))) {
			fprintf(stderr, "idlcm-agent: %s\n", err);
			rc = EXIT_USAGE;
		} else {
			fprintf(stderr, "cassette: %s\n", cassette);
		}
		cJSON_Delete(h);
	} else {
		const cJSON *recorded = cdp_replay_outcome(c->tr);
		int done, total;

		cdp_replay_counts(c->tr, &done, &total);
		if (cdp_replay_finish(c->tr, err, sizeof(err))) {
			fputs(err, stderr);
			rc = EXIT_REPLAY_DIVERGED;
		} else if (recorded && cassette_outcome_compare(recorded, outcome, err,
								sizeof(err))) {
			fprintf(stderr, "replay: the outcome differs from the recording: %s\n",
				err);
			rc = EXIT_REPLAY_DIVERGED;
		} else {
			fprintf(stderr, "replay: %d of %d commands matched %s%s\n", done, total,
				cassette, recorded ? "; outcome as recorded" : "");
		}
	}
	cJSON_Delete(outcome);
	return rc;
}
