# A script is confined to its own job (issue 9, points 1-5): hostile scripts
# under tests/e2e/scripts/hostile_*.lua try, as an attacker would, to read
# local files, reach other jobs' pages and cookies, write files anywhere
# and read the worker's secrets.  Each attack must fail with an error that
# names what was refused, and leave no loot in the output.
HS="$ROOT/tests/e2e/scripts"

# hostile SCRIPT MODE [EXTRA-JSON-FIELDS]: run a hostile script's list_users
hostile() {
	h_script=$1; h_mode=$2; h_extra=${3:-}
	agent run "$HS/$h_script" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--timeout 20000 --account "{\"base_url\":\"$FX_URL/acme\",\"mode\":\"$h_mode\"$h_extra}"
}
expect_no_loot() { # SECRET: neither output names it
	printf '%s%s' "$OUT" "$ERR" | grep -qF -- "$1" && fail "the attack got through: $1"
	true
}
devtools_port() { printf '%s' "$CHROME_HTTP" | sed 's/.*://'; }

confine_secret() {
	SECRET="vault-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$SECRET" >"$WORK/token.txt"
}

t_confine_file_url_refused() {
	confine_secret
	for mode in navigate cdp_navigate; do
		hostile hostile_urls.lua $mode ",\"path\":\"$WORK/token.txt\""
		expect_no_loot "$SECRET"
		expect_rc 1
		expect_err "cdp.send \"Page.navigate\" is not allowed: file://$WORK/token.txt is not a web URL (a job's pages open only http:, https:, about:blank and data: URLs)"
	done
}

t_confine_local_schemes_refused_on_every_cdp_path() {
	confine_secret
	hostile hostile_urls.lua load_resource ",\"path\":\"$WORK/token.txt\""
	expect_no_loot "$SECRET"; expect_rc 1
	expect_err "cdp.send \"Network.loadNetworkResource\" is not allowed: file://"
	hostile hostile_urls.lua create_target ",\"path\":\"$WORK/token.txt\""
	expect_no_loot "$SECRET"; expect_rc 1
	expect_err "cdp.send \"Target.createTarget\" is not allowed: file://"
	hostile hostile_urls.lua chrome
	expect_no_loot "Chromium Authors"; expect_rc 1
	expect_err "cdp.send \"Page.navigate\" is not allowed: chrome://version is not a web URL"
	hostile hostile_urls.lua view_source
	expect_rc 1
	expect_err "cdp.send \"Page.navigate\" is not allowed: view-source:"
}

t_confine_page_made_local_urls_stay_blocked() {
	# The page's own JavaScript: Chromium refuses these itself; the test
	# keeps it that way (no popup, no frame content).
	confine_secret
	hostile hostile_urls.lua iframe ",\"path\":\"$WORK/token.txt\""
	expect_no_loot "$SECRET"
	hostile hostile_urls.lua window_open ",\"path\":\"$WORK/token.txt\""
	expect_no_loot "$SECRET"
	expect_no_loot "popup at file:"
}

t_confine_devtools_endpoint_blocked_in_the_browser() {
	# A link the page follows by itself never passes through cdp.send: the
	# guard's Fetch interception fails it inside the browser and stops the job.
	hostile hostile_cdp.lua devtools_link ",\"devtools_port\":$(devtools_port)"
	expect_no_loot "webSocketDebuggerUrl"
	expect_rc 1
	expect_err "the job is stopped: a page of the job tried to load http://127.0.0.1:$(devtools_port)/json/list, which a job may not reach"
}

