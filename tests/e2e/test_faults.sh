# Faults (issue 9, points 6-13): deadlines hold inside C functions, in
# replay and in check; no Lua error object aborts the process; nothing is
# lost when SQLite cannot write; the coordinator's event and claim rules.
FS="$ROOT/tests/e2e/scripts"

# fagent ARGS…: the agent under a 60 s timeout (a hang fails the test
# instead of the suite); sets RC, OUT, ERR like agent().
fagent() {
	timeout -s KILL 60 "$BIN/idlcm-agent" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
}
not_killed() {
	[ "$RC" = 137 ] && fail "the agent hung (killed after 60 s)"
	[ "$RC" = 134 ] && fail "the agent aborted (SIGABRT)"
	[ "$RC" -ge 128 ] && fail "the agent died by a signal ($RC)"
	printf '%s' "$ERR" | grep -q "hard deadline" && fail "only the hard backstop stopped it"
	return 0
}
fscript() { # SCRIPT ACTION [ARGS…]
	s=$1; a=$2; shift 2
	fagent run "$FS/$s" "$a" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" "$@"
}

# 6: the count hook never fires inside Lua's pattern matcher; the deadline
# timer stops the job at its deadline, with the failed state and evidence.
t_faults_pattern_stopped_by_deadline() {
	# the deadline counts from the job's start: on a loaded machine the page
	# may not even be open by then; if so, once more with more room
	for t in 8000 20000; do
		fscript faults_pattern.lua invite --user '{"email":"a@b.c"}' --timeout $t \
			--account "{\"base_url\":\"$FX_URL/acme\",\"fn\":\"find\"}"
		printf '%s' "$ERR" | grep -q "deadline of $t ms (during " || break
	done
	not_killed
	expect_rc 1
	expect_out "a@b.c  inviting → invite_failed"
	expect_err "error (transient): script exceeded its deadline of $t ms (inside string.find)"
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: //p')
	[ -s "$dir/error.txt" ] && [ -s "$dir/steps.json" ] && [ -s "$dir/cdp-frames.json" ] ||
		fail "no evidence in $dir"
	# match, gmatch, gsub and rep: tests/unit/test_faults.c
}

# 6: a replay's clock stands still while a script spins; the wall clock
# still stops it.  (8 s: the recording opens its page 3.8 s in.)
t_faults_replay_deadline() {
	fagent replay "$ROOT/tests/e2e/scripts/endless_loop.lua" invite --timeout 8000 \
		--cassette "$ROOT/tests/fixtures/cassettes/acme-invite.jsonl" --runs-dir "$WORK/runs"
	not_killed
	expect_out "inviting → invite_failed (script exceeded its deadline of 8000 ms)"
	expect_err "endless_loop.lua:5"
}

# 6: check runs the script's code too: its top level, its app table's
# metamethods; each has a deadline, and finalizers are refused.
t_faults_check_deadlines() {
	fagent check "$FS/faults_app_index_loop.lua"
	not_killed
	expect_rc 1
	expect_out "error while reading the app table: script exceeded its deadline of 5000 ms"
	fagent check "$FS/faults_top_pattern.lua"
	not_killed
	expect_rc 1
	expect_out "script exceeded its deadline of 5000 ms (inside string.find)"
	fagent check "$FS/faults_gc.lua"
	not_killed
	expect_rc 1
	expect_out "__gc metamethods are not allowed in app scripts"
}

# 7: error objects and app tables whose metamethods raise: read raw or
# under pcall everywhere, a clear error, never SIGABRT.
t_faults_hostile_error_objects() {
	fagent check "$FS/faults_error_object_top.lua"
	not_killed
	expect_rc 1
	expect_out "error while loading: the script raised an error object with no readable message"
	fagent check "$FS/faults_app_index.lua"
	not_killed
	expect_rc 1
	expect_out "error while reading the app table: "
	expect_out "boom reading app.login"
	fscript faults_error_object.lua invite --user '{"email":"a@b.c"}' --account "$(acme_account)"
	not_killed
	expect_rc 1
	expect_out "a@b.c  inviting → invite_failed (the script raised an error object with no readable message)"
	fscript faults_app_index.lua invite --user '{"email":"a@b.c"}' --account "$(acme_account)"
	not_killed
	expect_rc 2
	expect_err "boom reading app."
	fscript faults_error_object_top.lua invite --user '{"email":"a@b.c"}' --account "$(acme_account)"
	not_killed
	expect_rc 2
	expect_err "the script raised an error object with no readable message"
	fagent replay "$FS/faults_error_object.lua" invite \
		--cassette "$ROOT/tests/fixtures/cassettes/acme-invite.jsonl" --runs-dir "$WORK/runs"
	not_killed
	expect_out "inviting → invite_failed (the script raised an error object with no readable message)"
}

