# The flows `make bench` measures still run as real jobs.  make bench is not
# part of CI, so a change to the job contract (issue 8 made an empty users
# read an error) once broke the benchmark silently; this keeps it honest.
# One run of each side, nothing timed.

t_bench_flow_is_a_real_job() {
	fx acme reset >/dev/null
	agent run "$ROOT/bench/apps/acme_flow.lua" invite \
		--user '{"email":"bench-smoke@bench.test","roles":["member"]}' \
		--account "$(acme_account)" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --json
	expect_rc 0
	expect_out '"state":"pending_user_claim"'
	# the same flow again is the check-first path: already there, no second invite
	agent run "$ROOT/bench/apps/acme_flow.lua" invite \
		--user '{"email":"bench-smoke@bench.test","roles":["member"]}' \
		--account "$(acme_account)" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --json
	expect_rc 0
	expect_eq "$(fx acme state | jq '[.users[] | select(.email == "bench-smoke@bench.test")] | length')" 1 \
		"rows for the bench user"
}

# Issue 11 (d): a job process does not map libcurl and the 30 libraries it
# pulls in (4.3 MB of peak RSS); only the worker loads it, on first use.
t_footprint_job_process_maps_no_libcurl() {
	cat >"$WORK/slow.lua" <<'LUA'
local app = { name = "slow", roles = { "member" } }
app.can_be_empty = true
function app.login(page, account) end
function app.list_users(page)
  page:navigate("about:blank")
  page:wait(1500)
  return {}
end
return app
LUA
	"$BIN/idlcm-agent" run "$WORK/slow.lua" list_users --account '{}' \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	maps=
	for _ in $(seq 40); do
		sleep 0.1
		grep -q 'cdp\|ld-linux' "/proc/$pid/maps" 2>/dev/null && maps=$(cat "/proc/$pid/maps") &&
			[ -n "$(grep liblua "/proc/$pid/maps")" ] && break
	done
	wait "$pid"; RC=$?; OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
	expect_rc 0
	[ -n "$maps" ] || fail "could not read the job process's maps"
	printf '%s\n' "$maps" | grep -q libwebsockets || fail "maps read too early (no libwebsockets)"
	if printf '%s\n' "$maps" | grep -E 'libcurl|libgnutls|libkrb5|libldap' >&2; then
		fail "the job process mapped libcurl's libraries"
	fi
	ldd "$BIN/idlcm-agent" | grep -q libcurl && fail "idlcm-agent links libcurl at start"
	return 0
}
