# Sync, reconciliation, the safeguard, credentials and secrets, on acme and
# on globex (TOTP login, shadow-DOM grid paged 25 at a time, iframe invite,
# native confirm, generated passwords).

GX_SEED=GLOBEXK7N3QZW2TOTPSEEDX4V6MRT5YB
GX_PW=Globex-Ops-7731

globex_account() {
	printf '{"base_url":"%s/globex","username":"ops@globex.test","password":"%s","totp_secret":"%s"}' \
		"$FX_URL" "$GX_PW" "$GX_SEED"
}
globex() {
	action=$1; shift
	agent run "$ROOT/scripts/apps/globex.lua" "$action" --account "$(globex_account)" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" "$@"
}
vault_env() {
	IDLCM_VAULT="$WORK/vault.db"
	IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	export IDLCM_VAULT IDLCM_VAULT_KEY
	rm -f "$IDLCM_VAULT"
}

# The fixture's users as sync must report them, every column.
fixture_users() {
	fx "$1" state | jq -c '[.users[] | {email, username, roles, entitlements,
		last_used: .last_login,
		login_method: (if .status == "invited" or .status == "expired"
			then "pending_user_claim" else .login_method end),
		sso_label, active: (.status == "active"), app_id: .id,
		state: (if .status == "invited" then "pending_user_claim"
			elif .status == "expired" then "invite_expired" else "onboarded" end)}]
		| sort_by(.app_id)'
}
agent_users() {
	printf '%s\n' "$OUT" | tail -1 | jq -c '[.users[] | {email, username, roles, entitlements,
		last_used, login_method, sso_label, active, app_id, state}] | sort_by(.app_id)'
}
state_of() { # EMAIL → its state in the last result line
	printf '%s\n' "$OUT" | tail -1 | jq -r --arg e "$1" '.users[] | select(.email == $e) | .state'
}

t_sync_acme_every_column() {
	fx acme reset >/dev/null
	acme sync --json
	expect_rc 0
	expect_eq "$(agent_users)" "$(fixture_users acme)" "acme sync vs fixture state"
}

t_sync_globex_all_pages_every_column() {
	fx globex reset >/dev/null
	globex sync --json
	expect_rc 0
	pages=$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "progress" and .step == "page") | .detail' | tr '\n' '|')
	expect_eq "$pages" "page 1 of 3, 25 users so far|page 2 of 3, 50 users so far|page 3 of 3, 64 users so far|" "progress"
	expect_eq "$(printf '%s\n' "$OUT" | tail -1 | jq '.users | length')" 64 "users"
	expect_eq "$(agent_users)" "$(fixture_users globex)" "globex sync vs fixture state"
	expect_eq "$(fx globex state | jq .counters.logins)" 1 "one TOTP login"
}

