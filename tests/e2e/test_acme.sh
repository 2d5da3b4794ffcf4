# Each acme action on real Chromium, and what it did to the fixture app.

ADA='{"email":"ada@example.com","roles":["member"]}'

user_field() { # EMAIL JQ-FIELD → the field of that user in the fixture state
	fx acme state | jq -r --arg e "$1" ".users[] | select(.email == \$e) | $2"
}
counter() { fx acme state | jq -r ".counters.$1"; }

t_invite_new_user() {
	fx acme reset >/dev/null
	acme invite --user "$ADA"
	expect_rc 0
	expect_out "ada@example.com  provisioning_awaiting → inviting"
	expect_out "ada@example.com  inviting → pending_user_claim"
	expect_eq "$(user_field ada@example.com .status)" invited "fixture status"
	expect_eq "$(user_field ada@example.com '.roles[0]')" member "fixture role"
	expect_eq "$(counter invites)" 1 "invites sent"
}

t_invite_existing_user_checks_first() {
	fx acme reset >/dev/null
	acme invite --user '{"email":"alice@acme.test","roles":["member"]}'
	expect_rc 0
	# alice is admin: the difference is reported, not a plain onboarded
	expect_out "alice@acme.test  inviting → onboarded (already in the app with roles [admin], the job asked for [member] (extra admin; missing member))"
	expect_eq "$(counter invites)" 0 "no invite sent"
	acme invite --user '{"email":"carol@acme.test","roles":["viewer"]}'
	expect_rc 0
	expect_out "carol@acme.test  inviting → pending_user_claim (already in the app)"
	expect_eq "$(counter invites)" 0 "no invite sent"
}

t_invite_expired_user_reinvites() {
	fx acme reset >/dev/null
	acme invite --user '{"email":"dave@acme.test","roles":["member"]}'
	expect_rc 0
	expect_out "dave@acme.test  inviting → pending_user_claim"
	expect_eq "$(user_field dave@acme.test .status)" invited "re-invited"
	expect_eq "$(counter invites)" 1 "one invite"
}

t_update_role() {
	fx acme reset >/dev/null
	acme update --user '{"email":"bob@acme.test","roles":["admin"]}'
	expect_rc 0
	expect_out "bob@acme.test  update_awaiting → updating"
	expect_out "bob@acme.test  updating → onboarded"
	expect_eq "$(user_field bob@acme.test '.roles[0]')" admin "fixture role"
	expect_eq "$(counter updates)" 1 "one update"
	# the same roles again: nothing to do
	acme update --user '{"email":"bob@acme.test","roles":["admin"]}'
	expect_rc 0
	expect_out "(roles already match)"
	expect_eq "$(counter updates)" 1 "still one update"
}

t_update_absent_user_fails() {
	fx acme reset >/dev/null
	acme update --user '{"email":"nobody@example.com","roles":["admin"]}'
	expect_rc 1
	expect_out "nobody@example.com  updating → update_failed"
	expect_err "error (business): nobody@example.com is not in the app, so it cannot be updated"
}

t_remove_user_and_absent_user() {
	fx acme reset >/dev/null
	acme remove --user '{"email":"bob@acme.test"}'
	expect_rc 0
	expect_out "bob@acme.test  removing → deleted"
	expect_eq "$(user_field bob@acme.test .email)" "" "gone from the app"
	expect_eq "$(counter removes)" 1 "one removal"
	acme remove --user '{"email":"bob@acme.test"}'
	expect_rc 0
	expect_out "bob@acme.test  removing → deleted (not in the app)"
	expect_eq "$(counter removes)" 1 "no second removal"
}

t_list_users_table() {
	fx acme reset >/dev/null
	acme list_users
	expect_rc 0
	expect_out "EMAIL            USERNAME  ROLES   STATE"
	printf '%s\n' "$OUT" | grep -E '^alice@acme.test +alice +admin +onboarded +password +2024-11-20T09:15:00Z +yes$' >/dev/null ||
		fail "alice's row is wrong"
	printf '%s\n' "$OUT" | grep -E '^carol@acme.test .* viewer +pending_user_claim ' >/dev/null || fail "carol's row"
	printf '%s\n' "$OUT" | grep -E '^dave@acme.test .* invite_expired ' >/dev/null || fail "dave's row"
	expect_out "(4 users)"
}

