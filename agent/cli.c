/*
 * cli: argument helpers every subcommand shares — JSON arguments inline or
 * from @file, whole-number options, and usage errors that exit 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

#define JSON_ARG_MAX (1u << 20)

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_get_format() == LOG_FORMAT_JSON)	/* a shipper reads records only */
		log_error("%s", msg);
	else
		fprintf(stderr, "idlcm-agent: %s\n", msg);
	exit(EXIT_USAGE);
}

int cli_int(const char *opt, const char *value, int min, int max)
{
	char *end;
	long v;

	errno = 0;
	v = value ? strtol(value, &end, 10) : 0;
	if (!value || errno || *end || end == value || v < min || v > max)
		cli_usage_error("%s wants a whole number from %d to %d, not \"%s\"",
				opt, min, max, value ? value : "");
	return (int)v;
}

/* A password typed on the command line is readable by every user of the
 * machine (ps, /proc/<pid>/cmdline) and lands in shell history: say so. */
static void warn_secret_in_argv(const char *what, const cJSON *j)
{
	static const char *hints[] = { "pass", "secret", "token", "key", "otp", NULL };
	const cJSON *f;

	cJSON_ArrayForEach(f, j) {
		if (!cJSON_IsString(f) || !f->string || !f->valuestring[0])
			continue;
		for (int i = 0; hints[i]; i++)
			if (strcasestr(f->string, hints[i])) {
				fprintf(stderr, "idlcm-agent: warning: %s carries a secret (\"%s\") "
					"on the command line, where every user of this machine can "
					"read it; use %s @file (mode 0600) or a vault reference "
					"{\"%s\": {\"vault\": \"app/name\"}}\n", what, f->string,
					what, f->string);
				return;
			}
	}
}

cJSON *cli_json_arg(const char *what, const char *value, char *err, size_t errlen)
{
	char *buf = NULL;
	const char *text = value;
	size_t n = strlen(value);
	const char *end = NULL;
	cJSON *j;

	if (value[0] == '@') {
		FILE *f = fopen(value + 1, "rb");
		if (!f) {
			snprintf(err, errlen, "%s: cannot read %s: %s", what, value + 1,
				 strerror(errno));
			return NULL;
		}
		buf = malloc(JSON_ARG_MAX + 1);
		n = buf ? fread(buf, 1, JSON_ARG_MAX + 1, f) : 0;
		fclose(f);
		if (!buf || n > JSON_ARG_MAX) {
			snprintf(err, errlen, "%s: %s is larger than 1 MiB", what, value + 1);
			free(buf);
			return NULL;
		}
		buf[n] = '\0';
		text = buf;
	}
	j = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	while (j && end < text + n && *end && strchr(" \t\r\n", *end))
		end++;
	if (!j) {
		snprintf(err, errlen, "%s: invalid JSON near byte %d", what,
			 end ? (int)(end - text) + 1 : 1);
	} else if (end < text + n) {
		/* '{"email":"a"} x' is a typo, not a user */
		snprintf(err, errlen, "%s: unexpected text after the JSON object at byte %d",
			 what, (int)(end - text) + 1);
		cJSON_Delete(j);
		j = NULL;
	} else if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "%s: must be a JSON object", what);
		cJSON_Delete(j);
		j = NULL;
	} else if (!buf) {
		warn_secret_in_argv(what, j);
	}
	free(buf);
	return j;
}


int cli_check_user(const char *action, const cJSON *user, char *err, size_t errlen)
{
	const cJSON *roles, *r;

	/* keys as the script reads them: case matters */
	if (!strcmp(action, "list_users") || !strcmp(action, "validate") ||
	    !strcmp(action, "sync"))
		return 0;
	if (!user)
		return snprintf(err, errlen, "%s needs --user '{\"email\":…}'", action), -1;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(user, "email")) &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(user, "username")))
		return snprintf(err, errlen, "--user: needs an \"email\" or \"username\" string"), -1;
	roles = cJSON_GetObjectItemCaseSensitive(user, "roles");
	if (roles && !cJSON_IsArray(roles))
		return snprintf(err, errlen, "--user: \"roles\" must be an array of strings"), -1;
	cJSON_ArrayForEach(r, roles)
		if (!cJSON_IsString(r))
			return snprintf(err, errlen, "--user: \"roles\" must be an array of strings"), -1;
	if (!strcmp(action, "update") && !roles)
		return snprintf(err, errlen, "update needs --user with \"roles\""), -1;
	return 0;
}

/* An installed agent (PREFIX/bin/idlcm-agent) finds the app scripts make
 * install put in PREFIX/share/idlcm/apps, wherever PREFIX (or DESTDIR)
 * is; in a source tree it is scripts/apps as always. */
const char *cli_apps_dir(void)
{
	static char dir[4096];
	char exe[4000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;
	char *slash;

	if (dir[0])
		return dir;
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash && slash - exe >= 4 && !strncmp(slash - 4, "/bin", 4)) {
			slash[-4] = '\0';	/* PREFIX */
			snprintf(dir, sizeof(dir), "%s/share/idlcm/apps", exe);
			if (!stat(dir, &st) && S_ISDIR(st.st_mode))
				return dir;
		}
	}
	snprintf(dir, sizeof(dir), "scripts/apps");
	return dir;
}
