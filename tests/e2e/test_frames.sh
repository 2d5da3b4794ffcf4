# Frames from other sites (out-of-process iframes: targets of their own,
# reached through flat auto-attached sessions) and table() options — issue
# 12 points 4 and 6.  Fixture pages: tests/fixtures/apps/xframes/ (127.0.0.1
# frames localhost and back: different sites, so each frame is an OOPIF);
# the cases: tests/e2e/scripts/frames12.lua.
FR_SCRIPT="$ROOT/tests/e2e/scripts/frames12.lua"

# frames CASE [ARGS…]: run one case (list_users) with --json.
frames() {
	c=$1; shift
	agent run "$FR_SCRIPT" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs.fr" --json \
		--account "{\"base_url\":\"$FX_URL/xframes\",\"case\":\"$c\",\"devtools_port\":$(fr_devtools_port)}" "$@"
	LAST=$(printf '%s\n' "$OUT" | tail -1)
}
fr_devtools_port() { printf '%s' "$CHROME_HTTP" | sed 's/.*://'; }
fr_port() { printf '%s' "$FX_URL" | sed 's/.*://'; }

# page:frame(sel) on a cross-origin frame below the fold: fill, a click at
# the frame's offset in the page (the frame only counts trusted clicks), a
# text read; and the frame really is a target of type iframe of its own.
t_frames_oopif_by_frame() {
	frames frame
	expect_rc 0
	expect_err "out: clicked by Ann in localhost:$(fr_port)"
	expect_err "oopif targets: 1 (localhost child.html)"
}

# The same through one selector with >> enter-frame.
t_frames_oopif_by_enter_frame() {
	frames chain
	expect_rc 0
	expect_err "out: clicked by Bo in localhost:$(fr_port)"
	expect_err "count: 2"
	expect_err "oopif targets: 1"
}

# localhost inside 127.0.0.1 inside localhost: two frames, two targets.
t_frames_oopif_nested() {
	frames nested
	expect_rc 0
	expect_err "out: clicked by Cy in 127.0.0.1:$(fr_port)"
	expect_err "middle: middle frame"
	expect_err "oopif targets: 2"
}

# The frame is added after the page loaded: the action waits for it.
t_frames_oopif_that_loads_late() {
	frames late
	expect_rc 0
	expect_err "out: clicked by Di in localhost:$(fr_port)"
}

# A frame from another site fetches the DevTools endpoint by itself: the
# page's interception does not see that process's requests; the guard's
# session on the frame's own target does, fails it and stops the job.
t_frames_guard_covers_oopif() {
	frames guard
	expect_rc 1
	expect_err "the job is stopped: a page of the job tried to load http://127.0.0.1:$(fr_devtools_port)/json/list, which a job may not reach"
}

# table() options on xframes/table.html: the header is row 2 (row 1 holds
# controls), a footer row is skipped by selector, rows filtered by a
# selector and a Lua predicate; screen-reader-only text is left out of the
# cells unless hidden_text; each row has its id, class, links and boxes.
t_frames_table_options() {
	frames table
	expect_rc 0
	expect_err "plain rows: 5"
	expect_err "headers: |Email|Name|Status"
	expect_err "row row-u1 class=member active email=ann@t.test name=Ann Lee status=Active href=$FX_URL/xframes/users/u1 checked=true data-id=u1"
	expect_err "row row-u2 class=member email=bob@t.test name=Bob Roe status=Invited href=mailto:bob@t.test checked=false data-id=u2"
	printf '%s' "$ERR" | grep -q "row nil" && fail "the footer row was not skipped"
	expect_err "filtered: 1 ann@t.test"
	expect_err "with hidden text: Ann Lee (you) / Status: Invited"
}

# Hooli (tests/fixtures/apps/hooli, scripts/apps/hooli.lua): the invite form
# is a widget from another site in an iframe; the whole contract through
# `idlcm-agent run`, checked against the fixture's state.
hooli() {
	action=$1; shift
	agent run "$ROOT/scripts/apps/hooli.lua" "$action" --json --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs.hooli" \
		--account "{\"base_url\":\"$FX_URL/hooli\",\"username\":\"ops@hooli.test\",\"password\":\"hooli-ops-pw\"}" "$@"
	LAST=$(printf '%s\n' "$OUT" | tail -1)
}
hooli_user() { fx hooli state | jq -c --arg e "$1" '[.users[] | select(.email == $e) | [.status, .roles, .name]]'; }

t_frames_hooli_app_end_to_end() {
	fx hooli reset >/dev/null
	hooli list_users
	expect_rc 0
	expect_eq "$(printf '%s' "$LAST" | jq -c '[.users[] | [.email, .roles, .state, .app_id]]')" \
		'[["gavin@hooli.test",["admin"],"onboarded","u1"],["jared@hooli.test",["member"],"onboarded","u2"],["monica@hooli.test",["viewer"],"pending_user_claim","u3"]]' \
		"users read with table() options (no toolbar, header or footer row, no screen-reader text)"
	hooli invite --user '{"email":"dinesh@hooli.test","display_name":"Dinesh C","roles":["admin"]}'
	expect_rc 0
	expect_eq "$(hooli_user dinesh@hooli.test)" '[["invited",["admin"],"Dinesh C"]]' "invited through the cross-origin widget"
	# the app's refusal comes back through the widget (an address the
	# agent takes but the app does not: a one-label domain)
	hooli invite --user '{"email":"erlich@hooli","roles":["admin"]}'
	expect_rc 1
	expect_err 'Hooli refused the invite: invalid email "erlich@hooli"'
	# the evidence has the widget's document, saying which frame it is
	ev=$(printf '%s' "$LAST" | jq -r .artifacts)
	grep -l 'a frame from another site' "$ev"/frame-*.html >/dev/null 2>&1 ||
		fail "no snapshot of the cross-origin frame in $ev: $(ls "$ev")"
	grep -q 'invalid email' $(grep -l 'a frame from another site' "$ev"/frame-*.html) ||
		fail "the frame's snapshot lacks the widget's error"
	[ -s "$ev/page.html" ] || fail "no page.html in $ev"
	expect_eq "$(hooli_user erlich@hooli)" '[]' "refused"
	hooli update --user '{"email":"jared@hooli.test","roles":["viewer"]}'
	expect_rc 0
	expect_eq "$(hooli_user jared@hooli.test)" '[["active",["viewer"],"Jared Dunn"]]' "role changed"
	hooli remove --user '{"email":"monica@hooli.test"}'
	expect_rc 0
	expect_eq "$(hooli_user monica@hooli.test)" '[]' "removed"
}

# `check` knows the frame scope's wait_for_any (hooli.lua uses it) and still
# refuses a page-style call on a frame scope.
t_frames_check_knows_frame_methods() {
	agent check "$ROOT/scripts/apps/hooli.lua"
	expect_rc 0
	cat >"$WORK/bad_frame.lua" <<'LUA'
local app = {}
function app.login(page, account) end
function app.list_users(page)
  local w = page:frame("iframe")
  w:wait_for_any({ ok = ".done" })
  w:click(".send")
  return {}
end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
LUA
	agent check "$WORK/bad_frame.lua"
	expect_rc 1
	expect_out 'w:click() — a frame scope is not an element'
	printf '%s' "$OUT" | grep -q 'wait_for_any' && fail "check refused frame:wait_for_any"
	true
}

# The same cross-origin invite as a coordinator job run by the worker
# (helpers of test_worker.sh: wk_setup, wk_start, wait_done, ustate).
t_frames_hooli_invite_in_the_worker() {
	fx hooli reset >/dev/null
	wk_setup
	wk_start
	acc=$(printf '{"base_url":"%s/hooli","username":"ops@hooli.test","password":"hooli-ops-pw"}' "$FX_URL")
	id=$(curl -fsS -X POST -H 'content-type: application/json' "$CO_URL/v1/jobs" -d \
		"{\"integration\":\"hooli-prod\",\"app\":\"hooli\",\"action\":\"invite\",\"account\":$acc,
		  \"user\":{\"email\":\"richard@hooli.test\",\"roles\":[\"member\"]}}" | jq -r .id)
	wait_done "$id" 90
	expect_eq "$(jobf "$id" .status)" completed "job status ($(jobf "$id" .error))"
	expect_eq "$(ustate hooli-prod richard@hooli.test)" pending_user_claim "the user's state"
	expect_eq "$(hooli_user richard@hooli.test)" '[["invited",["member"],null]]' "in the app"
}

# Nothing matches inside the frame from another site: the usual timeout,
# naming the whole selector, class script (the frame's page had loaded).
t_frames_oopif_missing_element_message() {
	frames missing
	expect_rc 1
	expect_eq "$(printf '%s' "$LAST" | jq -r .error.message)" \
		'timeout 1500 ms waiting for "#x >> enter-frame >> #nope" to be visible (click, step 2 of list_users): no element matches the selector yet' \
		"error message"
	expect_eq "$(printf '%s' "$LAST" | jq -r .error.class)" script "error class"
}

# A native dialog opened by a frame from another site arrives on the
# frame's own session: the page's on_dialog policy answers it there too
# (the old agent left it open and the frame blocked).
t_frames_oopif_dialog_answered() {
	frames dialog
	expect_rc 0
	expect_err "first: confirmed: true"
	expect_err "then: confirmed: false"
}

# The page's network calls see responses fetched inside a frame from
# another site (its own process and session): on a click, and as a frame
# that attached after the wait was armed loads.
t_frames_oopif_responses() {
	frames response
	expect_rc 0
	expect_err "clicked: 200 2 users, first ann@xframes.test from localhost:$(fr_port)"
	expect_err "on load: 200 2 users"
}