# ---- 9: every SQLite write checks its result, COMMIT included

# faults_disk SIZE: a small tmpfs at $WD/disk for the worker's store; the
# test is skipped (passes, saying why) where it cannot be mounted.
faults_disk() {
	mkdir -p "$WD/disk"
	if ! mount -t tmpfs -o size="$1" tmpfs "$WD/disk" 2>"$WD/mount.err"; then
		echo "    SKIP: cannot mount a tmpfs here ($(cat "$WD/mount.err")); needs root"
		return 1
	fi
	DISK="$WD/disk"
	trap 'wk_teardown; umount -l "$DISK" 2>/dev/null' EXIT
}
fill_disk() { dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null; sync; }
wait_log() { # TEXT [SECONDS]
	for _ in $(seq 1 $(( ${2:-30} * 10 ))); do
		grep -qF -- "$1" "$WD/wk.err" && return 0
		sleep 0.1
	done
	fail "the worker never logged: $1; log: $(tail -5 "$WD/wk.err")"
}
# every event of job ID in the coordinator, as a line of states
co_states() { jobf "$1" '[.event_log[] | select(.kind == "state") | .state] | join(" ")'; }

faults_store_down_then_back() {
	fx acme reset >/dev/null
	wk_setup
	faults_disk 4m || return 0
	wk_start --db "$DISK/wk.db"
	a=$(enq ok invite '{"email":"ada@example.com","roles":["member"]}')
	wait_done "$a" 60
	fill_disk
	b=$(enq ok invite '{"email":"bob@example.com","roles":["member"]}')
	wait_log "cannot be written" 60
	# the job runs on, its events held in memory; nothing more is claimed
	wait_log "bob@example.com inviting -> pending_user_claim" 60
	c=$(enq ok invite '{"email":"cy@example.com","roles":["member"]}')
	sleep 3
	# SQLite may find room again on its own (pages it freed): then the held
	# messages are written and claiming rightly resumes.  What must hold is
	# the order: no claim while messages are held.
	if [ "$(jobf "$c" .status)" != queued ]; then
		back=$(grep -nF "takes writes again" "$WD/wk.err" | head -1 | cut -d: -f1)
		claimed=$(grep -nF "job $c: claimed" "$WD/wk.err" | head -1 | cut -d: -f1)
		[ -n "$back" ] && [ -n "$claimed" ] && [ "$claimed" -gt "$back" ] ||
			fail "job $c was claimed while the store could not be written (log lines: back=$back claimed=$claimed)"
	fi
	kill -0 "$WK_PID" 2>/dev/null || fail "the worker died"
	rm -f "$DISK/fill"
	wait_log "takes writes again" 30
	wait_done "$b" 60
	wait_done "$c" 60
	expect_eq "$(jobf "$b" .status)" completed "job b"
	expect_eq "$(co_states "$b")" "inviting pending_user_claim" "job b's events"
	expect_eq "$(ustate ok bob@example.com)" pending_user_claim "bob's state"
	expect_eq "$(co_states "$c")" "inviting pending_user_claim" "job c's events"
}

# The disk fills up under a running worker: the job's events and its
# complete are held in memory, nothing more is claimed, and all of it
# reaches the coordinator once there is room again.
t_faults_store_full_disk() { faults_store_down_then_back; }

