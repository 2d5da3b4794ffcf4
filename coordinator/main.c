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
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "coordinator.h"
#include "httpd.h"
#include "log.h"
#include "pages.h"
#include "privfile.h"
#include "scim.h"
#include "version.h"

#define MAX_BODY (8u << 20)

static void usage(FILE *f)
{
	fputs("usage: idlcm-coordinator --listen 127.0.0.1:PORT --db FILE|URL [--token-file F]\n"
	      "                         [--lease-s N] [--claim-wait-s N] [--test-hooks]\n"
	      "       idlcm-coordinator integration add|list|show|set|rotate-token|delete …\n"
	      "\n"
	      "  --listen ADDR:PORT  where to serve (port 0 picks a free one)\n"
	      "  --db FILE           the SQLite database (created when missing)\n"
	      "  --db URL            a PostgreSQL database, postgres://USER@HOST:PORT/DB (or\n"
	      "                      postgresql://…, any libpq URL): several coordinators\n"
	      "                      may share it; needs --key-file\n"
	      "  --token-file F      bearer token every call must carry (mode 0600)\n"
	      "  --insecure-no-auth  serve an address other than loopback without a token\n"
	      "  --key-file F        key sealing service-account secrets in the database\n"
	      "                      (64 hex digits, mode 0600; default: FILE.key, made once;\n"
	      "                      with a URL every coordinator must be given the same)\n"
	      "  --lease-s N         default lease of a claimed job (default 60)\n"
	      "  --claim-wait-s N    longest claim long poll (default 25)\n"
	      "  --test-hooks        enable POST /v1/test/raw-job (tests only)\n"
	      "  --admin-password-file F  serve the admin pages at /admin/ (mode 0600)\n"
	      "  --artifacts-dir D   serve job artifacts found under D to the admin\n"
	      "  --sync-every-s N    the daily sync's period (default 86400)\n"
	      "  --log-level L       error, warn, info (default) or debug\n"
	      "  --log-format F      text (default) or json: one object per line\n"
	      "                      (IDLCM_LOG and IDLCM_LOG_FORMAT set the defaults)\n"
	      "  --version           print the version\n"
	      "  --help              this text\n"
	      "\n"
	      "GET /metrics serves Prometheus metrics (with the bearer token when set).\n"
	      "Under systemd, the credentials \"token\", \"key\" and \"admin-password\"\n"
	      "($CREDENTIALS_DIRECTORY) are the defaults of --token-file, --key-file and\n"
	      "--admin-password-file.\n", f);
}

static char *read_token(const char *path, char *err, size_t n)
{
	char *tok = privfile_read(path, "token file", err, n);
	char *copy = tok ? strdup(tok) : NULL;

	privfile_free(tok);
	return copy;
}

/* Loopback only: anyone else who could reach an unauthenticated
 * coordinator could claim jobs and with them service accounts. */
static int is_loopback(const char *iface)
{
	return !strncmp(iface, "127.", 4) || !strcmp(iface, "localhost") ||
	       !strcmp(iface, "::1") || !strcmp(iface, "[::1]");
}

/* The database holds every integration's service account: 0600, and a
 * looser file is tightened (SQLite gives its -wal/-shm the same mode). */
