# Review as an attacker: holes found by trying hostile scripts against the
# confinement (issue 9), each kept closed by a test here.
REVIEW_SCRIPTS="$ROOT/tests/e2e/scripts"	# not RS: test_replay.sh owns that name (all files share one shell)

review_secret() {
	SECRET="review-secret-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$SECRET" >"$WORK/review-secret.txt"
}

# review_run SCRIPT JSON-FIELDS: a hostile script's list_users on acme
review_run() {
	agent run "$REVIEW_SCRIPTS/$1" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--timeout 20000 --account "{\"base_url\":\"$FX_URL/acme\"$2}"
}

t_review_drop_of_local_file_refused() {
	# Input.dispatchDragEvent's data.files drops any local file into the
	# page, whose JavaScript reads it: the same rule as setFileInputFiles.
	review_secret
	review_run review_drag.lua ",\"path\":\"$WORK/review-secret.txt\""
	printf '%s%s' "$OUT" "$ERR" | grep -qF -- "$SECRET" && fail "the drop read the file"
	expect_rc 1
	expect_err "cdp.send \"Input.dispatchDragEvent\" is not allowed"
}

t_review_devtools_endpoint_under_other_loopback_names() {
	# The DevTools server answers the IPv4-mapped IPv6 address and any
	# *.localhost name too; a page's fetch there never makes a target, so
	# only the guard's Fetch patterns stand in the way.
	dport=$(printf '%s' "$CHROME_HTTP" | sed 's/.*://')
	for host in '[::ffff:127.0.0.1]' 'jobs.localhost'; do
		review_run review_devtools_fetch.lua ",\"host\":\"$host\",\"devtools_port\":$dport"
		printf '%s%s' "$OUT" "$ERR" | grep -qF webSocketDebuggerUrl && fail "read /json/list at $host"
		# the script swallows every refusal and returns: the job still fails
		expect_rc 1
		expect_out "status: failed — the job is stopped: a page of the job tried to load http://"
	done
}

t_review_shared_table_error_object_bounded() {
	review_run review_error_dag.lua ""
	expect_rc 1
	expect_err "json: more than 2000000 values (a table shared many times?)"
	printf '%s' "$ERR" | grep -qF "hard deadline" && fail "stopped by the backstop"
	true
}

# A query argument longer than the server's buffer was dropped, and every
# argument after it: a SCIM filter of 5,000 characters answered 200 with
# every user.  Now the request is refused (414), whatever route it asks.
t_review_overlong_query_argument_refused() {
	co_dir=$(mktemp -d "$WORK/co-XXXXXX")
	"$BIN/idlcm-coordinator" integration add big --app acme --db "$co_dir/co.db" >"$co_dir/add.json" ||
		fail "integration add"
	tok=$(jq -r .scim_token "$co_dir/add.json")
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$co_dir/co.db" >"$co_dir/out" 2>"$co_dir/err" &
	pid=$!
	for _ in $(seq 1 100); do url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$co_dir/out"); [ -n "$url" ] && break; sleep 0.05; done
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	code=$(curl -s -o "$co_dir/body" -w '%{http_code}' -H "authorization: Bearer $tok" \
		"$url/scim/v2/big/Users?filter=userName%20eq%20%22$long%22&count=5")
	code2=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $tok" \
		"$url/scim/v2/big/Users?count=5&filter=userName%20eq%20%22a%22")
	kill "$pid"; wait "$pid" 2>/dev/null
	expect_eq "$code" 414 "a 5,000-character filter"
	grep -q "longer than 4095 bytes" "$co_dir/body" || fail "the 414 says: $(cat "$co_dir/body")"
	expect_eq "$code2" 200 "a short filter"
}

# An options argument that is not a table was indexed as one and ignored:
# page:wait_for("#password", "hidden") waited for *visible* and passed.
# Now every page call names the mistake; and locator:all() exists.
t_review_page_options_must_be_tables() {
	for m in wait_for navigate reload wait_for_any; do
		review_run review_opts.lua ",\"mode\":\"$m\""
		expect_rc 1
		expect_err "$m: the options argument must be a table, not a"
	done
	review_run review_opts.lua ',"mode":"wait_for"'
	expect_err 'to wait for another state write { state = "hidden" }'
	review_run review_opts.lua ',"mode":"navigate"'
	expect_err 'for a timeout write { timeout = 3000 }'
	review_run review_opts.lua ',"mode":"all"'
	expect_rc 0
	expect_err "locators, each its own element"
}

# A job's downloads land on the worker's disk, shared with every job: one
# larger than the job allows (expect_download{max_bytes=}, 32 MiB unless
# said) is cancelled and the step fails; one within it arrives whole.
t_review_download_larger_than_allowed_cancelled() {
	agent run "$REVIEW_SCRIPTS/review_download.lua" list_users --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --account "{\"base_url\":\"$FX_URL\",\"n\":8000000}"
	expect_rc 1
	expect_err 'the download of "big.bin" is larger than 1000000 bytes (max_bytes) and was cancelled'
	agent run "$REVIEW_SCRIPTS/review_download.lua" list_users --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --account "{\"base_url\":\"$FX_URL\",\"n\":5000}"
	expect_rc 0
	expect_err "downloaded 5000 bytes"
}

# Uploads made on the spot (set_input_files{name=, text=}) are written to
# the run folder, on the worker's disk: 32 MiB in all per job.
t_review_uploads_made_on_the_spot_capped() {
	review_run review_opts.lua ',"mode":"fill_disk"'
	expect_rc 1
	expect_err "the first upload made on the spot was written"
	expect_err "set_input_files: two.csv would take this job's uploads made on the spot past 32 MiB"
	printf '%s' "$ERR" | grep -q "the second upload" && fail "the second upload was written"
	true
}

# Names that are dot segments ("." and "..") were accepted as integration
# ids, yet /scim/v2/.. can never be routed to them: refused, with the rule.
t_review_dot_names_refused() {
	for id in . .. ...; do
		"$BIN/idlcm-coordinator" integration add "$id" --app acme --db "$WORK/dots.db" \
			>"$WORK/dots.out" 2>"$WORK/dots.err"
		expect_eq "$?" 2 "integration add $id"
		grep -q "not starting with '.'" "$WORK/dots.err" || fail "$id: $(cat "$WORK/dots.err")"
	done
	"$BIN/idlcm-coordinator" integration add a.b --app acme --db "$WORK/dots.db" >/dev/null ||
		fail "a dot inside a name is fine"
}
