# The worker loop on real processes: bin/idlcm-coordinator + `idlcm-agent
# worker` + Chromium + the fixture app.  Each test starts its own
# coordinator and worker (their files under $WORK) and stops them on exit.

WK_PID=; CO_PID=; CO_PORT=0; WD=

# wk_setup: fresh dir, coordinator on a free port; sets WD, CO_URL.
wk_setup() {
	WD=$(mktemp -d "$WORK/wk-XXXXXX")
	CO_PORT=0
	trap wk_teardown EXIT
	co_start
}

wk_teardown() {
	[ -n "$WK_PID" ] && kill -CONT "$WK_PID" 2>/dev/null
	[ -n "$WK_PID" ] && kill -TERM "$WK_PID" 2>/dev/null && wait "$WK_PID" 2>/dev/null
	[ -n "$CO_PID" ] && kill "$CO_PID" 2>/dev/null && wait "$CO_PID" 2>/dev/null
	WK_PID=; CO_PID=
	fx acme config '{"latency_ms":0}' >/dev/null 2>&1
	# under make asan: any sanitizer report fails the test
	if [ -n "$WD" ] && grep -l "Sanitizer" "$WD"/*.err 2>/dev/null; then
		grep -h -A20 "Sanitizer" "$WD"/*.err | head -60
		exit 1
	fi
}

# co_start: the coordinator on $CO_PORT (0 = any; the port is kept so a
# restart comes back on the same one), lease ${LEASE:-20} s.
co_start() {
	: >"$WD/co.out"
	"$BIN/idlcm-coordinator" --listen "127.0.0.1:$CO_PORT" --db "$(co_db "$WD")" \
		--lease-s "${LEASE:-20}" --claim-wait-s 2 --test-hooks ${CO_ARGS:-} >"$WD/co.out" 2>>"$WD/co.err" &
	CO_PID=$!
	for _ in $(seq 1 100); do
		CO_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WD/co.out")
		[ -n "$CO_URL" ] && { CO_PORT=${CO_URL##*:}; return 0; }
		sleep 0.05
	done
	echo "coordinator did not start:"; cat "$WD/co.err"; exit 1
}

# wk_start [ARGS…]: the worker; attached to the shared Chromium unless
# ARGS say otherwise (OWN_BROWSER=1: it launches its own).
wk_start() {
	if [ "${OWN_BROWSER:-0}" = 1 ]; then set -- "$@"; else set -- --browser "$CHROME_HTTP" "$@"; fi
	IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator "$CO_URL" --slots 2 \
		--db "$WD/wk.db" --runs-dir "$WD/runs" --scripts "$ROOT/scripts/apps" \
		--poll-s 2 --retry-base 300 --retry-max 1000 --grace 5000 "$@" >"$WD/wk.out" 2>"$WD/wk.err" &
	WK_PID=$!
}

account() { # [PASSWORD]
	printf '{"base_url":"%s/acme","username":"admin@acme.test","password":"%s"}' \
		"$FX_URL" "${1:-acme-admin-pw}"
}

# enq INTEGRATION ACTION [USER-JSON] [EXTRA-FIELDS] → prints the job id
enq() {
	body="{\"integration\":\"$1\",\"app\":\"acme\",\"action\":\"$2\",\"account\":$(account "${PW:-}")"
	[ -n "${3:-}" ] && body="$body,\"user\":$3"
	[ -n "${4:-}" ] && body="$body,$4"
	curl -fsS -X POST -H 'content-type: application/json' -d "$body}" "$CO_URL/v1/jobs" | jq -r .id
}

job() { curl -fsS "$CO_URL/v1/jobs/$1"; }
jobf() { job "$1" | jq -r "$2"; }

# wait_done ID [SECONDS]: until the job is completed or failed
wait_done() {
	for _ in $(seq 1 $(( ${2:-60} * 5 ))); do
		s=$(jobf "$1" .status 2>/dev/null)
		case "$s" in completed|failed) return 0;; esac
		sleep 0.2
	done
	fail "job $1 not done after ${2:-60} s (status $s); worker log: $(tail -5 "$WD/wk.err")"
}

# wait_running ID: until the worker has started it (its first state event)
wait_running() {
	for _ in $(seq 1 150); do
		[ "$(sqlite3 "$WD/wk.db" "select count(*) from runs where job_id='$1'" 2>/dev/null)" -ge 1 ] 2>/dev/null && return 0
		sleep 0.1
	done
	fail "job $1 never started"
}

ustate() { # INTEGRATION EMAIL → the user's state in the coordinator
	curl -fsS "$CO_URL/v1/integrations/$1/users" | jq -r --arg u "$2" '.users[] | select(.user == $u) | .state'
}
states_of() { jobf "$1" '[.event_log[] | select(.kind == "state") | .state] | join(" ")'; }
runs_of() { sqlite3 "$WD/wk.db" "select count(*) from runs where job_id='$1'"; }
invites() { fx acme state | jq -r .counters.invites; }

t_worker_every_state_path() {
	fx acme reset >/dev/null
	wk_setup
	wk_start
	a=$(enq ok invite '{"email":"ada@example.com","roles":["member"]}')
	b=$(enq ok invite '{"email":"alice@acme.test","roles":["admin"]}')
	c=$(enq ok invite '{"email":"dave@acme.test","roles":["member"]}')
	d=$(enq ok update '{"email":"bob@acme.test","roles":["admin"]}')
	e=$(enq ok update '{"email":"nobody@example.com","roles":["admin"]}')
	f=$(enq ok remove '{"email":"carol@acme.test"}')
	g=$(enq ok remove '{"email":"ghost@example.com"}')
	h=$(enq ok validate)
	PW=wrong-password
	i=$(enq bad invite '{"email":"eve@example.com","roles":["member"]}')
	j=$(enq bad update '{"email":"bob@acme.test","roles":["viewer"]}')
	k=$(enq bad remove '{"email":"alice@acme.test"}')
	l=$(enq bad list_users)
	m=$(enq bad2 validate)
	PW=
	for x in $a $b $c $d $e $f $g $h $i $j $k $l $m; do wait_done "$x" 90; done
	n=$(enq ok list_users)
	wait_done "$n"

	expect_eq "$(jobf "$a" .status) $(states_of "$a")" "completed inviting pending_user_claim" "invite new"
	expect_eq "$(states_of "$b")" "inviting onboarded" "invite existing"
	expect_eq "$(states_of "$c")" "inviting pending_user_claim" "re-invite expired"
	expect_eq "$(states_of "$d")" "updating onboarded" "update"
	expect_eq "$(jobf "$e" '.status + " " + .error.class')" "failed business" "update absent"
	expect_eq "$(states_of "$e")" "updating update_failed" "update absent states"
	expect_eq "$(states_of "$f") $(states_of "$g")" "removing deleted removing deleted" "removes"
	expect_eq "$(jobf "$h" '[.event_log[] | select(.kind == "status") | .status] | join(" ")')" \
		"validating validated" "validate"
	for x in $i $j $k; do
		expect_eq "$(jobf "$x" '.status + " " + .error.class')" "failed needs_human" "bad login $x"
		expect_eq "$(runs_of "$x")" 1 "needs_human is not retried"
	done
	expect_eq "$(states_of "$i")" "inviting invite_failed" "invite failed"
	# failure evidence: files under the runs dir, paths in the worker's DB
	n_art=$(sqlite3 "$WD/wk.db" "select count(*) from artifacts where job_id='$i'")
	[ "$n_art" -ge 2 ] || fail "artifacts of $i: $n_art"
	for p in $(sqlite3 "$WD/wk.db" "select path from artifacts where job_id='$i'"); do
		[ -s "$p" ] || fail "artifact $p missing"
	done
	jobf "$i" '.error.message' | grep -q 'Acme rejected the service account' || fail "needs_human message"
	# no password in clear in the evidence, the worker's DB or its log
	grep -rq -e wrong-password -e acme-admin-pw "$WD/runs" && fail "a password in the artifacts"
	sqlite3 "$WD/wk.db" .dump | grep -q -e wrong-password -e acme-admin-pw && fail "a password in the worker DB"
	grep -q -e wrong-password -e acme-admin-pw "$WD/wk.err" && fail "a password in the log"
	expect_eq "$(states_of "$j")" "updating update_failed" "update failed"
	expect_eq "$(states_of "$k")" "removing delete_failed" "remove failed"
	expect_eq "$(jobf "$l" '[.event_log[] | select(.kind == "status") | .status] | join(" ")')" \
		"in_progress failed" "list_users failed"
	expect_eq "$(jobf "$m" '[.event_log[] | select(.kind == "status") | .status] | join(" ")')" \
		"validating validation_failed" "validate failed"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/bad2" | jq -r .status)" "validation_failed" "bad2 status"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/bad" | jq -r .status)" "failed" "bad status"

	# the Users table: states and login methods
	expect_eq "$(ustate ok ada@example.com)" pending_user_claim "ada"
	expect_eq "$(ustate ok alice@acme.test)" onboarded "alice"
	expect_eq "$(ustate ok carol@acme.test)" deleted "carol"
	expect_eq "$(ustate ok nobody@example.com)" update_failed "nobody"
	expect_eq "$(ustate bad eve@example.com)" invite_failed "eve"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/ok/users" | jq -r '.users[] | select(.user == "bob@acme.test") | .login_method + " " + (.roles | join(","))')" \
		"sso admin" "bob's row"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/ok" | jq -r .status)" up_to_date "ok status"
	expect_eq "$(invites)" 2 "invites sent (ada, dave)"
	# every event reached the coordinator, the outbox is empty
	expect_eq "$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where status <> 1')" 0 "undelivered"
	expect_eq "$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where kind = 0')" \
		"$(sqlite3 "$WD/co.db" 'select count(*) from events')" "events in both DBs"
}

t_worker_outbox_survives_coordinator_down_30s() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":250}' >/dev/null
	LEASE=120 wk_setup
	wk_start
	ids=
	for u in u1 u2 u3 u4; do
		ids="$ids $(enq down invite "{\"email\":\"$u@example.com\",\"roles\":[\"member\"]}")"
	done
	set -- $ids
	wait_running "$1"
	sleep 1
	kill -KILL "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	sleep 30
	pending=$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where status = 0')
	[ "$pending" -gt 0 ] || fail "nothing waited in the outbox while the coordinator was down"
	kill -0 "$WK_PID" 2>/dev/null || fail "the worker died while the coordinator was down"
	LEASE=120 co_start
	for x in $ids; do wait_done "$x" 60; done
	fx acme config '{"latency_ms":0}' >/dev/null
	for x in $ids; do
		expect_eq "$(jobf "$x" .status)" completed "job $x"
		w=$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 0")
		c=$(sqlite3 "$WD/co.db" "select count(*) from events where job_id='$x'")
		s=$(sqlite3 "$WD/co.db" "select count(distinct seq) || '/' || max(seq) from events where job_id='$x'")
		expect_eq "$c" "$w" "events of $x in the coordinator vs the outbox"
		expect_eq "$s" "$w/$w" "seq 1..n of $x, once each"
	done
	expect_eq "$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where status <> 1')" 0 "undelivered"
	expect_eq "$(invites)" 4 "one invite per user"
	# a redelivered batch is applied once
	x=$1
	batch=$(sqlite3 "$WD/wk.db" "select body from outbox where job_id='$x' and kind = 0 order by seq" |
		jq -s '{attempt: 1, events: .}')
	again=$(curl -fsS -X POST -d "$batch" "$CO_URL/v1/jobs/$x/events" | jq -c .)
	expect_eq "$again" "{\"applied\":0,\"duplicates\":$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 0")}" "redelivery"
	expect_eq "$(sqlite3 "$WD/co.db" "select count(*) from events where job_id='$x'")" \
		"$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 0")" "still once"
	echo "    ($pending message(s) waited in the outbox)"
}

t_worker_chromium_killed_mid_job() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":500}' >/dev/null
	wk_setup
	OWN_BROWSER=1 wk_start
	for _ in $(seq 1 100); do
		old=$(pgrep -P "$WK_PID" -x chromium | head -1)
		[ -n "$old" ] && break
		sleep 0.1
	done
	[ -n "$old" ] || fail "the worker launched no chromium"
	x=$(enq crash invite '{"email":"zed@example.com","roles":["member"]}')
	wait_running "$x"
	sleep 1.5
	expect_eq "$(jobf "$x" .status)" running "still running when chromium dies"
	kill -KILL "$old"
	wait_done "$x" 90
	fx acme config '{"latency_ms":0}' >/dev/null
	expect_eq "$(jobf "$x" .status)" completed "job after the crash"
	[ "$(runs_of "$x")" -ge 2 ] || fail "the job was not run again"
	grep -q "chromium (pid $old) died; relaunching" "$WD/wk.err" || fail "no relaunch logged"
	new=$(pgrep -P "$WK_PID" -x chromium | head -1)
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new chromium ($old → $new)"
	expect_eq "$(jobf "$x" '[.event_log[] | select(.kind == "status") | .status] | join(" ")')" \
		retrying "integration status while it retried"
	expect_eq "$(invites)" 1 "invited once"
	expect_eq "$(ustate crash zed@example.com)" pending_user_claim "zed"
	sleep 0.5
	z=$(ps -o stat= --ppid "$WK_PID" | grep -c '^Z' || true)
	expect_eq "$z" 0 "zombies under the worker"
}

t_worker_job_child_killed() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":500}' >/dev/null
	wk_setup
	wk_start
	x=$(enq kill invite '{"email":"kim@example.com","roles":["member"]}')
	wait_running "$x"
	sleep 1.5
	child=$(pgrep -P "$WK_PID" -x idlcm-agent | head -1)
	[ -n "$child" ] || fail "no job child"
	kill -KILL "$child"
	wait_done "$x" 60
	fx acme config '{"latency_ms":0}' >/dev/null
	expect_eq "$(jobf "$x" .status)" completed "retried to success"
	expect_eq "$(sqlite3 "$WD/wk.db" "select error from runs where job_id='$x' and try = 1")" \
		"the job process died (signal 9) before it reported" "reason of run 1"
	expect_eq "$(invites)" 1 "never invited twice"
	expect_eq "$(ustate kill kim@example.com)" pending_user_claim "kim"
}

t_worker_job_past_deadline_is_killed() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":300}' >/dev/null
	wk_setup
	wk_start --max-tries 1 --kill-grace 500
	x=$(enq late invite '{"email":"lou@example.com","roles":["member"]}' '"timeout_s":3')
	wait_running "$x"
	child=$(pgrep -P "$WK_PID" -x idlcm-agent | head -1)
	[ -n "$child" ] || fail "no job child"
	kill -STOP "$child"	# a hung job: only SIGKILL ends it
	t0=$(date +%s)
	wait_done "$x" 20
	expect_eq "$(jobf "$x" '.status + " " + .error.message')" \
		"failed the job ran past its deadline of 3000 ms and was killed" "deadline"
	expect_eq "$(ustate late lou@example.com)" invite_failed "lou"
	kill -0 "$child" 2>/dev/null && fail "the child still exists"
	[ $(( $(date +%s) - t0 )) -le 8 ] || fail "killed too late"
	# and the worker keeps serving
	fx acme config '{"latency_ms":0}' >/dev/null
	y=$(enq late list_users)
	wait_done "$y"
	expect_eq "$(jobf "$y" .status)" completed "next job"
}

t_worker_rejects_malformed_jobs() {
	fx acme reset >/dev/null
	wk_setup
	wk_start
	raw() { curl -fsS -X POST -d "$1" "$CO_URL/v1/test/raw-job" | jq -r .id; }
	acc=$(account)
	a=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":\"acme\",\"action\":\"frobnicate\",\"account\":$acc}}")
	b=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":\"acme\",\"action\":\"invite\",\"account\":$acc}}")
	c=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":\"acme\",\"action\":\"invite\",\"user\":\"ada@example.com\"}}")
	d=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":\"acme\",\"action\":\"update\",\"user\":{\"email\":\"bob@acme.test\",\"roles\":7}}}")
	e=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":42,\"action\":\"list_users\"}}")
	f=$(raw "{\"job\":{\"integration\":\"mal\",\"app\":\"acme\",\"action\":\"list_users\"},\"pad_bytes\":10485760}")
	for x in $a $b $c $d $e $f; do wait_done "$x" 30; done
	expect_eq "$(jobf "$a" '.status + " " + .error.class + ": " + .error.message')" \
		'failed malformed: job rejected: unknown action "frobnicate"' "unknown action"
	expect_eq "$(jobf "$b" .error.message)" 'job rejected: invite needs a "user" object' "missing user"
	expect_eq "$(jobf "$c" .error.message)" 'job rejected: "user" must be an object, not a string' "user type"
	expect_eq "$(jobf "$d" .error.message)" 'job rejected: "user.roles" must be an array of strings' "roles type"
	expect_eq "$(jobf "$e" .error.message)" 'job rejected: job has no "app" string' "app type"
	jobf "$f" .error.message | grep -q '^job rejected: job is 1048[0-9]* bytes, over the 1048576-byte limit$' ||
		fail "10 MB job: $(jobf "$f" .error.message)"
	# each has its error event in the coordinator's log
	for x in $a $b $c $d $e $f; do
		expect_eq "$(jobf "$x" '[.event_log[] | select(.kind == "log" and .level == "error")] | length')" 1 "error event of $x"
	done
	kill -0 "$WK_PID" || fail "the worker died"
	y=$(enq mal list_users)
	wait_done "$y"
	expect_eq "$(jobf "$y" .status)" completed "a good job after the bad ones"
	# the coordinator refuses a 10 MB body itself
	code=$(head -c 10485760 /dev/zero | tr '\0' x | curl -s -o /dev/null -w '%{http_code}' \
		-X POST --data-binary @- "$CO_URL/v1/jobs")
	expect_eq "$code" 413 "10 MB enqueue"
	expect_eq "$(curl -s -X POST -d '{"integration":"mal","app":"acme","action":"invite","user":{"roles":["x"]}}' "$CO_URL/v1/jobs" | jq -r .error)" \
		'enqueue: "user" needs an "email" or "username"' "enqueue validation"
	n0=$(curl -fsS "$CO_URL/v1/jobs" | jq '.jobs | length')
	expect_eq "$(curl -s -X POST -d '{"jobs":[{"integration":"mal","app":"acme","action":"list_users"},{"integration":"mal","app":"acme","action":"update","user":{"email":"a@b.c"}}]}' "$CO_URL/v1/jobs" | jq -r .error)" \
		'enqueue: jobs[1]: update needs "user.roles"' "a bad job in a batch"
	expect_eq "$(curl -fsS "$CO_URL/v1/jobs" | jq '.jobs | length')" "$n0" "nothing of the batch enqueued"
	expect_eq "$(curl -s -X POST -d '{"integration":"mal","app":"acme","action":"list_users","lease_s":"ten"}' "$CO_URL/v1/jobs" | jq -r .error)" \
		'enqueue: "lease_s" must be a whole number from 1 to 3600' "wrong type"
	expect_eq "$(curl -s -X POST -d '{"worker":"w","capacity":0}' "$CO_URL/v1/claim" | jq -r .error)" \
		'claim: "capacity" must be a whole number from 1 to 64' "claim validation"
	expect_eq "$(curl -s -X POST -d '{"events":[{"kind":"log"}]}' "$CO_URL/v1/jobs/$y/events" | jq -r .error)" \
		'events[0]: "seq" must be a whole number >= 1' "events validation"
	expect_eq "$(curl -s -X POST -d '{"outcome":"maybe"}' "$CO_URL/v1/jobs/$y/complete" | jq -r .error)" \
		'complete: "outcome" must be "ok", "failed" or "released"' "complete validation"
	# the same idempotency key is the same job
	k1=$(curl -fsS -X POST -d '{"integration":"mal","app":"acme","action":"list_users","idempotency_key":"k-1"}' "$CO_URL/v1/jobs" | jq -r .id)
	k2=$(curl -fsS -X POST -d '{"integration":"mal","app":"acme","action":"list_users","idempotency_key":"k-1"}' "$CO_URL/v1/jobs" | jq -r .id)
	expect_eq "$k2" "$k1" "idempotent enqueue"
}

t_worker_lease_lost_aborts_job() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":800}' >/dev/null
	LEASE=3 wk_setup
	wk_start
	x=$(enq lease invite '{"email":"lee@example.com","roles":["member"]}')
	wait_running "$x"
	kill -STOP "$WK_PID"	# no heartbeats: the lease lapses
	sleep 4
	got=$(curl -fsS -X POST -d '{"worker":"thief","capacity":1,"wait_s":0}' "$CO_URL/v1/claim" | jq -r '.jobs[0].id')
	expect_eq "$got" "$x" "re-claimed by another worker"
	kill -CONT "$WK_PID"
	for _ in $(seq 1 50); do grep -q "job $x: lease lost; aborted" "$WD/wk.err" && break; sleep 0.2; done
	grep -q "job $x: lease lost; aborted" "$WD/wk.err" || fail "lease loss not noticed: $(cat "$WD/wk.err" "$WD/co.err")"
	fx acme config '{"latency_ms":0}' >/dev/null
	expect_eq "$(jobf "$x" '.status + " " + .worker + " " + (.attempt|tostring)')" "running thief 2" "thief holds it"
	kill -0 "$WK_PID" || fail "the worker died"
}

t_worker_sigterm_finishes_running_jobs() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":200}' >/dev/null
	wk_setup
	wk_start --slots 1 --grace 30000
	x=$(enq term invite '{"email":"tess@example.com","roles":["member"]}')
	y=$(enq term list_users)
	wait_running "$x"
	kill -TERM "$WK_PID"
	wait "$WK_PID"; rc=$?; WK_PID=
	fx acme config '{"latency_ms":0}' >/dev/null
	expect_eq "$rc" 0 "worker exit status"
	expect_eq "$(jobf "$x" .status)" completed "the running job finished"
	expect_eq "$(jobf "$y" .status)" queued "the other job stays queued for another worker"
	grep -q "worker stopped" "$WD/wk.err" || fail "no clean stop"
	[ -z "$(pgrep -f "$WD/wk.db")" ] || fail "worker processes left"
}

t_worker_refuses_readable_token_file() {
	wk_setup
	echo secret-token-123 >"$WD/token"; chmod 644 "$WD/token"
	"$BIN/idlcm-agent" worker --coordinator "$CO_URL" --token-file "$WD/token" --db "$WD/x.db" \
		--runs-dir "$WD/runs" >"$WD/o" 2>"$WD/e"
	RC=$?; ERR=$(cat "$WD/e")
	expect_rc 2
	expect_err "has mode 0644 and can be read by group or others; it must be 0600 (chmod 600 "
	printf '%s' "$ERR" | grep -q secret-token-123 && fail "token printed"
	true
}

t_worker_bearer_token() {
	fx acme reset >/dev/null
	WD=$(mktemp -d "$WORK/wk-XXXXXX")
	( umask 077; echo "tok-$$-secret" >"$WD/token" )
	CO_PORT=0; trap wk_teardown EXIT
	CO_ARGS="--token-file $WD/token" co_start
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"worker":"w","capacity":1}' "$CO_URL/v1/claim")
	expect_eq "$code" 401 "claim without the token"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "$CO_URL/v1/jobs")
	expect_eq "$code" 401 "wrong token"
	wk_start --token-file "$WD/token"
	x=$(curl -fsS -X POST -H "Authorization: Bearer $(cat "$WD/token")" \
		-d "{\"integration\":\"tok\",\"app\":\"acme\",\"action\":\"list_users\",\"account\":$(account)}" \
		"$CO_URL/v1/jobs" | jq -r .id)
	for _ in $(seq 1 150); do
		s=$(curl -fsS -H "Authorization: Bearer $(cat "$WD/token")" "$CO_URL/v1/jobs/$x" | jq -r .status)
		[ "$s" = completed ] && break
		sleep 0.2
	done
	expect_eq "$s" completed "job through an authenticated worker"
	grep -q "tok-$$-secret" "$WD/wk.err" "$WD/co.err" && fail "the token was logged"
	true
}

t_worker_sigterm_hands_back_what_outlives_the_grace() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":800}' >/dev/null
	wk_setup
	wk_start --slots 1 --grace 1000
	x=$(enq back invite '{"email":"bea@example.com","roles":["member"]}')
	wait_running "$x"
	t0=$(date +%s)
	kill -TERM "$WK_PID"
	wait "$WK_PID"; rc=$?; WK_PID=
	expect_eq "$rc" 0 "worker exit status"
	[ $(( $(date +%s) - t0 )) -le 4 ] || fail "the worker took too long to stop"
	expect_eq "$(jobf "$x" '.status + " " + (.attempt|tostring)')" "queued 1" "handed back"
	jobf "$x" '.event_log[] | select(.kind == "log") | .message' | grep -q "job handed back" ||
		fail "no hand-back event"
	# another worker takes it over
	fx acme config '{"latency_ms":0}' >/dev/null
	mv "$WD/wk.err" "$WD/wk1.log"
	wk_start --db "$WD/wk2.db"
	wait_done "$x" 60
	expect_eq "$(jobf "$x" '.status + " " + (.attempt|tostring)')" "completed 2" "done on attempt 2"
	expect_eq "$(invites)" 1 "invited once"
}

t_worker_outbox_survives_a_worker_restart() {
	fx acme reset >/dev/null
	LEASE=60 wk_setup
	wk_start
	x=$(enq restart invite '{"email":"rae@example.com","roles":["member"]}')
	wait_running "$x"
	kill -KILL "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	for _ in $(seq 1 100); do
		[ "$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 1")" = 1 ] && break
		sleep 0.2
	done
	kill -TERM "$WK_PID"; wait "$WK_PID"; WK_PID=
	grep -q "message(s) stay in the outbox for the next start" "$WD/wk.err" || fail "no outbox note"
	left=$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where status = 0')
	[ "$left" -gt 0 ] || fail "nothing left in the outbox"
	LEASE=60 co_start
	mv "$WD/wk.err" "$WD/wk1.log"
	wk_start
	wait_done "$x" 30
	expect_eq "$(jobf "$x" .status)" completed "delivered after the restart"
	expect_eq "$(sqlite3 "$WD/co.db" "select count(*) from events where job_id='$x'")" \
		"$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 0")" "every event once"
	expect_eq "$(ustate restart rae@example.com)" pending_user_claim "rae"
}

# The service account from the vault ({"vault": name} in the job), and a
# password the invite captured: into the vault, never to the coordinator.
t_worker_vault_account_and_captured_password() {
	fx globex reset >/dev/null
	wk_setup
	IDLCM_VAULT="$WD/vault.db"
	IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	export IDLCM_VAULT IDLCM_VAULT_KEY
	"$BIN/idlcm-agent" vault set globex/ops --value Globex-Ops-7731 >/dev/null || fail "vault set"
	printf '%s' GLOBEXK7N3QZW2TOTPSEEDX4V6MRT5YB | "$BIN/idlcm-agent" vault set globex/ops-totp >/dev/null ||
		fail "vault set totp"
	wk_start
	acct="{\"base_url\":\"$FX_URL/globex\",\"username\":\"ops@globex.test\",\"password\":{\"vault\":\"globex/ops\"},\"totp_secret\":{\"vault\":\"globex/ops-totp\"}}"
	x=$(curl -fsS -X POST -d "{\"integration\":\"gx\",\"app\":\"globex\",\"action\":\"invite\",\"account\":$acct,\"user\":{\"email\":\"contractor@globex.test\",\"roles\":[\"viewer\"],\"attributes\":{\"login\":\"password\"}}}" \
		"$CO_URL/v1/jobs" | jq -r .id)
	wait_done "$x" 90
	expect_eq "$(jobf "$x" '.status + " " + (.error.message // "")')" "completed " "invite on globex"
	expect_eq "$(jobf "$x" .result.credentials.password.vault)" "globex/contractor@globex.test" "vault name in the result"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/gx/users" | jq -r '.users[] | select(.user == "contractor@globex.test") | .state + " " + .login_method')" \
		"onboarded password" "users table"
	pw=$(fx globex state | jq -r '.users[] | select(.email == "contractor@globex.test") | .initial_password')
	[ -n "$pw" ] && [ "$pw" != null ] || fail "no generated password"
	expect_eq "$("$BIN/idlcm-agent" vault get globex/contractor@globex.test)" "$pw" "the vault holds it"
	for f in "$WD/co.db" "$WD/wk.db"; do
		sqlite3 "$f" .dump | grep -q -e "$pw" -e Globex-Ops-7731 && fail "a password in $f"
	done
	grep -rq -e "$pw" -e Globex-Ops-7731 "$WD"/*.err "$WD/runs" 2>/dev/null && fail "a password in a log or artifact"
	# a vault entry that is missing: needs a person, not retried
	y=$(curl -fsS -X POST -d "{\"integration\":\"gx\",\"app\":\"globex\",\"action\":\"list_users\",\"account\":{\"base_url\":\"$FX_URL/globex\",\"password\":{\"vault\":\"globex/nope\"}}}" \
		"$CO_URL/v1/jobs" | jq -r .id)
	wait_done "$y" 30
	expect_eq "$(jobf "$y" '.status + " " + .error.class')" "failed needs_human" "missing vault entry"
	jobf "$y" .error.message | grep -q 'globex/nope' || fail "message: $(jobf "$y" .error.message)"
	expect_eq "$(runs_of "$y")" 1 "not retried"
}

t_worker_sync_and_safeguard() {
	fx acme reset >/dev/null
	wk_setup
	wk_start
	exp='[{"email":"alice@acme.test","upstream_id":"okta-1"},{"email":"bob@acme.test"},{"email":"carol@acme.test"},{"email":"ghost@acme.test"}]'
	x=$(enq sy sync "" "\"expected\":$exp,\"exempt\":[\"dave@acme.test\"],\"max_delete_ratio\":0.5")
	wait_done "$x" 60
	expect_eq "$(jobf "$x" .status)" completed "sync"
	got=$(curl -fsS "$CO_URL/v1/integrations/sy/users" | jq -r '[.users[] | .user + "=" + .state] | join(" ")')
	expect_eq "$got" "alice@acme.test=onboarded bob@acme.test=onboarded carol@acme.test=pending_user_claim dave@acme.test=exempted ghost@acme.test=deleted" "users after sync"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/sy" | jq -r .status)" up_to_date "status"
	# the safeguard: 2 of 3 expected users missing is above 20%: nothing applied
	y=$(enq sy2 sync "" '"expected":[{"email":"alice@acme.test"},{"email":"x1@acme.test"},{"email":"x2@acme.test"}]')
	wait_done "$y" 60
	expect_eq "$(jobf "$y" '.status + " " + .error.class')" "failed business" "safeguard"
	jobf "$y" .error.message | grep -q "sync safeguard" || fail "message: $(jobf "$y" .error.message)"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/sy2/users" | jq '.users | length')" 0 "nothing applied"
	expect_eq "$(curl -fsS "$CO_URL/v1/integrations/sy2" | jq -r .status)" failed "sy2 status"
	expect_eq "$(runs_of "$y")" 1 "not retried"
	expect_eq "$(curl -s -X POST -d '{"integration":"sy","app":"acme","action":"sync","expected":{}}' "$CO_URL/v1/jobs" | jq -r .error)" \
		'enqueue: "expected" must be an array of users' "validation"
}
