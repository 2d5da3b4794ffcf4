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
