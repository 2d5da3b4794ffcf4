/*
 * idlcm-agent run <script> <action>: one job in this process, no
 * supervisor.  Connect to (or launch) Chromium, run the job, print its
 * state transitions, exit 0 / 1 (job failed) / 2 (usage, broken script,
 * unreachable browser).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "cassette.h"
#include "cdp.h"
#include "cli.h"
#include "job.h"
#include "log.h"
#include "output.h"
#include "session.h"
#include "vault.h"

struct run_opts {
	const char *script, *action, *browser, *runs_dir, *vault;
	const char *files_dir;		/* uploads may read files here */
	cJSON *user, *account, *expected, *exempt;
	double max_delete_ratio;
	int json, timeout_ms, action_timeout_ms;
	int fresh_login;		/* ignore the saved sign-in state */
	enum run_mode mode;		/* run, record or replay */
	const char *cassette;
	struct cdp_transport *replay;	/* replay: the cassette, opened early */
};

static volatile pid_t chromium_pgid;
static char chromium_profile[1100];	/* ours to delete, also from a signal */

/* Interrupted or past the hard backstop: take Chromium and its profile
 * directory down with us. */
static void on_fatal_signal(int sig)
{
	static const char msg[] = "idlcm-agent: job stopped by its hard deadline\n";
	if (chromium_pgid > 0)
		browser_kill_in_signal(chromium_pgid, chromium_profile);
	if (sig == SIGALRM) {
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(EXIT_JOB_FAILED);
		_exit(EXIT_JOB_FAILED);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* An error of the run before the job: a record with --log-format json. */
static void __attribute__((format(printf, 1, 2))) run_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_get_format() == LOG_FORMAT_JSON)
		log_error("%s", msg);
	else
		fprintf(stderr, "idlcm-agent: %s\n", msg);
}

static void emit_event(void *arg, cJSON *ev)
{
	struct run_opts *o = arg;
	if (o->json)
		out_json_line(stdout, ev);
	else
		out_event_human(stdout, ev);
	cJSON_Delete(ev);
}

static void check_user(const struct run_opts *o)
{
	char err[200];

	if (cli_check_user(o->action, o->user, err, sizeof(err)))
		cli_usage_error("%s", err);
}

#define JSON_ARRAY_FILE_MAX (4u << 20)

/* --expect / --exempt: a JSON array, inline or from a file (@file or a
 * plain path).  --exempt also takes a comma-separated list of emails. */
static cJSON *json_array_arg(const char *opt, const char *v)
{
	const char *path = v && v[0] == '@' ? v + 1 : v;
	cJSON *j = NULL;
	char *buf = NULL;
	FILE *f;

	if (!v)
		cli_usage_error("%s wants a JSON array or a file holding one", opt);
	if (v[0] == '[') {
		j = cJSON_Parse(v);
	} else if ((f = fopen(path, "rb"))) {
		size_t n;
		/* one byte past the cap tells "too large" from "cut short" */
		buf = malloc(JSON_ARRAY_FILE_MAX + 1);
		n = buf ? fread(buf, 1, JSON_ARRAY_FILE_MAX + 1, f) : 0;
		fclose(f);
		if (!buf)
			cli_usage_error("%s: out of memory reading %s", opt, path);
		if (n > JSON_ARRAY_FILE_MAX) {
			free(buf);
			cli_usage_error("%s: %s is larger than %u MiB", opt, path,
					JSON_ARRAY_FILE_MAX >> 20);
		}
		j = cJSON_ParseWithLength(buf, n);
		free(buf);
		if (!j)
			cli_usage_error("%s: %s is not a JSON array", opt, path);
	} else if (!strcmp(opt, "--exempt") && v[0] != '@') {
		char *copy = strdup(v), *save = NULL;
		j = cJSON_CreateArray();
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(j, cJSON_CreateString(t));
		free(copy);
	} else {
		cli_usage_error("%s: cannot read %s", opt, path);
	}
	if (!cJSON_IsArray(j))
		cli_usage_error("%s wants a JSON array", opt);
	return j;
}

