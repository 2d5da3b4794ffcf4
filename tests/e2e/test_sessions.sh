# Admin sign-in sessions live in the coordinator's store (a SHA-256 of the
# cookie, the CSRF token, expiry), so that two coordinator processes on one
# database behind one address both know a person who signed in through
# either, a sign-out on one is a sign-out on both, and a restart keeps
# them.  Uses test_worker.sh's co_start/enq and test_pages.sh's
# signin_token/other_token.

SS_PW=sessions-admin-pw-0

ss_setup() {
	WD=$(mktemp -d "$WORK/ss-XXXXXX")
	printf '%s\n' "$SS_PW" >"$WD/admin.pw"
	chmod 600 "$WD/admin.pw"
	CO_PORT=0
	CO_ARGS="--admin-password-file $WD/admin.pw"
	trap 'ss_stop_b; wk_teardown' EXIT
	co_start
	CO_A=$CO_URL
}

# ss_start_b: a second coordinator process on the same database; sets CO_B
ss_start_b() {
	: >"$WD/cob.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$(co_db "$WD")" --lease-s 20 \
		--claim-wait-s 2 --admin-password-file "$WD/admin.pw" >"$WD/cob.out" 2>>"$WD/cob.err" &
	COB_PID=$!
	for _ in $(seq 1 100); do
		CO_B=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WD/cob.out")
		[ -n "$CO_B" ] && return 0
		sleep 0.05
	done
	fail "the second coordinator did not start: $(cat "$WD/cob.err")"
}
ss_stop_b() { [ -n "${COB_PID:-}" ] && kill "$COB_PID" 2>/dev/null && wait "$COB_PID" 2>/dev/null; COB_PID=; }

# ss_code URL [CURL-ARGS…]: the HTTP status with the jar $WD/cj
ss_code() { u=$1; shift; curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" "$@" "$u"; }
# ss_csrf URL: the CSRF token a page of URL's coordinator shows this session
ss_csrf() {
	curl -fsS -b "$WD/cj" "$1/admin/integrations" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1
}

t_sessions_shared_by_two_coordinators() {
	ss_setup
	ss_start_b
	enq acme-prod list_users >/dev/null
	# sign in through A
	t=$(signin_token)
	curl -fsS -b "$WD/cj" -c "$WD/cj" -o /dev/null -d "csrf=$t&password=$SS_PW" "$CO_A/admin/sign-in" ||
		fail "sign-in on A failed"
	cookie=$(awk '$6 == "idlcm_admin" { print $7 }' "$WD/cj")
	[ ${#cookie} = 64 ] || fail "no session cookie in the jar"
	# the store keeps a hash of the cookie, never the cookie
	expect_eq "$(co_sql "$WD" "select count(*) from admin_sessions where id_hash = '$cookie'")" 0 "raw id stored"
	expect_eq "$(co_sql "$WD" "select count(*) from admin_sessions where id_hash = '$(printf '%s' "$cookie" | sha256sum | cut -c1-64)'")" \
		1 "the session's hash stored"
	# B knows the session, and the same CSRF token
	expect_eq "$(ss_code "$CO_B/admin/jobs")" 200 "the cookie on B"
	ca=$(ss_csrf "$CO_A"); cb=$(ss_csrf "$CO_B")
	[ -n "$ca" ] || fail "no CSRF token on A"
	expect_eq "$cb" "$ca" "B's CSRF token"
	# a form posted to B with the token works; without it, or with another, not
	expect_eq "$(ss_code "$CO_B/admin/integrations/acme-prod/sync" -X POST)" 403 "B: no csrf"
	expect_eq "$(ss_code "$CO_B/admin/integrations/acme-prod/sync" -d "csrf=$(other_token "$ca")")" 403 "B: wrong csrf"
	expect_eq "$(ss_code "$CO_B/admin/integrations/acme-prod/sync" -d "csrf=$ca")" 303 "B: with A's csrf"
	expect_eq "$(co_sql "$WD" "select count(*) from jobs where action = 'sync' and origin = 'web app'")" 1 "Sync now via B"
	# sign out on B: A refuses the cookie from then on
	expect_eq "$(ss_code "$CO_B/admin/sign-out" -d "csrf=$ca")" 303 "sign-out on B"
	expect_eq "$(ss_code "$CO_A/admin/jobs")" 303 "A after the sign-out on B"
	expect_eq "$(ss_code "$CO_A/admin/integrations/acme-prod/sync" -d "csrf=$ca")" 401 "A's form after the sign-out"
	expect_eq "$(co_sql "$WD" "select count(*) from admin_sessions")" 0 "the session deleted"
}

t_sessions_survive_a_restart_and_expire() {
	ss_setup
	t=$(signin_token)
	curl -fsS -b "$WD/cj" -c "$WD/cj" -o /dev/null -d "csrf=$t&password=$SS_PW" "$CO_A/admin/sign-in" ||
		fail "sign-in failed"
	ca=$(ss_csrf "$CO_A")
	kill "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	co_start
	expect_eq "$(ss_code "$CO_URL/admin/jobs")" 200 "the session after a restart"
	expect_eq "$(ss_csrf "$CO_URL")" "$ca" "its CSRF token after a restart"
	# a session past its expiry is refused, and swept at the next sign-in
	co_sql "$WD" "update admin_sessions set expires_ms = 1" >/dev/null
	expect_eq "$(ss_code "$CO_URL/admin/jobs")" 303 "an expired session"
	t=$(signin_token)
	curl -fsS -b "$WD/cj" -c "$WD/cj" -o /dev/null -d "csrf=$t&password=$SS_PW" "$CO_URL/admin/sign-in" ||
		fail "second sign-in failed"
	expect_eq "$(co_sql "$WD" "select count(*) from admin_sessions where expires_ms = 1")" 0 "the expired one swept"
	expect_eq "$(co_sql "$WD" "select count(*) from admin_sessions")" 1 "the new one kept"
}

# The same on PostgreSQL (test_pgrest.sh's server), when one can start.
t_pgsess_sessions_on_postgres() { pgr_run '^t_sessions_'; }
