-- Exercises the page API on the acme fixture app; list_users raises on
-- the first broken expectation and returns what it checked.
local app = {}
local checks = {}
local function expect(cond, what)
  if not cond then error("page API check failed: " .. what, 2) end
  checks[#checks + 1] = what
end

function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  expect(page:url():match("#/login$") ~= nil, "url after navigate")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  expect(page:input_value("#username") == account.username, "fill then input_value")
  page:press("#password", "Enter")          -- submits the form
  page:wait_for('table.users[data-loaded="true"]', { timeout = 5000 })
end

function app.list_users(page)
  expect(page:title() ~= "", "title")
  local rows = page:locator("table.users tbody tr")
  expect(rows:count() == 4, "count rows")
  expect(page:locator("text=carol@acme.test"):count() == 1, "text= engine")
  expect(page:locator("xpath=//td[@class='email']"):count() == 4, "xpath engine")
  expect(rows:nth(1):locator("td.email"):text() == "bob@acme.test", "nth + chained text")
  expect(rows:last():get_attribute("data-user-id") == "u4", "last + get_attribute")
  expect(#page:locator("td.email"):all_texts() == 4, "all_texts")
  expect(page:is_visible("button.invite-open"), "is_visible true")
  expect(not page:is_visible(".modal"), "is_visible false")
  local t, headers = page:locator("table.users"):table()
  expect(#t == 4 and headers[1] == "Email" and t[1].email == "alice@acme.test"
    and t[1]["Last login"] == "2024-11-20 09:15", "table()")

  -- Invite through the modal; the Send button is disabled until the email
  -- is valid, and a toast then covers the page for a while.
  page:click("button.invite-open")
  local modal = page:locator(".modal")
  modal:locator('input[name="email"]'):fill("grace@example.com")
  modal:locator('select[name="role"]'):select_option("viewer")
  expect(modal:locator('select[name="role"]'):input_value() == "viewer", "select_option")
  modal:locator("button.send"):click()
  page:wait_for(".modal", { state = "detached" })
  expect(page:is_visible(".toast"), "toast shows after the invite")
  -- The toast covers "Invite user": the click must wait until it is gone.
  local t0 = clock.now()
  page:click("button.invite-open")
  expect(not page:is_visible(".toast"), "click waited for the toast to go")
  expect(clock.now() - t0 > 200, "the covered click took time")
  page:press(".modal input[name=email]", "Escape")   -- acme closes dialogs on Escape
  page:wait_for(".overlay", { state = "hidden" })

  -- A bogus state name is a usage error, not a wait.
  local ok, err = pcall(page.wait_for, page, "table", { state = "shiny" })
  expect(not ok and tostring(err):find("state must be"), "wait_for bad state")
  -- A timeout names the selector, the state and the time.
  ok, err = pcall(page.wait_for, page, "#never", { timeout = 300 })
  expect(not ok and tostring(err.message):find('timeout 300 ms waiting for "#never" to be visible', 1, true),
    "timeout message: " .. tostring(err.message))
  expect(page:eval("1 + 2") == 3, "eval in the page world")
  expect(page:screenshot("pageapi.png"):match("pageapi%.png$"), "screenshot")
  page:wait_for('table.users[data-loaded="true"]')
  return { { email = "checks@example.com", roles = { tostring(#checks) } } }
end
return app
