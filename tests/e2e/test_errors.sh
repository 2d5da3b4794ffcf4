# What people see when things go wrong: every error names the problem,
# exits non-zero, and leaves evidence where a job failed.
S="$ROOT/tests/e2e/scripts"

script() { # SCRIPT ACTION [ARGS…]: run a test script against acme
	s=$1; a=$2; shift 2
	agent run "$S/$s" "$a" --account "$(acme_account)" --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" "$@"
}

t_selector_never_appears() {
	fx acme reset >/dev/null
	script bad_selector.lua invite --user '{"email":"ada@example.com","roles":["member"]}'
	expect_rc 1
	expect_out "ada@example.com  inviting → invite_failed"
	expect_err 'error (script): timeout 2000 ms waiting for "button.nope" to be visible (click, step 2 of invite): no element matches the selector yet at '
	expect_err "bad_selector.lua:13"
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: //p')
	[ -d "$dir" ] || fail "no evidence folder ($dir)"
	[ "$(head -c 4 "$dir/failure.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "failure.png is not a PNG"
	grep -q 'invite-open' "$dir/page.html" || fail "page.html lacks the page"
	grep -q 'Runtime.evaluate' "$dir/cdp-frames.json" || fail "no frames saved"
	grep -q 'acme-admin-pw' "$dir"/* && fail "the password leaked into the evidence" || true
}

t_selector_never_appears_json() {
	fx acme reset >/dev/null
	script bad_selector.lua invite --user '{"email":"ada@example.com"}' --json
	expect_rc 1
	last=$(printf '%s\n' "$OUT" | tail -1)
	expect_eq "$(printf '%s' "$last" | jq -r .state)" invite_failed "json state"
	expect_eq "$(printf '%s' "$last" | jq -r .error.class)" script "json class (a selector that never matched on a loaded page)"
	expect_eq "$(printf '%s' "$last" | jq -r .error.selector)" button.nope "json selector"
}

t_strict_mode_violation() {
	fx acme reset >/dev/null
	script strict.lua list_users
	expect_rc 1
	expect_err 'strict mode violation: "tbody button" resolved to 8 elements'
	expect_err "strict.lua:11"
}

t_syntax_error_exit_2() {
	script syntax_error.lua invite --user '{"email":"a@b.c"}'
	expect_rc 2
	expect_err "syntax_error.lua:5: ')' expected (to close '(' at line 4) near 'end'"
}

t_missing_function_exit_2() {
	script missing_invite.lua invite --user '{"email":"a@b.c"}'
	expect_rc 2
	expect_err "missing_invite.lua: the app table lacks function(s) invite (needed for invite)"
}

t_endless_loop_stopped_by_deadline() {
	# 3 s, not less: the deadline counts from the job's start, and on a
	# loaded machine opening the page alone can take a second or more —
	# the loop must be what the deadline stops
	script endless_loop.lua invite --user '{"email":"a@b.c"}' --timeout 3000
	expect_rc 1
	expect_out "a@b.c  inviting → invite_failed"
	expect_err "script exceeded its deadline of 3000 ms"
	expect_err "endless_loop.lua:5"
}

t_runtime_error_names_line() {
	script runtime_error.lua invite --user '{"email":"a@b.c"}'
	expect_rc 1
	expect_err "error (script): "
	expect_err "runtime_error.lua:6: attempt to index a nil value (local 'form')"
}

t_unreachable_browser_exit_2() {
	agent run "$ROOT/scripts/apps/acme.lua" list_users --account "$(acme_account)" \
		--browser http://127.0.0.1:1
	expect_rc 2
	expect_err "cannot reach browser at http://127.0.0.1:1/json/version"
	agent run "$ROOT/scripts/apps/acme.lua" list_users --account "$(acme_account)" \
		--browser ws://127.0.0.1:1/devtools/browser/x
	expect_rc 2
	expect_err "cannot connect to the browser"
	agent run "$ROOT/scripts/apps/acme.lua" list_users --browser ftp://x
	expect_rc 2
	expect_err '--browser wants ws://… or http://host:port, not "ftp://x"'
}

t_bad_usage_exit_2() {
	agent run "$ROOT/scripts/apps/acme.lua" invite --user '{"email":'
	expect_rc 2; expect_err "--user: invalid JSON near byte"
	agent run "$ROOT/scripts/apps/acme.lua" invite --user '["x"]'
	expect_rc 2; expect_err "--user: must be a JSON object"
	agent run "$ROOT/scripts/apps/acme.lua" invite
	expect_rc 2; expect_err "invite needs --user"
	agent run "$ROOT/scripts/apps/acme.lua" invite --user '{"roles":"admin"}'
	expect_rc 2; expect_err '--user: needs an "email" or "username" string'
	agent run "$ROOT/scripts/apps/acme.lua" invite --user '{"email":"a@b.c","roles":"admin"}'
	expect_rc 2; expect_err '--user: "roles" must be an array of strings'
	agent run "$ROOT/scripts/apps/acme.lua" promote --user '{"email":"a@b.c"}'
	expect_rc 2; expect_err 'unknown action "promote"'
	agent run /nonexistent.lua list_users
	expect_rc 2; expect_err "cannot read script /nonexistent.lua"
	agent run "$ROOT/scripts/apps/acme.lua" list_users --account @/nonexistent.json
	expect_rc 2; expect_err "--account: cannot read /nonexistent.json"
	agent run "$ROOT/scripts/apps/acme.lua" list_users --timeout soon
	expect_rc 2; expect_err "--timeout wants a whole number"
	agent frobnicate
	expect_rc 2; expect_err 'unknown command "frobnicate"'
}

t_page_api_on_acme() {
	fx acme reset >/dev/null
	script pageapi.lua list_users
	expect_rc 0
	expect_out "checks@example.com"
	expect_eq "$(fx acme state | jq -r '.users[] | select(.email == "grace@example.com") | .roles[0]')" viewer
}

# A script that swallows the deadline error (pcall) must not end in
# success: neither by going back to the page within the grace (the page
# call is cut off) nor by returning as if it had done its work.
t_swallowed_deadline_never_succeeds() {
	for how in act return; do
		agent run "$S/swallow_deadline.lua" invite --user '{"email":"a@b.c"}' --timeout 6000 \
			--account "{\"base_url\":\"$FX_URL/acme\",\"then\":\"$how\"}" --browser "$CHROME_HTTP" \
			--runs-dir "$WORK/runs"
		expect_rc 1
		expect_out "a@b.c  inviting → invite_failed"
		printf '%s' "$OUT" | grep -q "pending_user_claim" && fail "$how: the swallowed deadline reported the invite"
		expect_err "script exceeded its deadline of 6000 ms"
		printf '%s' "$ERR$OUT" | grep -q "went through" && fail "$how: a page call went through after the deadline"
		case $how in
		act) expect_err "kept running; stopped" ;;	# cut off at the page call
		return) expect_err "what it did then does not count" ;;
		esac
	done
	true
}

# The runner's deadline check wraps the app's functions without copying the
# table: functions inherited through the app's metatable and fields the
# script sets while it runs are seen.
t_app_functions_inherited_and_fields_set_late() {
	agent run "$S/inherited_app.lua" list_users --account "{\"base_url\":\"$FX_URL/acme\"}" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 0
}