static int db_file_private(const char *path, char *err, size_t n)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, n, "cannot open the database \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (!fstat(fd, &st) && (st.st_mode & 077)) {
		log_warn("%s was mode %03o; now 0600", path, (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, 0600)) {
			snprintf(err, n, "cannot make \"%s\" private (mode 0600): %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
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

/* PostgreSQL: another coordinator queued jobs (NOTIFY).  When the
 * connection breaks its socket goes: stop watching it; the store
 * reconnects on its next statement and store_idle watches the new one. */
static int watching;

static int store_readable(void *arg)
{
	struct coord *c = arg;

	if (cstore_pump(c->store) == 0)
		return 0;
	watching = 0;
	return -1;
}

/* Notifications libpq read while answering a statement; a new
 * connection's socket. */
static void store_idle(void *arg)
{
	struct coord *c = arg;

	cstore_pump(c->store);
	if (!watching && cstore_fd(c->store) >= 0) {
		if (httpd_watch_fd(c->h, cstore_fd(c->store), store_readable, c))
			log_error("cannot watch the PostgreSQL connection");
		else
			watching = 1;
	}
}

static int watch_store(struct coord *c)
{
	if (coord_listen(c))
		return -1;
	httpd_set_idle(c->h, store_idle, c);
	if (httpd_watch_fd(c->h, cstore_fd(c->store), store_readable, c))
		return -1;
	watching = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct coord c = { .default_lease_s = 60, .max_wait_s = 25 };
	struct httpd_config cfg = { .max_body = MAX_BODY, .server_name = "idlcm-coordinator" };
	const char *listen = NULL, *dbpath = NULL, *token_file = NULL, *key_file = NULL;
	char iface[64] = "127.0.0.1", err[600], *herr = NULL;
	const char *fmt = getenv("IDLCM_LOG_FORMAT"), *lvl = getenv("IDLCM_LOG");
	const char *admin_pw = NULL;
	int rc = 1, insecure = 0, pr;

	/* A page of SCIM users is a ~100 KB buffer taken and freed per call:
	 * glibc gave the heap's free top back to the kernel past 128 KB and
	 * faulted it in again on the next call (5% of a page's CPU).  Keep up
	 * to 16 MB of it; blocks under 1 MB come from the heap. */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	/* "idlcm-coordinator: …" lines as before; --log-format json for shippers */
	log_set_text_prefix("idlcm-coordinator");
	log_set_component("coordinator");
	log_set_level(lvl && log_parse_level(lvl) >= 0 ? (enum log_level)log_parse_level(lvl) :
		      LOG_INFO);
	if (fmt && *fmt && log_parse_format(fmt) < 0) {
		fprintf(stderr, "idlcm-coordinator: IDLCM_LOG_FORMAT wants text or json, "
			"not \"%s\"\n", fmt);
		return 2;
	}
	if (fmt && *fmt)
		log_set_format((enum log_format)log_parse_format(fmt));
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
		} else if (!strcmp(a, "--key-file") && v) {
			key_file = v;
			i++;
		} else if (!strcmp(a, "--log-level")) {
			if (!v || log_parse_level(v) < 0) {
				fprintf(stderr, "idlcm-coordinator: --log-level wants error, warn, "
					"info or debug\n");
				return 2;
			}
			log_set_level((enum log_level)log_parse_level(v));
			i++;
		} else if (!strcmp(a, "--log-format")) {
			if (!v || log_parse_format(v) < 0) {
				fprintf(stderr, "idlcm-coordinator: --log-format wants text or json\n");
				return 2;
			}
			log_set_format((enum log_format)log_parse_format(v));
			i++;
		} else if (!strcmp(a, "--insecure-no-auth")) {
			insecure = 1;
		} else if (!strcmp(a, "--test-hooks")) {
			c.test_hooks = 1;
		} else if ((pr = pages_option(&c, a, v, err, sizeof(err)))) {
			if (!strcmp(a, "--admin-password-file"))
				admin_pw = v;
			if (pr < 0) {
				fprintf(stderr, "idlcm-coordinator: %s\n", err);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("idlcm-coordinator %s\n", IDLCM_VERSION);
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
	/* LoadCredential= in a unit: the secrets' files need no option */
	if (!token_file)
		token_file = privfile_credential("token");
	if (!key_file)
		key_file = privfile_credential("key");
	if (!admin_pw && (admin_pw = privfile_credential("admin-password")) &&
	    pages_option(&c, "--admin-password-file", admin_pw, err, sizeof(err)) < 0) {
		log_error("%s", err);
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
		log_error("%s", err);
		return 2;
	}
	secret_register(c.token);	/* never in a log record */
	if (!token_file && !is_loopback(iface) && !insecure) {
		log_error("refusing to serve %s without authentication: pass --token-file F "
			  "(mode 0600), or --insecure-no-auth to let anyone who can reach it "
			  "claim jobs and their service accounts", iface);
		return 2;
	}
	if (!token_file && !is_loopback(iface))
		log_warn("serving %s with no authentication (--insecure-no-auth)", iface);
	/* Coordinators sharing a PostgreSQL database must share the key too:
	 * no key is made beside a URL. */
	if (cstore_is_url(dbpath) && !key_file && !(getenv("IDLCM_COORDINATOR_KEY_FILE") &&
						   *getenv("IDLCM_COORDINATOR_KEY_FILE"))) {
		log_error("--db %s needs --key-file F (the key sealing service-account secrets, "
			  "the same file for every coordinator on the database)",
			  cstore_is_url(dbpath) ? "URL" : dbpath);
		return 2;
	}
	if ((!cstore_is_url(dbpath) && db_file_private(dbpath, err, sizeof(err))) ||
	    coord_sealing_init(key_file, dbpath, err, sizeof(err))) {
		log_error("%s", err);
		return 2;
	}
	if (coord_store_open(&c, dbpath, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	lws_set_log_level(LLL_ERR, log_lws_line);
	c.h = httpd_new(&cfg, &herr);
	if (!c.h || coord_routes(&c) || integ_routes(&c) || scim_routes(&c) || pages_routes(&c) ||
	    metrics_routes(&c)) {
		log_error("%s", herr ? herr : "cannot add routes");
		goto out;
	}
	if (cstore_fd(c.store) >= 0 && watch_store(&c)) {
		log_error("cannot listen for other coordinators' jobs: %s", cstore_errmsg(c.store));
		goto out;
	}
	printf("listening on http://%s:%d\n", iface, httpd_port(c.h));
	fflush(stdout);
	log_info("listening on http://%s:%d (db %s)", iface, httpd_port(c.h), dbpath);
	rc = httpd_run_until_signal(c.h) ? 1 : 0;
out:
	pages_release(&c);
	coord_release(&c);
	httpd_free(c.h);
	cstore_close(c.store);
	free(c.token);
	free(herr);
	return rc;
}