# A read-only store (immutable: even root cannot write it): SQLite would
# open it read-only without a word and every write would fail; the worker
# refuses to start instead, saying why.
t_faults_store_read_only() {
	wk_setup
	faults_disk 4m || return 0
	sqlite3 "$DISK/wk.db" 'PRAGMA journal_mode = WAL; CREATE TABLE t (x);' >/dev/null
	if ! chattr +i "$DISK/wk.db" 2>/dev/null; then
		echo "    SKIP: chattr +i is not supported here"
		return 0
	fi
	trap 'chattr -i "$DISK/wk.db"; wk_teardown; umount -l "$DISK" 2>/dev/null' EXIT
	timeout -s KILL 20 "$BIN/idlcm-agent" worker --coordinator "$CO_URL" --db "$DISK/wk.db" \
		--browser "$CHROME_HTTP" --runs-dir "$WD/runs" --scripts "$ROOT/scripts/apps" \
		>"$WD/ro.out" 2>"$WD/ro.err"
	RC=$?; ERR=$(cat "$WD/ro.err")
	expect_rc 2
	expect_err "is read-only here: it must be writable"
}

# ---- 10, 11: the coordinator's event and claim rules (plain HTTP)

co_post() { # PATH JSON → sets CODE and BODY
	BODY=$(curl -sS -o - -w '\n%{http_code}' -X POST -H 'content-type: application/json' \
		-d "$2" "$CO_URL$1")
	CODE=$(printf '%s' "$BODY" | tail -1); BODY=$(printf '%s' "$BODY" | sed '$d')
}
claim() { co_post /v1/claim "{\"worker\":\"${2:-w1}\",\"capacity\":1,\"wait_s\":0${1:+,\"apps\":$1}}"; }

# Events count only for the job's current attempt and before its
# complete: a late event cannot move a user, a stale attempt's cannot
# either, and no event can create a user the job is not about.
t_faults_coordinator_late_events() {
	wk_setup
	a=$(enq late invite '{"email":"bob@example.com","roles":["member"]}')
	claim
	expect_eq "$CODE" 200 "claim"
	ev='{"attempt":1,"events":[{"seq":1,"kind":"state","user":"bob@example.com","from":"provisioning_awaiting","state":"inviting"}]}'
	co_post "/v1/jobs/$a/events" "$ev"
	expect_eq "$CODE" 200 "events of the current attempt"
	# a foreign user named by this job's event: not created
	co_post "/v1/jobs/$a/events" '{"attempt":1,"events":[{"seq":2,"kind":"state","user":"eve@evil.test","state":"onboarded"}]}'
	expect_eq "$(ustate late eve@evil.test)" "" "a user created out of nothing"
	# another attempt's events: 409, nothing applied
	co_post "/v1/jobs/$a/events" '{"attempt":7,"events":[{"seq":1,"kind":"state","user":"bob@example.com","state":"deleted"}]}'
	expect_eq "$CODE" 409 "a stale attempt's event"
	expect_eq "$(ustate late bob@example.com)" inviting "bob after a stale event"
	co_post "/v1/jobs/$a/complete" '{"worker":"w1","attempt":1,"outcome":"ok","state":"pending_user_claim"}'
	expect_eq "$CODE" 200 "complete"
	# after the complete: a new event is late (409); a redelivery is fine
	co_post "/v1/jobs/$a/events" '{"attempt":1,"events":[{"seq":3,"kind":"state","user":"bob@example.com","state":"deleted"}]}'
	expect_eq "$CODE" 409 "an event after the complete"
	printf '%s' "$BODY" | grep -q "already completed" || fail "409 says: $BODY"
	co_post "/v1/jobs/$a/events" '{"attempt":1,"events":[{"seq":4,"kind":"state","user":"mallory@evil.test","state":"onboarded"}]}'
	expect_eq "$CODE" 409 "an event for a new user after the complete"
	expect_eq "$(ustate late bob@example.com)" pending_user_claim "bob after late events"
	expect_eq "$(ustate late mallory@evil.test)" "" "a user created after the complete"
	co_post "/v1/jobs/$a/events" "$ev"
	expect_eq "$CODE" 200 "a redelivered batch"
	expect_eq "$(printf '%s' "$BODY" | jq -c .)" '{"applied":0,"duplicates":1}' "redelivery"
}

