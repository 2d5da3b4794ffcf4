# Speed (issue 11, second pass): what a job no longer waits for.  Counts
# and orders of CDP commands, never times (timing is `make bench`).
# Uses the worker harness of test_worker.sh (wk_setup, enq, wait_done).

# s11_worker [ARGS…]: the worker on the shared Chromium with a debug log
s11_worker() {
	IDLCM_LOG=debug "$BIN/idlcm-agent" worker --coordinator "$CO_URL" --browser "$CHROME_HTTP" \
		--db "$WD/wk.db" --runs-dir "$WD/runs" --scripts "$ROOT/scripts/apps" \
		--poll-s 2 --retry-base 300 --retry-max 1000 --grace 5000 "$@" >"$WD/wk.out" 2>"$WD/wk.err" &
	WK_PID=$!
}

# A job handed to a warm child starts at its script's first page call:
# the page's main frame and the helper's init script were set up while
# the previous job ran (job_page_prepare), not after the claim.
t_speed11_prewarmed_job_starts_at_first_call() {
	fx acme reset >/dev/null
	wk_setup
	s11_worker --slots 1 --prewarm-max-ms 120000
	a=$(enq s11-prewarm list_users)
	b=$(enq s11-prewarm list_users)
	wait_done "$a"; wait_done "$b"
	expect_eq "$(jobf "$a" .status)/$(jobf "$b" .status)" "completed/completed"
	line=$(grep -n "job $b: run 1 started (pid [0-9]*, prewarmed page)" "$WD/wk.err" | head -1)
	[ -n "$line" ] || fail "the second job did not start on a prewarmed page: $(grep started "$WD/wk.err")"
	pid=$(printf '%s' "$line" | sed 's/.*(pid \([0-9]*\), prewarmed.*/\1/')
	# The warm child's own command order, not the worker's "started" line:
	# the child may send its first command before the worker has logged
	# the hand-over, and may still be preparing when the job reaches it.
	# The page set up once, by the warm child, and the job's first command
	# right after: the job sends neither again.
	seq=$(grep "\[$pid\] cdp > " "$WD/wk.err" | sed 's/.*"method":"\([^"]*\)".*/\1/')
	set -- $(printf '%s\n' "$seq" | grep -c '^Page.getFrameTree$\|^Page.addScriptToEvaluateOnNewDocument$')
	[ "$1" -eq 2 ] || fail "the page was not set up exactly once: $(printf '%s\n' "$seq" | grep '^Page\.' | head -8 | tr '\n' ' ')"
	next=$(printf '%s\n' "$seq" | sed -n '/^Page.addScriptToEvaluateOnNewDocument$/{n;p;q}')
	expect_eq "$next" "Page.navigate" "the prewarmed job's first command"
	kill -TERM "$WK_PID"; wait "$WK_PID"; WK_PID=
}

# renderers_under PID: the renderer processes among PID's descendants
renderers_under() {
	ps -eo pid=,ppid=,args= | awk -v root="$1" '
		{ parent[$1] = $2; kind[$1] = ($0 ~ /--type=renderer/) }
		END { for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q]
			if (q == root && kind[p]) n++ } print n + 0 }'
}

# The Chromium the agent launches gives a job's browser context one
# renderer process: headless Chromium gave each context's window two
# omnibox-popup WebUI renderers and a spare one besides (issue 11:
# about half of Chromium's CPU per job).  A count, not a time.
t_speed11_launched_chromium_one_renderer_per_job() {
	acct=$(printf '{"base_url":"%s/acme","username":"admin@acme.test","password":"acme-admin-pw","hold_ms":3000}' "$FX_URL")
	"$BIN/idlcm-agent" run "$ROOT/tests/e2e/scripts/speed11_hold.lua" list_users --account "$acct" \
		--runs-dir "$WORK/runs" >"$WORK/s11.out" 2>"$WORK/s11.err" &
	pid=$!
	# while the job holds its signed-in page: the most renderers seen
	most=0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		n=$(renderers_under "$pid")
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.1
	done
	wait "$pid"; RC=$?
	expect_rc 0
	[ "$most" -ge 1 ] || fail "no renderer of the launched Chromium was ever seen"
	# the job's page; the default context's about:blank may have one more
	[ "$most" -le 2 ] || fail "the launched Chromium ran $most renderer processes for one job"
}
