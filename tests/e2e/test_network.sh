# The page's own traffic and files (issue 12 points 2 and 3) on real
# Chromium against the ledger fixture app: users read from the JSON the
# page fetched and from its CSV export download, an invite through a
# bulk-invite CSV upload, role changes and removals through page:request,
# a record then replay of each, the redaction of a secret in a response
# body, and what the confinement refuses.

LEDGER_TOKEN=ledger-tok-5b9e2c7a1f04	# the robot's API token in api/users

ledger_account() {
	printf '{"base_url":"%s/ledger","username":"ops@ledger.test","password":"ledger-ops-pw","api_key":"%s"%s}' \
		"$FX_URL" "$LEDGER_TOKEN" "${1:-}"
}

# ledger SCRIPT ACTION [ARGS…]: run scripts/apps/SCRIPT.lua against ledger.
ledger() {
	s=$1; a=$2; shift 2
	agent run "$ROOT/scripts/apps/$s.lua" "$a" --account "$(ledger_account)" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --json "$@"
}

users_of() { printf '%s\n' "$OUT" | tail -1 | jq -c '[.users[] | [.email, .display_name, .roles, .state]]'; }

SEED_USERS='[["ann.lee@ledger.test","Lee, Ann",["owner"],"onboarded"],["bob@ledger.test","Bob \"Bo\" Brown",["accountant","viewer"],"onboarded"],["carol@ledger.test","Carol\nSmith",["viewer"],"pending_user_claim"],["robot@ledger.test","Sync Robot",["viewer"],"onboarded"]]'

t_network_users_from_the_pages_json() {
	fx ledger reset >/dev/null
	agent check "$ROOT/scripts/apps/ledger.lua"
	expect_rc 0
	ledger ledger list_users
	expect_rc 0
	expect_eq "$(users_of)" "$SEED_USERS" "users from api/users as the page fetched it"
	printf '%s' "$OUT" | grep -qF "$LEDGER_TOKEN" && fail "the robot's token is in the output"
	true
}

t_network_users_from_the_csv_export() {
	fx ledger reset >/dev/null
	agent check "$ROOT/scripts/apps/ledger_export.lua"
	expect_rc 0
	ledger ledger_export list_users
	expect_rc 0
	expect_eq "$(users_of)" "$SEED_USERS" "users from the CSV export (BOM, CRLF, quotes, commas, line breaks)"
	f=$(find "$WORK/runs" -path '*/downloads/ledger-users.csv' | head -1)
	[ -n "$f" ] || fail "the export is not in the run folder's downloads/"
	[ "$(head -c 3 "$f" | od -An -tx1 | tr -d ' ')" = efbbbf ] || fail "the saved export lost its BOM"
	[ -z "$(find "$WORK/runs" -path '*/downloads/*' -name '*-*-*-*-*')" ] ||
		fail "a download kept its guid name"
}

t_network_invite_by_upload_update_and_remove_by_request() {
	fx ledger reset >/dev/null
	ledger ledger invite --user '{"email":"ada@example.com","display_name":"Lovelace, Ada","roles":["accountant"]}'
	expect_rc 0
	expect_out '"state":"pending_user_claim"'
	expect_eq "$(fx ledger state | jq -c '.users[] | select(.email == "ada@example.com") | [.name, .roles, .status]')" \
		'["Lovelace, Ada",["accountant"],"invited"]' "the uploaded CSV invited Ada"
	[ -n "$(find "$WORK/runs" -path '*/input/invite.csv')" ] || fail "the made upload is not in the run folder"
	ledger ledger update --user '{"email":"bob@ledger.test","roles":["owner"]}'
	expect_rc 0
	expect_eq "$(fx ledger state | jq -c '.users[] | select(.email == "bob@ledger.test") | .roles')" \
		'["owner"]' "PATCH through page:request"
	ledger ledger remove --user '{"email":"ada@example.com"}'
	expect_rc 0
	expect_out '"state":"deleted"'
	expect_eq "$(fx ledger state | jq '[.users[] | select(.email == "ada@example.com")] | length')" 0 \
		"DELETE through page:request"
	expect_eq "$(fx ledger state | jq -c '.counters | [.invites, .updates, .removes]')" '[1,1,1]'
	# the export script uploads through the <label> that stands for the input
	ledger ledger_export invite --user '{"email":"lin@example.com","roles":["viewer","accountant"]}'
	expect_rc 0
	expect_eq "$(fx ledger state | jq -c '.users[] | select(.email == "lin@example.com") | .roles')" \
		'["viewer","accountant"]' "the upload through the label"
}