# IdP users: every globex user but u2 (unmatched), plus one the app lacks
# (deleted); u1 exempt.
t_sync_reconciles_every_state() {
	fx globex reset >/dev/null
	fx globex state | jq '[.users[] | select(.id != "u2") | {id: ("okta-" + .id), email}]
		+ [{id: "okta-x", email: "gone@globex.test"}]' >"$WORK/expect.json"
	globex sync --expect "$WORK/expect.json" --exempt hugo.fischer1@globex.test --json
	expect_rc 0
	expect_eq "$(state_of hugo.fischer1@globex.test)" exempted
	expect_eq "$(state_of otto.kowalski2@globex.test)" unmatched
	expect_eq "$(state_of vera.petrov3@globex.test)" onboarded
	expect_eq "$(state_of xia.fischer17@globex.test)" pending_user_claim
	expect_eq "$(state_of ben.dubois23@globex.test)" invite_expired
	expect_eq "$(state_of gone@globex.test)" deleted
	r=$(printf '%s\n' "$OUT" | tail -1)
	expect_eq "$(printf '%s' "$r" | jq -r '.users[] | select(.email == "vera.petrov3@globex.test") | .upstream_id')" okta-u3
	expect_eq "$(printf '%s' "$r" | jq -c '.summary | [.app_users, .matched, .unmatched, .exempted, .deleted]')" \
		"[64,62,1,1,1]" "summary"
	# the same as a table for people
	globex sync --expect "$WORK/expect.json" --exempt hugo.fischer1@globex.test
	expect_rc 0
	printf '%s\n' "$OUT" | grep -E '^USER +USERNAME IN APP +APP ACCESS +ENTITLEMENTS +LAST USED +LOGIN METHOD +ACTIVE +UPSTREAM ID +APP ID +STATE$' >/dev/null ||
		fail "table header"
	printf '%s\n' "$OUT" | grep -E '^ +okowalski +admin +[^ ].* +- +u2 +unmatched$' >/dev/null || fail "unmatched row"
	printf '%s\n' "$OUT" | grep -E '^gone@globex.test +- .* okta-x +- +deleted$' >/dev/null || fail "deleted row"
	expect_out "(64 app users: 62 matched, 1 unmatched, 1 exempted; 1 deleted)"
}

t_sync_safeguard_halts_mass_delete() {
	fx acme reset >/dev/null
	# 2 of 5 expected users are missing from the app: 40% > 20%
	printf '[{"email":"alice@acme.test"},{"email":"bob@acme.test"},{"email":"carol@acme.test"},
		{"email":"x1@acme.test"},{"email":"x2@acme.test"}]' >"$WORK/expect.json"
	acme sync --expect "$WORK/expect.json" --json
	expect_rc 1
	r=$(printf '%s\n' "$OUT" | tail -1)
	expect_eq "$(printf '%s' "$r" | jq -r .state)" sync_failed
	expect_eq "$(printf '%s' "$r" | jq -r '.users // "none"')" none "no user changes reported"
	expect_eq "$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "state") | .state' | wc -l)" 0 "no state events"
	printf '%s' "$r" | jq -r .reason | grep -qF "sync safeguard: 2 of 5 expected users (40%) are missing from the app, above the limit of 20%" ||
		fail "reason: $(printf '%s' "$r" | jq -r .reason)"
	acme sync --expect "$WORK/expect.json"
	expect_rc 1
	expect_out "status: failed — sync_failed: sync safeguard"
	expect_err "nothing was applied"
	# a higher limit lets the same sync through
	acme sync --expect "$WORK/expect.json" --max-delete-ratio 0.5 --json
	expect_rc 0
	expect_eq "$(state_of x1@acme.test)" deleted
	expect_eq "$(state_of dave@acme.test)" unmatched
	expect_eq "$(fx acme state | jq -c .counters)" '{"logins":3,"invites":0,"updates":0,"removes":0}' "sync changes nothing"
}

t_globex_wrong_totp_seed_needs_human() {
	fx globex reset >/dev/null
	agent run "$ROOT/scripts/apps/globex.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$FX_URL/globex\",\"username\":\"ops@globex.test\",\"password\":\"$GX_PW\",\"totp_secret\":\"JBSWY3DPEHPK3PXP\"}"
	expect_rc 1
	expect_err "error (needs_human): Globex refused the one-time code twice"
	expect_eq "$(fx globex state | jq .counters.logins)" 0 "no login"
}

t_globex_invite_and_reinvite_expired() {
	fx globex reset >/dev/null
	globex invite --user '{"email":"new.hire@globex.test","roles":["developer","viewer"]}'
	expect_rc 0
	expect_out "new.hire@globex.test  inviting → pending_user_claim"
	expect_eq "$(fx globex state | jq -c '.users[] | select(.email == "new.hire@globex.test") | [.status, .roles]')" \
		'["invited",["developer","viewer"]]'
	globex sync --json
	expect_eq "$(state_of ben.dubois23@globex.test)" invite_expired
	globex invite --user '{"email":"ben.dubois23@globex.test","roles":["billing"]}'
	expect_rc 0
	expect_out "re-inviting (invite expired)"
	expect_out "ben.dubois23@globex.test  inviting → pending_user_claim"
	expect_eq "$(fx globex state | jq -r '.users[] | select(.id == "u23") | .status')" invited
	expect_eq "$(fx globex state | jq .counters.invites)" 2 "two invites"
}