t_list_users_json_matches_fixture() {
	fx acme reset >/dev/null
	acme list_users --json
	expect_rc 0
	# every line is JSON; the last is the result
	printf '%s\n' "$OUT" | jq -e . >/dev/null || fail "stdout is not JSON lines"
	got=$(printf '%s\n' "$OUT" | tail -1 | jq -c '[.users[] | {email, roles, app_id}] | sort_by(.email)')
	want=$(fx acme state | jq -c '[.users[] | {email, roles, app_id: .id}] | sort_by(.email)')
	expect_eq "$got" "$want" "users vs fixture state"
}

t_json_events_for_invite() {
	fx acme reset >/dev/null
	acme invite --user "$ADA" --json
	expect_rc 0
	states=$(printf '%s\n' "$OUT" | jq -r 'select(.kind == "state") | .state' | tr '\n' ' ')
	expect_eq "$states" "inviting pending_user_claim " "state events"
	expect_eq "$(printf '%s\n' "$OUT" | tail -1 | jq -r '.kind + " " + (.exit|tostring) + " " + .state')" \
		"result 0 pending_user_claim" "result line"
}

t_validate() {
	fx acme reset >/dev/null
	acme validate
	expect_rc 0
	expect_out "status: validating"
	expect_out "status: validated"
}

t_wrong_password_needs_human() {
	fx acme reset >/dev/null
	agent run "$ROOT/scripts/apps/acme.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--account "{\"base_url\":\"$FX_URL/acme\",\"username\":\"admin@acme.test\",\"password\":\"wrong-password\"}"
	expect_rc 1
	expect_err "error (needs_human): Acme rejected the service account"
	expect_out "status: failed"
}

# Compared as sets of PIDs, not counts: other tests' browsers may start or
# end meanwhile; what matters is that nothing this run started outlives it.
t_launches_own_chromium_and_cleans_up() {
	fx acme reset >/dev/null
	ours() { # PIDs of our Chromium processes (live, or zombies left to PID 1)
		ps -eo pid=,args= | awk '/idlcm-chromium-/ && !/awk/ { print $1 }' | sort
	}
	zombies() { ps -eo pid=,stat=,comm= | awk '$2 ~ /^Z/ && $3 ~ /chrom|idlcm/ { print $1 }' | sort; }
	dirs() { ls -d /tmp/idlcm-chromium-* 2>/dev/null | sort; }
	ours >"$WORK/before"; zombies >"$WORK/zbefore"; dirs >"$WORK/dbefore"
	agent run "$ROOT/scripts/apps/acme.lua" invite --user "$ADA" --account "$(acme_account)" \
		--runs-dir "$WORK/runs"
	expect_rc 0
	expect_out "inviting → pending_user_claim"
	sleep 0.2
	ours >"$WORK/after"; zombies >"$WORK/zafter"; dirs >"$WORK/dafter"
	left=$(comm -13 "$WORK/before" "$WORK/after" | tr '\n' ' ')
	[ -z "$left" ] || fail "chromium processes left behind: $left"
	left=$(comm -13 "$WORK/zbefore" "$WORK/zafter" | tr '\n' ' ')
	[ -z "$left" ] || fail "zombies left behind: $left"
	left=$(comm -13 "$WORK/dbefore" "$WORK/dafter" | tr '\n' ' ')
	[ -z "$left" ] || fail "profile dir left behind: $left"
}

t_jobs_in_separate_contexts_share_app_state() {
	fx acme reset >/dev/null
	acme invite --user "$ADA"
	expect_rc 0
	# a second job (new browser context, new login) sees the first one's work
	acme list_users
	expect_rc 0
	printf '%s\n' "$OUT" | grep -E '^ada@example.com .* member +pending_user_claim ' >/dev/null ||
		fail "ada not listed by the second job"
}

t_user_and_account_from_files() {
	fx acme reset >/dev/null
	acme_account >"$WORK/account.json"
	echo '{"email":"ada@example.com","roles":["viewer"]}' >"$WORK/ada.json"
	agent run "$ROOT/scripts/apps/acme.lua" invite --user @"$WORK/ada.json" \
		--account @"$WORK/account.json" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 0
	expect_out "ada@example.com  inviting → pending_user_claim"
	expect_eq "$(fx acme state | jq -r '.users[] | select(.email == "ada@example.com") | .roles[0]')" viewer
}