# Hundreds of other apps' jobs queued ahead do not starve a worker that
# runs only some apps.
t_faults_claim_apps_not_starved() {
	wk_setup
	jobs=$(jq -nc --arg url "$FX_URL" '{jobs: [range(0; 450) | {integration: "many",
		app: "acme", action: "invite", account: {base_url: ($url + "/acme")},
		user: {email: "u\(.)@example.com", roles: ["member"]}}]}')
	co_post /v1/jobs "$jobs"
	expect_eq "$CODE" 201 "enqueue 450 jobs"
	g=$(curl -fsS -X POST -H 'content-type: application/json' -d "{\"integration\":\"few\",\"app\":\"globex\",\"action\":\"list_users\",\"account\":{\"base_url\":\"$FX_URL/globex\"}}" "$CO_URL/v1/jobs" | jq -r .id)
	claim '["globex"]' w2
	expect_eq "$CODE" 200 "claim for globex"
	expect_eq "$(printf '%s' "$BODY" | jq -r '.jobs[0].id')" "$g" "the globex job"
	expect_eq "$(jobf "$g" .status)" running "the globex job's status"
	claim '["acme"]' w3
	expect_eq "$(printf '%s' "$BODY" | jq -r '.jobs[0].app')" acme "an acme job still first in line"
}

# ---- 12: events are capped per job; a 200 that is no claim answer is
# backed off

t_faults_events_capped_per_job() {
	wk_setup
	mkdir -p "$WD/apps"
	cp "$FS/faults_flood.lua" "$WD/apps/flood.lua"
	wk_start --scripts "$WD/apps"
	a=$(curl -fsS -X POST -H 'content-type: application/json' -d "{\"integration\":\"fl\",\"app\":\"flood\",\"action\":\"list_users\",\"account\":{\"base_url\":\"$FX_URL/acme\"}}" "$CO_URL/v1/jobs" | jq -r .id)
	wait_done "$a" 90
	expect_eq "$(jobf "$a" .status)" completed "the flooding job"
	n=$(sqlite3 "$WD/co.db" "select count(*) from events where job_id='$a' and kind='progress'")
	[ "$n" -le 1000 ] || fail "$n progress events reached the coordinator (cap 1000)"
	[ "$n" -ge 100 ] || fail "only $n progress events arrived"
	d=$(sqlite3 "$WD/co.db" "select json_extract(body, '\$.dropped') from events where job_id='$a' and kind='log' and body like '%were dropped%'")
	# every progress report either arrived or is counted as dropped
	[ -n "$d" ] && [ $((d + n)) -ge 3000 ] || fail "dropped \"$d\" + arrived $n < 3000"
	expect_eq "$(sqlite3 "$WD/co.db" "select count(*) from events where job_id='$a' and kind='status' and body like '%up_to_date%'")" 1 "the final status"
}

t_faults_claim_garbage_backed_off() {
	wk_setup
	curl -fsS -X POST -d '{"n":100000}' "$CO_URL/v1/test/garbage-claims" >/dev/null
	wk_start
	sleep 5
	n=$(grep -c "is not {\"jobs\": \[...\]}" "$WD/wk.err")
	[ "$n" -ge 1 ] || fail "the worker never said the answer was not a claim answer"
	# backed off like a 5xx (0.5, 1, 2, 4 s): a handful, not a busy loop
	[ "$n" -le 10 ] || fail "$n garbage answers in 5 s: not backed off"
	curl -fsS -X POST -d '{"n":0}' "$CO_URL/v1/test/garbage-claims" >/dev/null
	a=$(enq gb invite '{"email":"gb@example.com","roles":["member"]}')
	wait_done "$a" 60
	expect_eq "$(jobf "$a" .status)" completed "a job after the garbage stopped"
}

# ---- 13: run's SIGTERM cleanup; --expect over the cap

# `run` launching its own Chromium, stopped by SIGTERM mid-job: Chromium
# and its profile directory are gone.
t_faults_run_sigterm_removes_profile() {
	"$BIN/idlcm-agent" run "$ROOT/tests/e2e/scripts/endless_loop.lua" invite --timeout 60000 \
		--user '{"email":"a@b.c"}' --account "$(acme_account)" --runs-dir "$WORK/runs" \
		>"$WORK/st.out" 2>"$WORK/st.err" &
	pid=$!
	prof=
	for _ in $(seq 1 300); do
		grep -q "logging in" "$WORK/st.out" && break
		sleep 0.1
	done
	for c in $(pgrep -P "$pid"); do
		prof=$(tr '\0' '\n' </proc/"$c"/cmdline 2>/dev/null | sed -n 's/^--user-data-dir=//p')
		[ -n "$prof" ] && break
	done
	[ -n "$prof" ] && [ -d "$prof" ] || { kill -KILL "$pid"; fail "no Chromium profile found for pid $pid"; }
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	[ -d "$prof" ] && fail "the profile $prof is still there after SIGTERM"
	pgrep -f -- "--user-data-dir=$prof" >/dev/null && fail "Chromium still runs"
	expect_eq "$RC" 143 "exit status after SIGTERM"
}