t_globex_update_roles_and_remove_with_confirm() {
	fx globex reset >/dev/null
	globex update --user '{"email":"caio.eriksen4@globex.test","roles":["admin","billing"]}'
	expect_rc 0
	expect_out "caio.eriksen4@globex.test  updating → onboarded"
	expect_eq "$(fx globex state | jq -c '.users[] | select(.id == "u4") | .roles')" '["admin","billing"]'
	globex remove --user '{"email":"fay.novak9@globex.test"}'
	expect_rc 0
	expect_out "fay.novak9@globex.test  removing → deleted"
	expect_eq "$(fx globex state | jq '[.users[] | select(.id == "u9")] | length')" 0 "removed"
	expect_eq "$(fx globex state | jq .counters.removes)" 1
}

t_globex_generated_password_goes_to_vault() {
	fx globex reset >/dev/null
	vault_env
	globex invite --user '{"email":"contractor@globex.test","roles":["viewer"],"attributes":{"login":"password"}}' --json
	expect_rc 0
	pw=$(fx globex state | jq -r '.users[] | select(.email == "contractor@globex.test") | .initial_password')
	[ -n "$pw" ] && [ "$pw" != null ] || fail "no generated password in the fixture"
	r=$(printf '%s\n' "$OUT" | tail -1)
	expect_eq "$(printf '%s' "$r" | jq -cS .credentials)" \
		'{"password":{"vault":"globex/contractor@globex.test"},"username":"contractor@globex.test","vault":"globex/contractor@globex.test"}'
	expect_eq "$(printf '%s' "$r" | jq -r '.state + " " + .app_user.login_method')" "onboarded password"
	printf '%s\n%s' "$OUT" "$ERR" | grep -qF "$pw" && fail "the password leaked into the output"
	agent vault get globex/contractor@globex.test
	expect_rc 0
	expect_eq "$OUT" "$pw" "vault holds the generated password"
	globex sync --json
	expect_eq "$(printf '%s\n' "$OUT" | tail -1 | jq -r '.users[] | select(.email == "contractor@globex.test") | .login_method + " " + .state')" \
		"password onboarded"
}

t_account_from_vault() {
	fx globex reset >/dev/null
	vault_env
	agent vault set globex/ops --value "$GX_PW"
	expect_rc 0
	printf '%s' "$GX_SEED" | "$BIN/idlcm-agent" vault set globex/ops-totp >/dev/null || fail "vault set from stdin"
	agent run "$ROOT/scripts/apps/globex.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$FX_URL/globex\",\"username\":\"ops@globex.test\",\"password\":{\"vault\":\"globex/ops\"},\"totp_secret\":{\"vault\":\"globex/ops-totp\"}}"
	expect_rc 0
	expect_out "(64 users)"
	agent run "$ROOT/scripts/apps/globex.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$FX_URL/globex\",\"password\":{\"vault\":\"globex/nope\"}}"
	expect_rc 2
	expect_err 'no vault entry "globex/nope"'
	IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') agent vault get globex/ops
	expect_rc 2
	expect_err "the key does not match"
}

