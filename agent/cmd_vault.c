/*
 * idlcm-agent vault set|get|list|rm NAME: the operator's side of the
 * vault.  `set` reads the value from --value or stdin (one trailing
 * newline dropped) so it never has to appear in a shell history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "log.h"
#include "vault.h"

#define VALUE_MAX (1u << 20)

static void vault_usage(void)
{
	cli_usage_error("usage: idlcm-agent vault set NAME [--value V] | get NAME | list | "
			"rm NAME [--vault FILE]");
}

static char *read_stdin(size_t *len)
{
	char *buf = malloc(VALUE_MAX + 1);
	size_t n;

	if (!buf)
		return NULL;
	n = fread(buf, 1, VALUE_MAX + 1, stdin);
	if (n > VALUE_MAX) {
		free(buf);
		cli_usage_error("vault set: the value is larger than 1 MiB");
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return buf;
}

int cmd_vault(int argc, char **argv)
{
	const char *verb = NULL, *name = NULL, *value = NULL, *path = NULL;
	char err[512], *buf = NULL;
	struct vault *v;
	size_t len = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--value") || !strcmp(argv[i], "--vault")) {
			if (i + 1 >= argc)
				cli_usage_error("%s wants a value", argv[i]);
			if (!strcmp(argv[i], "--value"))
				value = argv[++i];
			else
				path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("vault: unknown option \"%s\"", argv[i]);
		} else if (!verb) {
			verb = argv[i];
		} else if (!name) {
			name = argv[i];
		} else {
			cli_usage_error("vault: unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!verb)
		vault_usage();
	if (strcmp(verb, "list") ? !name : !!name)
		vault_usage();
	if (strcmp(verb, "set") && value)
		cli_usage_error("--value only goes with vault set");
	if (strcmp(verb, "set") && strcmp(verb, "get") && strcmp(verb, "list") &&
	    strcmp(verb, "rm"))
		vault_usage();

	v = vault_open_env(path, err, sizeof(err));
	if (!v) {
		fprintf(stderr, "idlcm-agent: %s\n", err);
		return EXIT_USAGE;
	}
	if (!strcmp(verb, "set")) {
		if (value) {
			len = strlen(value);
		} else {
			if (isatty(0))
				fprintf(stderr, "value for %s (end with Ctrl-D): ", name);
			buf = read_stdin(&len);
			value = buf;
		}
		if (!value) {
			rc = 1;
			snprintf(err, sizeof(err), "out of memory");
		} else if (vault_set(v, name, value, len, err, sizeof(err))) {
			rc = 1;
		} else {
			printf("stored %s\n", name);
		}
	} else if (!strcmp(verb, "get")) {
		int r = vault_get(v, name, &buf, &len, err, sizeof(err));
		if (r) {
			rc = 1;
		} else {
			fwrite(buf, 1, len, stdout);
			if (isatty(1))
				fputc('\n', stdout);
		}
	} else if (!strcmp(verb, "rm")) {
		if (vault_remove(v, name, err, sizeof(err)))
			rc = 1;
		else
			printf("removed %s\n", name);
	} else {
		cJSON *list = vault_list(v, err, sizeof(err)), *e;
		if (!list)
			rc = 1;
		cJSON_ArrayForEach(e, list)
			printf("%-50s %s\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "name")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "updated_at")));
		cJSON_Delete(list);
	}
	if (rc)
		fprintf(stderr, "idlcm-agent: vault %s: %s\n", verb, err);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	vault_close(v);
	return rc;
}
