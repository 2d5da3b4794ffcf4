# Issue 12 points 1 and 5: locators by what a person sees (get_by_role,
# get_by_label, …, role=/label=/testid= parts in chains) and retrying
# assertions (expect, wait_for_url, click{wait_for_navigation}).  Fixture
# pages: tests/fixtures/apps/locators/; the cases: tests/e2e/scripts/locators.lua.
LOC_SCRIPT="$ROOT/tests/e2e/scripts/locators.lua"

# loc CASE [ARGS…]: run one case of locators.lua (list_users) with --json.
loc() {
	c=$1; shift
	agent run "$LOC_SCRIPT" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs.loc" --json \
		--account "{\"base_url\":\"$FX_URL/locators\",\"case\":\"$c\"}" "$@"
	LAST=$(printf '%s\n' "$OUT" | tail -1)
}
loc_ok() { expect_rc 0; expect_out "\"$1@locators.test\""; }
loc_class() { expect_eq "$(printf '%s' "$LAST" | jq -r .error.class)" "$1" "error class"; }
loc_msg() { printf '%s' "$LAST" | jq -r .error.message | grep -qF -- "$1" || fail "error message lacks: $1"; }

# Implicit roles of native elements, accessible names from aria-labelledby,
# aria-label, <label>, content, title, placeholder and value; elements hidden
# from assistive technology are excluded unless include_hidden.
t_locators_roles_and_accessible_names() {
	loc roles_names; loc_ok roles_names
}

# get_by_label / placeholder / text / title / alt_text / test_id (and a
# configured test id attribute) drive fill, select_option, check, text.
t_locators_finders_drive_actions() {
	loc roles_finders; loc_ok roles_finders
}

# get_by_* on locators (scoped) and on frame scopes.
t_locators_scoped_and_in_frames() {
	loc roles_scoped; loc_ok roles_scoped
}

# role=…[name=…], label=, testid=, placeholder=, alt=, title= inside " >> "
# chains; bad parts are errors naming the problem.
t_locators_selector_parts_in_chains() {
	loc roles_chains; loc_ok roles_chains
}

# Strict mode: a role locator matching two elements fails the action,
# naming the count, class script.
t_locators_strict_mode_names_the_count() {
	loc roles_strict
	expect_rc 1; loc_class script
	loc_msg 'strict mode violation: "role=button[name="Remove"]" resolved to 2 elements: <button class="rm">Remove</button>'
}

# Every assertion passes after a change that comes 500 ms later.
t_expect_waits_for_delayed_changes() {
	loc later_expect; loc_ok later_expect
}

# A failing assertion fails the job with expected and received.
t_expect_failure_shows_expected_and_received() {
	loc later_count
	expect_rc 1; loc_class transient
	loc_msg 'expect(get_by_role("row", {name="carol"})):to_have_count(1) failed after 800 ms: expected 1, received 0 (expect, step'
	# the assertion is a step of the evidence, about its locator
	steps="$(printf '%s' "$LAST" | jq -r .artifacts)/steps.json"
	expect_eq "$(jq -r '[.steps[] | select(.name == "to_have_count")][0] | "\(.target) \(.ok)"' "$steps")" \
		'role=row[name="carol"] false' "the to_have_count step"
	loc later_messages; loc_ok later_messages
}

# wait_for_url (glob, regex), click{wait_for_navigation} for a new document
# and for a same-document change, expect(page):to_have_url, and failures.
t_wait_for_url_and_navigation() {
	loc later_nav; loc_ok later_nav
}

# `check` knows every new method and flags misspelt ones.
t_check_knows_locator_methods() {
	cat >"$WORK/loc-good.lua" <<'LUA'
local app = { name = "Good" }
function app.login(page, account)
  page:navigate(account.base_url)
  page:get_by_label("Email"):fill(account.username)
  page:get_by_role("button", { name = "Sign in" }):click({ wait_for_navigation = true })
  page:wait_for_url("**/users")
end
function app.list_users(page)
  expect(page:get_by_role("row")).never:to_have_count(0)
  return {}
end
function app.invite(page, user)
  local form = page:frame("iframe#invite")
  form:get_by_placeholder("Email"):fill(user.email)
  form:get_by_role("button", { name = "Invite", exact = true }):click()
  expect(form:get_by_text("Invitation sent")):to_be_visible()
  expect(page):to_have_url("**/users")
  return { state = "pending_user_claim" }
end
function app.update(page, user)
  local row = page:get_by_role("row", { name = user.email })
  row:get_by_title("Role"):select_option(user.roles[1])
  expect(row:get_by_test_id("role")):to_have_text(user.roles[1])
end
function app.remove(page, user)
  page:set_test_id_attribute("data-qa")
  page:get_by_alt_text("Remove"):click()
  expect(page:get_by_role("row", { name = user.email })).not_:to_be_visible()
end
return app
LUA
	agent check "$WORK/loc-good.lua"
	expect_rc 0
	cat >"$WORK/loc-typos.lua" <<'LUA'
local app = { name = "Typos" }
function app.login(page, account) end
function app.invite(page, user) return { state = "onboarded" } end
function app.update(page, user) end
function app.remove(page, user) end
function app.list_users(page)
  page:get_by_rol("button"):click()
  page:get_by_role("button", { name = "Save" }):clik()
  page:locator("form"):get_by_label("Email"):fil("x")
  page:frame("iframe"):get_by_text("Go"):click()
  expect(page:get_by_text("Saved")):to_have_txt("Saved")
  expect(page:get_by_text("Saved")).never:to_be_visibel()
  expect(page):to_have_url("**/users")
  page:wait_for_url("**/users")
  page:get_by_test_id("x"):click({ wait_for_navigation = true })
  page:get_by_role("button", "Save"):click()
  return {}
end
return app
LUA
	agent check "$WORK/loc-typos.lua"
	expect_rc 1
	expect_out 'page:get_by_rol() — Page has no method "get_by_rol" (did you mean "get_by_role"?)'
	expect_out ':clik() — Locator has no method "clik" (did you mean "click"?)'
	expect_out ':fil() — Locator has no method "fil"'
	expect_out 'expect(…):to_have_txt() — Expect has no method "to_have_txt" (did you mean "to_have_text"?)'
	expect_out 'expect(…).never:to_be_visibel() — Expect has no method "to_be_visibel" (did you mean "to_be_visible"?)'
	expect_out 'get_by_role("button", "Save") — the name goes in the options: get_by_role("button", { name = "Save" })'
	expect_out 'check: 6 problems'

}
