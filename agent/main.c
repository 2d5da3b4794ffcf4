/*
 * idlcm-agent: the command line.  Each subcommand lives in its own
 * cmd_*.c (helpers they share in cli.c); this file dispatches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "log.h"
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
	  "  worker --coordinator URL [--token-file F] [--slots N] [--browser URL]\n"
	  "         [--db FILE] [--runs-dir DIR] [--scripts DIR] [--apps a,b]\n"
	  "         [--files-dir DIR]\n"
	  "      claim jobs from a coordinator and run them (docs/worker.md)\n" },
	{ "version", "  version, --version    print the version\n" },
	{ "help", "  help, --help          this text\n" },
};

static const char footer[] =
	"\n"
	"exit status: 0 success, 1 the job failed, 2 bad usage or a broken script,\n"
	"  3 a replay diverged from its cassette; check: 1 when it found problems\n"
	"environment: IDLCM_CHROMIUM (browser binary), IDLCM_LOG (error|warn|info|debug),\n"
	"  IDLCM_VAULT (vault file), IDLCM_VAULT_KEY_FILE (mode 0600) or IDLCM_VAULT_KEY\n"
	"  (32 bytes as 64 hex digits or base64)\n";

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

int main(int argc, char **argv)
{
	const char *lvl = getenv("IDLCM_LOG");
	int rc;

	if (lvl && log_parse_level(lvl) >= 0)
		log_set_level((enum log_level)log_parse_level(lvl));
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (command_help(argc, argv))
		return 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
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
	curl_global_cleanup();
	secret_clear_all();
	return rc;
}
