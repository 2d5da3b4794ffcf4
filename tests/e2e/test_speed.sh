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
# first ran; idle, the next prewarmed page is disposed once it is stale,
# and Chromium is back to the contexts it had before.
t_speed_worker_prewarm_used_and_stale_disposed() {
	fx acme reset >/dev/null
	base=$(contexts)
	wk_setup
	wk_start --slots 1 --prewarm-max-ms 1500
	a=$(enq sp-prewarm list_users)
	b=$(enq sp-prewarm list_users)
	wait_done "$a"; wait_done "$b"
	expect_eq "$(jobf "$a" .status)/$(jobf "$b" .status)" "completed/completed"
	grep -q "job $b: run 1 started (pid [0-9]*, prewarmed page)" "$WD/wk.err" ||
		fail "the second job did not start on a prewarmed page: $(grep started "$WD/wk.err")"
	wait_log "prewarm: page unused for [0-9]* ms; disposed"
	cp "$WD/wk.err" /tmp/speedt/wk.err
	for _ in $(seq 1 50); do [ "$(contexts)" = "$base" ] && break; sleep 0.1; done
	expect_eq "$(contexts)" "$base" "browser contexts after the stale page went"
	# the worker stops with nothing left behind either
	kill -TERM "$WK_PID"; wait "$WK_PID"; WK_PID=
	expect_eq "$(contexts)" "$base" "browser contexts after the worker stopped"
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