static void parse(int argc, char **argv, struct run_opts *o)
{
	char err[512];
	int pos = 0;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 120000;
	o->runs_dir = getenv("IDLCM_RUNS_DIR") ? getenv("IDLCM_RUNS_DIR") : "runs";
	o->mode = run_mode_of(argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (!strcmp(a, "--json")) {
			o->json = 1;
			takes = 0;
		} else if (!strcmp(a, "--fresh-login")) {
			o->fresh_login = 1;
			takes = 0;
		} else if (!strcmp(a, "--user") || !strcmp(a, "--account")) {
			cJSON **dst = a[2] == 'u' ? &o->user : &o->account;
			if (!v)
				cli_usage_error("%s wants a JSON object or @file", a);
			cJSON_Delete(*dst);
			*dst = cli_json_arg(a, v, err, sizeof(err));
			if (!*dst)
				cli_usage_error("%s", err);
		} else if (!strcmp(a, "--expect") || !strcmp(a, "--exempt")) {
			cJSON **dst = a[4] == 'p' ? &o->expected : &o->exempt;
			cJSON_Delete(*dst);
			*dst = json_array_arg(a, v);
		} else if (!strcmp(a, "--max-delete-ratio")) {
			char *end = NULL;
			o->max_delete_ratio = v ? strtod(v, &end) : -1;
			if (!v || *end || end == v || o->max_delete_ratio <= 0 ||
			    o->max_delete_ratio > 1)
				cli_usage_error("--max-delete-ratio wants a number above 0, at most 1");
		} else if (!strcmp(a, "--vault")) {
			if (!v)
				cli_usage_error("--vault wants a file");
			o->vault = v;
		} else if (!strcmp(a, "--cassette") && o->mode != RUN_LIVE) {
			if (!v)
				cli_usage_error("--cassette wants a file");
			o->cassette = v;
		} else if (!strcmp(a, "--browser")) {
			if (!v)
				cli_usage_error("--browser wants ws://… or http://host:port");
			o->browser = v;
		} else if (!strcmp(a, "--timeout")) {
			o->timeout_ms = cli_int(a, v, 100, 24 * 3600 * 1000);
		} else if (!strcmp(a, "--action-timeout")) {
			o->action_timeout_ms = cli_int(a, v, 1, 3600 * 1000);
		} else if (!strcmp(a, "--runs-dir")) {
			if (!v)
				cli_usage_error("--runs-dir wants a directory");
			o->runs_dir = v;
		} else if (!strcmp(a, "--files-dir")) {
			struct stat st;
			if (!v || stat(v, &st) || !S_ISDIR(st.st_mode))
				cli_usage_error("--files-dir wants an existing directory, not \"%s\"",
						v ? v : "");
			o->files_dir = v;
		} else if (!strcmp(a, "--log-level")) {
			if (!v || log_parse_level(v) < 0)
				cli_usage_error("--log-level wants error, warn, info or debug");
			log_set_level((enum log_level)log_parse_level(v));
		} else if (a[0] == '-' && a[1]) {
			cli_usage_error("%s: unknown option \"%s\" (see idlcm-agent help)", argv[0], a);
		} else {
			takes = 0;
			if (pos == 0)
				o->script = a;
			else if (pos == 1)
				o->action = a;
			else
				cli_usage_error("%s: unexpected argument \"%s\"", argv[0], a);
			pos++;
		}
		i += takes;
	}
	if (!o->script || !o->action)
		cli_usage_error("usage: idlcm-agent %s <script> <action> [options]", argv[0]);
	if (!job_action_known(o->action))
		cli_usage_error("unknown action \"%s\" (invite, update, remove, list_users, "
				"validate, sync)", o->action);
	if ((o->expected || o->exempt) && strcmp(o->action, "sync"))
		cli_usage_error("--expect and --exempt go with the sync action");
	if (access(o->script, R_OK))
		cli_usage_error("cannot read script %s", o->script);
	if (o->mode == RUN_RECORD)
		record_prepare(o->cassette);
	if (o->mode == RUN_REPLAY)
		o->replay = replay_prepare(o->cassette, o->action, &o->user, &o->account);
	check_user(o);
}

/* A password the invite captured goes to the vault before any output;
 * the result keeps only its vault name.  The app is the script's name. */
static int capture_credentials(const struct run_opts *o, struct vault **v,
			       struct job_outcome *out)
{
	cJSON *cred = out->result ? cJSON_GetObjectItem(out->result, "credentials") : NULL;
	const char *base = strrchr(o->script, '/');
	char app[200], err[600];
	size_t n;

	if (!cJSON_IsString(cJSON_GetObjectItem(cred, "password")))
		return 0;
	snprintf(app, sizeof(app), "%s", base ? base + 1 : o->script);
	n = strlen(app);
	if (n > 4 && !strcmp(app + n - 4, ".lua"))
		app[n - 4] = '\0';
	if (!*v)
		*v = vault_open_env(o->vault, err, sizeof(err));
	if (!*v)
		log_warn("%s", err);
	if (!vault_capture_credentials(*v, app, o->user, out->result, err, sizeof(err)))
		return 0;
	job_outcome_secret_lost(out, err);
	return -1;
}

