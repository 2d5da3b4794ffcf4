# Every page of a job is guarded (issue 9 leftovers): a second page a script
# opens with Target.createTarget and a popup of window.open get the same
# guard as the job's first page before they load anything, and server
# redirects to what a job may not reach are refused.  Hostile scripts under
# tests/e2e/scripts/hostile_pages.lua try it as an attacker would.
HS="$ROOT/tests/e2e/scripts"

iso_port() { printf '%s' "$CHROME_HTTP" | sed 's/.*://'; }

# iso_hostile MODE [EXTRA-JSON-FIELDS]: run hostile_pages.lua's list_users
iso_hostile() {
	agent run "$HS/hostile_pages.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--timeout 30000 --account "{\"base_url\":\"$FX_URL/acme\",\"mode\":\"$1\",\"devtools_port\":$(iso_port)${2:-}}"
}
iso_no_loot() {
	printf '%s%s' "$OUT" "$ERR" | grep -qF -- "$1" && fail "the attack got through: $1"
	true
}
iso_stopped() { # the job failed, naming what its page tried to load
	expect_rc 1
	expect_out "status: failed — the job is stopped: a page of the job tried to load http://127.0.0.1:$(iso_port)/json/list, which a job may not reach"
}

t_isolation_second_page_guarded() {
	iso_hostile second_page_fetch
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
}

t_isolation_popup_guarded() {
	iso_hostile popup_fetch
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
	# a popup opened on the endpoint itself: refused at its first load
	iso_hostile popup_direct
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
}

t_isolation_guard_stops_only_the_job_that_reached() {
	# Every job's guard sees every page's forbidden request: the one whose
	# page asked is stopped, a job running beside it is not.
	fx acme reset >/dev/null
	"$BIN/idlcm-agent" run "$HS/victim_hold.lua" list_users --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --timeout 40000 --account "$(acme_account | sed 's/}$/,"hold_ms":12000}/')" \
		>"$WORK/victim.out" 2>&1 &
	victim=$!
	for _ in $(seq 1 150); do
		curl -fsS "$CHROME_HTTP/json/list" | jq -r '.[].url' | grep '/acme/' | grep -qv login && break
		sleep 0.1
	done
	iso_hostile popup_fetch
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
	wait "$victim"
	grep -q "job is stopped" "$WORK/victim.out" && fail "the job beside it was stopped: $(tail -3 "$WORK/victim.out")"
	# it ran its course (its list_users returns nobody, which the agent
	# refuses at the end)
	grep -q "the users reader found no users" "$WORK/victim.out" ||
		fail "the victim did not run to its end: $(tail -3 "$WORK/victim.out")"
}

t_isolation_new_pages_cannot_read_files() {
	secret="vault-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$secret" >"$WORK/iso-token.txt"
	for mode in second_page_file popup_file; do
		iso_hostile $mode ",\"path\":\"$WORK/iso-token.txt\""
		iso_no_loot "$secret"
		expect_err "loot:"
	done
}

# ---- claim answers carry vault references, not passwords

iso_co() { # a coordinator of its own: sets ICO_URL, ICO_PID, ICO_DIR
	ICO_DIR=$(mktemp -d "$WORK/co-XXXXXX")
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$ICO_DIR/co.db" >"$ICO_DIR/out" 2>"$ICO_DIR/err" &
	ICO_PID=$!
	for _ in $(seq 1 100); do ICO_URL=$(sed -n 's/^listening on //p' "$ICO_DIR/out"); [ -n "$ICO_URL" ] && break; sleep 0.05; done
}
iso_post() { # PATH JSON → sets CODE, BODY
	BODY=$(curl -s -o - -w '\n%{http_code}' -X POST -H 'content-type: application/json' -d "$2" "$ICO_URL$1")
	CODE=$(printf '%s' "$BODY" | tail -1); BODY=$(printf '%s' "$BODY" | sed '$d')
}
iso_secret() { # JOB WORKER ATTEMPT KEY REF
	iso_post "/v1/jobs/$1/secret" "{\"worker\":\"$2\",\"attempt\":$3,\"lease_key\":\"$4\",\"ref\":\"$5\"}"
}

t_isolation_claim_answer_has_no_password() {
	iso_co
	pw="pw-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	pw2="pw-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	for i in one two; do
		p=$pw; [ $i = two ] && p=$pw2
		iso_post /v1/jobs "{\"id\":\"job-$i\",\"integration\":\"int-$i\",\"app\":\"acme\",\"action\":\"list_users\",\"account\":{\"base_url\":\"http://x\",\"username\":\"u\",\"password\":\"$p\",\"totp_secret\":\"JBSWY3DPEHPK3PXP\"}}"
	done
	iso_post /v1/claim '{"worker":"w1","capacity":1}'
	claim=$BODY
	printf '%s' "$claim" | grep -qF "$pw" && { kill "$ICO_PID"; fail "the claim answer carries the password"; }
	printf '%s' "$claim" | grep -qF JBSWY3DPEHPK3PXP && { kill "$ICO_PID"; fail "the claim answer carries the TOTP seed"; }
	expect_eq "$(printf '%s' "$claim" | jq -r '.jobs[0].account.password.vault')" "coordinator:int-one/password" "reference"
	expect_eq "$(printf '%s' "$claim" | jq -r '.jobs[0].account.username')" u "a plain field stays"
	key=$(printf '%s' "$claim" | jq -r '.jobs[0].lease_key')
	[ ${#key} = 64 ] || fail "no lease key in the claim answer: $claim"
	ref=coordinator:int-one/password
	# the lease holder gets it
	iso_secret job-one w1 1 "$key" "$ref"
	expect_eq "$CODE" 200 "the holder's request"
	expect_eq "$(printf '%s' "$BODY" | jq -r .value)" "$pw" "the secret"
	# nobody else: no key, a wrong key, another worker, another attempt,
	# another job's secret, a job not leased
	iso_post /v1/jobs/job-one/secret "{\"worker\":\"w1\",\"attempt\":1,\"ref\":\"$ref\"}"
	expect_eq "$CODE" 400 "without the lease key"
	iso_secret job-one w1 1 "$(printf '%s' "$key" | tr 0-9a-f 1-9a-f0)" "$ref"
	expect_eq "$CODE" 403 "a wrong lease key"
	iso_secret job-one w2 1 "$key" "$ref"
	expect_eq "$CODE" 403 "another worker"
	iso_secret job-one w1 2 "$key" "$ref"
	expect_eq "$CODE" 403 "another attempt"
	iso_secret job-one w1 1 "$key" coordinator:int-two/password
	expect_eq "$CODE" 403 "another job's integration"
	printf '%s' "$BODY" | grep -qF "$pw2" && fail "another job's secret leaked"
	iso_secret job-two w1 1 "$key" coordinator:int-two/password
	expect_eq "$CODE" 403 "a job that is not leased"
	# the lease ends with the job: its secret with it
	iso_post /v1/jobs/job-one/complete '{"worker":"w1","attempt":1,"outcome":"ok"}'
	iso_secret job-one w1 1 "$key" "$ref"
	expect_eq "$CODE" 403 "after complete"
	kill "$ICO_PID"; wait "$ICO_PID" 2>/dev/null
	grep -qF "$pw" "$ICO_DIR/out" "$ICO_DIR/err" && fail "the coordinator logged the secret"
	true
}

t_isolation_worker_signs_in_with_fetched_secret() {
	# The worker gets a reference and fetches the password with its lease:
	# the job signs in, and the password is in none of the worker's files.
	wk_setup
	fx acme reset >/dev/null
	wk_start
	id=$(enq isolation-ref list_users)
	wait_done "$id"
	expect_eq "$(jobf "$id" .status)" completed "job status ($(jobf "$id" .error))"
	kill -TERM "$WK_PID"; wait "$WK_PID" 2>/dev/null; WK_PID=
	leaked=$(grep -rlaF acme-admin-pw "$WD"/wk.* "$WD/runs" 2>/dev/null)
	[ -z "$leaked" ] || fail "the password landed in: $leaked"
}

# ---- server redirects (the fixture server's /redirect?to=URL)

iso_redirect() { # MODE TARGET
	agent run "$HS/hostile_redirect.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--timeout 30000 --account "{\"base_url\":\"$FX_URL/acme\",\"mode\":\"$1\",\"target\":\"$2\",\"devtools_port\":$(iso_port),\"path\":\"$WORK/iso-token.txt\"}"
}

t_isolation_server_redirects_refused() {
	secret="vault-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$secret" >"$WORK/iso-token.txt"
	# to the DevTools endpoint: the guard refuses it and stops the job,
	# however the page got there
	for mode in navigate click fetch; do
		iso_redirect $mode devtools
		iso_no_loot webSocketDebuggerUrl
		iso_stopped
	done
	# to file: and chrome:: Chromium refuses a redirect off the web; a
	# navigation says so and is not retried, a link lands on the error page,
	# a fetch fails
	for target in file chrome; do
		iso_redirect navigate $target
		iso_no_loot "$secret"; iso_no_loot "Command Line"
		expect_rc 1
		expect_out "the server redirected it to a URL a job's pages may not open (net::ERR_UNSAFE_REDIRECT)"
		printf '%s' "$OUT" | grep -q "error (transient)" && fail "a redirect off the web is retried"
		iso_redirect click $target
		iso_no_loot "$secret"; iso_no_loot "Command Line"
		expect_err "ERR_UNSAFE_REDIRECT"
		iso_redirect fetch $target
		iso_no_loot "$secret"; iso_no_loot "Command Line"
		expect_err "loot:fetch failed: Failed to fetch"
	done
}
