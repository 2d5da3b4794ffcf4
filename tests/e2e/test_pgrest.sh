# The SCIM server and the admin pages with the coordinator's state in
# PostgreSQL: the very tests of test_scim.sh and test_pages.sh, run again
# against a real PostgreSQL server (Debian's postgresql package) started in
# a temporary directory, each test on a database of its own (co_db in
# lib.sh).  Skipped, saying why, only where no server can start.

PGR_DIR=; PGR_AS=

# pgr_start: initdb + pg_ctl as an unprivileged user (PostgreSQL refuses to
# run as root), listening on a Unix socket in PGR_DIR only; sets
# IDLCM_TEST_PG.  Returns 1 with "# skipped: …" when it cannot start.
pgr_start() {
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ ! -x "$bin/initdb" ] || ! command -v psql >/dev/null; then
		echo "# skipped: no PostgreSQL server here (make deps installs postgresql)"
		return 1
	fi
	PGR_DIR=$(mktemp -d /tmp/idlcm-pgrest-XXXXXX)
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$PGR_DIR"
		PGR_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env"
	fi
	if ! $PGR_AS "$bin/initdb" -D "$PGR_DIR/data" -U idlcm --auth=trust -E UTF8 \
		--locale=C.UTF-8 >"$PGR_DIR/initdb.log" 2>&1; then
		echo "# skipped: initdb failed: $(tail -3 "$PGR_DIR/initdb.log")"
		return 1
	fi
	if ! $PGR_AS "$bin/pg_ctl" -D "$PGR_DIR/data" -l "$PGR_DIR/server.log" -w -t 60 \
		-o "-k $PGR_DIR -c listen_addresses= -c fsync=off" start >/dev/null 2>&1; then
		echo "# skipped: PostgreSQL did not start: $(tail -3 "$PGR_DIR/server.log")"
		return 1
	fi
	export IDLCM_TEST_PG="$PGR_DIR"
	# a URL has no file to keep the sealing key beside: name one
	openssl rand -hex 32 >"$PGR_DIR/co.key" && chmod 600 "$PGR_DIR/co.key"
	export IDLCM_COORDINATOR_KEY_FILE="$PGR_DIR/co.key"
}

pgr_stop() {
	[ -n "$PGR_DIR" ] || return 0
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	$PGR_AS "$bin/pg_ctl" -D "$PGR_DIR/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$PGR_DIR"
	PGR_DIR=
}

# pgr_run PATTERN: every test of this suite matching PATTERN, on PostgreSQL
pgr_run() {
	pgr_start || return 0
	trap pgr_stop EXIT
	n=0; bad=
	for t in $(grep -ho '^t_[a-z0-9_]* *()' "$ROOT"/tests/e2e/test_*.sh | sed 's/ *()//' |
		grep "$1"); do
		n=$((n + 1))
		if ! ( $t ) >"$WORK/pgrest-$t.log" 2>&1; then
			bad="$bad $t"
			echo "--- $t on PostgreSQL:"; tail -40 "$WORK/pgrest-$t.log"
		fi
	done
	[ -z "$bad" ] || fail "failed on PostgreSQL:$bad"
	echo "# $n tests passed on PostgreSQL $(psql -h "$PGR_DIR" -U idlcm -d postgres -XAtqc 'show server_version')"
}

t_pgrest_scim_on_postgres() { pgr_run '^t_scim_'; }
t_pgrest_pages_on_postgres() { pgr_run '^t_pages_'; }
