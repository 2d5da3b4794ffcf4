# Speed (issue 11): saved sign-in state, the worker's prewarmed pages, and
# a drain of many jobs through coordinator + worker.  Real Chromium, real
# fixture app; nothing here times anything (that is `make bench`).

# sp_vault: a fresh vault key and file for this test (sessions are kept
# only when there is a vault key).
sp_vault() {
	IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	IDLCM_VAULT=$(mktemp -u "$WORK/vault-XXXXXX.db")
	export IDLCM_VAULT_KEY IDLCM_VAULT
}

logins() { fx acme state | jq -r .counters.logins; }
sign_in_of() { printf '%s\n' "$OUT" | jq -r 'select(.kind == "result") | .sign_in'; }

t_speed_session_reused() {
	sp_vault
	fx acme reset >/dev/null
	acme list_users --json; expect_rc 0
	expect_eq "$(sign_in_of)" login "first job"
	expect_eq "$(logins)" 1 "logins after the first job"
	agent vault list; expect_rc 0
	expect_out "session/acme/admin@acme.test@$FX_URL/acme"
	acme invite --user '{"email":"ada@example.com","roles":["member"]}' --json; expect_rc 0
	expect_eq "$(sign_in_of)" reused "second job"
	expect_out '"state":"pending_user_claim"'
	# the fixture's login counter did not move: the saved session served
	expect_eq "$(logins)" 1 "logins after the second job"
}

t_speed_session_expired_falls_back_to_login() {
	sp_vault
	fx acme reset >/dev/null
	acme list_users --json; expect_rc 0
	fx acme expire_sessions >/dev/null
	acme list_users --json; expect_rc 0
	expect_eq "$(sign_in_of)" login "after the app expired the session"
	expect_out "the saved sign-in state was rejected; logging in"
	expect_eq "$(logins)" 2
	# the new session was saved and serves the next job
	acme list_users --json; expect_rc 0
	expect_eq "$(sign_in_of)" reused
	expect_eq "$(logins)" 2
}

t_speed_fresh_login_forces_login() {
	sp_vault
	fx acme reset >/dev/null
	acme list_users --json; expect_rc 0
	acme list_users --json --fresh-login; expect_rc 0
	expect_eq "$(sign_in_of)" login
	expect_eq "$(logins)" 2
}

t_speed_no_vault_key_no_session() {
	unset IDLCM_VAULT_KEY IDLCM_VAULT_KEY_FILE
	fx acme reset >/dev/null
	acme list_users --json; expect_rc 0
	acme list_users --json; expect_rc 0
	expect_eq "$(sign_in_of)" login
	expect_eq "$(logins)" 2
}

