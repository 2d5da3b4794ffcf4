-- Issue 12 points 1 and 5 on real Chromium (tests/fixtures/apps/locators):
-- get_by_role / get_by_label / … and the role=, label=, … selector parts;
-- expect(loc):… assertions, wait_for_url and click{wait_for_navigation}.
-- account.case picks the case; list_users runs it and raises on the first
-- broken expectation, or returns one user named after the case.
local app = { can_be_empty = false }
local C

local function ok(cond, what)
  if not cond then error("locator check failed: " .. what, 2) end
end

local function eq(got, want, what)
  if got ~= want then
    error(string.format("locator check failed: %s: got %s, want %s", what, tostring(got), tostring(want)), 2)
  end
end

-- The message of the error fn raises (it must raise).
local function raises(fn, what)
  local good, e = pcall(fn)
  if good then error("locator check failed: " .. what .. " did not raise", 2) end
  return type(e) == "table" and tostring(e.message) or tostring(e), e
end

local function has(msg, part, what)
  if not msg:find(part, 1, true) then
    error(string.format("locator check failed: %s: %q lacks %q", what, msg, part), 2)
  end
end

local function hits(page) return json.decode(page:text("#hits")) end

function app.login(page, account)
  C = account
  local file = account.case:match("^(%a+)_") or account.case
  page:navigate(account.base_url .. "/" .. file .. ".html" .. (account.query or ""))
end

local cases = {}

-- Implicit roles of native elements and accessible names from every source.
function cases.roles_names(page)
  local function n(role, opts) return page:get_by_role(role, opts):count() end
  -- implicit roles
  eq(n("heading"), 4, "headings h1, h2, h3 and the dialog's h2")
  eq(n("heading", { level = 1 }), 1, "h1")
  eq(n("heading", { level = 4 }), 1, "h3 with aria-level=4")
  eq(n("link"), 2, "links: an <a> without href is none")
  eq(n("banner") + n("contentinfo") + n("navigation") + n("main") + n("form"), 5, "landmarks")
  eq(n("region"), 1, "a <section> is a region only when named")
  eq(n("row"), 3, "rows")
  eq(n("columnheader"), 3, "th in thead")
  eq(n("cell", { name = "bob@acme.test", exact = true }), 1, "cell by name")
  eq(n("textbox"), 6, "email, text, aria-label, tel, textarea, shadow input")
  eq(n("searchbox", { name = "Search people" }), 1, "type=search; name from placeholder")
  eq(n("combobox", { name = "Role", exact = true }), 1, "select; name from aria-labelledby")
  eq(n("listbox", { name = "Groups" }), 1, "select multiple")
  eq(n("checkbox", { name = "Notify by email", checked = true }), 1, "checked checkbox, <label for>")
  eq(n("checkbox", { checked = "mixed" }), 1, "indeterminate checkbox")
  eq(n("radio", { name = "Pro", exact = true }), 1, "radio")
  eq(n("tab", { selected = true, name = "General" }), 1, "selected tab")
  eq(n("menuitem", { name = "More", expanded = false }), 1, "menuitem")
  eq(n("img", { name = "Company logo" }), 1, "img alt")
  eq(n("dialog", { name = "Confirm removal of bob", exact = true }), 1, "dialog; aria-labelledby with two ids")
  -- accessible names
  eq(n("button", { name = "Invite" }), 2, "substring, case-insensitive: Invite member and Invite")
  eq(n("button", { name = "invite", exact = true }), 0, "exact is case-sensitive")
  eq(n("button", { name = "Invite", exact = true }), 1, "aria-label")
  eq(n("button", { name = "Export CSV", exact = true }), 1, "role=button div, name from its content")
  eq(n("button", { name = "Save changes" }), 1, "input type=submit: its value")
  eq(n("button", { name = "Reset", exact = true }), 1, "input type=reset: the default name")
  eq(n("button", { pressed = true }), 1, "aria-pressed")
  eq(n("button", { name = "Archived", disabled = true }), 1, "disabled")
  eq(n("button", { name = "/^(Stay|Leave team)$/" }), 2, "regular expression")
  eq(n("link", { name = "Open settings", exact = true }), 1, "aria-labelledby")
  eq(n("textbox", { name = "Email address", exact = true }), 1, "<label for>")
  eq(n("textbox", { name = "Full name", exact = true }), 1, "wrapping <label>")
  eq(n("textbox", { name = "Team code" }), 1, "aria-label")
  eq(n("textbox", { name = "Phone number" }), 1, "title")
  eq(n("textbox", { name = "A note for them" }), 1, "placeholder")
  eq(n("row", { name = "alice" }), 1, "a row is named by its cells")
  eq(n("button", { name = "Shadow action" }), 1, "inside an open shadow root")
  -- hidden from assistive technology: not matched unless include_hidden
  eq(n("button", { name = "Delete all" }), 0, "display:none, aria-hidden, hidden, visibility:hidden")
  eq(n("button", { name = "Delete all", include_hidden = true }), 4, "include_hidden")
  eq(n("button", { name = "Skip to content" }), 1, "visually hidden (sr-only) is not hidden")
  page:get_by_role("button", { name = "Invite", exact = true }):click()
  page:get_by_role("button", { name = "Export" }):click()
  local h = hits(page)
  eq(h["b-invite-icon"], 1, "the icon button got the click")
  eq(h["b-export"], 1, "the div button got the click")
  eq(h["b-invite"], nil, "Invite member did not")
