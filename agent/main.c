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

#define IDLCM_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: idlcm-agent <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run <script> <action> [--user JSON|@file] [--account JSON|@file]\n"
	      "                        [--browser URL] [--json] [--timeout MS]\n"
	      "                        [--action-timeout MS] [--runs-dir DIR]\n"
	      "      run one job: actions invite, update, remove, list_users, validate\n"
	      "  version               print the version\n"
	      "  help                  this text\n"
	      "\n"
	      "exit status: 0 success, 1 the job failed, 2 bad usage or a broken script\n"
	      "environment: IDLCM_CHROMIUM (browser binary), IDLCM_LOG (error|warn|info|debug)\n",
	      f);
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
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(argv[1], "run")) {
		rc = cmd_run(argc - 1, argv + 1);
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
