# SCIM 2.0 against a real bin/idlcm-coordinator: integrations (HTTP and
# command line), the bearer check, the request sequences of Okta's SCIM 2.0
# spec test and Microsoft's Entra SCIM validator, each IdP quirk on its own,
# and the jobs SCIM changes queue.  curl + jq; one test also runs a worker.

SC_WD=; SC_PID=; SC_URL=; SC_PORT=0; TOKEN=; INTEG=okta

sc_start() {
	: >"$SC_WD/co.out"
	"$BIN/idlcm-coordinator" --listen "127.0.0.1:$SC_PORT" --db "$(co_db "$SC_WD")" \
		--claim-wait-s 1 ${SC_ARGS:-} >"$SC_WD/co.out" 2>>"$SC_WD/co.err" &
	SC_PID=$!
	for _ in $(seq 1 100); do
		SC_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$SC_WD/co.out")
		[ -n "$SC_URL" ] && { SC_PORT=${SC_URL##*:}; return 0; }
		sleep 0.05
	done
	echo "coordinator did not start:"; cat "$SC_WD/co.err"; exit 1
}

sc_stop() { [ -n "$SC_PID" ] && kill "$SC_PID" 2>/dev/null && wait "$SC_PID" 2>/dev/null; SC_PID=; }

sc_teardown() {
	sc_stop
	if [ -n "$SC_WD" ] && grep -l "Sanitizer" "$SC_WD"/*.err 2>/dev/null; then
		grep -h -A20 "Sanitizer" "$SC_WD"/*.err | head -60
		exit 1
	fi
}

# sc_setup [INTEGRATION-JSON-FIELDS]: a coordinator and integration
# "okta" for app acme; sets TOKEN.
sc_setup() {
	SC_WD=$(mktemp -d "$WORK/scim-XXXXXX")
	SC_PORT=0; INTEG=okta
	trap sc_teardown EXIT
	sc_start
	admin POST /v1/integrations "{\"id\":\"okta\",\"app\":\"acme\"${1:+,$1}}"
	[ "$S" = 201 ] || fail "cannot create the integration: $S $B"
	TOKEN=$(jqb .scim_token)
}

# admin METHOD PATH [BODY] → S (status), B (body)
admin() {
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -X "$1" -H 'content-type: application/json' \
		${3:+--data-binary "$3"} "$SC_URL$2")
	B=$(cat "$SC_WD/b")
}

# sc METHOD PATH [BODY]: a SCIM call with $TOKEN to integration $INTEG
sc() {
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -X "$1" -H "authorization: Bearer $TOKEN" \
		-H 'content-type: application/scim+json; charset=utf-8' -H 'accept: application/scim+json' \
		${3:+--data-binary "$3"} "$SC_URL/scim/v2/$INTEG$2")
	B=$(cat "$SC_WD/b")
}

# sc_get PATH [NAME=VALUE…]: GET with query arguments (plain ones)
sc_get() {
	p=$1; shift
	q=$(printf '%s&' "$@"); q=${q%&}
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -H "authorization: Bearer $TOKEN" \
		"$SC_URL/scim/v2/$INTEG$p${q:+?$q}")
	B=$(cat "$SC_WD/b")
}

# sc_filter PATH FILTER [MORE-QUERY]: GET PATH?filter=FILTER (form-encoded)
sc_filter() {
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -G -H "authorization: Bearer $TOKEN" \
		--data-urlencode "filter=$2" ${3:+--data "$3"} "$SC_URL/scim/v2/$INTEG$1")
	B=$(cat "$SC_WD/b")
}

jqb() { printf '%s' "$B" | jq -r "$1"; }
sc_expect() { # STATUS [WHAT]
	[ "$S" = "$1" ] || fail "${2:-call}: expected HTTP $1, got $S: $B"
}
sc_expect_error() { # STATUS SCIMTYPE DETAIL-PART
	sc_expect "$1" "error"
	# one jq: schema, the status as a string, scimType; then the detail
	got=$(jqb '[.schemas[0], (.status | type), .status, (.scimType // "")] | join(" ")')
	expect_eq "$got" "urn:ietf:params:scim:api:messages:2.0:Error string $1 $2" \
		"error schema, status (a string), scimType"
	case "$B" in *"$(printf '%s' "$3" | sed 's/"/\\"/g')"*) ;; *) fail "detail lacks \"$3\": $B";; esac
}

# the jobs of the integration as "action:state:user" lines, oldest first
sc_jobs() {
	curl -fsS "$SC_URL/v1/jobs?integration=$INTEG" |
		jq -r '.jobs[] | "\(.action):\(.status):\(.user)"'
}
sc_job_user() { # N (1-based) → that job's user object
	curl -fsS "$SC_URL/v1/jobs?integration=$INTEG" | jq -r ".jobs[$(($1 - 1))].id" |
		{ read -r id; curl -fsS "$SC_URL/v1/jobs/$id" | jq -c .job.user; }
}
sc_njobs() { sc_jobs | grep -c "^$1:" ; }

okta_user() { # USERNAME [EXTERNAL-ID] [ACTIVE]
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s",
	  "name":{"givenName":"Ada","familyName":"Lovelace"},
	  "emails":[{"primary":true,"value":"%s","type":"work"}],"displayName":"Ada Lovelace",
	  "locale":"en-US","externalId":"%s","groups":[],"password":"1mz050nq","active":%s}' \
		"$1" "$1" "${2:-00u$(date +%s%N)}" "${3:-true}"
}

entra_user() { # USERNAME EXTERNAL-ID
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	  "externalId":"%s","userName":"%s","active":true,"displayName":"Sandy Nia",
	  "emails":[{"type":"work","value":"%s","primary":true}],
	  "name":{"formatted":"Sandy Nia","familyName":"Nia","givenName":"Sandy"},
	  "title":"Engineer",
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42",
	    "department":"R&D","manager":{"value":"boss-1"}}}' "$2" "$1" "$1"
}

patch_body() { # OPERATIONS-JSON
	printf '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":%s}' "$1"
}

# ---------------------------------------------------------- integrations

t_scim_integration_crud_over_http() {
	sc_setup '"role_mapping":{"Admins":"admin","Eng":["member","viewer"]},"default_roles":["viewer"]'
	expect_eq "$(jqb .scim_url)" "$SC_URL/scim/v2/okta" "scim_url"
	printf '%s' "$TOKEN" | grep -q '^idlcm_scim_[0-9a-f]\{64\}$' || fail "odd token $TOKEN"
	# only the hash is stored
	co_dump "$SC_WD" | grep -qF "$TOKEN" && fail "the SCIM token is stored in clear"
	hash=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
	expect_eq "$(co_sql "$SC_WD" "select scim_token_hash from integrations where id='okta'")" \
		"$hash" "stored SHA-256"
	admin GET /v1/integrations/okta
	sc_expect 200 "show"
	expect_eq "$(jqb .deactivate_mode)" "remove"
	expect_eq "$(jqb '.role_mapping.Eng | join(",")')" "member,viewer"
	expect_eq "$(jqb .scim_token)" "null" "the token is shown once only"
	admin GET /v1/integrations
	expect_eq "$(jqb '[.integrations[].id] | join(",")')" "okta"
	admin POST /v1/integrations '{"id":"okta","app":"acme"}'
	sc_expect 409 "duplicate"
	admin POST /v1/integrations '{"id":"x y","app":"acme"}'
	sc_expect 400 "bad id"
	admin POST /v1/integrations '{"id":"x","app":"acme","colour":"red"}'
	sc_expect 400 "unknown field"
	jqb .error | grep -q 'unknown field "colour"' || fail "$B"
	admin PATCH /v1/integrations/okta '{"deactivate_mode":"deactivate"}'
	sc_expect 200 "patch"
	expect_eq "$(jqb .deactivate_mode)" "deactivate"
	admin PATCH /v1/integrations/okta '{"deactivate_mode":"suspend"}'
	sc_expect 400 "bad deactivate_mode"
	# rotation: the old token stops working at once
	sc GET /Users
	sc_expect 200 "old token before rotation"
	old=$TOKEN
	admin POST /v1/integrations/okta/rotate-token
	sc_expect 200 "rotate"
	TOKEN=$(jqb .scim_token)
	[ "$TOKEN" != "$old" ] || fail "rotation kept the token"
	sc GET /Users
	sc_expect 200 "new token"
	TOKEN=$old sc GET /Users
	sc_expect_error 401 "" "not this SCIM endpoint's token"
	admin DELETE /v1/integrations/okta
	sc_expect 204 "delete"
	sc GET /Users
	sc_expect 401 "SCIM after delete"
	admin GET /v1/integrations/okta
	sc_expect 404 "show after delete"
}

t_scim_integration_cli() {
	SC_WD=$(mktemp -d "$WORK/scim-XXXXXX"); SC_PORT=0; INTEG=cli
	trap sc_teardown EXIT
	co="$BIN/idlcm-coordinator"
	"$co" integration add cli --app acme --db "$(co_db "$SC_WD")" --role-mapping '{"Admins":"admin"}' \
		--base-url http://idp.example >"$SC_WD/add.json" 2>"$SC_WD/add.err" ||
		fail "add failed: $(cat "$SC_WD/add.err")"
	TOKEN=$(jq -r .scim_token "$SC_WD/add.json")
	expect_eq "$(jq -r .scim_url "$SC_WD/add.json")" "http://idp.example/scim/v2/cli"
	"$co" integration list --db "$(co_db "$SC_WD")" | jq -e '.integrations[0].id == "cli"' >/dev/null ||
		fail "list"
	"$co" integration show cli --db "$(co_db "$SC_WD")" | jq -e '.role_mapping.Admins == ["admin"]' \
		>/dev/null || fail "show"
	"$co" integration set cli --db "$(co_db "$SC_WD")" --deactivate-mode deactivate |
		jq -e '.deactivate_mode == "deactivate"' >/dev/null || fail "set"
	"$co" integration add cli --app acme --db "$(co_db "$SC_WD")" 2>"$SC_WD/e" && fail "duplicate add succeeded"
	grep -q 'exists already' "$SC_WD/e" || fail "duplicate: $(cat "$SC_WD/e")"
	"$co" integration add bad --db "$(co_db "$SC_WD")" 2>"$SC_WD/e"
	[ $? = 2 ] || fail "a missing --app should exit 2"
	grep -q '"app"' "$SC_WD/e" || fail "missing app: $(cat "$SC_WD/e")"
	"$co" integration show nope --db "$(co_db "$SC_WD")" 2>"$SC_WD/e" && fail "show of a missing one succeeded"
	grep -q 'no integration "nope"' "$SC_WD/e" || fail "$(cat "$SC_WD/e")"
	# the printed token works against a running coordinator on that file
	sc_start
	sc GET /Users
	sc_expect 200 "token from the CLI"
	TOKEN2=$("$co" integration rotate-token cli --db "$(co_db "$SC_WD")" | jq -r .scim_token)
	sc GET /Users
	sc_expect 401 "old CLI token after rotate-token"
	TOKEN=$TOKEN2 sc GET /Users
	sc_expect 200 "rotated CLI token"
	sc_stop
	"$co" integration delete cli --db "$(co_db "$SC_WD")" | grep -q 'deleted integration "cli"' || fail "delete"
	"$co" integration list --db "$(co_db "$SC_WD")" | jq -e '.integrations == []' >/dev/null || fail "list after delete"
}

# ---------------------------------------------------------- auth

t_scim_unauthenticated_gets_401_whatever_the_path() {
	sc_setup
	admin POST /v1/integrations '{"id":"other","app":"acme"}'
	other=$(jqb .scim_token)
	good=$TOKEN
	# every path with one of the wrong credentials in turn, then every
	# wrong credential on one path
	set -- "" "Bearer wrong" "Bearer $other" "Basic $(printf 'a:b' | base64)" "Bearer "
	i=0
	for m_p in "GET /scim" "GET /scim/v2" "GET /scim/v2/" "GET /scim/v2/okta" \
		"GET /scim/v2/okta/Users" "POST /scim/v2/okta/Users" "GET /scim/v2/okta/Users/x" \
		"DELETE /scim/v2/okta/Users/x" "PATCH /scim/v2/okta/Groups/y" "PUT /scim/v2/okta/Users/x" \
		"GET /scim/v2/okta/Nope" "GET /scim/v2/nosuch/Users" "GET /scim/v2/okta/ServiceProviderConfig" \
		"GET /scim/v2/okta/Schemas" "GET /scim/x/y" "GET /scim/v2/okta/Users" \
		"GET /scim/v2/okta/Users" "GET /scim/v2/okta/Users" "GET /scim/v2/okta/Users"; do
		m=${m_p%% *}; p=${m_p#* }
		eval "tok=\${$((i % 5 + 1))}"; i=$((i + 1))
		S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -X "$m" ${tok:+-H "authorization: $tok"} \
			-H 'content-type: application/scim+json' -d '{}' "$SC_URL$p")
		B=$(cat "$SC_WD/b")
		[ "$S" = 401 ] || fail "$m $p with \"$tok\": expected 401, got $S $B"
		expect_eq "$(jqb '.schemas[0] + " " + .status')" \
			"urn:ietf:params:scim:api:messages:2.0:Error 401" "$m $p with \"$tok\""
	done
	# the other integration's token works on its own endpoint only
	TOKEN=$other INTEG=other sc GET /Users
	sc_expect 200 "other's token on other"
	TOKEN=$good sc GET /Users
	sc_expect 200 "good token"
	# "bearer" in any case
	S=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: bearer $good" "$SC_URL/scim/v2/okta/Users")
	expect_eq "$S" 200 "lower-case bearer"
}

# ---------------------------------------------------------- Okta's spec test

# Okta's "SCIM 2.0 Spec Test" (Runscope), in its order, with its assertions.
t_scim_okta_spec_test_sequence() {
	sc_setup
	# the suite expects a user to be there already (Resources not empty)
	sc POST /Users "$(okta_user seed@example.com)"
	sc_expect 201 "seed"
	# Required: Test Users endpoint
	sc_get /Users count=1 startIndex=1
	sc_expect 200 "GET /Users?count=1&startIndex=1"
	expect_eq "$(jqb '.schemas | index("urn:ietf:params:scim:api:messages:2.0:ListResponse") != null')" true
	expect_eq "$(jqb '[.itemsPerPage, .startIndex, .totalResults] | map(type) | unique | join(",")')" number
	expect_eq "$(jqb '.Resources | length')" 1 "Resources not empty"
	first=$(jqb '.Resources[0].id'); first_name=$(jqb '.Resources[0].userName')
	# Required: Get Users/{{id}}
	sc GET "/Users/$first"
	sc_expect 200 "GET /Users/{id}"
	expect_eq "$(jqb .id)" "$first"; expect_eq "$(jqb .userName)" "$first_name"
	jqb '.schemas | join(" ")' | grep -q 'urn:ietf:params:scim:schemas:core:2.0:User' || fail "schemas: $B"
	# Required: Test invalid User by username
	sc_filter /Users 'userName eq "abcdefgh@example.com"'
	sc_expect 200 "invalid user filter"
	expect_eq "$(jqb .totalResults)" 0
	expect_eq "$(jqb '.Resources | length')" 0
	# Required: Make sure random user doesn't exist
	rnd="okta.$(date +%s%N)@atko.example"
	sc_filter /Users "userName eq \"$rnd\""
	expect_eq "$(jqb .totalResults)" 0 "random user"
	# Required: Create Okta user with realistic values
	sc POST /Users "$(okta_user "$rnd" 00ujl29u0le5T6Aj10h7)"
	sc_expect 201 "create"
	id=$(jqb .id)
	expect_eq "$(jqb .userName)" "$rnd"; expect_eq "$(jqb .active)" true
	[ -n "$id" ] && [ "$id" != null ] || fail "no id: $B"
	expect_eq "$(jqb .password)" null "the password is never returned"
	co_dump "$SC_WD" | grep -q 1mz050nq && fail "the password was stored"
	# Required: Verify that user was created
	sc GET "/Users/$id"
	sc_expect 200 "verify"
	expect_eq "$(jqb .userName)" "$rnd"
	expect_eq "$(jqb '.name.familyName')" "Lovelace"
	# Optional: Test duplicate user
	sc POST /Users "$(okta_user "$rnd" 00ujl29u0le5T6Aj10h7)"
	sc_expect_error 409 uniqueness "is taken by user \"$id\""
	# Optional: Username case sensitivity check
	caps=$(printf '%s' "$rnd" | tr a-z A-Z)
	sc_filter /Users "userName eq \"$caps\""
	sc_expect 200 "caps filter"
	expect_eq "$(jqb .totalResults)" 1 "case-insensitive userName"
	expect_eq "$(jqb '.Resources[0].id')" "$id"
	# Optional: Test invalid User
	sc GET "/Users/010101-0101-0101-0101-01010101"
	sc_expect_error 404 "" "no user"
	# Okta's lifecycle after the suite: profile push (PUT), deactivate, reactivate
	sc PUT "/Users/$id" "$(okta_user "$rnd" 00ujl29u0le5T6Aj10h7 | jq -c '.title = "CTO"')"
	sc_expect 200 "PUT"
	expect_eq "$(jqb .title)" CTO
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	sc_expect 200 "deactivate"
	expect_eq "$(jqb .active)" false
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":true}}]')"
	sc_expect 200 "reactivate"
	expect_eq "$(jqb .active)" true
	expect_eq "$(sc_jobs | grep -c ":$rnd$")" 3 "jobs for $rnd: $(sc_jobs)"
}

# ---------------------------------------------------------- Entra's validator

# Microsoft's SCIM validator (scimvalidator.microsoft.com): user and group
# tests with its request shapes.
t_scim_entra_validator_sequence() {
	sc_setup '"role_mapping":{"Engineering":"member"}'
	INTEG=okta
	# POST /Users - create a user (with the enterprise extension)
	sc POST /Users "$(entra_user dale.mohr@romaguera.example 9950b140-90a0-4201)"
	sc_expect 201 "create"
	uid=$(jqb .id)
	expect_eq "$(jqb '."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".department')" "R&D"
	# GET /Users?filter=userName eq "…" with a different case
	sc_filter /Users 'userName eq "DALE.MOHR@romaguera.example"'
	expect_eq "$(jqb .totalResults)" 1 "userName different case"
	# GET /Users?filter=externalId eq "…"
	sc_filter /Users 'externalId eq "9950b140-90a0-4201"'
	expect_eq "$(jqb '.Resources[0].id')" "$uid" "externalId filter"
	# filter for a user that does not exist
	sc_filter /Users 'userName eq "nobody@romaguera.example"'
	expect_eq "$(jqb .totalResults)" 0
	# GET /Users/{id}
	sc GET "/Users/$uid"
	expect_eq "$(jqb .externalId)" "9950b140-90a0-4201"
	# PATCH /Users/{id} - Replace attributes (Entra's capitalised ops, value paths, extension)
	sc PATCH "/Users/$uid" "$(patch_body '[
	  {"op":"Replace","path":"displayName","value":"Dale Mohr"},
	  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"dale@romaguera.example"},
	  {"op":"Replace","path":"name.givenName","value":"Dale"},
	  {"op":"Replace","path":"name.familyName","value":"Mohr"},
	  {"op":"Add","path":"title","value":"Director"},
	  {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
	  {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"boss-2"}]')"
	sc_expect 200 "patch attributes"
	expect_eq "$(jqb .displayName)" "Dale Mohr"
	expect_eq "$(jqb '.emails[0].value')" "dale@romaguera.example"
	expect_eq "$(jqb '.name.givenName + " " + .name.familyName')" "Dale Mohr"
	expect_eq "$(jqb '."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" | .department + "/" + .manager.value')" "Sales/boss-2"
	# PATCH userName
	sc PATCH "/Users/$uid" "$(patch_body '[{"op":"Replace","path":"userName","value":"dale.mohr2@romaguera.example"}]')"
	sc_expect 200 "patch userName"
	expect_eq "$(jqb .userName)" "dale.mohr2@romaguera.example"
	# PATCH /Users/Id - Disable User; a GET with a filter must show active false
	sc PATCH "/Users/$uid" "$(patch_body '[{"op":"Replace","path":"active","value":"False"}]')"
	sc_expect 200 "disable"
	expect_eq "$(jqb .active)" false
	sc_filter /Users 'userName eq "dale.mohr2@romaguera.example"'
	expect_eq "$(jqb '.Resources[0].active')" false "active in a filtered GET"
	# Groups: create, filter excluding members, add / remove a member, rename, delete
	sc POST /Users "$(entra_user eng1@romaguera.example ext-eng1)"
	m1=$(jqb .id)
	sc POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"g-ext-1","displayName":"Engineering","members":[]}'
	sc_expect 201 "create group"
	gid=$(jqb .id)
	sc_filter /Groups 'displayName eq "Engineering"' 'excludedAttributes=members'
	sc_expect 200 "group filter"
	expect_eq "$(jqb .totalResults)" 1
	expect_eq "$(jqb '.Resources[0] | has("members")')" false "excludedAttributes=members"
	sc PATCH "/Groups/$gid" "$(patch_body "[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"$m1\"}]}]")"
	sc_expect 200 "add member"
	expect_eq "$(jqb '.members[0].value')" "$m1"
	sc_filter /Groups "id eq \"$gid\" and members[value eq \"$m1\"]" 'excludedAttributes=members'
	expect_eq "$(jqb .totalResults)" 1 "membership check"
	sc PATCH "/Groups/$gid" "$(patch_body "[{\"op\":\"Remove\",\"path\":\"members[value eq \\\"$m1\\\"]\"}]")"
	sc_expect 200 "remove member"
	expect_eq "$(jqb '.members | length')" 0
	sc PATCH "/Groups/$gid" "$(patch_body '[{"op":"Replace","path":"displayName","value":"Engineering 2"}]')"
	sc_expect 200 "rename group"
	expect_eq "$(jqb .displayName)" "Engineering 2"
	sc POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"engineering 2"}'
	sc_expect_error 409 uniqueness "exists already"
	sc DELETE "/Groups/$gid"
	sc_expect 204 "delete group"
	sc GET "/Groups/$gid"
	sc_expect 404 "group after delete"
	# DELETE /Users/{id}, then it is gone
	sc DELETE "/Users/$uid"
	sc_expect 204 "delete user"
	sc GET "/Users/$uid"
	sc_expect_error 404 "" "no user"
	sc_filter /Users 'externalId eq "9950b140-90a0-4201"'
	expect_eq "$(jqb .totalResults)" 0 "deleted user by externalId"
}

# ---------------------------------------------------------- quirks, one each

t_scim_quirk_okta_patch_without_path() {
	sc_setup
	sc POST /Users "$(okta_user okta.nopath@example.com)"
	id=$(jqb .id)
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	sc_expect 200
	expect_eq "$(jqb .active)" false
	# several attributes and a dotted key in one value
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":true,"displayName":"X Y","name.givenName":"X"}}]')"
	sc_expect 200
	expect_eq "$(jqb '[.active, .displayName, .name.givenName] | map(tostring) | join(",")')" "true,X Y,X"
}

t_scim_quirk_entra_capitalised_ops_and_string_booleans() {
	sc_setup
	sc POST /Users "$(entra_user cap@example.com ext-cap)"
	id=$(jqb .id)
	for v in '"False"' '"FALSE"' 'false'; do
		sc PATCH "/Users/$id" "$(patch_body "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":$v}]")"
		sc_expect 200 "active=$v"
		expect_eq "$(jqb '.active | type')" boolean "active=$v stored as a boolean"
		expect_eq "$(jqb .active)" false "active=$v"
		sc PATCH "/Users/$id" "$(patch_body '[{"op":"REPLACE","path":"active","value":"True"}]')"
		expect_eq "$(jqb .active)" true "back to True"
	done
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Replace","path":"active","value":"maybe"}]')"
	sc_expect_error 400 invalidValue '"active" must be a boolean'
	# "primary":"True" in a value is a boolean too
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Add","path":"phoneNumbers","value":[{"type":"work","value":"+1 555","primary":"True"}]}]')"
	sc_expect 200 "phone"
	expect_eq "$(jqb '.phoneNumbers[0].primary')" true
}

t_scim_quirk_entra_value_path_adds_missing_work_email() {
	sc_setup
	sc POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"upn@corp.example","externalId":"e1"}'
	id=$(jqb .id)
	expect_eq "$(jqb '.emails | length')" 0
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Add","path":"emails[type eq \"work\"].value","value":"mail@corp.example"}]')"
	sc_expect 200
	expect_eq "$(jqb '.emails[0] | .type + " " + .value')" "work mail@corp.example"
	sc_filter /Users 'emails[type eq "work"].value eq "MAIL@corp.example"'
	expect_eq "$(jqb '.Resources[0].id')" "$id" "work email filter"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Remove","path":"emails[type eq \"work\"]"}]')"
	expect_eq "$(jqb '.emails | length')" 0 "removed by value filter"
}

t_scim_quirk_enterprise_extension_reaches_the_job() {
	sc_setup
	sc POST /Users "$(entra_user ext@example.com ext-1)"
	id=$(jqb .id)
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Finance"}]')"
	sc_expect 200
	# the invite nobody claimed yet carries the new department
	expect_eq "$(sc_jobs)" "invite:queued:ext@example.com"
	expect_eq "$(sc_job_user 1 | jq -r '.attributes.department')" "Finance"
	# an unknown extension attribute is refused by name
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize","value":"9"}]')"
	sc_expect_error 400 invalidPath 'unknown attribute "shoeSize"'
}

t_scim_quirk_username_case_insensitive() {
	sc_setup
	sc POST /Users "$(okta_user Mixed.Case@Example.com)"
	id=$(jqb .id)
	sc_filter /Users 'userName eq "mixed.case@example.com"'
	expect_eq "$(jqb '.Resources[0].id')" "$id"
	sc POST /Users "$(okta_user MIXED.CASE@EXAMPLE.COM)"
	sc_expect_error 409 uniqueness "case-insensitively"
	# the stored userName keeps its case
	sc GET "/Users/$id"
	expect_eq "$(jqb .userName)" "Mixed.Case@Example.com"
}

t_scim_quirk_entra_plus_for_space_in_filter() {
	sc_setup
	sc POST /Users "$(okta_user plus@example.com ext-plus)"
	# Entra's raw query: filter=userName+eq+"plus%40example.com"
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -H "authorization: Bearer $TOKEN" \
		"$SC_URL/scim/v2/okta/Users?filter=userName+eq+%22plus%40example.com%22")
	B=$(cat "$SC_WD/b")
	sc_expect 200
	expect_eq "$(jqb .totalResults)" 1
	S=$(curl -s -o "$SC_WD/b" -w '%{http_code}' -H "authorization: Bearer $TOKEN" \
		"$SC_URL/scim/v2/okta/Users?filter=externalId+eq+%22ext-plus%22+and+userName+eq+%22PLUS%40example.com%22")
	B=$(cat "$SC_WD/b")
	expect_eq "$(jqb .totalResults)" 1 "and with +"
}

# Entra retries a create when the server died before answering: the retry
# must not make a second user, and its lookup must find the first.
t_scim_quirk_create_retried_after_crash() {
	sc_setup
	body=$(entra_user crash@example.com ext-crash)
	sc POST /Users "$body"
	sc_expect 201
	id=$(jqb .id)
	kill -9 "$SC_PID"; wait "$SC_PID" 2>/dev/null; SC_PID=
	sc_start
	sc POST /Users "$body"
	sc_expect_error 409 uniqueness "$id"
	sc_filter /Users 'externalId eq "ext-crash"'
	expect_eq "$(jqb .totalResults)" 1 "one user after the retry"
	expect_eq "$(jqb '.Resources[0].id')" "$id"
	expect_eq "$(sc_jobs)" "invite:queued:crash@example.com" "one invite"
	expect_eq "$(co_sql "$SC_WD" "select count(*) from users where integration='okta'")" 1
}

t_scim_errors_are_precise() {
	sc_setup
	sc POST /Users '{"userName": "a",'
	sc_expect_error 400 invalidSyntax "not valid JSON: error at byte"
	sc POST /Users '[1,2]'
	sc_expect_error 400 invalidSyntax "must be a JSON object"
	sc POST /Users ''
	sc_expect_error 400 invalidSyntax "empty"
	sc POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.c","shoeSize":9}'
	sc_expect_error 400 invalidValue 'unknown attribute "shoeSize"'
	sc POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"name":{"givenName":"A"}}'
	sc_expect_error 400 invalidValue '"userName" is required'
	sc POST /Users '{"schemas":["urn:example:custom"],"userName":"a@b.c"}'
	sc_expect_error 400 invalidValue 'unknown schema "urn:example:custom"'
	sc POST /Users '{"userName":"a@b.c","emails":5}'
	sc_expect_error 400 invalidValue '"emails" must be an array'
	sc POST /Users '{"userName":"a@b.c","emails":[{"type":"work","value":{"x":1}}]}'
	sc_expect_error 400 invalidValue '"emails.value" must be a string'
	sc POST /Users "$(okta_user errs@example.com)"
	id=$(jqb .id)
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"move","path":"active","value":false}]')"
	sc_expect_error 400 invalidSyntax 'Operations[0]: unknown op "move"'
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"active","value":false},{"op":"replace","path":"shoe.size","value":1}]')"
	sc_expect_error 400 invalidPath 'Operations[1]: unknown attribute "shoe"'
	sc GET "/Users/$id"
	expect_eq "$(jqb .active)" true "a failed PATCH changes nothing"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"remove"}]')"
	sc_expect_error 400 noTarget "remove needs a \"path\""
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"remove","path":"userName"}]')"
	sc_expect_error 400 invalidValue '"userName" is required'
	sc PATCH "/Users/$id" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}'
	sc_expect_error 400 invalidSyntax 'needs "Operations"'
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"groups","value":[]}]')"
	sc_expect_error 400 mutability 'through /Groups'
	sc_filter /Users 'userName co "x"'
	sc_expect_error 400 invalidFilter 'operator "co" is not supported'
	sc_filter /Users 'title eq "x"'
	sc_expect_error 400 invalidFilter 'filtering on "title"'
	sc_get /Users count=abc
	sc_expect_error 400 invalidValue 'count must be a whole number'
	sc GET /Nope
	sc_expect_error 404 "" 'no SCIM endpoint "Nope"'
}

t_scim_paging() {
	sc_setup
	for i in 1 2 3 4 5; do sc POST /Users "$(okta_user "page$i@example.com")"; sc_expect 201; done
	sc_get /Users startIndex=2 count=2
	expect_eq "$(jqb '[.totalResults, .startIndex, .itemsPerPage, (.Resources | length)] | join(",")')" "5,2,2,2"
	all=$(sc_get /Users; jqb '[.Resources[].id] | join(",")')
	sc_get /Users startIndex=2 count=2
	expect_eq "$(jqb '[.Resources[].id] | join(",")')" "$(printf '%s' "$all" | cut -d, -f2,3)" "page 2 of 2"
	sc_get /Users startIndex=5 count=10
	expect_eq "$(jqb '.itemsPerPage')" 1 "the last page"
	sc_get /Users startIndex=9
	expect_eq "$(jqb '[.totalResults, .itemsPerPage] | join(",")')" "5,0" "past the end"
	sc_get /Users count=0
	expect_eq "$(jqb '[.totalResults, .itemsPerPage] | join(",")')" "5,0" "count=0"
	sc_get /Users startIndex=0 count=1
	expect_eq "$(jqb .startIndex)" 1 "startIndex below 1 is 1"
	sc_get /Users count=100000
	expect_eq "$(jqb .itemsPerPage)" 5 "count capped, not refused"
}

t_scim_changes_queue_the_right_jobs() {
	sc_setup '"default_roles":["viewer"]'
	sc POST /Users "$(okta_user jobs@example.com)"
	id=$(jqb .id)
	expect_eq "$(jqb '."urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User".state')" \
		provisioning_awaiting "state on the created resource"
	expect_eq "$(sc_jobs)" "invite:queued:jobs@example.com"
	expect_eq "$(co_sql "$SC_WD" "select origin from jobs")" SCIM "the job's trigger"
	expect_eq "$(sc_job_user 1 | jq -c '[.roles, .username, .upstream_id != null]')" \
		'[["viewer"],"jobs@example.com",true]'
	# a change before a worker claimed the invite folds into it
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"title","value":"Boss"}]')"
	expect_eq "$(sc_jobs | wc -l)" 1 "folded into the queued invite"
	expect_eq "$(sc_job_user 1 | jq -r .attributes.title)" Boss
	# a worker took it: later changes are jobs of their own
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1 where integration='okta'"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"title","value":"CEO"}]')"
	expect_eq "$(sc_jobs | tail -1)" "update:queued:jobs@example.com" "attribute change"
	# no change, no job
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"title","value":"CEO"}]')"
	expect_eq "$(sc_jobs | wc -l)" 2 "a no-op PATCH"
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1 where integration='okta'"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	expect_eq "$(sc_jobs | tail -1)" "remove:queued:jobs@example.com" "deactivation removes"
	expect_eq "$(jqb '."urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User".state')" delete_awaiting
	# reactivation before the remove ran: the remove is superseded
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":true}}]')"
	expect_eq "$(sc_jobs | tail -1)" "invite:queued:jobs@example.com" "reactivation invites"
	expect_eq "$(curl -fsS "$SC_URL/v1/jobs?integration=okta" | jq -r '[.jobs[] | select(.action=="remove")][0].outcome')" superseded
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1 where integration='okta'"
	# an email change moves the Users row and the job to the new key
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","path":"emails[type eq \"work\"].value","value":"jobs2@example.com"}]')"
	expect_eq "$(sc_jobs | tail -1)" "update:queued:jobs2@example.com" "email change"
	expect_eq "$(co_sql "$SC_WD" "select user_key from users where integration='okta'")" jobs2@example.com
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1 where integration='okta'"
	sc DELETE "/Users/$id"
	sc_expect 204
	expect_eq "$(sc_jobs | tail -1)" "remove:queued:jobs2@example.com" "DELETE removes"
	expect_eq "$(curl -fsS "$SC_URL/v1/integrations/okta/users" | jq -r '.users[0].state')" delete_awaiting
}

t_scim_deactivate_mode_updates_instead_of_removing() {
	sc_setup '"deactivate_mode":"deactivate"'
	sc POST /Users "$(okta_user susp@example.com)"
	id=$(jqb .id)
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	expect_eq "$(sc_jobs | tail -1)" "update:queued:susp@example.com"
	expect_eq "$(sc_job_user 2 | jq -c '[.active, .attributes.active]')" "[false,false]"
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":true}}]')"
	expect_eq "$(sc_jobs | tail -1)" "update:queued:susp@example.com" "reactivation in deactivate mode"
	expect_eq "$(sc_job_user 3 | jq -c .active)" true
}

t_scim_groups_map_to_roles() {
	sc_setup '"role_mapping":{"Admins":"admin","Eng":["member"]},"default_roles":["viewer"]'
	sc POST /Users "$(okta_user grace@example.com)"
	uid=$(jqb .id)
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	sc POST /Groups "{\"displayName\":\"Admins\",\"members\":[{\"value\":\"$uid\"}]}"
	sc_expect 201
	gid=$(jqb .id)
	expect_eq "$(sc_jobs | tail -1)" "update:queued:grace@example.com" "added to a group"
	expect_eq "$(sc_job_user 2 | jq -c '[.roles, .groups]')" '[["admin"],["Admins"]]'
	sc GET "/Users/$uid"
	expect_eq "$(jqb '.groups[0].display')" Admins "the user's groups"
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	sc PATCH "/Groups/$gid" "$(patch_body "[{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"$uid\"}]}]")"
	sc_expect 200
	expect_eq "$(sc_job_user 3 | jq -c .roles)" '["viewer"]' "removed: back to the default role"
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	# Okta's group push: replace the member list
	sc PATCH "/Groups/$gid" "$(patch_body "[{\"op\":\"replace\",\"path\":\"members\",\"value\":[{\"value\":\"$uid\"}]}]")"
	expect_eq "$(sc_job_user 4 | jq -c .roles)" '["admin"]'
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	# a new mapping re-plans every user
	admin PATCH /v1/integrations/okta '{"role_mapping":{"Admins":["admin","member"]}}'
	sc_expect 200
	expect_eq "$(sc_job_user 5 | jq -c .roles)" '["admin","member"]' "after the mapping changed"
	# a member that is not a user of the integration
	sc PATCH "/Groups/$gid" "$(patch_body '[{"op":"add","path":"members","value":[{"value":"nobody"}]}]')"
	sc_expect_error 400 invalidValue 'member "nobody" is not a user'
	# deleting the group takes its roles away
	co_sql "$SC_WD" "update jobs set status='completed', attempt=1"
	sc DELETE "/Groups/$gid"
	expect_eq "$(sc_job_user 6 | jq -c .roles)" '["viewer"]' "group deleted"
}

t_scim_discovery_says_what_is_supported() {
	sc_setup
	sc GET /ServiceProviderConfig
	sc_expect 200
	expect_eq "$(jqb '[.patch.supported, .bulk.supported, .filter.supported, .sort.supported, .changePassword.supported, .etag.supported] | map(tostring) | join(",")')" \
		"true,false,true,false,false,false"
	expect_eq "$(jqb '.authenticationSchemes[0].type')" oauthbearertoken
	sc GET /ResourceTypes
	expect_eq "$(jqb '[.Resources[].endpoint] | join(",")')" "/Users,/Groups"
	sc GET /ResourceTypes/User
	expect_eq "$(jqb '[.schemaExtensions[].schema] | join(",")')" \
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User"
	sc GET /Schemas
	expect_eq "$(jqb .totalResults)" 4
	sc GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User
	sc_expect 200
	expect_eq "$(jqb '.attributes[] | select(.name == "userName") | [.required, .uniqueness] | map(tostring) | join(",")')" "true,server"
	expect_eq "$(jqb '.attributes[] | select(.name == "password") | .returned')" never
	sc GET /Schemas/urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User
	expect_eq "$(jqb '[.attributes[].mutability] | unique | join(",")')" readOnly
	sc POST /Schemas '{}'
	sc_expect 405
}

# The whole loop on a real worker and Chromium: SCIM create -> invite on
# the acme fixture -> the state comes back on the SCIM resource and in
# the Users table; deactivate -> removal -> deleted.
t_scim_state_follows_the_worker() {
	sc_setup "\"account\":{\"base_url\":\"$FX_URL/acme\",\"username\":\"admin@acme.test\",\"password\":\"acme-admin-pw\"}"
	fx acme reset >/dev/null 2>&1
	sc POST /Users "$(okta_user scim.loop@example.com 00u-loop)"
	sc_expect 201
	id=$(jqb .id)
	IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator "$SC_URL" --slots 1 --browser "$CHROME_HTTP" \
		--db "$SC_WD/wk.db" --runs-dir "$SC_WD/runs" --scripts "$ROOT/scripts/apps" --poll-s 1 \
		>"$SC_WD/wk.out" 2>"$SC_WD/wk.err" &
	wk=$!
	trap 'kill -TERM $wk 2>/dev/null; wait $wk 2>/dev/null; sc_teardown' EXIT
	state() { sc GET "/Users/$id"; jqb '."urn:idlcm:params:scim:schemas:extension:provisioning:2.0:User".state'; }
	for _ in $(seq 1 300); do
		s=$(state); case "$s" in onboarded|pending_user_claim|pending_user_login|invite_failed) break;; esac
		sleep 0.2
	done
	case "$s" in onboarded|pending_user_claim|pending_user_login) ;; *)
		fail "after the invite the state is \"$s\"; worker: $(tail -5 "$SC_WD/wk.err")";; esac
	fx acme state | jq -e '.users[] | select(.email == "scim.loop@example.com")' >/dev/null ||
		fail "the user is not in the app: $(fx acme state)"
	expect_eq "$(curl -fsS "$SC_URL/v1/integrations/okta/users" | jq -r '.users[] | select(.user == "scim.loop@example.com") | .state')" "$s"
	expect_eq "$(co_sql "$SC_WD" "select upstream_id from users where user_key='scim.loop@example.com'")" 00u-loop "upstream id"
	sc PATCH "/Users/$id" "$(patch_body '[{"op":"replace","value":{"active":false}}]')"
	for _ in $(seq 1 300); do
		s=$(state); case "$s" in deleted|delete_failed) break;; esac
		sleep 0.2
	done
	expect_eq "$s" deleted "after the deactivation; worker: $(tail -5 "$SC_WD/wk.err")"
	fx acme state | jq -e '[.users[] | select(.email == "scim.loop@example.com")] | length == 0' >/dev/null ||
		fail "the user is still in the app"
}

# Okta creates a user and pushes a group a second later: the update must
# wait for the invite, not run beside it on a second slot.
t_scim_jobs_of_one_user_never_run_at_once() {
	sc_setup '"role_mapping":{"Admins":"admin"}'
	sc POST /Users "$(okta_user serial@example.com)"
	uid=$(jqb .id)
	sc POST /Users "$(okta_user other@example.com)"
	claim() { curl -s -o "$SC_WD/c" -w '%{http_code}' -X POST -d "{\"worker\":\"$1\",\"capacity\":4,\"wait_s\":0}" "$SC_URL/v1/claim"; }
	expect_eq "$(claim w1)" 200 "first claim"
	expect_eq "$(jq -r '[.jobs[].user.email] | sort | join(",")' "$SC_WD/c")" "other@example.com,serial@example.com"
	invite=$(jq -r '.jobs[] | select(.user.email == "serial@example.com") | .id' "$SC_WD/c")
	sc POST /Groups "{\"displayName\":\"Admins\",\"members\":[{\"value\":\"$uid\"}]}"
	sc_expect 201
	expect_eq "$(sc_jobs | tail -1)" "update:queued:serial@example.com"
	expect_eq "$(claim w2)" 204 "the update waits while the invite runs"
	curl -fsS -X POST -d '{"outcome":"ok","state":"onboarded"}' "$SC_URL/v1/jobs/$invite/complete" >/dev/null
	expect_eq "$(claim w2)" 200 "the update after the invite finished"
	expect_eq "$(jq -r '.jobs[0] | .action + " " + (.user.roles | join(","))' "$SC_WD/c")" "update admin"
}
