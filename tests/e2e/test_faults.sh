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
	fscript faults_pattern.lua invite --user '{"email":"a@b.c"}' --timeout 3000 \
		--account "{\"base_url\":\"$FX_URL/acme\",\"fn\":\"find\"}"
	not_killed
	expect_rc 1
	expect_out "a@b.c  inviting → invite_failed"
	expect_err "error (transient): script exceeded its deadline of 3000 ms (inside string.find)"
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: //p')
	[ -s "$dir/error.txt" ] && [ -s "$dir/steps.json" ] && [ -s "$dir/cdp-frames.json" ] ||
		fail "no evidence in $dir"
	# match, gmatch, gsub and rep: tests/unit/test_faults.c
}

# 6: a replay's clock stands still while a script spins; the wall clock
# still stops it.
t_faults_replay_deadline() {
	fagent replay "$ROOT/tests/e2e/scripts/endless_loop.lua" invite --timeout 2000 \
		--cassette "$ROOT/tests/fixtures/cassettes/acme-invite.jsonl" --runs-dir "$WORK/runs"
	not_killed
	expect_out "inviting → invite_failed (script exceeded its deadline of 2000 ms)"
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
