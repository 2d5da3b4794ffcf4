# Issue 10: the daily sync of an integration an IdP drives over SCIM
# expects each SCIM user with the roles the IdP's groups give, so a role
# someone changed by hand in the app shows as drift.  Real coordinator,
# worker, Chromium and fixture app.

t_scim_sync_expects_the_idps_roles() {
	fx acme reset >/dev/null
	pg_setup
	wk_start
	curl -fsS -o "$WD/integ.json" -H 'content-type: application/json' -d "{\"id\":\"okta-acme\",\"app\":\"acme\",
		\"account\":$(account),\"role_mapping\":{\"Admins\":\"admin\"},\"default_roles\":[\"member\"]}" \
		"$CO_URL/v1/integrations" || fail "cannot create the integration"
	SCIM_TOKEN=$(jq -r .scim_token "$WD/integ.json")
	pg_scim POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"sid.scim@example.com","externalId":"00u-sid","active":true,
		"emails":[{"primary":true,"value":"sid.scim@example.com","type":"work"}]}'
	expect_eq "$S" 201 "create"
	uid=$(jq -r .id "$WD/scim.out")
	pg_last_job invite
	pg_scim POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],
		\"displayName\":\"Admins\",\"members\":[{\"value\":\"$uid\"}]}"
	expect_eq "$S" 201 "group push"
	pg_last_job update
	# someone makes sid a member by hand, in the app
	users=$(fx acme state | jq -c '.users | map(if .email == "sid.scim@example.com" then .roles = ["member"] else . end)')
	fx acme seed "{\"users\":$users}" >/dev/null || fail "cannot change sid's role in the app"
	expect_eq "$(fx acme state | jq -r '.users[] | select(.email == "sid.scim@example.com") | .roles | join(",")')" \
		member "the hand-made change"
	pg_login
	curl -fsS -b "$WD/cj" -o /dev/null -d "csrf=$CSRF" "$CO_URL/admin/integrations/okta-acme/sync" ||
		fail "Sync now"
	j=$(co_sql "$WD" "select id from jobs where integration = 'okta-acme' and action = 'sync' order by n desc limit 1")
	[ -n "$j" ] || fail "no sync job"
	expect_eq "$(co_sql "$WD" "select body from jobs where id = '$j'" |
		jq -c '[.expected[] | select(.email == "sid.scim@example.com") | .roles]')" '[["admin"]]' \
		"sid is expected with the role the IdP's group gives"
	wait_done "$j" 120
	expect_eq "$(jobf "$j" .status)" completed "the sync"
	expect_eq "$(co_sql "$WD" "select drift from users where integration = 'okta-acme' and user_key like 'sid.scim@%'")" \
		1 "the sync saw the drift"
}
