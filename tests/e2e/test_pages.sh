# The coordinator's admin pages, read and pressed by idlcm itself: a Lua
# script (tests/e2e/scripts/admin_pages.lua) signs in to the pages in the
# shared headless Chromium and checks what a person sees after real jobs ran
# on the acme fixture through the coordinator and a worker.  Uses the
# coordinator/worker helpers of test_worker.sh (wk_setup, wk_start, enq, …).

PG_PW=admin-pages-pw-0

# pg_setup: a coordinator serving the pages (password file 0600, the
# worker's runs dir under --artifacts-dir) and a worker.
pg_setup() {
	WD=$(mktemp -d "$WORK/pg-XXXXXX")
	printf '%s\n' "$PG_PW" >"$WD/admin.pw"
	chmod 600 "$WD/admin.pw"
	CO_PORT=0
	CO_ARGS="--admin-password-file $WD/admin.pw --artifacts-dir $WD ${PG_CO_ARGS:-}"
	trap wk_teardown EXIT
	co_start
}

# pg_login: a signed-in cookie jar in $WD/cj; sets CSRF (from a page).
# other_token TOKEN: the token with its last digit changed
other_token() { case $1 in *0) printf '%s1' "${1%?}";; *) printf '%s0' "${1%?}";; esac; }

# signin_token: GET the sign-in form into the jar $WD/cj; prints its token
signin_token() {
	curl -fsS -c "$WD/cj" "$CO_URL/admin/sign-in" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p'
}