/* The job's elapsed time: a replay reports the recording's (its transport
 * clock), so two replays of one cassette print the same figure. */
static int64_t elapsed_ms(const struct run_opts *o, struct cdp *c, int64_t t0)
{
	if (o->mode == RUN_REPLAY && c)
		return cdp_now(c);
	return cdp_wall_ms() - t0;
}

/* A script's syntax or contract error is the author's to fix: say so
 * before a browser is launched. */
static int precheck_script(const struct run_opts *o)
{
	struct job_spec spec;
	struct job_outcome out;

	memset(&spec, 0, sizeof(spec));
	spec.script = o->script;
	spec.action = o->action;
	spec.timeout_ms = o->timeout_ms;
	job_run(&spec, NULL, &out);
	if (out.exit == JOB_OK)
		return 0;
	fprintf(stderr, "error (%s): %s\n", out.error_class[0] ? out.error_class : "script",
		out.error);
	job_outcome_release(&out);
	return -1;
}

static void print_credentials(const cJSON *result)
{
	const cJSON *cred = cJSON_GetObjectItem(result, "credentials");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(cred, "vault"));
	if (name)
		printf("credentials stored in the vault as %s\n", name);
}

/* A run's evidence folder: its start time and pid.  A replay's is the
 * recording's start and "replay", so two replays of one cassette print the
 * same bytes (the second one's evidence replaces the first's). */
static void run_id(char *buf, size_t n, const struct run_opts *o, struct cdp *c)
{
	time_t t = o->mode == RUN_REPLAY && c ? (time_t)(cdp_epoch_ms(c) / 1000) : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, n, "%04d%02d%02d-%02d%02d%02d-", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (o->mode == RUN_REPLAY)
		snprintf(buf + strlen(buf), n - strlen(buf), "replay");
	else
		snprintf(buf + strlen(buf), n - strlen(buf), "%d", (int)getpid());
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct browser b;
	struct cdp_transport *tr;
	struct cdp *c = NULL;
	struct job_spec spec;
	struct job_outcome out;
	struct vault *vault = NULL;
	char err[600], rid[64], dir[1200];
	int64_t t0 = cdp_wall_ms();
	int rc;

	memset(&b, 0, sizeof(b));
	parse(argc, argv, &o);
	if (o.account)
		job_register_secrets(o.account);
	if (precheck_script(&o)) {
		rc = EXIT_USAGE;
		goto done;
	}
	/* A replay has no side effects: it neither reads nor writes a vault
	 * (it answers with the recording's placeholders). */
	if (o.mode == RUN_REPLAY && o.account && vault_refs_present(o.account)) {
		fprintf(stderr, "idlcm-agent: --account: a replay does not read the vault; "
			"leave --account out to use the recorded one\n");
		rc = EXIT_USAGE;
		goto done;
	}
	/* {"password": {"vault": "acme/admin"}}: resolved here, never in Lua */
	if (o.account && vault_refs_present(o.account)) {
		vault = vault_open_env(o.vault, err, sizeof(err));
		if (!vault || vault_resolve(vault, o.account, err, sizeof(err))) {
			fprintf(stderr, "idlcm-agent: --account: %s\n", err);
			rc = EXIT_USAGE;
			goto done;
		}
	}

	if (o.mode == RUN_REPLAY) {	/* no browser: the cassette answers */
		tr = o.replay;
		o.replay = NULL;
		signal(SIGALRM, on_fatal_signal);
		alarm((unsigned)(o.timeout_ms / 1000 + 30));
		goto connected;
	}
	if (o.browser)
		rc = browser_attach(&b, o.browser, 5000, err, sizeof(err));
	else
		rc = browser_launch(&b, NULL, 20000, err, sizeof(err));
	if (rc) {
		run_error("%s", err);
		rc = EXIT_USAGE;
		goto done;
	}
	if (b.profile_dir && strlen(b.profile_dir) < sizeof(chromium_profile))
		memcpy(chromium_profile, b.profile_dir, strlen(b.profile_dir) + 1);
	chromium_pgid = b.pid;
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGALRM, on_fatal_signal);
	/* A backstop past the job deadline, for a process that hangs anyway. */
	alarm((unsigned)(o.timeout_ms / 1000 + 30));

	tr = cdp_ws_connect(b.ws_url, 5000, err, sizeof(err));
	if (!tr) {
		run_error("cannot connect to the browser: %s", err);
		rc = EXIT_USAGE;
		goto done;
	}
	if (o.mode == RUN_RECORD)
		tr = cdp_record_wrap(tr);
