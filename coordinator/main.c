/*
 * idlcm-coordinator: the reference coordinator.  This file owns the
 * command line, the token file, signals and the serving loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "coordinator.h"
#include "httpd.h"
#include "privfile.h"
#include "scim.h"

#define MAX_BODY (8u << 20)

static void usage(FILE *f)
{
	fputs("usage: idlcm-coordinator --listen 127.0.0.1:PORT --db FILE [--token-file F]\n"
	      "                         [--lease-s N] [--claim-wait-s N] [--test-hooks]\n"
	      "       idlcm-coordinator integration add|list|show|set|rotate-token|delete …\n"
	      "\n"
	      "  --listen ADDR:PORT  where to serve (port 0 picks a free one)\n"
	      "  --db FILE           the SQLite database (created when missing)\n"
	      "  --token-file F      bearer token every call must carry (mode 0600)\n"
	      "  --lease-s N         default lease of a claimed job (default 60)\n"
	      "  --claim-wait-s N    longest claim long poll (default 25)\n"
	      "  --test-hooks        enable POST /v1/test/raw-job (tests only)\n", f);
}

static char *read_token(const char *path, char *err, size_t n)
{
	char *tok = privfile_read(path, "token file", err, n);
	char *copy = tok ? strdup(tok) : NULL;

	privfile_free(tok);
	return copy;
}

static int num(const char *opt, const char *v, int lo, int hi)
{
	char *end;
	long x;

	errno = 0;
	x = v ? strtol(v, &end, 10) : 0;
	if (!v || errno || *end || end == v || x < lo || x > hi) {
		fprintf(stderr, "idlcm-coordinator: %s wants a whole number from %d to %d\n",
			opt, lo, hi);
		exit(2);
	}
	return (int)x;
}

int main(int argc, char **argv)
{
	struct coord c = { .default_lease_s = 60, .max_wait_s = 25 };
	struct httpd_config cfg = { .max_body = MAX_BODY, .server_name = "idlcm-coordinator" };
	const char *listen = NULL, *dbpath = NULL, *token_file = NULL;
	char iface[64] = "127.0.0.1", err[600], *herr = NULL;
	int rc = 1;

	if (argc > 1 && !strcmp(argv[1], "integration"))
		return integ_cli(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--listen") && v) {
			listen = v;
			i++;
		} else if (!strcmp(a, "--db") && v) {
			dbpath = v;
			i++;
		} else if (!strcmp(a, "--token-file") && v) {
			token_file = v;
			i++;
		} else if (!strcmp(a, "--lease-s")) {
			c.default_lease_s = num(a, v, 1, 3600);
			i++;
		} else if (!strcmp(a, "--claim-wait-s")) {
			c.max_wait_s = num(a, v, 0, 300);
			i++;
		} else if (!strcmp(a, "--test-hooks")) {
			c.test_hooks = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "idlcm-coordinator: unknown or incomplete option \"%s\"\n\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!listen || !dbpath) {
		usage(stderr);
		return 2;
	}
	{
		const char *colon = strrchr(listen, ':');
		if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(iface)) {
			fprintf(stderr, "idlcm-coordinator: --listen wants ADDR:PORT, not \"%s\"\n", listen);
			return 2;
		}
		snprintf(iface, sizeof(iface), "%.*s", (int)(colon - listen), listen);
		cfg.port = num("--listen", colon + 1, 0, 65535);
		cfg.iface = iface;
	}
	if (token_file && !(c.token = read_token(token_file, err, sizeof(err)))) {
		fprintf(stderr, "idlcm-coordinator: %s\n", err);
		return 2;
	}
	c.db = cdb_open(dbpath, err, sizeof(err));
	if (!c.db) {
		fprintf(stderr, "idlcm-coordinator: %s\n", err);
		goto out;
	}
	lws_set_log_level(LLL_ERR, NULL);
	c.h = httpd_new(&cfg, &herr);
	if (!c.h || coord_routes(&c) || integ_routes(&c) || scim_routes(&c)) {
		fprintf(stderr, "idlcm-coordinator: %s\n", herr ? herr : "cannot add routes");
		goto out;
	}
	printf("listening on http://%s:%d\n", iface, httpd_port(c.h));
	fflush(stdout);
	rc = httpd_run_until_signal(c.h) ? 1 : 0;
out:
	coord_release(&c);
	httpd_free(c.h);
	sqlite3_close(c.db);
	free(c.token);
	free(herr);
	return rc;
}
