# Record on real Chromium, replay without it; a failure report that a
# browser renders.  (The browserless replay tests are tests/replay/.)
RS="$ROOT/tests/replay/scripts"

t_record_then_replay_round_trip() {
	fx acme reset >/dev/null
	c="$WORK/invite.jsonl"
	agent record "$ROOT/scripts/apps/acme.lua" invite --account "$(acme_account)" \
		--user '{"email":"ada@example.com","roles":["member"]}' --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --cassette "$c"
	expect_rc 0
	expect_out "ada@example.com  inviting → pending_user_claim"
	expect_err "cassette: $c"
	[ "$(fx acme state | jq -r .counters.invites)" = 1 ] || fail "the recording did not invite"
	head -1 "$c" | jq -e '.cassette == 1 and .action == "invite"
		and .account.password == "{{secret:account.password}}"' >/dev/null || fail "bad header: $(head -1 "$c")"
	grep -q acme-admin-pw "$c" && fail "the password is in the cassette"
	jq -s -e 'map(select(.dir == "send")) | length > 10' "$c" >/dev/null || fail "no commands recorded"
	tail -1 "$c" | jq -e '.dir == "end" and .outcome.exit == 0
		and .outcome.state == "pending_user_claim"' >/dev/null || fail "bad trailer"
	# every frame has a time, in order
	jq -s -e '[.[1:-1][] | .t] | . == sort' "$c" >/dev/null || fail "times out of order"
	agent replay "$ROOT/scripts/apps/acme.lua" invite --cassette "$c" --runs-dir "$WORK/runs"
	expect_rc 0
	expect_out "ada@example.com  inviting → pending_user_claim"
	expect_err "outcome as recorded"
	[ "$(fx acme state | jq -r .counters.invites)" = 1 ] || fail "the replay reached the app"
}

# serve_report FILE: a job's pages open only http(s) (test_confine.sh), so the
# report is served by a second fixture server; sets REPORT_URL, REPORT_PID.
serve_report() {
	rr=$(mktemp -d "$WORK/report-XXXXXX")
	mkdir -p "$rr/report"
	cp "$1" "$rr/report/report.html"
	printf '{"title":"Report","roles":["x"],"accounts":[],"users":[]}' >"$rr/report/app.json"
	"$BIN/idlcm-fixtures" --port 0 --root "$rr" >"$rr/out" 2>&1 &
	REPORT_PID=$!
	for _ in $(seq 1 100); do
		REPORT_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$rr/out")
		[ -n "$REPORT_URL" ] && { REPORT_URL="$REPORT_URL/report/report.html"; return 0; }
		sleep 0.05
	done
	fail "the report server did not start: $(cat "$rr/out")"
}

t_failure_report_renders_in_chromium() {
	fx acme reset >/dev/null
	agent record "$RS/missing_button.lua" invite --account "$(acme_account)" \
		--user '{"email":"ada@example.com","roles":["member"]}' --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --cassette "$WORK/fail.jsonl"
	expect_rc 1
	grep -q '"data":"{{elided: [0-9]* bytes of PNG}}"' "$WORK/fail.jsonl" || fail "screenshot not elided"
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: \(.*\)\/$/\1/p')
	[ -s "$dir/steps.json" ] || fail "no steps.json in $dir"
	agent report "$dir"
	expect_rc 0
	serve_report "$OUT"
	agent run "$RS/render_report.lua" validate --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$REPORT_URL\",\"width\":1280,\"expect\":\"timeout 2000 ms waiting for \\\"button.nope\\\"\"}"
	kill "$REPORT_PID"
	expect_rc 0
	expect_err "report ok: screenshot 1280 px wide, error shown, 1 failed step(s)"
}

t_replayed_failure_report_renders_in_chromium() {
	agent replay "$RS/missing_button.lua" invite --runs-dir "$WORK/runs" \
		--cassette "$ROOT/tests/fixtures/cassettes/acme-missing-button.jsonl"
	expect_rc 1
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: \(.*\)\/$/\1/p')
	agent report "$dir"
	expect_rc 0
	serve_report "$OUT"
	agent run "$RS/render_report.lua" validate --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$REPORT_URL\",\"expect\":\"missing_button.lua:18\"}"
	kill "$REPORT_PID"
	expect_rc 0
	expect_err "report ok: screenshot 1 px wide"
}