t_faults_expect_file_too_large() {
	head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
	printf '[]' >>"$WORK/big.json"
	fagent run "$ROOT/scripts/apps/acme.lua" sync --expect "@$WORK/big.json" \
		--account "$(acme_account)" --browser "$CHROME_HTTP"
	expect_rc 2
	expect_err "is larger than 4 MiB"
	printf '[1' >"$WORK/cut.json"
	fagent run "$ROOT/scripts/apps/acme.lua" sync --expect "@$WORK/cut.json" \
		--account "$(acme_account)" --browser "$CHROME_HTTP"
	expect_rc 2
	expect_err "is not a JSON array"
}

# ---- 8: CDP replies over the cap, a browser that stops answering

t_faults_cdp_reply_over_cap() {
	IDLCM_CDP_MAX_MESSAGE=1048576 fscript faults_big_reply.lua invite --user '{"email":"a@b.c"}' \
		--account "$(acme_account)" --timeout 60000
	not_killed
	expect_rc 1
	expect_err "Runtime.evaluate: the reply is larger than the cap of 1048576 bytes"
	printf '%s' "$ERR" | grep -q "got no reply" && fail "the command waited out its timeout"
	return 0
}

# The Chromium that run launched is stopped (SIGSTOP) mid-job: the
# command in flight reports a browser that stopped answering, evidence
# and cleanup do not wait for it, and run ends long before its deadline.
t_faults_stopped_browser() {
	"$BIN/idlcm-agent" run "$FS/faults_stopped_browser.lua" invite --timeout 60000 \
		--user '{"email":"a@b.c"}' --account "$(acme_account)" --runs-dir "$WORK/runs" \
		>"$WORK/sb.out" 2>"$WORK/sb.err" &
	pid=$!
	for _ in $(seq 1 300); do
		grep -q "polling" "$WORK/sb.err" && break
		sleep 0.1
	done
	cpid=$(pgrep -P "$pid" | head -1)
	[ -n "$cpid" ] || { kill -KILL "$pid"; fail "no Chromium child"; }
	kill -STOP "$cpid"
	# a watchdog so a hang fails the test instead of the suite
	( sleep 45; kill -KILL "$pid" 2>/dev/null ) &
	dog=$!
	wait "$pid"
	RC=$?
	kill "$dog" 2>/dev/null
	kill -CONT "$cpid" 2>/dev/null
	OUT=$(cat "$WORK/sb.out"); ERR=$(cat "$WORK/sb.err")
	not_killed
	expect_rc 1
	expect_out "a@b.c  inviting → invite_failed"
	expect_err "the browser stopped answering: Runtime.evaluate got no reply within 4000 ms"
	kill -0 "$cpid" 2>/dev/null && fail "Chromium $cpid outlived run"
	return 0
}

# 7, in a worker: a job child meeting hostile error objects reports a
# script failure (once, not retried as a transient crash).
t_faults_worker_hostile_error_object() {
	fx acme reset >/dev/null
	wk_setup
	mkdir -p "$WD/apps"
	cp "$FS/faults_error_object.lua" "$WD/apps/hostile.lua"
	wk_start --scripts "$WD/apps"
	a=$(curl -fsS -X POST -H 'content-type: application/json' -d "{\"integration\":\"ho\",\"app\":\"hostile\",\"action\":\"invite\",\"user\":{\"email\":\"h@example.com\",\"roles\":[\"member\"]},\"account\":{\"base_url\":\"$FX_URL/acme\"}}" "$CO_URL/v1/jobs" | jq -r .id)
	wait_done "$a" 60
	expect_eq "$(jobf "$a" .status)" failed "the hostile job"
	expect_eq "$(jobf "$a" .error.class)" script "its error class"
	jobf "$a" .error.message | grep -q "no readable message" || fail "error: $(jobf "$a" .error.message)"
	expect_eq "$(runs_of "$a")" 1 "runs (a script failure is not retried)"
	grep -q "signal" "$WD/wk.err" && fail "a job process died by a signal: $(grep signal "$WD/wk.err")"
	return 0
}