pg_login() {
	t=$(signin_token)
	curl -fsS -b "$WD/cj" -c "$WD/cj" -o /dev/null -d "csrf=$t&password=$PG_PW" "$CO_URL/admin/sign-in" ||
		fail "sign-in with curl failed"
	CSRF=$(curl -fsS -b "$WD/cj" "$CO_URL/admin/integrations" |
		sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
	[ -n "$CSRF" ] || fail "no CSRF token in the page"
}

# admin_script ACCOUNT-JSON-EXTRA: run the page-driving script (list_users)
admin_script() {
	agent run "$ROOT/tests/e2e/scripts/admin_pages.lua" list_users --json \
		--account "{\"base_url\":\"$CO_URL\",\"password\":\"$PG_PW\"${1:+,$1}}" \
		--browser "$CHROME_HTTP" --runs-dir "$WD/script-runs" --timeout 240000
}

t_pages_admin_round_trip() {
	fx acme reset >/dev/null
	pg_setup
	wk_start
	# what an IdP would have asked for, through the admin JSON API
	a=$(enq acme-prod invite '{"email":"ada@example.com","roles":["member"],"upstream_id":"okta-ada"}')
	b=$(enq acme-prod invite '{"email":"alice@acme.test","roles":["admin"],"upstream_id":"okta-alice"}')
	c=$(enq acme-prod update '{"email":"bob@acme.test","roles":["admin"],"upstream_id":"okta-bob"}')
	d=$(enq acme-prod remove '{"email":"carol@acme.test","upstream_id":"okta-carol"}')
	PW=wrong-password
	e=$(enq acme-bad invite '{"email":"eve@example.com","roles":["member"]}')
	PW=
	for x in $a $b $c $d $e; do wait_done "$x" 120; done
	# users the coordinator expects that the app does not have: the next
	# sync would delete 3 of 6 (50% > 20%), so the safeguard halts it
	for g in ghost1 ghost2 ghost3; do
		co_sql "$WD" "insert into users (integration, user_key, email, upstream_id, state, roles, changed_ms)
			values ('acme-prod', '$g@example.com', '$g@example.com', 'okta-$g', 'onboarded', '[\"member\"]', 1)"
	done
	# one integration per status of the product, as the Integrations page lists them
	for s in under_validation under_review validating validated validation_failed in_progress \
		failed retrying up_to_date; do
		co_sql "$WD" "insert into integrations (id, app, status, updated_ms)
			values ('st-$s', 'acme', '$s', 1)"
	done
	# 10,000 users: the Users tab pages them on the server
	co_sql "$WD" "insert into integrations (id, app, status, updated_ms) values ('big', 'acme', 'up_to_date', 1);
		with recursive k(i) as (select 1 union all select i + 1 from k where i < 10000)
		insert into users (integration, user_key, email, state, roles, changed_ms)
		select 'big', 'user' || substr(cast(100000 + i as text), 2) || '@big.test',
			'user' || substr(cast(100000 + i as text), 2) || '@big.test',
			case when i % 10 = 0 then 'update_failed' else 'onboarded' end, '[\"member\"]', 1 from k"

	admin_script
	expect_rc 0
	# what the script read in the Users table at the end, as a person sees it
	row() { printf '%s' "$OUT" | jq -r --arg u "$1" '.. | objects | select(.email? == $u) | .seen' | head -1; }
	expect_eq "$(row ada@example.com)" "Pending user claim" "ada (older names)"
	expect_eq "$(row carol@acme.test)" "Removed" "carol"
	expect_eq "$(row ghost1@example.com)" "Removed" "ghost1 after the approved sync"
	expect_eq "$(row alice@acme.test)" "Removed" "alice removed from the page"
	expect_eq "$(row dave@acme.test)" "Exempted" "dave exempted from the page"
	# and the app agrees: the page's Remove reached the fixture
	expect_eq "$(fx acme state | jq -r '[.users[] | select(.email == "alice@acme.test")] | length')" 0 \
		"alice gone from the app"
	# the jobs the pages enqueued say who asked
	expect_eq "$(co_sql "$WD" "select count(*) from jobs where action = 'sync' and origin = 'web app'")" 2 \
		"Sync now + approval"
	expect_eq "$(co_sql "$WD" "select origin from jobs where action = 'remove' and user_key = 'alice@acme.test'")" \
		"web app" "remove from the page"
}

t_pages_signin_and_csrf() {
	pg_setup
	# no session: pages redirect to the sign-in, actions are refused
	expect_eq "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$CO_URL/admin/jobs")" \
		"303 $CO_URL/admin/sign-in?next=%2Fadmin%2Fjobs" "redirect"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$CO_URL/admin/integrations/x/sync")" 401 "post"
	# the sign-in form itself: its token must match its cookie (no login CSRF)
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -d "password=$PG_PW" "$CO_URL/admin/sign-in")" 403 \
		"sign-in without the form's token"
	t=$(signin_token)
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" -d "csrf=$(other_token "$t")&password=$PG_PW" \
		"$CO_URL/admin/sign-in")" 403 "sign-in with another token"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" -d "csrf=$t&password=nope" \
		"$CO_URL/admin/sign-in")" 401 "wrong password"
	# the session cookie: HttpOnly, SameSite=Strict
	h=$(curl -s -D - -o /dev/null -b "$WD/cj" -d "csrf=$t&password=$PG_PW" "$CO_URL/admin/sign-in")
	printf '%s' "$h" | grep -qi '^set-cookie: idlcm_admin=[0-9a-f]\{64\}; Path=/admin; HttpOnly; SameSite=Strict' ||
		fail "cookie: $h"
	pg_login
	enq acme-prod list_users >/dev/null
	# a form without the CSRF token (or with another) changes nothing
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" -X POST "$CO_URL/admin/integrations/acme-prod/sync")" \
		403 "no csrf"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" -d "csrf=$(other_token "$CSRF")" \
		"$CO_URL/admin/integrations/acme-prod/sync")" 403 "wrong csrf"
	expect_eq "$(co_sql "$WD" "select count(*) from jobs where action = 'sync'")" 0 "nothing enqueued"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" -d "csrf=$CSRF" \
		"$CO_URL/admin/integrations/acme-prod/sync")" 303 "with csrf"
	expect_eq "$(co_sql "$WD" "select origin from jobs where action = 'sync'")" "web app" "enqueued"
	# a redirect back only to our own pages
	expect_eq "$(curl -s -o /dev/null -w '%{redirect_url}' -b "$WD/cj" -d "csrf=$CSRF&back=//evil.test/x" \
		"$CO_URL/admin/integrations/acme-prod/sync")" "$CO_URL/admin/jobs" "no open redirect"
	# an artifact the job does not reference, or outside --artifacts-dir, is not served
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" "$CO_URL/admin/jobs/j1/artifacts/..%2Fco.db")" 404 "traversal"
	# signing out ends the session
	curl -s -o /dev/null -b "$WD/cj" -d "csrf=$CSRF" "$CO_URL/admin/sign-out"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" "$CO_URL/admin/jobs")" 303 "signed out"
	kill "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	# a password file others can read is refused, like the token files
	chmod 644 "$WD/admin.pw"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$WD/co2.db" --admin-password-file "$WD/admin.pw" \
		>"$WD/co2.out" 2>"$WD/co2.err"
	RC=$?; OUT=$(cat "$WD/co2.out"); ERR=$(cat "$WD/co2.err")
	expect_rc 2
	expect_err "can be read by group"
}

