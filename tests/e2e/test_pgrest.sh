# The SCIM server and the admin pages with the coordinator's state in
# PostgreSQL: the very tests of test_scim.sh and test_pages.sh, run again
# against a real PostgreSQL server (Debian's postgresql package) started in
# a temporary directory (pg_start of test_postgres.sh), each test on a
# database of its own (co_db in lib.sh).  Skipped, saying why, only where
# no server can start.

# pgr_start: test_postgres.sh's server (pg_start: an unprivileged user, a
# Unix socket in PG_DIR); sets IDLCM_TEST_PG for co_db.  Returns 1 with
# "# skipped: …" when no server can start here.
pgr_start() {
	if ! pg_start; then
		echo "# skipped: $PG_SKIP"
		return 1
	fi
	export IDLCM_TEST_PG="$PG_DIR"
	# a URL has no file to keep the sealing key beside: name one
	openssl rand -hex 32 >"$PG_DIR/co.key" && chmod 600 "$PG_DIR/co.key"
	export IDLCM_COORDINATOR_KEY_FILE="$PG_DIR/co.key"
}

# Tests that read or write next to nothing in the database (the bearer
# check, discovery documents, sign-in): not worth a second run.
PGR_SKIP='^t_scim_unauthenticated_\|^t_scim_discovery_\|^t_pages_signin_'

# pgr_run PATTERN: every test of this suite matching PATTERN, on PostgreSQL
pgr_run() {
	pgr_start || return 0
	trap pg_stop EXIT
	n=0; bad=
	for t in $(grep -ho '^t_[a-z0-9_]* *()' "$ROOT"/tests/e2e/test_*.sh | sed 's/ *()//' |
		grep "$1" | grep -v "$PGR_SKIP"); do
		n=$((n + 1))
		if ! ( $t ) >"$WORK/pgrest-$t.log" 2>&1; then
			bad="$bad $t"
			echo "--- $t on PostgreSQL:"; tail -40 "$WORK/pgrest-$t.log"
		fi
	done
	[ -z "$bad" ] || fail "failed on PostgreSQL:$bad"
	echo "# $n tests passed on PostgreSQL $(psql_q 'show server_version')"
}

t_pgrest_scim_on_postgres() { pgr_run '^t_scim_'; }
t_pgrest_pages_on_postgres() { pgr_run '^t_pages_'; }
t_pgrest_metrics_on_postgres() { pgr_run '^t_metrics_scrape_'; }

# `integration …` on a postgres:// URL: the sealing key cannot sit beside a
# URL, so the command asks for --key-file before touching the database
t_pgrest_cli_url_needs_key_file() {
	OUT=$(env -u IDLCM_COORDINATOR_KEY_FILE "$BIN/idlcm-coordinator" integration list \
		--db "postgresql://idlcm@/nowhere?host=$WORK/no-server" 2>"$WORK/cli.err"); RC=$?
	ERR=$(cat "$WORK/cli.err")
	expect_rc 2
	expect_err "--db URL needs --key-file F"
}