# record_replay SCRIPT ACTION [USER-JSON]: record a job on the fixture,
# then replay it from another folder with no browser: same outcome.
record_replay() {
	fx ledger reset >/dev/null
	if [ -n "${3:-}" ]; then set -- "$1" "$2" --user "$3"; fi
	s=$1; a=$2; shift 2
	agent record "$ROOT/scripts/apps/$s.lua" "$a" --account "$(ledger_account)" "$@" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --cassette "$cas/$s-$a.jsonl"
	expect_rc 0
	rec_users=$(printf '%s\n' "$OUT" | grep -c '@' || true)
	(cd "$WORK" && "$BIN/idlcm-agent" replay "$ROOT/scripts/apps/$s.lua" "$a" \
		--cassette "$cas/$s-$a.jsonl" --runs-dir "$WORK/replay-runs" >"$WORK/out" 2>"$WORK/err")
	RC=$?; OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
	expect_rc 0
	expect_err "outcome as recorded"
	expect_eq "$(printf '%s\n' "$OUT" | grep -c '@' || true)" "$rec_users" "$s $a: users replayed"
	grep -qF "$LEDGER_TOKEN" "$cas/$s-$a.jsonl" && fail "$s-$a.jsonl holds the robot's token"
	grep -q 'fx_ledger=[A-Za-z0-9]' "$cas/$s-$a.jsonl" && fail "$s-$a.jsonl holds the session cookie"
	true
}

t_network_record_then_replay() {
	cas="$WORK/cassettes"; mkdir -p "$cas"
	record_replay ledger list_users
	record_replay ledger_export list_users
	record_replay ledger invite '{"email":"ada@example.com","display_name":"Lovelace, Ada","roles":["accountant"]}'
	record_replay ledger update '{"email":"bob@ledger.test","roles":["owner"]}'
	grep -q '{{secret:account.api_key}}' "$cas/ledger-list_users.jsonl" ||
		fail "the response body lost its placeholder"
	grep -q '"dir":"data","name":"download:ledger-users.csv"' "$cas/ledger_export-list_users.jsonl" ||
		fail "the export's text is not in its cassette"
	grep -q '{{input}}/invite.csv' "$cas/ledger-invite.jsonl" || fail "the upload path is not folder-free"
	# the replayed export gives the same rows: the users table matches the seed
	(cd "$WORK" && "$BIN/idlcm-agent" replay "$ROOT/scripts/apps/ledger_export.lua" list_users \
		--cassette "$cas/ledger_export-list_users.jsonl" --runs-dir "$WORK/replay-runs" --json >"$WORK/out" 2>"$WORK/err")
	RC=$?; OUT=$(cat "$WORK/out")
	expect_rc 0
	expect_eq "$(users_of)" "$SEED_USERS" "users replayed from the recorded export"
}

t_network_secret_in_a_body_is_redacted() {
	fx ledger reset >/dev/null
	agent run "$ROOT/tests/e2e/scripts/network_probe.lua" list_users --log-level debug \
		--account "$(ledger_account ',"mode":"fail_after_read"')" --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs"
	expect_rc 1
	expect_err "probe failed after reading 4 users"
	expect_err "Sync Robot"			# the body was logged ...
	printf '%s' "$ERR" | grep -qF "$LEDGER_TOKEN" && fail "the token is in the debug log"
	ev=$(printf '%s' "$ERR" | sed -n 's/^evidence: //p')
	[ -d "$ev" ] || fail "no evidence folder"
	grep -q 'Sync Robot' "$ev/cdp-frames.json" || fail "the frames do not hold the body"
	grep -rqF "$LEDGER_TOKEN" "$ev" && fail "the token is in the evidence"
	grep -rq 'fx_ledger=[A-Za-z0-9]' "$ev" && fail "the session cookie is in the evidence"
	true
}

