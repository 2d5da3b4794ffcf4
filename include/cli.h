#ifndef IDLCM_CLI_H
#define IDLCM_CLI_H
/* cli: what every subcommand of idlcm-agent shares. */
#include <cjson/cJSON.h>

#define EXIT_JOB_FAILED 1
#define EXIT_USAGE 2

/* A JSON argument given inline or as @file.  NULL with err naming `what`. */
cJSON *cli_json_arg(const char *what, const char *value, char *err, size_t errlen);
/* Does action have the --user it needs (email or username, roles as an
 * array of strings, roles for update)?  0, or -1 with err. */
int cli_check_user(const char *action, const cJSON *user, char *err, size_t errlen);
/* Print "idlcm-agent: <msg>" to stderr and exit 2. */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* An option's integer value, or a usage error naming the option. */
int cli_int(const char *opt, const char *value, int min, int max);
/* Where app scripts live by default: PREFIX/share/idlcm/apps next to an
 * installed binary, else scripts/apps. */
const char *cli_apps_dir(void);

int cmd_run(int argc, char **argv);	/* also record and replay */
int cmd_new(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_vault(int argc, char **argv);
int cmd_worker(int argc, char **argv);
#endif