# The session's cookie value never shows in output, logs or evidence,
# even when a job that restored it fails with a full evidence folder.
t_speed_session_never_written() {
	sp_vault
	fx acme reset >/dev/null
	acme list_users --json; expect_rc 0
	agent vault get "session/acme/admin@acme.test@$FX_URL/acme"; expect_rc 0
	cookie=$(printf '%s' "$OUT" | jq -r '.cookies[] | select(.name | startswith("fx_")) | .value')
	[ ${#cookie} -ge 16 ] || fail "no session cookie in the vault entry: $OUT"
	IDLCM_LOG=debug acme update --user '{"email":"nobody@acme.test","roles":["admin"]}' --json
	expect_rc 1
	expect_eq "$(sign_in_of)" reused
	grep -q "Storage.setCookies" "$WORK/err" || fail "debug log shows no cookie restore"
	if printf '%s%s' "$OUT" "$ERR" | grep -qF "$cookie"; then fail "the session cookie is in the output"; fi
	if grep -rqF "$cookie" "$WORK/runs"; then fail "the session cookie is in the evidence: $(grep -rlF "$cookie" "$WORK/runs")"; fi
	ls "$WORK"/runs/*/cdp-frames.json >/dev/null 2>&1 || fail "no evidence written"
}

# contexts: how many browser contexts the shared Chromium has open
contexts() {
	"$BIN/idlcm-cdp-floor" "$(curl -fsS "$CHROME_HTTP/json/version" | jq -r .webSocketDebuggerUrl)" \
		Target.getBrowserContexts | jq '.result.browserContextIds | length'
}

# wait_log PATTERN [SECONDS]: until the worker's log shows PATTERN
wait_log() {
	for _ in $(seq 1 $(( ${2:-20} * 10 ))); do
		grep -q "$1" "$WD/wk.err" && return 0
		sleep 0.1
	done
	fail "the worker log never showed \"$1\": $(tail -5 "$WD/wk.err")"
}

# One slot, two jobs: the second starts on the page prewarmed while the
# first ran; when the worker stops, its waiting page goes with it.
t_speed_worker_prewarm_used() {
	fx acme reset >/dev/null
	base=$(contexts)
	wk_setup
	wk_start --slots 1 --prewarm-max-ms 120000
	a=$(enq sp-prewarm list_users)
	b=$(enq sp-prewarm list_users)
	wait_done "$a"; wait_done "$b"
	expect_eq "$(jobf "$a" .status)/$(jobf "$b" .status)" "completed/completed"
	grep -q "job $b: run 1 started (pid [0-9]*, prewarmed page)" "$WD/wk.err" ||
		fail "the second job did not start on a prewarmed page: $(grep started "$WD/wk.err")"
	kill -TERM "$WK_PID"; wait "$WK_PID"; WK_PID=
	for _ in $(seq 1 50); do [ "$(contexts)" = "$base" ] && break; sleep 0.1; done
	expect_eq "$(contexts)" "$base" "browser contexts after the worker stopped"
}

# A prewarmed page nobody claims is disposed once it waited too long, and
# Chromium is back to the contexts it had before.
t_speed_worker_prewarm_stale_disposed() {
	fx acme reset >/dev/null
	base=$(contexts)
	wk_setup
	wk_start --slots 1 --prewarm-max-ms 1500
	a=$(enq sp-stale list_users)
	wait_done "$a"
	wait_log "prewarm: page unused for [0-9]* ms; disposed" 60
	sleep 2		# nothing new is prewarmed while no job is about
	for _ in $(seq 1 50); do [ "$(contexts)" = "$base" ] && break; sleep 0.1; done
	expect_eq "$(contexts)" "$base" "browser contexts after the stale page went"
	expect_eq "$(jobf "$a" .status)" completed
}

# --prewarm-max-ms 0: every job starts cold, as before.
t_speed_worker_prewarm_off() {
	fx acme reset >/dev/null
	wk_setup
	wk_start --slots 1 --prewarm-max-ms 0
	a=$(enq sp-cold list_users); b=$(enq sp-cold list_users)
	wait_done "$a"; wait_done "$b"
	if grep -q "prewarmed page" "$WD/wk.err"; then fail "a job used a prewarmed page"; fi
	expect_eq "$(jobf "$b" .status)" completed
}

# rss_kb PID / fds PID: the worker's resident memory and open descriptors
rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
done_jobs() { sqlite3 "$WD/co.db" "select count(*) from jobs where status in ('completed','failed')"; }

# Drain: N jobs (1,000; 100 under ASan, which is ~10x slower) through
# coordinator + worker.  The worker's RSS at job N/10 and at job N are
# within 10%, its descriptors the same, Chromium's browser contexts back to
# where they were, and every job completed exactly once (one run each).
t_speed_drain() {
	n=${DRAIN_N:-1000}
	case "$BIN" in *asan*) n=100; echo "# ASan build: draining $n jobs (1,000 in the release tier)";; esac
	base=$(contexts)
	wk_setup
	wk_start --slots 2 --prewarm-max-ms 3000 --scripts "$ROOT/tests/e2e/scripts/speed"
	sleep 2; fd0=$(fds "$WK_PID")	# at rest: the store, the claim in flight
	# one curl, n requests on one connection
	for k in $(seq "$n"); do
		printf 'url = "%s/v1/jobs"\nheader = "content-type: application/json"\n' "$CO_URL"
		printf 'data = "{\\"integration\\":\\"drain\\",\\"app\\":\\"drain\\",\\"action\\":\\"list_users\\",\\"idempotency_key\\":\\"drain-%d\\"}"\n' "$k"
		printf 'output = "/dev/null"\nnext\n'
	done | sed '$d' >"$WD/enqueue.curl"
	curl -fsS -K "$WD/enqueue.curl" || fail "cannot enqueue the jobs"
	t0=$(date +%s)
	tenth=$((n / 10)); rss1=; fd1=
	for _ in $(seq 1 $((n * 20))); do
		d=$(done_jobs)
		if [ -z "$rss1" ] && [ "$d" -ge "$tenth" ]; then rss1=$(rss_kb "$WK_PID"); fi
		[ "$d" -ge "$n" ] && break
		sleep 0.25
	done
	[ "$(done_jobs)" -ge "$n" ] || fail "only $(done_jobs) of $n jobs done after $(( $(date +%s) - t0 )) s"
	# at rest again: no job child, no prewarmed page waiting (the last one
	# retires after --prewarm-max-ms); then measure
	for _ in $(seq 1 300); do [ -z "$(pgrep -P "$WK_PID")" ] && break; sleep 0.1; done
	[ -z "$(pgrep -P "$WK_PID")" ] || fail "the worker still has children: $(pgrep -a -P "$WK_PID")"
	sleep 1
	rss2=$(rss_kb "$WK_PID"); fd2=$(fds "$WK_PID")
	secs=$(( $(date +%s) - t0 ))
	echo "# $n jobs in $secs s; worker RSS at job $tenth: $rss1 kB, at job $n: $rss2 kB; fds at rest $fd0 -> $fd2"
	# ASan keeps freed memory in quarantine and never gives it back: RSS
	# says nothing there, only in the release tier
	case "$BIN" in *asan*) ;; *)
	awk -v a="$rss1" -v b="$rss2" 'BEGIN {d = (b - a) / a; if (d < 0) d = -d; exit !(d <= 0.10)}' ||
		fail "worker RSS moved more than 10%: $rss1 kB at job $tenth, $rss2 kB at job $n" ;;
	esac
	# a leak per job would show as hundreds; libcurl may keep one more
	# connection to the coordinator open after the first events (seen: 11 -> 13)
	[ "$fd2" -le $((fd0 + 4)) ] || fail "worker file descriptors at rest: $fd0 before, $fd2 after the drain"
	expect_eq "$(sqlite3 "$WD/co.db" "select count(*) from jobs where status = 'completed' and attempt = 1")" "$n" \
		"jobs completed on their first attempt"
	expect_eq "$(sqlite3 "$WD/wk.db" "select count(distinct job_id) || '/' || count(*) from runs")" "$n/$n" \
		"distinct jobs / runs in the worker"
	for _ in $(seq 1 50); do [ "$(contexts)" = "$base" ] && break; sleep 0.1; done
	expect_eq "$(contexts)" "$base" "browser contexts after the drain"
}

# CDP round trips per page call (IDLCM_LOG=debug): after a navigation the
# helper is already in its world (no createIsolatedWorld + evaluate), and a
# click waits on its actionability check, its last mouse event only (the
# others are pipelined) and the check that it landed.
t_speed_round_trips_per_call() {
	IDLCM_LOG=debug agent run "$ROOT/tests/e2e/scripts/speed/trips.lua" list_users \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --json
	expect_rc 0
	expect_out '"display_name":"2"'
	expect_err "fill #t: 3 CDP round trips"
	expect_err "click #b: 3 CDP round trips"
	n=$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "result") | .cdp_round_trips')
	echo "# whole job: $n CDP round trips (fill 3, click 3)"
}
