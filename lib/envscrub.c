/*
 * envscrub: the environment a process hands on holds no secrets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envscrub.h"

extern char **environ;

int env_is_secret(const char *name)
{
	static const char *marks[] = { "TOKEN", "SECRET", "PASSW", "_KEY", "CREDENTIAL", NULL };
	size_t n = strcspn(name, "=");

	for (int i = 0; marks[i]; i++) {
		size_t m = strlen(marks[i]);
		for (size_t j = 0; j + m <= n; j++)
			if (!strncasecmp(name + j, marks[i], m))
				return 1;
	}
	return 0;
}

char **env_without_secrets(void)
{
	size_t n = 0, k = 0;
	char **out;

	while (environ && environ[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!env_is_secret(environ[i]))
			out[k++] = environ[i];
	return out;
}

void env_scrub_secrets(void)
{
	for (;;) {
		char name[256];
		char *eq = NULL, *entry;
		size_t i;

		for (i = 0; environ && environ[i]; i++)
			if (env_is_secret(environ[i]) && (eq = strchr(environ[i], '=')))
				break;
		if (!eq)
			return;
		/* The strings of the first environment live in the process's
		 * initial stack, which /proc/<pid>/environ reads: unsetenv alone
		 * would leave the value there. */
		entry = environ[i];
		memset(eq + 1, 0, strlen(eq + 1));
		snprintf(name, sizeof(name), "%.*s", (int)(eq - entry), entry);
		/* A name too long to copy stays: blank it, never loop forever. */
		if (unsetenv(name) || environ[i] == entry)
			entry[0] = '\0';
	}
}