end

-- get_by_label / placeholder / text / title / alt_text / test_id drive actions.
function cases.roles_finders(page)
  eq(page:get_by_label("Email"):count(), 2, "label substring: Email address and Notify by email")
  page:get_by_label("Email address", { exact = true }):fill("ada@example.com")
  eq(page:input_value("#email"), "ada@example.com", "filled through its <label for>")
  page:get_by_label("Full name"):fill("Ada Lovelace")
  eq(page:input_value("input[name=fullname]"), "Ada Lovelace", "wrapping label")
  page:get_by_label("Role"):select_option("admin")
  eq(page:input_value("select[name=role]"), "admin", "aria-labelledby select")
  page:get_by_label("Team code"):fill("T-7")
  eq(page:input_value("input[name=code]"), "T-7", "aria-label")
  page:get_by_label("Pro", { exact = true }):check()
  ok(page:is_checked("#pro"), "radio checked through its label")
  page:get_by_placeholder("Search people"):fill("bob")
  eq(page:input_value("input[name=q]"), "bob", "placeholder")
  page:get_by_title("Phone number"):fill("555")
  eq(page:input_value("input[name=phone]"), "555", "title")
  eq(page:get_by_title("Last login time"):text(), "2 days ago", "title on a span")
  eq(page:get_by_text("Pro plan"):count(), 2, "text substring: the card and the paragraph")
  eq(page:get_by_text("Pro plan", { exact = true }):text(), "Pro plan", "exact text")
  eq(page:get_by_text("unlimited"):outer_html(), "<b>unlimited</b>", "the most specific element")
  eq(page:get_by_text('say "hi" >> there'):count(), 0, "quotes and >> in a text are just text")
  eq(page:get_by_alt_text("Company logo"):count(), 1, "alt")
  eq(page:get_by_test_id("plan-card"):text(), "Pro plan", "data-testid")
  page:set_test_id_attribute("data-qa")
  eq(page:get_by_test_id("footer-qa"):text(), "Footer link area", "configured test id attribute")
  eq(page:get_by_label("Shadow field"):count(), 1, "label inside a shadow root")
end

-- Scoped: on locators (chained) and on frame scopes.
function cases.roles_scoped(page)
  page:locator("#users"):get_by_role("row", { name = "bob" }):get_by_role("button", { name = "Remove" }):click()
  page:get_by_role("row", { name = "alice" }):get_by_role("button"):click()
  local h = hits(page)
  eq(h["remove-2"], 1, "bob's Remove")
  eq(h["remove-1"], 1, "alice's Remove")
  page:get_by_role("dialog"):get_by_role("button", { name = "Cancel" }):click()
  eq(hits(page).Cancel, 1, "the dialog's Cancel")
  local f = page:frame("iframe#f")
  f:get_by_label("Frame email"):fill("x@y.test")
  f:get_by_role("button", { name = "Frame save" }):click()
  expect(f:locator("#out")):to_have_text("saved x@y.test")
  eq(page:get_by_role("button", { name = "Frame save" }):count(), 0, "the page does not look into frames")
  eq(f:get_by_role("button", { name = "Frame save" }).sel,
    'iframe#f >> enter-frame >> role=button[name="Frame save"]', "the selector built")