t_network_confinement_refusals() {
	fx ledger reset >/dev/null
	files="$WORK/files"; mkdir -p "$files"
	printf 'email,name,role\r\nzed@example.com,"Zed, Z",viewer\r\nyan@example.com,Yan,accountant\r\n' >"$files/bulk.csv"
	ln -sf /etc/passwd "$files/link.csv"
	agent run "$ROOT/tests/e2e/scripts/network_probe.lua" list_users \
		--account "$(ledger_account ",\"mode\":\"refusals\",\"devtools\":\"$CHROME_HTTP\"")" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --files-dir "$files"
	expect_rc 0
	expect_err "probe responses: 200 4 users, 200 application/json"
	expect_err "probe request-file: request GET file:///etc/passwd is not allowed: file:///etc/passwd is not a web URL"
	expect_err "probe request-devtools: request GET $CHROME_HTTP/json/version is not allowed"
	expect_err "is the browser's DevTools endpoint"
	expect_err "probe request-scheme-relative: request GET //${CHROME_HTTP#http://}/json is not allowed"
	expect_err "probe request-backslash: request GET /\\${CHROME_HTTP#http://}/json is not allowed"
	expect_err 'probe request-bad-method: request wants an HTTP method'
	expect_err "probe upload-dotdot: set_input_files: ../../../../../../etc/passwd is outside the folders a job may upload from"
	expect_err "probe upload-absolute: set_input_files: /etc/passwd is outside the folders"
	expect_err "probe upload-symlink: set_input_files: link.csv is outside the folders"
	expect_err "probe upload-missing: set_input_files: nope.csv: No such file or directory"
	expect_err 'probe upload-not-input: set_input_files "#refresh": not a file input: <button id="refresh">'
	expect_err 'probe raw-upload: cdp.send "DOM.setFileInputFiles" is not allowed: /etc/passwd is not a file in the job'"'"'s run folder'
	expect_err 'probe raw-download: cdp.send "Browser.setDownloadBehavior" is not allowed'
	expect_err 'probe wait-timeout: timeout 300 ms waiting for a response from "**/never-fetched"'
	expect_err 'probe pattern-type: wait_for_response wants a URL pattern'
	expect_err 'probe upload-ok: Invited 2 user(s)'
	expect_err 'probe request-session: 200 ops@ledger.test'
	expect_err 'probe download-1: ledger-users.csv'
	expect_eq "$(fx ledger state | jq -c '[.users[] | select(.email == "zed@example.com") | .name]')" \
		'["Zed, Z"]' "the files-dir upload reached the app"
	# the second export, outside expect_download, was denied: one file only
	run=$(ls -td "$WORK"/runs/*/ | head -1)
	expect_eq "$(ls "$run/downloads" | wc -l)" 1 "files in $run/downloads"
	# without --files-dir a relative path has nowhere to come from but input/
	agent run "$ROOT/tests/e2e/scripts/network_probe.lua" list_users \
		--account "$(ledger_account ",\"mode\":\"refusals\",\"devtools\":\"$CHROME_HTTP\"")" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" --files-dir /nonexistent
	expect_rc 2
	expect_err '--files-dir wants an existing directory, not "/nonexistent"'
}

t_network_check_knows_the_calls() {
	cat >"$WORK/typos.lua" <<'LUA'
local app = { name = "typos" }
function app.login(page, account) page:navigate(account.base_url) end
function app.list_users(page)
  local r = page:wait_for_respons("**/api/users")
  page:expect_reponse("**/api/users", function() page:click("#r") end)
  page:locator("#f"):set_input_file("a.csv")
  page:locator("#f"):set_input_files("a.csv", "b.csv")
  page:expect_downlaod(function() end)
  page:requets("GET", "/api/users")
  return {}
end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
LUA
	agent check "$WORK/typos.lua"
	expect_rc 1
	expect_out 'page:wait_for_respons() — Page has no method "wait_for_respons" (did you mean "wait_for_response"?)'
	expect_out '(did you mean "expect_response"?)'
	expect_out '(did you mean "set_input_files"?)'
	expect_out 'set_input_files(…, "b.csv") — set_input_files takes an options table there'
	expect_out '(did you mean "expect_download"?)'
	expect_out '(did you mean "request"?)'
}

t_network_worker_files_dir_per_integration() {
	# A worker's --files-dir DIR gives each integration DIR/<integration>/:
	# ledger-a's job uploads its bulk.csv and cannot reach ledger-b's files.
	fx ledger reset >/dev/null
	WD=$(mktemp -d "$WORK/nwk-XXXXXX")
	mkdir -p "$WD/files/ledger-a" "$WD/files/ledger-b" "$WD/scripts"
	printf 'email,name,role\r\nwen@example.com,Wen,viewer\r\n' >"$WD/files/ledger-a/bulk.csv"
	printf 'email\r\nother@example.com\r\n' >"$WD/files/ledger-b/other.csv"
	cp "$ROOT/tests/e2e/scripts/network_probe.lua" "$WD/scripts/ledgerprobe.lua"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$WD/co.db" --claim-wait-s 2 \
		>"$WD/co.out" 2>"$WD/co.err" &
	co=$!
	for _ in $(seq 1 100); do
		co_url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WD/co.out")
		[ -n "$co_url" ] && break; sleep 0.05
	done
	IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator "$co_url" --browser "$CHROME_HTTP" \
		--db "$WD/wk.db" --runs-dir "$WD/runs" --scripts "$WD/scripts" --poll-s 2 \
		--files-dir "$WD/files" >"$WD/wk.out" 2>"$WD/wk.err" &
	wk=$!
	trap 'kill "$wk" "$co" 2>/dev/null' EXIT
	id=$(curl -fsS -X POST -H 'content-type: application/json' "$co_url/v1/jobs" -d \
		"{\"integration\":\"ledger-a\",\"app\":\"ledgerprobe\",\"action\":\"list_users\",\"account\":$(ledger_account ',"mode":"worker_upload"')}" |
		jq -r .id)
	st=
	for _ in $(seq 1 300); do
		st=$(curl -fsS "$co_url/v1/jobs/$id" | jq -r .status)
		case "$st" in completed|failed) break;; esac
		sleep 0.2
	done
	kill "$wk" "$co"; wait "$wk" "$co" 2>/dev/null
	OUT=$(curl -fsS "$co_url/v1/jobs/$id" 2>/dev/null); ERR=$(cat "$WD/wk.err")
	[ "$st" = completed ] || fail "job $id: $st"
	expect_eq "$(fx ledger state | jq -c '[.users[] | select(.email == "wen@example.com") | .name]')" \
		'["Wen"]' "ledger-a's bulk.csv was uploaded"
	expect_err "probe upload-other-integration: set_input_files: ../ledger-b/other.csv is outside the folders a job may upload from"
	[ "$(fx ledger state | jq '[.users[] | select(.email == "other@example.com")] | length')" = 0 ] ||
		fail "ledger-b's file reached the app"
}
