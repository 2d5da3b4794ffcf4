# "Absent" needs evidence the reader could have shown: a row the runner
# cannot compare with the job's user (the app renamed a column, so every
# row lacks the email the user is known by) must not let a removal report
# "deleted (not in the app)" while the user keeps their access; a row with
# no identity at all is a script error wherever list_users is read.

# renamed_acme SEDEXPR: a copy of acme.lua changed by SEDEXPR (checked to
# have changed something, so a script edit cannot make the test vacuous)
renamed_acme() {
	sed "$1" "$ROOT/scripts/apps/acme.lua" >"$WORK/acme_changed.lua"
	cmp -s "$ROOT/scripts/apps/acme.lua" "$WORK/acme_changed.lua" &&
		fail "the edit \"$1\" changed nothing in acme.lua"
	true
}

t_reader_rows_without_the_users_key_are_no_evidence_of_absence() {
	fx acme reset >/dev/null
	# and no find_user of its own: the runner's search decides
	renamed_acme 's/email = row\.email,/email = row.e_mail,/; s/^function app\.find_user(/local function unused_find_user(/'
	agent run "$WORK/acme_changed.lua" remove --user '{"email":"alice@acme.test"}' \
		--account "$(acme_account)" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 1
	expect_out "alice@acme.test  removing → delete_failed"
	expect_err "cannot tell whether alice@acme.test is in the app: list_users row 1 of"
	expect_err "has no email to compare"
	expect_eq "$(fx acme state | jq '[.users[] | select(.email == "alice@acme.test")] | length')" 1 \
		"alice is still in the app"
}

t_reader_row_without_any_identity_is_a_script_error() {
	fx acme reset >/dev/null
	renamed_acme 's/email = row\.email,/email = nil,/; s/username = shown(row\.username),/username = nil,/; s/app_id = row\._attrs\["data-user-id"\],/app_id = nil,/'
	agent run "$WORK/acme_changed.lua" list_users --account "$(acme_account)" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 1
	expect_err "error (script): list_users returned a user without an email, username or app_id (row 1 of"
}
