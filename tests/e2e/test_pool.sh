# Browser pools and the worker's /metrics (issue 13, points 2 and 4): a
# real coordinator, a real worker and two Chromiums this file starts (and
# alone kills); the worker helpers (wk_setup, wk_start, enq, …) are
# tests/e2e/test_worker.sh's.

PL_PIDS=

# pl_chrome DIR [PORT] → prints the browser's http://127.0.0.1:PORT; its
# own process group (setsid), remembered in $DIR/pid for pl_kill.
pl_chrome() {
	mkdir -p "$1"
	setsid chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --mute-audio --hide-scrollbars --window-size=1280,800 \
		--remote-debugging-port="${2:-0}" --user-data-dir="$1/profile" about:blank \
		>"$1/log" 2>&1 &
	echo $! >"$1/pid"
	for _ in $(seq 1 200); do
		# (DevToolsActivePort is written only for port 0: the log has both)
		port=$(sed -n 's|^DevTools listening on ws://127.0.0.1:\([0-9]*\)/.*|\1|p' "$1/log")
		if [ -n "$port" ]; then
			echo "http://127.0.0.1:$port"
			return 0
		fi
		sleep 0.05
	done
	echo "chromium did not start: $(grep -v dbus "$1/log" | tail -3)" >&2
	return 1
}

pl_kill() { # DIR: the Chromium started there, its whole group
	p=$(cat "$1/pid" 2>/dev/null) || return 0
	kill -KILL -"$p" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$1/pid"
}

pl_teardown() {
	wk_teardown
	for d in "$WD"/chrome*; do [ -d "$d" ] && pl_kill "$d"; done
}

# pl_scrape → $WD/metrics, checked by the coordinator test's strict
# exposition-format checker
pl_scrape() {
	curl -fsS -o "$WD/metrics" "$PL_METRICS" || fail "GET $PL_METRICS failed"
	awk -f "$ROOT/tests/e2e/prom_check.awk" "$WD/metrics" >"$WD/check" 2>&1 ||
		fail "worker /metrics is not valid exposition format: $(cat "$WD/check")"
}
pl_sample() { awk -v want="$1$2" '$1 == want { print $2 }' "$WD/metrics"; }

# the worker's metrics URL, from its log
pl_metrics_url() {
	for _ in $(seq 1 100); do
		PL_METRICS=$(sed -n 's/.*metrics on \(http:[^ ]*\).*/\1/p' "$WD/wk.err" | head -1)
		[ -n "$PL_METRICS" ] && return 0
		sleep 0.05
	done
	fail "the worker did not say where /metrics is"
}

runs_on() { # JOB → the browsers of its runs, in order, from its events
	jobf "$1" '[.event_log[] | select(.kind == "log" and .browser) | .browser] | join(" ")'
}

