# SCIM reads after writes: the coordinator renders a User straight from its
# stored text and remembers an integration's user ids in listing order
# (totalResults, startIndex) while nothing is written (coordinator/
# scim_users.c).  Whatever changes a user — PATCH, PUT, a group, the
# worker's state, a create or delete, even a write by another process to
# the database file — must show at once, and the same, by GET, by filter
# and in a page.  Uses test_scim.sh's helpers (sc_setup, sc, okta_user).

# sp_views ID USERNAME: the user as GET, as a userName filter and as the
# page that holds them (the whole listing, then a page of one at their
# index) show them; fails unless the three agree.  Prints the GET form.
sp_views() {
	sc GET "/Users/$1"
	sc_expect 200 "GET /Users/$1"
	get=$(jqb 'del(.meta.location) | tojson')
	sc_filter /Users "userName eq \"$2\""
	sc_expect 200 "filter on $2"
	flt=$(jqb '.Resources[0] | del(.meta.location) | tojson')
	sc_get /Users count=200
	idx=$(jqb "[.Resources[].id] | index(\"$1\")")
	[ "$idx" != null ] || fail "user $1 is missing from the listing: $B"
	all=$(jqb ".Resources[$idx] | del(.meta.location) | tojson")
	sc_get /Users "startIndex=$((idx + 1))" count=1
	one=$(jqb '.Resources[0] | del(.meta.location) | tojson')
	expect_eq "$flt" "$get" "the filter's $2 and GET's"
	expect_eq "$all" "$get" "the listing's $2 and GET's"
	expect_eq "$one" "$get" "the page of one's $2 and GET's"
	printf '%s\n' "$get"
}

sp_total() { sc_get /Users count=0; jqb .totalResults; }

t_scim_reads_never_stale_after_writes() {
	sc_setup
	for n in ann bob cid dee eve; do
		sc POST /Users "$(okta_user "$n@example.com")"; sc_expect 201
		eval "id_$n=\$(jqb .id)"
	done
	# every view read once: whatever is remembered is remembered now
	sp_views "$id_ann" ann@example.com >/dev/null
	expect_eq "$(sp_total)" 5 "five users"

	sc PATCH "/Users/$id_ann" "$(patch_body '[{"op":"replace","path":"title","value":"Chief"}]')"
	sc_expect 200 "PATCH"
	v=$(sp_views "$id_ann" ann@example.com)
	expect_eq "$(printf '%s' "$v" | jq -r '[.title, .meta.version] | join(" ")')" 'Chief W/"2"' \
		"PATCH shows"

	sc PUT "/Users/$id_bob" "$(okta_user bob@example.com | jq -c '.displayName = "Robert"')"
	sc_expect 200 "PUT"
	v=$(sp_views "$id_bob" bob@example.com)
	expect_eq "$(printf '%s' "$v" | jq -r .displayName)" Robert "PUT shows"

	sc POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\
\"displayName\":\"Admins\",\"members\":[{\"value\":\"$id_cid\"}]}"
	sc_expect 201 "a group"
	gid=$(jqb .id)
	v=$(sp_views "$id_cid" cid@example.com)
	expect_eq "$(printf '%s' "$v" | jq -r '[.groups[].display] | join(",")')" Admins "a group shows"
	sc PATCH "/Groups/$gid" "$(patch_body "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"$id_cid\\\"]\"}]")"
	sc_expect 200 "a member removed"
	v=$(sp_views "$id_cid" cid@example.com)
	expect_eq "$(printf '%s' "$v" | jq -c .groups)" '[]' "a member's removal shows"

	# the worker's side (the users table) and another process writing
	# to the database directly: no write of this coordinator's own
	co_sql "$SC_WD" "update users set state = 'provisioning_failed', detail = 'by hand'
		where integration = 'okta' and user_key = 'dee@example.com'"
	v=$(sp_views "$id_dee" dee@example.com)
	expect_eq "$(printf '%s' "$v" | jq -r '."urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User" | .state + " " + .detail')" \
		"provisioning_failed by hand" "a state written by another process shows"

	# the listing's order and count follow creates and deletes
	sc POST /Users "$(okta_user aaa@example.com)"; sc_expect 201
	id_aaa=$(jqb .id)
	expect_eq "$(sp_total)" 6 "a create counts"
	sp_views "$id_aaa" aaa@example.com >/dev/null
	sc DELETE "/Users/$id_eve"; sc_expect 204 "DELETE"
	expect_eq "$(sp_total)" 5 "a delete counts"
	sc_get /Users count=200
	expect_eq "$(jqb "[.Resources[].id] | index(\"$id_eve\")")" null "a deleted user is gone"
	co_sql "$SC_WD" "delete from scim_users where integration = 'okta' and id = '$id_bob'"
	expect_eq "$(sp_total)" 4 "a row deleted by another process counts"
	sc_get /Users startIndex=4 count=5
	expect_eq "$(jqb '[.totalResults, .itemsPerPage] | join(",")')" "4,1" "the last page after it"
	# pages still tile the listing in order
	all=$(sc_get /Users; jqb '[.Resources[].id] | join(",")')
	paged=$(for i in 1 2 3 4; do sc_get /Users "startIndex=$i" count=1; jqb '.Resources[0].id'; done |
		paste -sd,)
	expect_eq "$paged" "$all" "pages of one, in order"
}
