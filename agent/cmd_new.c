/*
 * idlcm-agent new <app> [--out FILE]: a commented script skeleton for the
 * app contract (agent/lua/skeleton.lua, embedded), written to
 * scripts/apps/<app>.lua.  Never overwrites a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "embedded.h"

/* Copy the template, replacing __APP__ with app and __NAME__ with name. */
static char *fill(const char *tpl, size_t n, const char *app, const char *name,
		  size_t *outlen)
{
	size_t cap = n * 2 + 1024, len = 0;
	char *out = malloc(cap);

	for (size_t i = 0; out && i < n;) {
		const char *put = NULL;
		size_t skip = 1, plen;
		if (!strncmp(tpl + i, "__APP__", 7)) {
			put = app;
			skip = 7;
		} else if (!strncmp(tpl + i, "__NAME__", 8)) {
			put = name;
			skip = 8;
		}
		plen = put ? strlen(put) : 1;
		if (len + plen + 1 > cap) {
			char *grown = realloc(out, cap = (cap + plen) * 2);
			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + len, put ? put : tpl + i, plen);
		len += plen;
		i += skip;
	}
	if (out)
		out[len] = '\0';
	*outlen = len;
	return out;
}

int cmd_new(int argc, char **argv)
{
	const char *app = NULL, *out = NULL;
	const struct embedded_file *tpl = embedded_find("skeleton.lua");
	char path[1200], name[128];
	char *text;
	size_t n;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out")) {
			if (i + 1 >= argc)
				cli_usage_error("--out wants a file");
			out = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("new: unknown option \"%s\"", argv[i]);
		} else if (!app) {
			app = argv[i];
		} else {
			cli_usage_error("new: unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!app)
		cli_usage_error("usage: idlcm-agent new <app> [--out FILE]");
	if (!*app || strlen(app) > 64 || strspn(app, "abcdefghijklmnopqrstuvwxyz"
						"0123456789_-") != strlen(app))
		cli_usage_error("new: the app name \"%s\" must be 1 to 64 lowercase letters, "
				"digits, \"-\" or \"_\"", app);
	if (!tpl)
		cli_usage_error("new: the script template is missing from this build");
	if (!out) {
		snprintf(path, sizeof(path), "scripts/apps/%s.lua", app);
		out = path;
	}
	/* "acme-eu" -> "Acme-eu": a display name the author will edit anyway */
	snprintf(name, sizeof(name), "%s", app);
	if (name[0] >= 'a' && name[0] <= 'z')
		name[0] = (char)(name[0] - 'a' + 'A');
	text = fill(tpl->data, tpl->len, app, name, &n);
	if (!text) {
		fprintf(stderr, "idlcm-agent: out of memory\n");
		return EXIT_USAGE;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		int e = errno;
		free(text);
		if (e == EEXIST)
			cli_usage_error("%s already exists; not overwriting it (use --out FILE "
					"for another name)", out);
		cli_usage_error("cannot create %s: %s", out, strerror(e));
	}
	if (write(fd, text, n) != (ssize_t)n || close(fd)) {
		fprintf(stderr, "idlcm-agent: cannot write %s: %s\n", out, strerror(errno));
		free(text);
		unlink(out);
		return EXIT_USAGE;
	}
	free(text);
	printf("%s\n", out);
	fprintf(stderr, "next: fill in the TODO selectors, then\n"
		"  idlcm-agent check %s\n"
		"  idlcm-agent run %s list_users --account '{\"base_url\":\"https://…\","
		"\"username\":\"…\",\"password\":\"…\"}'\n", out, out);
	return 0;
}
