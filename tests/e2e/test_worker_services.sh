# A job's page may not reach the worker's own services: its coordinator
# (where, without a token on loopback, a page could list integrations,
# claim another integration's job and fetch its password with the lease
# key that came back), its metrics, or a cloud machine's metadata service
# (169.254.169.254).  Real coordinator, worker, Chromium; a hostile script.

ws_job() { # MODE TARGET → runs one invite through the worker, sets J
	J=$(curl -fsS -X POST -H 'content-type: application/json' -d "{\"integration\":\"hostile\",\"app\":\"reach\",\"action\":\"invite\",\"account\":$(account),\"user\":{\"email\":\"$1@x.test\",\"mode\":\"$1\",\"target\":\"$2\"}}" "$CO_URL/v1/jobs" | jq -r .id)
	wait_done "$J" 60
}

t_worker_services_out_of_a_jobs_reach() {
	fx acme reset >/dev/null
	wk_setup
	mkdir -p "$WD/scripts"
	cp "$ROOT/tests/e2e/scripts/reach_worker.lua" "$WD/scripts/reach.lua"
	mport=$(( 20000 + $$ % 20000 ))
	wk_start --scripts "$WD/scripts" --metrics-listen "127.0.0.1:$mport"
	co_port=$(printf '%s' "$CO_URL" | sed 's/.*://')
	# the script asks for the coordinator, by another name of loopback too
	for target in "$CO_URL/v1/integrations" "http://localhost:$co_port/v1/integrations"; do
		ws_job navigate "$target"
		expect_eq "$(jobf "$J" .status)" failed "navigate $target"
		jobf "$J" .error.message | grep -q "is a service of the worker" ||
			fail "navigate $target: $(jobf "$J" .error.message)"
	done
	# the page goes there by itself: the guard stops the job
	for target in "$CO_URL/v1/integrations" "http://127.0.0.1:$mport/metrics" \
		"http://169.254.169.254/latest/meta-data/"; do
		ws_job page_js "$target"
		expect_eq "$(jobf "$J" .status)" failed "the page going to $target"
		jobf "$J" .error.message | grep -q "which a job may not reach" ||
			fail "page to $target: $(jobf "$J" .error.message)"
	done
	grep -q "loot: " "$WD/wk.err" && fail "a script read a service: $(grep 'loot: ' "$WD/wk.err" | head -3)"
	true
}
