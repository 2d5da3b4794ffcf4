/*
 * idlcm-agent: the command line.  Each subcommand lives in its own
 * cmd_*.c (helpers they share in cli.c); this file dispatches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_lazy.h"

#include "cli.h"
#include "log.h"
#include "privfile.h"
#include "version.h"


/* Each command's usage, once: "idlcm-agent help" prints them all,
 * "idlcm-agent <command> --help" its own. */
static const struct { const char *name, *text; } commands[] = {
	{ "run",
	  "  run <script> <action> [--user JSON|@file] [--account JSON|@file]\n"
	  "                        [--browser URL] [--json] [--timeout MS]\n"
	  "                        [--action-timeout MS] [--runs-dir DIR] [--vault FILE]\n"
	  "                        [--expect FILE] [--exempt FILE|a@x,b@y]\n"
	  "                        [--max-delete-ratio R] [--fresh-login]\n"
	  "                        [--files-dir DIR]\n"
	  "      run one job: actions invite, update, remove, list_users, validate,\n"
	  "      sync (every user, reconciled with --expect; halts with sync_failed\n"
	  "      when more than R (default 0.2) of the expected users would be deleted);\n"
	  "      --account values may be {\"vault\":\"NAME\"}; with a vault key the\n"
	  "      sign-in state is kept in the vault and reused (--fresh-login: log in)\n" },
	{ "record",
	  "  record <script> <action> --cassette FILE [run's options]\n"
	  "      run the job on Chromium and save every CDP frame to FILE (secrets\n"
	  "      as placeholders, screenshots elided)\n" },
	{ "replay",
	  "  replay <script> <action> --cassette FILE [--user …] [--account …]\n"
	  "      run the script against the cassette, no browser; user and account\n"
	  "      default to the recorded ones; exit 3 when the script diverges\n" },
	{ "new",
	  "  new <app> [--out FILE]  write a commented script skeleton\n"
	  "                        (scripts/apps/<app>.lua; never overwrites)\n" },
	{ "check",
	  "  check <script>        load the script without a browser and report\n"
	  "                        syntax errors, missing contract functions and\n"
	  "                        page/locator methods that do not exist\n" },
	{ "report",
	  "  report <run-id|dir> [--runs-dir DIR]\n"
	  "      write runs/<id>/report.html from a failed run's evidence\n" },
	{ "vault",
	  "  vault set|get|list|rm NAME [--value V] [--vault FILE]\n"
	  "      secrets at rest (AES-256-GCM); set reads stdin without --value\n" },
	{ "worker",
	  "  worker --coordinator URL [--token-file F] [--slots N] [--browser URL|@FILE]…\n"
	  "         [--db FILE] [--runs-dir DIR] [--scripts DIR] [--apps a,b]\n"
	  "      claim jobs from a coordinator and run them (docs/worker.md):\n"
	  "      --coordinator URL     the coordinator (http:// or https://); repeat\n"
	  "                            it for coordinators sharing one database:\n"
	  "                            failover in turn\n"
	  "      --token-file F        its bearer token (a file of mode 0600)\n"
	  "      --worker-id ID        how the coordinator knows it (host-pid)\n"
	  "      --apps a,b            claim only these apps' jobs (all)\n"
	  "      --slots N             jobs at once, 1-64 (2)\n"
	  "      --browser URL|@FILE   a running browser's DevTools endpoint,\n"
	  "                            http://host:port or ws://…; repeat it, or\n"
	  "                            name a file of them (one a line), for a pool:\n"
	  "                            jobs go to the least busy one that answers\n"
	  "                            (without it: launch and own one Chromium)\n"
	  "      --browser-check-ms MS health-check pool browsers this often (5000)\n"
	  "      --metrics-listen ADDR:PORT  serve GET /metrics (Prometheus text)\n"
	  "      --db FILE             the worker's store (idlcm-worker.db)\n"
	  "      --runs-dir DIR        runs and failure evidence (runs)\n"
	  "      --scripts DIR         the app scripts (scripts/apps)\n"
	  "      --files-dir DIR       files a script may upload (none)\n"
	  "      --vault FILE          the vault ($IDLCM_VAULT or the default)\n"
	  "      --poll-s S            claim long poll, 0-300 s (20)\n"
	  "      --job-timeout MS      a job's deadline when it names none (300000)\n"
	  "      --action-timeout MS   a step's default timeout\n"
	  "      --kill-grace MS       SIGKILL this long past the deadline (5000)\n"
	  "      --max-tries N         runs of a job on transient errors (3)\n"
	  "      --retry-base MS, --retry-max MS  retry backoff (2000, 60000)\n"
	  "      --grace MS            on SIGTERM, running jobs may finish (30000)\n"
	  "      --prewarm-max-ms MS   a page opened ahead waits this long (30000; 0 off)\n"
	  "      --log-level L         error, warn, info or debug (info)\n" },
	{ "version", "  version, --version    print the version\n" },
	{ "help", "  help, --help          this text\n" },
};