# Two browsers, six invites, one browser killed while it runs a job:
# every job completes once, the dead browser's job runs again on the other,
# both browsers ran jobs, and each job's result names its browser.  Then
# the dead one comes back on its port and is used again.
t_pool_browser_killed_mid_run() {
	fx acme reset >/dev/null
	fx acme config '{"latency_ms":250}' >/dev/null
	t0=$(date +%s)
	wk_setup
	trap pl_teardown EXIT
	b1=$(pl_chrome "$WD/chrome1") || fail "no chromium 1"
	b2=$(pl_chrome "$WD/chrome2") || fail "no chromium 2"
	printf '# the pool\n%s\n\n' "$b2" >"$WD/browsers"
	OWN_BROWSER=1 wk_start --browser "$b1" --browser "@$WD/browsers" \
		--browser-check-ms 500 --metrics-listen 127.0.0.1:0
	pl_metrics_url
	ids=
	for n in 1 2 3 4 5 6; do
		ids="$ids $(enq pool invite "{\"email\":\"p$n@example.com\",\"roles\":[\"member\"]}")"
	done
	# the second job to run on browser 2 (both browsers have been busy a
	# while by then), well into its run
	victim=
	for _ in $(seq 1 600); do
		victim=$(sed -n "s|.*job \([^:]*\): run 1 on browser $b2 .*|\1|p" "$WD/wk.err" | sed -n 2p)
		[ -n "$victim" ] && break
		sleep 0.1
	done
	[ -n "$victim" ] || fail "no job ran on browser 2: $(grep browser "$WD/wk.err" | tail -5)"
	sleep 1
	expect_eq "$(jobf "$victim" .status)" running "job $victim still running when browser 2 dies"
	pl_kill "$WD/chrome2"
	t1=$(date +%s)
	for x in $ids; do wait_done "$x" 120; done
	t2=$(date +%s)

	for x in $ids; do
		expect_eq "$(jobf "$x" .status)" completed "job $x"
		expect_eq "$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$x' and kind = 1")" 1 \
			"completes of $x sent"
		r=$(jobf "$x" .result.browser)
		expect_eq "$r" "$(runs_on "$x" | awk '{ print $NF }')" "result.browser of $x is its last run's"
		case "$r" in "$b1"|"$b2") ;; *) fail "job $x names no pool browser: \"$r\"" ;; esac
	done
	expect_eq "$(invites)" 6 "one invite per user"
	expect_eq "$(jobf "$victim" .attempt)" 1 "the victim kept its attempt"
	runs=$(runs_on "$victim")
	expect_eq "${runs%% *}" "$b2" "the victim's first run"
	expect_eq "${runs##* }" "$b1" "the victim's last run"
	expect_eq "$(jobf "$victim" .result.browser)" "$b1" "the victim's report"
	jobf "$victim" '.event_log[] | select(.kind == "status") | .detail' | grep -qF "browser $b2 went away" ||
		fail "the victim's retry does not name the browser: $(jobf "$victim" '[.event_log[] | select(.kind == "status")]')"
	used1=0; used2=0
	for x in $ids; do
		case " $(runs_on "$x") " in *" $b1 "*) used1=$((used1 + 1)) ;; esac
		case " $(runs_on "$x") " in *" $b2 "*) used2=$((used2 + 1)) ;; esac
	done
	[ "$used1" -ge 1 ] && [ "$used2" -ge 1 ] || fail "browsers used: 1 by $used1 job(s), 2 by $used2"
	grep -qF "browser $b2 is gone" "$WD/wk.err" || fail "the worker log does not say browser 2 went"
	grep -qF "job $victim: run 2 started" "$WD/wk.err" || fail "no second run of $victim logged"
	grep -F "job $victim: run 2 started" "$WD/wk.err" | grep -qF "on browser $b1" ||
		fail "run 2 of $victim not on browser 1: $(grep -F "job $victim" "$WD/wk.err")"
	# every job that lost its browser was run again, and counted once
	lost=0
	for x in $ids; do
		n=$(jobf "$x" "[.event_log[] | select(.kind == \"status\" and (.detail // \"\" | contains(\"browser $b2 went away\")))] | length")
		lost=$((lost + n))
	done
	pl_scrape
	expect_eq "$(pl_sample idlcm_worker_jobs_total '{outcome="ok"}')" 6 "jobs ok"
	expect_eq "$(pl_sample idlcm_worker_retries_total '{reason="browser_lost"}')" "$lost" "browser-lost retries"
	expect_eq "$(pl_sample idlcm_worker_browser_up "{browser=\"$b2\"}")" 0 "browser 2 down"
	[ "$(pl_sample idlcm_worker_browser_down_total "{browser=\"$b2\"}")" -ge 1 ] ||
		fail "browser 2 never counted down: $(grep browser_down "$WD/metrics")"
	expect_eq "$(pl_sample idlcm_worker_job_duration_seconds_count '')" 6 "durations timed"
	echo "# victim $victim ran on: $runs; jobs per browser: $used1 / $used2;" \
		"browser 2 killed after $((t1 - t0)) s, all done $((t2 - t1)) s later"

	# browser 2 answers again on its port: back in the pool
	fx acme config '{"latency_ms":0}' >/dev/null
	b2b=$(pl_chrome "$WD/chrome2b" "${b2##*:}") || fail "chromium 2 did not come back"
	expect_eq "$b2b" "$b2" "chromium 2 on its old port"
	for _ in $(seq 1 100); do
		grep -qF "browser $b2 answers again" "$WD/wk.err" && break
		sleep 0.1
	done
	grep -qF "browser $b2 answers again" "$WD/wk.err" || fail "browser 2 not back in use"
	more=
	for n in 7 8 9; do
		more="$more $(enq pool invite "{\"email\":\"p$n@example.com\",\"roles\":[\"member\"]}")"
	done
	back=0
	for x in $more; do
		wait_done "$x" 60
		expect_eq "$(jobf "$x" .status)" completed "job $x"
		[ "$(jobf "$x" .result.browser)" = "$b2" ] && back=$((back + 1))
	done
	[ "$back" -ge 1 ] || fail "no job ran on browser 2 once it came back"
	echo "# back on browser 2: $back of 3 jobs, $(($(date +%s) - t2)) s"
}