end

-- The same parts written by hand inside " >> " chains.
function cases.roles_chains(page)
  page:click('#users >> role=row[name=/alice/i] >> role=button[name="Remove"]')
  eq(hits(page)["remove-1"], 1, "role parts in a chain")
  page:fill("label=Email address", "bob@example.com")
  eq(page:input_value("#email"), "bob@example.com", "label= part")
  page:fill('#invite >> label="Full name"', "Bob")
  eq(page:input_value("input[name=fullname]"), "Bob", "quoted label= is exact")
  eq(page:text("testid=plan-card"), "Pro plan", "testid= part")
  page:click('role=tab[name="Security"s]')
  eq(hits(page).Security, 1, "exact role name")
  eq(page:count('role=button[name="invite"]'), 2, "name is a case-insensitive substring")
  eq(page:count('role=button[name="invite"s]'), 0, "s: exact and case-sensitive")
  eq(page:count('role=button[name="Invite"s]'), 1, "s: exact")
  eq(page:count("role=heading[level=2]"), 2, "level")
  eq(page:count("#invite >> role=textbox"), 5, "roles inside a match")
  eq(page:count("placeholder=/people$/"), 1, "placeholder= with a regex")
  eq(page:count("alt=company LOGO"), 1, "alt= is case-insensitive")
  eq(page:count("title=Phone number"), 1, "title=")
  eq(page:count("role=button[name='Delete all'][include-hidden]"), 4, "include-hidden")
  eq(page:count("role=checkbox[checked=mixed]"), 1, "checked=mixed")
  eq(page:count("role=row >> text=bob"), 1, "text= inside a role match")
  has(raises(function() page:count("role=buton") end, "an unknown role"), 'unknown role "buton"', "bad role")
  has(raises(function() page:count('role=button[nme="x"]') end, "an unknown attribute"),
    'unknown role attribute "nme"', "bad attribute")
  has(raises(function() page:get_by_role("button", "Invite") end, "a string for options"),
    'write get_by_role("button", { name = "Invite" })', "options hint")
end

-- Strict mode: an action on a locator matching two elements fails naming the count.
function cases.roles_strict(page)
  page:get_by_role("button", { name = "Remove" }):click()
end

-- Each assertion waits for a change that comes 500 ms after Start.
function cases.later_expect(page)
  local function fresh()
    page:navigate(C.base_url .. "/later.html?delay=500")
    page:click("#start")
    eq(page:text("#status"), "Waiting", "nothing changed yet")
  end
  local checks = {
    function() expect(page:get_by_role("status")):to_have_text("Done: 2 users") end,
    function() expect(page:get_by_role("status")):to_contain_text("2 users") end,
    function() expect(page:get_by_role("status")):to_have_text("/^done: \\d users$/i") end,
    function() expect(page:get_by_role("status")):to_have_text("done: 2 USERS", { ignore_case = true }) end,
    function() expect(page:get_by_role("status")).never:to_have_text("Waiting") end,
    function() expect(page:get_by_role("alert")):to_be_visible() end,
    function() expect(page:get_by_text("Loading")):to_be_hidden() end,
    function() expect(page:get_by_text("Loading")).not_:to_be_visible() end,
    function() expect(page:get_by_role("cell")):to_have_count(2) end,
    function() expect(page:get_by_role("cell")):to_have_text({ "alice@acme.test", "bob@acme.test" }) end,
    function() expect(page:get_by_label("Name")):to_have_value("Ada Lovelace") end,
    function() expect(page:get_by_role("checkbox", { name = "Agree" })):to_be_checked() end,
    function() expect(page:get_by_role("button", { name = "Send" })):to_be_enabled() end,
    function() expect(page:locator("#late")):to_have_attribute("role", "alert") end,
  }
  for _, check in ipairs(checks) do
    fresh()
    check()
  end
  fresh()
  expect(page:get_by_role("checkbox", { name = "Agree" })):to_be_checked({ checked = false })
  expect(page:get_by_role("button", { name = "Send" })):to_be_disabled()
end

-- The failure the lead's example names, as a failed job.
function cases.later_count(page)
  expect(page:get_by_role("row", { name = "carol" })):to_have_count(1, { timeout = 800 })
end