connected:
	c = cdp_new(tr);

	run_id(rid, sizeof(rid), &o, c);
	snprintf(dir, sizeof(dir), "%s/%s", o.runs_dir, rid);
	memset(&spec, 0, sizeof(spec));
	spec.script = o.script;
	spec.action = o.action;
	spec.user = o.user;
	spec.account = o.account;
	spec.timeout_ms = o.timeout_ms;
	spec.action_timeout_ms = o.action_timeout_ms;
	spec.artifacts_dir = dir;
	spec.files_dir = o.files_dir;
	spec.emit = emit_event;
	spec.emit_arg = &o;
	spec.expected = o.expected;
	spec.exempt = o.exempt;
	spec.max_delete_ratio = o.max_delete_ratio;
	spec.fresh_login = o.fresh_login;
	/* Saved sign-in state lives in the vault: kept when there is a vault
	 * key, never in record or replay runs (cassettes stay free of it). */
	if (o.mode == RUN_LIVE && o.account && session_vault_wanted()) {
		if (!vault)
			vault = vault_open_env(o.vault, err, sizeof(err));
		if (!vault)
			log_warn("the sign-in state is not kept: %s", err);
		spec.session_vault = vault;
	}
	spec.capture = o.mode == RUN_REPLAY ? JOB_CAPTURE_DISCARD : job_capture_from_env();

	job_run(&spec, c, &out);
	rc = cassette_after_job(o.mode, c, o.cassette, o.script, o.action, o.user,
				o.account, &out, (int)out.exit);
	if (o.mode != RUN_REPLAY && capture_credentials(&o, &vault, &out) && !rc)
		rc = EXIT_JOB_FAILED;
	if (o.json) {
		cJSON *r = out.result ? cJSON_Duplicate(out.result, 1) : cJSON_CreateObject();
		cJSON_AddStringToObject(r, "kind", "result");
		cJSON_AddNumberToObject(r, "exit", rc);
		cJSON_AddNumberToObject(r, "elapsed_ms", (double)elapsed_ms(&o, c, t0));
		if (rc && !cJSON_GetObjectItem(r, "error")) {
			cJSON *e = cJSON_AddObjectToObject(r, "error");
			cJSON_AddStringToObject(e, "class", out.error_class);
			cJSON_AddStringToObject(e, "message", out.error);
		}
		if (out.artifacts)
			cJSON_AddStringToObject(r, "artifacts", dir);
		out_json_line(stdout, r);
		cJSON_Delete(r);
	} else {
		cJSON *users = out.result ? cJSON_GetObjectItem(out.result, "users") : NULL;
		if (users && !rc && !strcmp(o.action, "sync"))
			out_sync_table(stdout, users, cJSON_GetObjectItem(out.result, "summary"));
		else if (users && !rc)
			out_users_table(stdout, users);
		print_credentials(out.result);
		if (rc == 0)
			printf("ok (%.1f s)\n", (double)elapsed_ms(&o, c, t0) / 1000.0);
	}
	if (rc && out.error[0] && log_get_format() == LOG_FORMAT_JSON) {
		/* a log shipper gets the error as one record (redacted there) */
		const char *kv[] = { "error_class", out.error_class[0] ? out.error_class : "job",
				     "evidence", out.artifacts ? dir : NULL, NULL };
		log_msg_kv(LOG_ERROR, kv, "%s", out.error);
	} else if (rc && out.error[0]) {
		char *clean = secret_redact(out.error, strlen(out.error), NULL);
		fprintf(stderr, "error (%s): %s\n", out.error_class[0] ? out.error_class : "job",
			clean ? clean : "");
		if (out.artifacts)
			fprintf(stderr, "evidence: %s/\n", dir);
		free(clean);
	}
	job_outcome_release(&out);
done:
	vault_close(vault);
	cJSON_Delete(o.expected);
	cJSON_Delete(o.exempt);
	cdp_free(c);
	chromium_pgid = 0;
	chromium_profile[0] = '\0';
	browser_release(&b);
	cJSON_Delete(o.user);
	cJSON_Delete(o.account);
	return rc;
}