# Every secret, through every writer: a passing invite that captures a
# password, a failing job that leaves evidence (page.html, cdp-frames.json,
# error.txt, screenshot), a job that fails right after reading a generated
# password, all with IDLCM_LOG=debug.  Nothing may hold a secret in clear.
t_secrets_never_leak() {
	fx globex reset >/dev/null
	vault_env
	export IDLCM_LOG=debug
	rm -rf "$WORK/runs" "$WORK/leak"; mkdir -p "$WORK/leak"
	n=0
	keep() { n=$((n + 1)); printf '%s\n' "$OUT" >"$WORK/leak/out.$n"; printf '%s\n' "$ERR" >"$WORK/leak/err.$n"; }
	globex invite --user '{"email":"temp1@globex.test","roles":["viewer"],"attributes":{"login":"password"}}' --json; keep
	expect_rc 0
	globex update --user '{"email":"nobody@globex.test","roles":["admin"]}'; keep
	expect_rc 1
	# a script that fails just after the password showed up on the page
	sed 's/^  form:get_by_role("button", { name = "Done" }):click()$/  error("boom after capture")/' \
		"$ROOT/scripts/apps/globex.lua" >"$WORK/globex_fail.lua"
	grep -q 'boom after capture' "$WORK/globex_fail.lua" || fail "could not make the failing script"
	rm -rf "$WORK/runs.fail"
	agent run "$WORK/globex_fail.lua" invite --account "$(globex_account)" --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs.fail" --json --user '{"email":"temp2@globex.test","roles":["viewer"],"attributes":{"login":"password"}}'; keep
	expect_rc 1
	# pixels cannot be redacted: no screenshot once the password was shown
	ls "$WORK"/runs.fail/*/cdp-frames.json >/dev/null 2>&1 || fail "no evidence for the failed capture"
	ls "$WORK"/runs.fail/*/*.png >/dev/null 2>&1 && fail "a screenshot was taken with a password on screen"
	mv "$WORK"/runs.fail/* "$WORK/runs/"
	globex sync --json; keep
	expect_rc 0
	unset IDLCM_LOG
	ls "$WORK"/runs/*/page.html "$WORK"/runs/*/cdp-frames.json "$WORK"/runs/*/error.txt >/dev/null 2>&1 ||
		fail "no evidence written: $(ls -R "$WORK/runs")"
	grep -q "cdp <" "$WORK"/leak/err.* || fail "debug log not on"
	p1=$(fx globex state | jq -r '.users[] | select(.email == "temp1@globex.test") | .initial_password')
	p2=$(fx globex state | jq -r '.users[] | select(.email == "temp2@globex.test") | .initial_password')
	[ ${#p1} -ge 8 ] && [ ${#p2} -ge 8 ] || fail "generated passwords missing ($p1, $p2)"
	files=$(find "$WORK/runs" "$WORK/leak" -type f | wc -l)
	for s in "$GX_PW" "$GX_SEED" "$p1" "$p2" "$IDLCM_VAULT_KEY"; do
		hits=$(grep -rlaF -- "$s" "$WORK/runs" "$WORK/leak" || true)
		[ -z "$hits" ] || fail "secret found in: $hits"
	done
	grep -rqF "[redacted]" "$WORK/runs" || fail "nothing was redacted (test is not looking at the right files)"
	echo "    checked $files files for 5 secrets"
}

# A recorded session of a TOTP login holds no secret (the code is a
# placeholder too) and replays with no browser.
t_globex_record_replay_without_secrets() {
	fx globex reset >/dev/null
	rm -f "$WORK/globex.cassette"
	agent record "$ROOT/scripts/apps/globex.lua" list_users --cassette "$WORK/globex.cassette" \
		--account "$(globex_account)" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 0
	for s in "$GX_PW" "$GX_SEED"; do
		grep -qF -- "$s" "$WORK/globex.cassette" && fail "the cassette holds a secret"
	done
	grep -qF '{{secret:totp}}' "$WORK/globex.cassette" || fail "the TOTP code is not a placeholder"
	agent replay "$ROOT/scripts/apps/globex.lua" list_users --cassette "$WORK/globex.cassette" \
		--runs-dir "$WORK/runs"
	expect_rc 0
	expect_out "(64 users)"
}