# --browser with a bad endpoint or list: a clear error, exit 2.
t_pool_bad_browser_args() {
	WD=$(mktemp -d "$WORK/pl-XXXXXX")
	agent worker --coordinator http://127.0.0.1:1 --db "$WD/wk.db" --browser ftp://x
	expect_rc 2
	expect_err "--browser wants ws://… or http://host:port, not \"ftp://x\""
	printf 'http://127.0.0.1:9222\n\n# nothing else\nchrome:9222\n' >"$WD/list"
	agent worker --coordinator http://127.0.0.1:1 --db "$WD/wk.db" --browser "@$WD/list"
	expect_rc 2
	expect_err "$WD/list:4: --browser wants ws://… or http://host:port, not \"chrome:9222\""
	agent worker --coordinator http://127.0.0.1:1 --db "$WD/wk.db" --browser "@$WD/none"
	expect_rc 2
	expect_err "cannot read the browser list $WD/none"
	agent worker --coordinator http://127.0.0.1:1 --db "$WD/wk.db" \
		--browser http://127.0.0.1:9 --browser http://127.0.0.1:9
	expect_rc 2
	expect_err "--browser http://127.0.0.1:9 is given twice"
	agent worker --coordinator http://127.0.0.1:1 --db "$WD/wk.db" --metrics-listen nowhere
	expect_rc 2
	expect_err "--metrics-listen wants ADDR:PORT, not \"nowhere\""
	agent worker --help
	expect_rc 0
	for o in --browser-check-ms --metrics-listen --max-tries --prewarm-max-ms --grace \
		 --job-timeout --action-timeout --kill-grace --retry-base --retry-max \
		 --worker-id --vault --poll-s --log-level; do
		expect_out "$o"
	done
}

