# Issue 8, the page side: a click counts only when it lands, error classes
# and hints that tell the operator what to do, no secret in the evidence,
# scopes that refuse misuse, a deterministic wait_for_any.  Fixture pages:
# tests/fixtures/apps/trustpage/; the cases: tests/e2e/scripts/trust_page.lua.
TP_SCRIPT="$ROOT/tests/e2e/scripts/trust_page.lua"
TP_PW='tp-Account-Secret-9'
TP_TYPED='Typed-Only-Secret-7'

# trust CASE [ARGS…]: run one case of trust_page.lua (list_users) with --json.
trust() {
	c=$1; shift
	agent run "$TP_SCRIPT" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs.tp" --json \
		--account "{\"base_url\":\"$FX_URL/trustpage\",\"case\":\"$c\",\"password\":\"$TP_PW\",\"typed_password\":\"$TP_TYPED\"}" "$@"
	LAST=$(printf '%s\n' "$OUT" | tail -1)
}
tp_ok() { expect_rc 0; expect_out "\"$1@trust.test\""; }
tp_class() { expect_eq "$(printf '%s' "$LAST" | jq -r .error.class)" "$1" "error class"; }
tp_msg() { printf '%s' "$LAST" | jq -r .error.message | grep -qF -- "$1" || fail "error message lacks: $1"; }

# The first mouse move pushes the controls down under a banner: each action
# is checked, lands on the banner, is cancelled there and retried, and its
# own handler runs exactly once (the old agent clicked the banner, ok).
t_click_lands_after_layout_shift() {
	trust shift_click; tp_ok shift_click
	trust shift_dblclick; tp_ok shift_dblclick
	trust shift_check; tp_ok shift_check
	trust shift_hover; tp_ok shift_hover
}

# A sticky header covers the button until the page is scrolled: the click
# scrolls it out from under the header and lands (the old agent timed out).
t_click_scrolls_out_from_under_sticky_header() {
	trust sticky_click; tp_ok sticky_click
}

# Every press lands on a banner: the click fails after its timeout naming
# the banner, class transient, and no handler ran (the old agent said ok).
t_click_that_never_lands_names_the_cover() {
	trust cover_click
	expect_rc 1
	tp_msg 'click "#go": the click landed on div#banner (it covers the element'"'"'s point) after 1500 ms'
	tp_class transient
	# The same with a cross-origin frame as the cover (xcover.html) is not
	# asserted: with the mouse events pipelined, whether the frame shown by the
	# mousemove is hit-tested by the press depends on the renderer's timing.
	# landed() names such a frame when it sits at the point or holds the focus.
}

# Error classes: nothing ever matched on a loaded page → script (no retry);
# hidden → transient; hints for text= vs has-text= and for a stolen focus.
t_error_classes_and_hints() {
	trust focus_absent
	expect_rc 1; tp_class script
	tp_msg 'timeout 800 ms waiting for "#never-there" to be visible'
	trust focus_hidden
	expect_rc 1; tp_class transient
	tp_msg 'waiting for "#hidden" to be visible'
	trust focus_texthint
	expect_rc 1; tp_class script
	tp_msg 'no element matches "text=Save" inside "button" (3 elements); "has-text=Save" would match <button id="save">Save</button>'
	trust focus_fill
	expect_rc 1; tp_class transient
	tp_msg 'timeout 1000 ms waiting for "#email" to be focused (fill, step 1 of list_users): the focus went to input#search'
	trust focus_fill2
	expect_rc 1
	tp_msg 'fill "#email2": the text went to input#search, which had the focus, not to the field'
}

t_wait_for_any_is_deterministic() {
	trust focus_waitany; tp_ok focus_waitany
}

# frame:click("#x") and loc:click("#x") are errors naming the call, at run
# time and (statically) in `idlcm-agent check`.
t_scopes_refuse_misuse() {
	trust secret_misuse; tp_ok secret_misuse
	cat >"$WORK/misuse.lua" <<'LUA'
local app = {}
function app.login(page, account) end
function app.list_users(page)
  local form = page:frame("iframe#invite")
  form:click("#send")
  form:locator("#ok"):click()
  page:locator("iframe#invite"):fill("x", "#y")
  page:locator("iframe#invite"):click("#send")
  return {}
end
return app
LUA
	agent check "$WORK/misuse.lua"
	expect_rc 1
	expect_out 'misuse.lua:5: form:click() — a frame scope is not an element: write form:locator(sel):click(…)'
	expect_out 'misuse.lua:7: locator:fill(…, "#y") — fill takes an options table there'
	expect_out 'misuse.lua:8: locator:click(…, "#send") — click takes an options table there'
	printf '%s' "$OUT" | grep -q 'misuse.lua:6' && fail "form:locator(…):click() is fine" || true
	agent check "$ROOT/scripts/apps/globex.lua"
	expect_rc 0
}

# A SPA mirrors typed passwords into value attributes; the job fails inside
# an iframe.  page.html, frame-1.html, steps.json, cdp-frames.json, error.txt
# and report.html hold neither the account's password nor a password typed
# into a password field, and the frame's document is saved.
t_evidence_holds_no_secret() {
	trust secret_leak
	expect_rc 1
	tp_msg 'waiting for "#inner >> enter-frame >> #not-in-the-frame"'
	dir=$(printf '%s' "$LAST" | jq -r .artifacts)
	[ -d "$dir" ] || fail "no evidence folder ($dir)"
	for f in "$dir"/*; do
		case $f in *.png) continue ;; esac
		grep -qF "$TP_PW" "$f" && fail "the account password leaked into $(basename "$f")"
		grep -qF "$TP_TYPED" "$f" && fail "a typed password leaked into $(basename "$f")"
	done
	[ -f "$dir/page.html" ] || fail "no page.html"
	[ -f "$dir/frame-1.html" ] || fail "no frame-1.html for the iframe"
	grep -q 'inside the invite frame' "$dir/frame-1.html" || fail "frame-1.html lacks the frame's document"
	grep -q 'value="visible-value"' "$dir/frame-1.html" || fail "frame-1.html lacks the typed (non-secret) value"
	grep -q 'admin@trust.test' "$dir/page.html" || fail "page.html lacks the typed user name"
	agent report "$dir"
	expect_rc 0
	grep -q 'frame-1.html' "$dir/report.html" || fail "report.html lacks the frame"
	for f in "$dir"/*; do
		case $f in *.png) continue ;; esac
		grep -qF "$TP_PW" "$f" && fail "the account password leaked into $(basename "$f")"
		grep -qF "$TP_TYPED" "$f" && fail "a typed password leaked into $(basename "$f")"
	done
	printf '%s%s' "$OUT" "$ERR" | grep -qF -e "$TP_PW" -e "$TP_TYPED" && fail "a password leaked into the output"
	true
}

# The worker does not retry a selector that never matched on a loaded page
# (class script: the app or the script changed, a person must look), while
# it does retry transient errors (t_worker_chromium_killed_mid_job).  Uses
# the worker harness of test_worker.sh.
t_worker_does_not_retry_an_absent_selector() {
	fx acme reset >/dev/null
	wk_setup
	mkdir -p "$WD/scripts"
	sed 's/name = "Invite user"/name = "Invite someone"/' "$ROOT/scripts/apps/acme.lua" >"$WD/scripts/acme.lua"
	grep -q 'Invite someone' "$WD/scripts/acme.lua" || fail "could not rename the invite button in the script"
	wk_start --scripts "$WD/scripts" --action-timeout 1000 --max-tries 3
	x=$(enq changed invite '{"email":"zed@example.com","roles":["member"]}')
	wait_done "$x" 60
	expect_eq "$(jobf "$x" '.status + " " + .error.class')" "failed script" "the job"
	jobf "$x" .error.message | grep -qF 'Invite someone' ||
		fail "message: $(jobf "$x" .error.message)"
	expect_eq "$(runs_of "$x")" 1 "runs of the job (no retry)"
	jobf "$x" '[.event_log[] | select(.kind == "status") | .status] | join(" ")' | grep -q retrying &&
		fail "the integration was set to retrying" || true
	st=$(curl -fsS "$CO_URL/v1/integrations/changed" | jq -r '.status + ": " + (.detail // "")')
	case $st in "failed: a person is needed (script): "*) ;; *) fail "integration status: $st" ;; esac
}
