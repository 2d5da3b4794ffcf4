/*
 * idlcm-agent worker: parse the options and hand over to the supervisor
 * (agent/worker.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "privfile.h"
#include "worker.h"

static cJSON *parse_apps(const char *v)
{
	cJSON *a = cJSON_CreateArray();
	char *copy = strdup(v), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t)
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
	free(copy);
	return a;
}

int cmd_worker(int argc, char **argv)
{
	struct worker_opts o;
	char *joined = NULL;
	int rc;

	worker_opts_defaults(&o);
	/* a service says what it does unless told otherwise */
	if (!getenv("IDLCM_LOG"))
		log_set_level(LOG_INFO);
	if (getenv("IDLCM_RUNS_DIR"))
		o.runs_dir = getenv("IDLCM_RUNS_DIR");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **s = NULL;

		if (!strcmp(a, "--coordinator")) {
			/* repeatable: coordinators sharing one database, tried
			 * in turn when one is away (agent/coord.c) */
			if (!v || !*v)
				cli_usage_error("%s wants a value", a);
			if (o.coordinator) {
				char *both = malloc(strlen(o.coordinator) + strlen(v) + 2);
				if (!both)
					cli_usage_error("out of memory");
				sprintf(both, "%s,%s", o.coordinator, v);
				free(joined);
				o.coordinator = joined = both;
			} else {
				o.coordinator = v;
			}
			i++;
			continue;
		} else if (!strcmp(a, "--token-file"))
			s = &o.token_file;
		else if (!strcmp(a, "--browser")) {
			/* repeatable: each one more browser of the pool */
			if (!v || !*v)
				cli_usage_error("--browser wants a DevTools URL or @FILE");
			if (o.nbrowsers >= WORKER_BROWSERS_MAX)
				cli_usage_error("--browser: at most %d", WORKER_BROWSERS_MAX);
			o.browsers[o.nbrowsers++] = v;
			i++;
			continue;
		} else if (!strcmp(a, "--metrics-listen"))
			s = &o.metrics_listen;
		else if (!strcmp(a, "--db"))
			s = &o.db;
		else if (!strcmp(a, "--runs-dir"))
			s = &o.runs_dir;
		else if (!strcmp(a, "--scripts"))
			s = &o.scripts_dir;
		else if (!strcmp(a, "--worker-id"))
			s = &o.worker_id;
		else if (!strcmp(a, "--vault"))
			s = &o.vault;
		else if (!strcmp(a, "--files-dir"))
			s = &o.files_dir;
		if (s) {
			if (!v || !*v)
				cli_usage_error("%s wants a value", a);
			*s = v;
			i++;
			continue;
		}
		if (!strcmp(a, "--slots"))
			o.slots = cli_int(a, v, 1, 64);
		else if (!strcmp(a, "--poll-s"))
			o.poll_s = cli_int(a, v, 0, 300);
		else if (!strcmp(a, "--job-timeout"))
			o.job_timeout_ms = cli_int(a, v, 100, 24 * 3600 * 1000);
		else if (!strcmp(a, "--action-timeout"))
			o.action_timeout_ms = cli_int(a, v, 1, 3600 * 1000);
		else if (!strcmp(a, "--kill-grace"))
			o.kill_grace_ms = cli_int(a, v, 0, 3600 * 1000);
		else if (!strcmp(a, "--max-tries"))
			o.max_tries = cli_int(a, v, 1, 100);
		else if (!strcmp(a, "--retry-base"))
			o.retry_base_ms = cli_int(a, v, 1, 3600 * 1000);
		else if (!strcmp(a, "--retry-max"))
			o.retry_max_ms = cli_int(a, v, 1, 24 * 3600 * 1000);
		else if (!strcmp(a, "--grace"))
			o.grace_ms = cli_int(a, v, 0, 3600 * 1000);
		else if (!strcmp(a, "--prewarm-max-ms"))
			o.prewarm_max_ms = cli_int(a, v, 0, 3600 * 1000);
		else if (!strcmp(a, "--browser-check-ms"))
			o.browser_check_ms = cli_int(a, v, 100, 3600 * 1000);
		else if (!strcmp(a, "--apps")) {
			if (!v)
				cli_usage_error("--apps wants a comma-separated list");
			cJSON_Delete(o.apps);
			o.apps = parse_apps(v);
		} else if (!strcmp(a, "--log-level")) {
			if (!v || log_parse_level(v) < 0)
				cli_usage_error("--log-level wants error, warn, info or debug");
			log_set_level((enum log_level)log_parse_level(v));
		} else
			cli_usage_error("worker: unknown option \"%s\" (see idlcm-agent help)", a);
		i++;
	}
	if (!o.coordinator)
		cli_usage_error("worker needs --coordinator URL");
	/* LoadCredential=token:… in a unit: no option needed */
	if (!o.token_file)
		o.token_file = privfile_credential("token");
	if (o.retry_max_ms < o.retry_base_ms)
		o.retry_max_ms = o.retry_base_ms;
	rc = worker_run(&o);
	cJSON_Delete(o.apps);
	free(joined);
	return rc;
}