t_confine_other_jobs_page_and_cookie_out_of_reach() {
	fx acme reset >/dev/null
	"$BIN/idlcm-agent" run "$HS/victim_hold.lua" list_users --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" --timeout 30000 --account "$(acme_account | sed 's/}$/,"hold_ms":12000}/')" \
		>"$WORK/victim.out" 2>&1 &
	victim=$!
	# until the victim is logged in (its page left the login route)
	for _ in $(seq 1 150); do
		curl -fsS "$CHROME_HTTP/json/list" | jq -r '.[].url' | grep '/acme/' | grep -qv login && break
		sleep 0.1
	done
	tid=$(curl -fsS "$CHROME_HTTP/json/list" | jq -r '.[] | select(.url | test("/acme/")) | .id')
	[ -n "$tid" ] || fail "the victim's page never showed"
	hostile hostile_cdp.lua steal
	out1=$OUT; rc1=$RC
	hostile hostile_cdp.lua steal_id ",\"target_id\":\"$tid\""
	kill "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
	expect_no_loot "cookie=fx_acme"
	expect_no_loot "Sign out"
	expect_rc 1
	expect_err "cdp.send \"Target.attachToTarget\" is not allowed: target \"$tid\" belongs to another job's browser context"
	# getTargets lists only the job's own targets: nothing to attach to
	OUT=$out1; RC=$rc1
	expect_no_loot "cookie=fx_acme"
	expect_rc 0
	expect_out "loot:no other job found"
	hostile hostile_cdp.lua storage
	expect_rc 1
	expect_err "cdp.send \"Storage.getCookies\" is not allowed: the Storage domain acts beyond the job's page"
	hostile hostile_cdp.lua snoop
	expect_rc 1
	expect_err "events of the browser session are not available to scripts"
}

t_confine_browser_wide_domains_refused() {
	mkdir -p "$WORK/elsewhere"
	hostile hostile_cdp.lua download ",\"dir\":\"$WORK/elsewhere\""
	expect_rc 1
	expect_err "cdp.send \"Browser.setDownloadBehavior\" is not allowed: the Browser domain acts beyond the job's page"
	[ -e "$WORK/elsewhere/pwned.sh" ] && fail "the script wrote a file of its choosing"
	hostile hostile_cdp.lua sysinfo
	expect_rc 1
	expect_err "cdp.send \"SystemInfo.getProcessInfo\" is not allowed"
}

t_confine_page_downloads_denied_by_default() {
	# The page starts a download by itself, in a Chromium the agent
	# launches with HOME here: the job's context denies it (no
	# ~/Downloads/pwned.sh, nothing in the run folder).
	home=$(mktemp -d "$WORK/home-XXXXXX")
	HOME="$home" agent run "$HS/hostile_cdp.lua" list_users --runs-dir "$WORK/runs" \
		--timeout 20000 --account "{\"base_url\":\"$FX_URL/acme\",\"mode\":\"page_download\"}"
	expect_rc 0
	expect_out "loot:download asked"
	landed=$(find "$home" "$WORK/runs" -name 'pwned*' 2>/dev/null)
	[ -z "$landed" ] || fail "a page's download landed: $landed"
}

descendants() { # PID → every process under it
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"; descendants "$c"
	done
}

t_confine_worker_secrets_not_inherited() {
	# A worker holding the vault key in its environment runs a job in its own
	# Chromium: neither Chromium nor the job process may inherit the key.
	wk_setup
	key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	export IDLCM_VAULT_KEY="$key" GITHUB_TOKEN="tok-$key"
	fx acme config '{"latency_ms":600}' >/dev/null
	OWN_BROWSER=1 wk_start
	unset IDLCM_VAULT_KEY GITHUB_TOKEN
	id=$(enq confine-env list_users)
	wait_running "$id"
	sleep 1
	procs=$(descendants "$WK_PID")
	nchrome=0
	for p in $procs; do
		grep -q chrom "/proc/$p/comm" 2>/dev/null && nchrome=$((nchrome + 1))
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q "$key"; then
			fail "process $p ($(cat /proc/$p/comm 2>/dev/null)) inherited a secret"
		fi
	done
	[ "$nchrome" -gt 0 ] || fail "no chromium under the worker (processes: $procs)"
	[ -n "$procs" ] || fail "no job process under the worker"
	tr '\0' '\n' <"/proc/$WK_PID/environ" | grep -q "$key" && fail "the worker's own environment still shows the key"
	wait_done "$id"
	expect_eq "$(jobf "$id" .status)" completed "job status"
}