static const char footer[] =
	"\n"
	"every command: --log-format text|json (IDLCM_LOG_FORMAT): json writes one\n"
	"  object per log line (ts, level, component, pid, msg, job, app, attempt …)\n"
	"exit status: 0 success, 1 the job failed, 2 bad usage or a broken script,\n"
	"  3 a replay diverged from its cassette; check: 1 when it found problems\n"
	"environment: IDLCM_CHROMIUM (browser binary), IDLCM_LOG (error|warn|info|debug),\n"
	"  IDLCM_VAULT (vault file), IDLCM_VAULT_KEY_FILE (mode 0600) or IDLCM_VAULT_KEY\n"
	"  (32 bytes as 64 hex digits or base64); under systemd the credentials\n"
	"  \"token\" and \"vault-key\" ($CREDENTIALS_DIRECTORY) are the defaults of\n"
	"  worker --token-file and IDLCM_VAULT_KEY_FILE\n";

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: idlcm-agent <command> [options]\n\ncommands:\n", f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fputs(commands[i].text, f);
	fputs(footer, f);
}

/* "<command> … --help" (or -h) anywhere before "--": that command's usage
 * on stdout, before its own option parsing would call it unknown.  1 when
 * it answered. */
static int command_help(int argc, char **argv)
{
	size_t i;
	int a;

	for (a = 2; a < argc && strcmp(argv[a], "--"); a++)
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h"))
			break;
	if (a >= argc || !strcmp(argv[a], "--"))
		return 0;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[1])) {
			printf("usage: idlcm-agent %s\n%s%s", argv[1], commands[i].text, footer);
			return 1;
		}
	return 0;
}

/* --log-format FORMAT, anywhere before "--" and for every command: taken
 * out of argv here, so no subcommand has to know it.  The last one wins;
 * IDLCM_LOG_FORMAT (an EnvironmentFile's setting) is the default. */
static void take_log_format(int *argc, char **argv)
{
	const char *env = getenv("IDLCM_LOG_FORMAT");
	int out = 1;

	if (env && *env) {
		if (log_parse_format(env) < 0)
			cli_usage_error("IDLCM_LOG_FORMAT wants text or json, not \"%s\"", env);
		log_set_format((enum log_format)log_parse_format(env));
	}
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--log-format")) {
			argv[out++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc || log_parse_format(argv[i + 1]) < 0)
			cli_usage_error("--log-format wants text or json");
		log_set_format((enum log_format)log_parse_format(argv[++i]));
	}
	argv[out] = NULL;
	*argc = out;
}

int main(int argc, char **argv)
{
	const char *lvl = getenv("IDLCM_LOG");
	int rc;

	if (lvl && log_parse_level(lvl) >= 0)
		log_set_level((enum log_level)log_parse_level(lvl));
	take_log_format(&argc, argv);
	/* LoadCredential=vault-key:… in a unit: the vault key's file */
	if (!getenv("IDLCM_VAULT_KEY_FILE") && !getenv("IDLCM_VAULT_KEY") &&
	    privfile_credential("vault-key"))
		setenv("IDLCM_VAULT_KEY_FILE", privfile_credential("vault-key"), 1);
	if (argc >= 2)	/* the JSON records' "component" */
		log_set_component(!strcmp(argv[1], "record") || !strcmp(argv[1], "replay") ?
				  "run" : argv[1]);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (command_help(argc, argv))
		return 0;
	if (!strcmp(argv[1], "run") || !strcmp(argv[1], "record") ||
	    !strcmp(argv[1], "replay")) {
		rc = cmd_run(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "new")) {
		rc = cmd_new(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "check")) {
		rc = cmd_check(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "report")) {
		rc = cmd_report(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "worker")) {
		rc = cmd_worker(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "vault")) {
		rc = cmd_vault(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("idlcm-agent %s\n", IDLCM_VERSION);
		rc = 0;
	} else if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
		   !strcmp(argv[1], "-h")) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "idlcm-agent: unknown command \"%s\"\n\n", argv[1]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_lazy_unload();
	secret_clear_all();
	return rc;
}