-- Messages of failing assertions: expected and received, the call as written.
function cases.later_messages(page)
  local function fails(fn, want, what)
    local msg = raises(fn, what)
    has(msg, want, what)
    has(msg, "failed after 700 ms", what)
  end
  local T = { timeout = 700 }
  fails(function() expect(page:get_by_role("status")):to_have_text("Finished", T) end,
    'expect(get_by_role("status")):to_have_text("Finished", {timeout=700}) failed after 700 ms: '
    .. 'expected "Finished", received "Waiting" (expect, step', "to_have_text")
  fails(function() expect(page:get_by_role("status")):to_contain_text("Done", T) end,
    'expected text containing "Done", received "Waiting"', "to_contain_text")
  fails(function() expect(page:get_by_role("status")).never:to_have_text("Waiting", T) end,
    'expect(get_by_role("status")).never:to_have_text("Waiting", {timeout=700}) failed after 700 ms: '
    .. 'expected not "Waiting", received "Waiting"', "never")
  fails(function() expect(page:locator("#late")):to_be_visible(T) end,
    'expect(locator("#late")):to_be_visible() failed after 700 ms: expected visible, received hidden', "visible")
  fails(function() expect(page:get_by_text("Loading")):to_be_hidden(T) end,
    'expected hidden, received visible', "hidden")
  fails(function() expect(page:get_by_label("Name")):to_have_value("Ada", T) end,
    'expected "Ada", received ""', "value")
  fails(function() expect(page:get_by_role("checkbox")):to_be_checked(T) end,
    'expected checked, received unchecked', "checked")
  fails(function() expect(page:get_by_role("button", { name = "Send" })):to_be_enabled(T) end,
    'expected enabled, received disabled', "enabled")
  fails(function() expect(page:get_by_role("cell")):to_have_text({ "alice@acme.test", "bob@acme.test" }, T) end,
    'expected {"alice@acme.test", "bob@acme.test"}, received {"alice@acme.test"}', "texts")
  -- nothing ever matched on a loaded page: class script, like wait_for
  local msg, e = raises(function() expect(page:get_by_role("alert")):to_have_text("Invitation sent", T) end,
    "absent")
  has(msg, 'expected "Invitation sent", received nothing (no element matches)', "absent")
  eq(e.kind, "selector", "an assertion on nothing is the script's problem")
  -- strict: one element wanted, two matched
  has(raises(function() expect(page:get_by_role("button")):to_be_visible(T) end, "strict"),
    'strict mode violation: "role=button" resolved to 4 elements', "strict")
  has(raises(function() expect("#x") end, "expect on a string"),
    "expect wants a locator", "expect on a string")
end

-- wait_for_url, click{wait_for_navigation}, expect(page):to_have_url.
function cases.later_nav(page)
  page:click("#go-later")
  local u = page:wait_for_url("**/nav.html?from=timer")
  has(u, "/locators/nav.html?from=timer", "wait_for_url returns the url")
  eq(page:title(), "Arrived", "the new document loaded")
  page:navigate(C.base_url .. "/later.html")
  page:get_by_role("link", { name = "Next page" }):click({ wait_for_navigation = true })
  eq(page:title(), "Arrived", "click waited for the navigation")
  page:wait_for_url("/nav\\.html\\?from=later$/")
  page:navigate(C.base_url .. "/later.html")
  page:get_by_role("button", { name = "Filter" }):click({ wait_for_navigation = true })
  has(page:url(), "later.html?filter=admins", "a same-document navigation counts")
  expect(page):to_have_url("**/later.html?filter=*")
  local msg = raises(function() page:wait_for_url("**/never.html", { timeout = 700 }) end, "wait_for_url")
  has(msg, 'timeout 700 ms waiting for the url to match "**/never.html" (wait_for_url, step', "wait_for_url fails")
  has(msg, "the page is at " .. C.base_url .. "/later.html?filter=admins", "names the url")
  msg = raises(function()
    page:click("#start", { wait_for_navigation = true, navigation_timeout = 700 })
  end, "no navigation")
  has(msg, 'timeout 700 ms waiting for the click on locator("#start") to navigate (wait_for_navigation, step',
    "click that does not navigate")
end

function app.list_users(page)
  local fn = cases[C.case]
  if not fn then error("no case " .. tostring(C.case)) end
  fn(page)
  return { { email = C.case .. "@locators.test", username = C.case, roles = { "member" } } }
end

return app
