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

# Two coordinator processes on one PostgreSQL database and an IdP that
# talks to either: what one stores the other serves, and a userName both
# are asked to create at the same moment is stored once (the other answers
# 409 uniqueness, never 500).
PGR_B_PID=
pgr_two_teardown() {
	[ -n "$PGR_B_PID" ] && kill "$PGR_B_PID" 2>/dev/null && wait "$PGR_B_PID" 2>/dev/null
	sc_teardown
	pg_stop
}
t_pgrest_scim_two_coordinators() {
	pgr_start || return 0
	trap pg_stop EXIT
	sc_setup
	trap pgr_two_teardown EXIT
	A_URL=$SC_URL
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$(co_db "$SC_WD")" --claim-wait-s 1 \
		>"$SC_WD/b.out" 2>>"$SC_WD/b.err" &
	PGR_B_PID=$!
	for _ in $(seq 1 100); do
		B_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$SC_WD/b.out")
		[ -n "$B_URL" ] && break
		sleep 0.05
	done
	[ -n "$B_URL" ] || fail "the second coordinator did not start: $(cat "$SC_WD/b.err")"

	# created through A, read and deactivated through B, its jobs seen by A
	sc POST /Users "$(okta_user two@example.com 00u-two)"
	sc_expect 201 "create on A"
	id=$(jqb .id)
	SC_URL=$B_URL
	sc GET "/Users/$id"
	sc_expect 200 "read on B"
	expect_eq "$(jqb .userName)" two@example.com "userName read on B"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	sc_expect 200 "deactivate on B"
	sc POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],
		\"displayName\":\"Two\",\"members\":[{\"value\":\"$id\"}]}"
	sc_expect 201 "group on B"
	gid=$(jqb .id)
	SC_URL=$A_URL
	expect_eq "$(sc_jobs | cut -d: -f1-2 | sort | tr '\n' ' ')" "invite:completed remove:queued " \
		"A sees B's removal supersede A's invite"
	sc GET "/Groups/$gid"
	sc_expect 200 "group read on A"
	expect_eq "$(jqb '.members[0].value')" "$id" "member read on A"

	# the same userName to A and B at once, eight times over
	for i in 1 2 3 4 5 6 7 8; do
		pids=
		for u in "$A_URL" "$B_URL"; do
			curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "authorization: Bearer $TOKEN" \
				-H 'content-type: application/scim+json' \
				--data-binary "$(okta_user "race$i@example.com")" \
				"$u/scim/v2/$INTEG/Users" >>"$SC_WD/race$i" &
			pids="$pids $!"
		done
		wait $pids
		expect_eq "$(sort "$SC_WD/race$i" | tr '\n' ' ')" "201 409 " "race$i: one stored, one refused"
	done
	expect_eq "$(co_sql "$SC_WD" "select count(*) from scim_users where user_name_lc like 'race%'")" 8 \
		"stored once each"
	# and a group displayName, four times over
	for i in 1 2 3 4; do
		pids=
		for u in "$A_URL" "$B_URL"; do
			curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "authorization: Bearer $TOKEN" \
				-H 'content-type: application/scim+json' \
				--data-binary "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],
					\"displayName\":\"Race $i\"}" \
				"$u/scim/v2/$INTEG/Groups" >>"$SC_WD/grace$i" &
			pids="$pids $!"
		done
		wait $pids
		expect_eq "$(sort "$SC_WD/grace$i" | tr '\n' ' ')" "201 409 " "group race $i"
	done
	! grep -h "sql error" "$SC_WD/co.err" "$SC_WD/b.err" || fail "an SQL error on a coordinator"
	echo "# $(grep -c 'scim_groups_name' "$PG_DIR/server.log") of 4 group races settled by the unique index"
	# the server logs each unique violation: the races past taken()'s look
	echo "# $(grep -c 'scim_users_name' "$PG_DIR/server.log") of 8 races settled by the unique index"
}