# The worker's own Chromium: /metrics parses, counts the job, its
# relaunch, and the outbox while the coordinator is away.
t_pool_worker_metrics() {
	fx acme reset >/dev/null
	LEASE=120 wk_setup
	OWN_BROWSER=1 wk_start --metrics-listen 127.0.0.1:0
	pl_metrics_url
	pl_scrape
	expect_eq "$(pl_sample idlcm_worker_jobs_total '{outcome="ok"}')" 0 "no job yet"
	expect_eq "$(pl_sample idlcm_worker_outbox_messages '')" 0 "empty outbox"
	x=$(enq m invite '{"email":"m1@example.com","roles":["member"]}')
	wait_done "$x" 60
	for _ in $(seq 1 50); do
		old=$(pgrep -P "$WK_PID" -x chromium | head -1)
		[ -n "$old" ] && break
		sleep 0.1
	done
	[ -n "$old" ] || fail "the worker launched no chromium"
	pl_scrape
	expect_eq "$(pl_sample idlcm_worker_jobs_total '{outcome="ok"}')" 1 "one job ok"
	expect_eq "$(pl_sample idlcm_worker_job_duration_seconds_count '')" 1 "one duration"
	expect_eq "$(pl_sample idlcm_worker_browser_up '{browser="launched"}')" 1 "own chromium up"
	kill -KILL "$old"
	for _ in $(seq 1 100); do
		grep -q "chromium (pid $old) died" "$WD/wk.err" && break
		sleep 0.1
	done
	# the coordinator goes away: what the next job says waits in the outbox
	kill -KILL "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	sleep 1.5
	pl_scrape
	expect_eq "$(pl_sample idlcm_worker_browser_relaunches_total '{browser="launched"}')" 1 "relaunches"
	LEASE=120 co_start
	y=$(enq m invite '{"email":"m2@example.com","roles":["member"]}')
	wait_running "$y"
	kill -KILL "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	for _ in $(seq 1 150); do
		[ "$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$y' and kind = 1")" = 1 ] && break
		sleep 0.2
	done
	sleep 1
	pl_scrape
	n=$(pl_sample idlcm_worker_outbox_messages '')
	[ "$n" -ge 1 ] 2>/dev/null || fail "outbox depth $n while the coordinator is away"
	expect_eq "$n" "$(sqlite3 "$WD/wk.db" 'select count(*) from outbox where status = 0')" "outbox depth"
	age=$(pl_sample idlcm_worker_outbox_oldest_age_seconds '')
	awk -v a="$age" 'BEGIN { exit !(a >= 1) }' || fail "oldest outbox message $age s old"
	LEASE=120 co_start
	wait_done "$y" 60
	for _ in $(seq 1 50); do
		pl_scrape
		[ "$(pl_sample idlcm_worker_outbox_messages '')" = 0 ] && break
		sleep 0.2
	done
	expect_eq "$(pl_sample idlcm_worker_outbox_messages '')" 0 "outbox drained"
	expect_eq "$(pl_sample idlcm_worker_outbox_oldest_age_seconds '')" 0.000 "no age once drained"
	expect_eq "$(pl_sample idlcm_worker_jobs_total '{outcome="ok"}')" 2 "two jobs ok"
	echo "# $(grep -c '^[^#]' "$WD/metrics") samples, checker passed; outbox held $n message(s), oldest $age s"
}

# A ws:// endpoint (what a browser farm hands out) works as it is given; a
# member that never answers gets no job.
t_pool_ws_endpoint_and_dead_member() {
	fx acme reset >/dev/null
	wk_setup
	ws=$(curl -fsS "$CHROME_HTTP/json/version" | jq -r .webSocketDebuggerUrl)
	OWN_BROWSER=1 wk_start --browser http://127.0.0.1:9 --browser "$ws"
	a=$(enq ws invite '{"email":"w1@example.com","roles":["member"]}')
	b=$(enq ws invite '{"email":"w2@example.com","roles":["member"]}')
	wait_done "$a" 60; wait_done "$b" 60
	for x in $a $b; do
		expect_eq "$(jobf "$x" .status)" completed "job $x"
		expect_eq "$(jobf "$x" .result.browser)" "$ws" "job $x ran on the ws endpoint"
	done
	grep -qF "browser http://127.0.0.1:9 does not answer" "$WD/wk.err" ||
		fail "the dead member is not said: $(grep browser "$WD/wk.err")"
}

# A pool with no browser that answers claims nothing (another worker may
# run the job), and says why.
t_pool_no_browser_claims_nothing() {
	wk_setup
	OWN_BROWSER=1 wk_start --browser http://127.0.0.1:9
	x=$(enq none invite '{"email":"n1@example.com","roles":["member"]}')
	sleep 3
	expect_eq "$(jobf "$x" .status)" queued "the job while no browser answers"
	expect_eq "$(jobf "$x" .attempt)" 0 "never claimed"
	grep -qF "browser http://127.0.0.1:9 does not answer" "$WD/wk.err" || fail "no word of the browser"
}
