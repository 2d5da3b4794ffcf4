/*
 * Fuzz target: JSON arguments on the command line — `run --user` and
 * `--account`, inline or as @file (agent/cli.c) — and the check that an
 * action has the user it needs (cli_check_user, used by cmd_run.c).  The
 * first byte picks the action, the rest is the argument.  Properties: an
 * argument is accepted exactly when it is one JSON object with nothing but
 * whitespace after it; inline and @file read the same text the same way;
 * every error names the option; a user accepted for invite, update or
 * remove has the "email" or "username" string the script will read (keys
 * are case-sensitive in Lua), and roles as an array of strings; nothing
 * leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int model_accepts(const char *text, size_t n)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	int ok = cJSON_IsObject(j);

	while (ok && end < text + n && (*end == ' ' || *end == '\t' || *end == '\r' ||
					*end == '\n'))
		end++;
	cJSON_Delete(j);
	return ok && end == text + n;
}

static void check_user(const char *action, const cJSON *user)
{
	char err[200];
	const cJSON *roles, *r;
	int needs = !strcmp(action, "invite") || !strcmp(action, "update") ||
		    !strcmp(action, "remove");

	if (cli_check_user(action, user, err, sizeof(err))) {
		if (!needs || !strstr(err, "user"))
			abort();
		return;
	}
	if (!needs)
		return;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(user, "email")) &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(user, "username")))
		abort();
	roles = cJSON_GetObjectItemCaseSensitive(user, "roles");
	if (roles && !cJSON_IsArray(roles))
		abort();
	cJSON_ArrayForEach(r, roles)
		if (!cJSON_IsString(r))
			abort();
	if (!strcmp(action, "update") && !roles)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = { "invite", "update", "remove", "list_users",
					       "validate", "sync" };
	static char path[64];
	char err[512], at[80];
	const char *action, *text;
	size_t n;
	cJSON *inline_j = NULL, *file_j;
	FILE *f;

	if (!size)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/idlcm-fuzz-cli-%d.json", (int)getpid());
	}
	action = actions[data[0] % 6];
	text = (const char *)data + 1;
	n = size - 1;

	/* as a file: the bytes as they are */
	f = fopen(path, "wb");
	if (!f || fwrite(text, 1, n, f) != n || fclose(f))
		abort();
	snprintf(at, sizeof(at), "@%s", path);
	err[0] = '\0';
	file_j = cli_json_arg("--account", at, err, sizeof(err));
	if (!file_j && strncmp(err, "--account: ", 11))
		abort();	/* the error names the option */
	if (!!file_j != model_accepts(text, n))
		abort();

	/* inline: argv can't hold a NUL */
	if (!memchr(text, 0, n)) {
		char *arg = strndup(text, n);
		err[0] = '\0';
		inline_j = cli_json_arg("--user", arg, err, sizeof(err));
		if (!inline_j && strncmp(err, "--user: ", 8))
			abort();
		if (!!inline_j != !!file_j)
			abort();
		if (inline_j) {	/* as text: cJSON_Compare trips on a key given twice */
			char *a = cJSON_PrintUnformatted(inline_j), *b = cJSON_PrintUnformatted(file_j);
			if (!a || !b || strcmp(a, b))
				abort();
			cJSON_free(a);
			cJSON_free(b);
		}
		free(arg);
	}
	check_user(action, inline_j ? inline_j : file_j);
	cJSON_Delete(inline_j);
	cJSON_Delete(file_j);
	return 0;
}