t_pages_daily_sync_scheduler() {
	PG_CO_ARGS="--sync-every-s 1"
	pg_setup
	enq acme-prod list_users >/dev/null
	# no worker: the sync jobs wait in the queue, one at a time
	for _ in $(seq 1 50); do
		[ "$(co_sql "$WD" "select count(*) from jobs where action = 'sync'")" -ge 1 ] && break
		sleep 0.1
	done
	expect_eq "$(co_sql "$WD" "select origin || ' ' || integration from jobs where action = 'sync'")" \
		"daily sync acme-prod" "the scheduler enqueued a sync"
	sleep 2.5
	expect_eq "$(co_sql "$WD" "select count(*) from jobs where action = 'sync'")" 1 \
		"one sync at a time while the first waits"
	pg_login
	curl -fsS -b "$WD/cj" "$CO_URL/admin/jobs" | grep -q '<td>sync</td><td></td><td>daily sync</td>' ||
		fail "the Jobs page does not show the daily sync"
}

# pg_scim METHOD PATH [BODY]: an IdP's SCIM call to integration okta-acme
pg_scim() {
	S=$(curl -s -o "$WD/scim.out" -w '%{http_code}' -X "$1" -H "authorization: Bearer $SCIM_TOKEN" \
		-H 'content-type: application/scim+json' ${3:+--data-binary "$3"} "$CO_URL/scim/v2/okta-acme$2")
}

# pg_last_job: waits for the integration's newest job to finish
pg_last_job() {
	j=$(co_sql "$WD" "select id from jobs where integration = 'okta-acme' order by n desc limit 1")
	[ -n "$j" ] || fail "no job was queued"
	wait_done "$j" 120
	expect_eq "$(jobf "$j" '.action + " " + .status')" "$1 completed" "SCIM job $j"
}

t_pages_scim_round_trip() {
	fx acme reset >/dev/null
	pg_setup
	wk_start
	curl -fsS -o "$WD/integ.json" -H 'content-type: application/json' -d "{\"id\":\"okta-acme\",\"app\":\"acme\",
		\"account\":$(account),\"role_mapping\":{\"Admins\":\"admin\"},\"default_roles\":[\"member\"]}" \
		"$CO_URL/v1/integrations" || fail "cannot create the integration"
	SCIM_TOKEN=$(jq -r .scim_token "$WD/integ.json")
	# Okta: test the connection, look the user up, create, group push, deprovision
	pg_scim GET '/Users?startIndex=1&count=2'
	expect_eq "$S" 200 "connection test"
	pg_scim POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"ada.scim@example.com","externalId":"00u-ada","active":true,
		"name":{"givenName":"Ada","familyName":"Lovelace"},"displayName":"Ada Lovelace",
		"emails":[{"primary":true,"value":"ada.scim@example.com","type":"work"}]}'
	expect_eq "$S" 201 "create"
	uid=$(jq -r .id "$WD/scim.out")
	pg_last_job invite
	pg_scim POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],
		\"displayName\":\"Admins\",\"members\":[{\"value\":\"$uid\"}]}"
	expect_eq "$S" 201 "group push"
	pg_last_job update
	expect_eq "$(fx acme state | jq -r '.users[] | select(.email == "ada.scim@example.com") | .roles | join(",")')" \
		admin "the app has the role the group maps to"
	pg_scim PATCH "/Users/$uid" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}'
	expect_eq "$S" 200 "deprovision"
	pg_last_job remove
	agent run "$ROOT/tests/e2e/scripts/admin_scim.lua" list_users --json \
		--account "{\"base_url\":\"$CO_URL\",\"password\":\"$PG_PW\",\"integration\":\"okta-acme\",
			\"email\":\"ada.scim@example.com\",\"upstream_id\":\"00u-ada\"}" \
		--browser "$CHROME_HTTP" --runs-dir "$WD/script-runs" --timeout 120000
	expect_rc 0
	expect_eq "$(printf '%s' "$OUT" | jq -r '.. | objects | select(.email? == "ada.scim@example.com") | .seen' | head -1)" \
		Deleted "what the admin sees at the end"
}