t_confine_secret_in_argv_warned() {
	fx acme reset >/dev/null
	acme list_users
	expect_rc 0
	expect_err "idlcm-agent: warning: --account carries a secret (\"password\") on the command line"
	acme_account >"$WORK/account.json"
	agent run "$ROOT/scripts/apps/acme.lua" list_users --account "@$WORK/account.json" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 0
	printf '%s' "$ERR" | grep -q "warning: --account carries a secret" && fail "warned about a file"
	true
}

t_confine_coordinator_needs_auth_off_loopback() {
	d=$(mktemp -d "$WORK/co-XXXXXX")
	"$BIN/idlcm-coordinator" --listen 0.0.0.0:0 --db "$d/co.db" >"$d/out" 2>"$d/err" &
	pid=$!
	sleep 1
	if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid"; fail "it served 0.0.0.0 without a token"; fi
	wait "$pid"; RC=$?; ERR=$(cat "$d/err")
	expect_rc 2
	expect_err "refusing to serve 0.0.0.0 without authentication: pass --token-file F (mode 0600), or --insecure-no-auth"
	# explicitly insecure: it serves, and says so
	"$BIN/idlcm-coordinator" --listen 0.0.0.0:0 --db "$d/co.db" --insecure-no-auth >"$d/out" 2>"$d/err" &
	pid=$!
	for _ in $(seq 1 100); do grep -q listening "$d/out" && break; sleep 0.05; done
	kill "$pid"; wait "$pid" 2>/dev/null
	grep -q listening "$d/out" || fail "--insecure-no-auth did not serve: $(cat "$d/err")"
	grep -q "warning: serving 0.0.0.0 with no authentication" "$d/err" || fail "no warning"
}

t_confine_coordinator_token_and_db_mode() {
	d=$(mktemp -d "$WORK/co-XXXXXX")
	( umask 022; printf 'the-right-token\n' >"$d/token"; chmod 600 "$d/token"; : >"$d/co.db"; chmod 644 "$d/co.db" )
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$d/co.db" --token-file "$d/token" >"$d/out" 2>"$d/err" &
	pid=$!
	for _ in $(seq 1 100); do url=$(sed -n 's/^listening on //p' "$d/out"); [ -n "$url" ] && break; sleep 0.05; done
	wrong=$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer the-right-toke' "$url/v1/jobs")
	longer=$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer the-right-tokenX' "$url/v1/jobs")
	right=$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer the-right-token' "$url/v1/jobs")
	kill "$pid"; wait "$pid" 2>/dev/null
	expect_eq "$wrong" 401 "a prefix of the token"
	expect_eq "$longer" 401 "the token plus a byte"
	expect_eq "$right" 200 "the token"
	expect_eq "$(stat -c %a "$d/co.db")" 600 "mode of the coordinator's database"
}

t_confine_coordinator_seals_account_secrets() {
	d=$(mktemp -d "$WORK/co-XXXXXX")
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$d/co.db" >"$d/out" 2>"$d/err" &
	pid=$!
	for _ in $(seq 1 100); do url=$(sed -n 's/^listening on //p' "$d/out"); [ -n "$url" ] && break; sleep 0.05; done
	pw="pw-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	curl -fsS -X POST -H 'content-type: application/json' "$url/v1/jobs" -d \
		"{\"integration\":\"sealed\",\"app\":\"acme\",\"action\":\"list_users\",\"account\":{\"base_url\":\"http://x\",\"username\":\"u\",\"password\":\"$pw\"}}" >/dev/null
	got=$(curl -fsS -X POST -d '{"worker":"w1","capacity":1}' "$url/v1/claim" | jq -r '.jobs[0].account.password.vault')
	kill "$pid"; wait "$pid" 2>/dev/null
	# the claim names the password (the worker fetches it with its lease:
	# test_isolation.sh); the database file never holds it
	expect_eq "$got" "coordinator:sealed/password" "the claimed account's password reference"
	cat "$d"/co.db* | grep -qaF "$pw" && fail "the password is in the coordinator's database files"
	sqlite3 "$d/co.db" "select account from integrations" | grep -q '"password":{"sealed":"' ||
		fail "no sealed password: $(sqlite3 "$d/co.db" "select account from integrations")"
	expect_eq "$(stat -c %a "$d/co.db.key")" 600 "mode of the coordinator's key file"
}
