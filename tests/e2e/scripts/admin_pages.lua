-- Drives the coordinator's own admin pages the way a person does: sign in,
-- read the Integrations page, the Users tab (both generations of state
-- names, search, the side drawer, 10,000 users paged), the Activity tab,
-- the Jobs page and a failed job's screenshot; press Sync now, approve the
-- sync the safeguard halted, exempt and remove users, and watch the pages
-- update without reloading.  Run by tests/e2e/test_pages.sh; list_users
-- raises on the first broken expectation and returns the Users table as
-- read at the end (each row's provisioning state in `seen`).
local app = {}
local base
local checks = 0

local function expect(cond, what)
  if not cond then error("admin pages check failed: " .. what, 2) end
  checks = checks + 1
end

local function row_of(rows, col, value)
  for _, r in ipairs(rows) do
    if r[col] == value then return r end
  end
end

-- a Users table row by its user (the row's data-user attribute)
local function user_row(rows, key)
  for _, r in ipairs(rows) do
    if r._attrs["data-user"] == key then return r end
  end
end

local function users_table(page)
  page:wait_for("table.users")
  return page:locator("table.users"):table()
end

function app.login(page, account)
  base = account.base_url
  page:navigate(base .. "/admin/integrations")
  page:wait_for("#password")
  expect(page:url():find("/admin/sign-in?next=", 1, true), "signed out: sent to the sign-in")
  page:fill("#password", "not-the-password")
  page:click("form.signin button")
  page:wait_for("p.error", { timeout = 10000 })
  expect(page:text("p.error") == "wrong password", "a wrong password is refused")
  page:fill("#password", account.password)
  page:click("form.signin button")
  page:wait_for("table.integrations", { timeout = 10000 })
  expect(page:url() == base .. "/admin/integrations", "signed in: back where we were going")
end

local function integrations_page(page)
  local rows = page:locator("table.integrations"):table()
  local labels = {
    under_validation = "Under validation", under_review = "Under review",
    validating = "Validating", validated = "Validated", validation_failed = "Validation failed",
    in_progress = "In progress", failed = "Failed", retrying = "Retrying", up_to_date = "Up to date",
  }
  for id, label in pairs(labels) do
    local r = row_of(rows, "Integration", "st-" .. id)
    expect(r and r.Status == label, "integration st-" .. id .. " shows " .. label)
  end
  expect(#page:locator("dl.legend dt"):all_texts() == 9, "the nine statuses explained")
  local prod = row_of(rows, "Integration", "acme-prod")
  expect(prod and prod.Status == "Up to date", "acme-prod is up to date: " .. tostring(prod and prod.Status))
  expect(prod["Last operation"]:find("remove carol@acme.test", 1, true), "acme-prod's last operation")
  expect(prod.When:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d UTC$"), "when: " .. prod.When)
  local bad = row_of(rows, "Integration", "acme-bad")
  expect(bad and bad.Status:find("^Failed"), "acme-bad failed")
end

local function users_tab(page)
  page:click('table.integrations a[href="/admin/integrations/acme-prod"]')
  local t, headers = users_table(page)
  local want = { "User", "Username in app", "App access", "Entitlements", "Last used",
                 "Login method", "Active in app", "Upstream user ID", "Provisioning state" }
  for i, h in ipairs(want) do expect(headers[i] == h, "column " .. h) end

  local ada = user_row(t, "ada@example.com")
  expect(ada and ada["Provisioning state"] == "Onboarded", "ada onboarded (newer names)")
  expect(ada["Upstream user ID"] == "okta-ada", "ada's upstream id")
  expect(ada["Login method"] == "Pending user claim", "ada must accept the invite: " .. ada["Login method"])
  local bob = user_row(t, "bob@acme.test")
  expect(bob and bob["App access"] == "admin", "bob's role updated to admin")
  expect(bob["Login method"] == "acme Okta", "bob signs in with SSO: " .. bob["Login method"])
  expect(bob["Active in app"] == "Yes", "bob active")
  expect(bob["Last used"] == "2024-11-18 16:42 UTC", "bob's last use: " .. bob["Last used"])
  expect(bob.User:find("Bob Brown", 1, true) and bob.User:find("bob@acme.test", 1, true), "bob's name and email")
  local carol = user_row(t, "carol@acme.test")
  expect(carol and carol["Provisioning state"] == "Deleted", "carol deleted")

  -- the side drawer with the roles
  page:click('tr[data-user="bob@acme.test"] td.access summary')
  page:wait_for("details.drawer[open] aside")
  expect(page:text("details.drawer[open] aside ul.roles"):find("admin"), "the drawer lists bob's roles")
  page:press("Escape")
  page:wait_for("details.drawer[open]", { state = "detached" })

  -- the older generation of names
  page:click("a.names-older")
  page:wait_for("a.names-older.active")
  t = users_table(page)
  expect(user_row(t, "ada@example.com")["Provisioning state"] == "Pending user claim",
    "ada pending user claim (older names)")
  expect(user_row(t, "carol@acme.test")["Provisioning state"] == "Removed", "carol removed (older)")

  -- search, on the server
  page:fill('form.filters input[name="q"]', "ADA@")
  page:press('form.filters input[name="q"]', "Enter")
  page:wait_for('nav.pager >> text=1 users')
  t = users_table(page)
  expect(#t == 1 and t[1]._attrs["data-user"] == "ada@example.com", "search finds ada only")
  expect(page:url():find("names=older", 1, true), "the names switch survives the search")
end

local function activity_tab(page)
  page:navigate(base .. "/admin/integrations/acme-prod/activity")
  page:wait_for("table.activity")
  local t = page:locator("table.activity"):table()
  local seen = {}
  for _, r in ipairs(t) do seen[r.Event .. " | " .. r.Target] = r.Actor end
  for _, ev in ipairs({
    "User invite requested | ada@example.com", "User invite in progress | ada@example.com",
    "User invited | ada@example.com", "User update requested | bob@acme.test",
    "User update in progress | bob@acme.test", "User updated | bob@acme.test",
    "User removal requested | carol@acme.test", "User removal in progress | carol@acme.test",
    "User removed | carol@acme.test" }) do
    expect(seen[ev], "activity: " .. ev)
  end
  expect(seen["User invite requested | ada@example.com"] == "API", "requested through the API")
  expect(seen["User invited | ada@example.com"]:find("^worker "), "done by a worker")
  expect(t[1].Date:match("UTC$"), "dated")
  -- a health check from the page: triggered by the admin, validated by a worker
  page:click("button.health-check")
  page:wait_for("text=Health validated", { timeout = 60000 })
  t = page:locator("table.activity"):table()
  expect(row_of(t, "Event", "Health check triggered").Actor == "admin (web app)", "health check by the admin")
end

local function failed_job(page)
  page:navigate(base .. "/admin/jobs?integration=acme-bad")
  page:wait_for("table.jobs")
  local t = page:locator("table.jobs"):table()
  local j = row_of(t, "Target", "eve@example.com")
  expect(j and j.Status == "failed" and j["Error class"] == "needs_human", "eve's invite failed: needs_human")
  expect(j["Person needed"] == "Yes", "a person is needed")
  expect(j.Trigger == "API", "trigger API")
  page:click('table.jobs tr[data-job] a')
  page:wait_for("figure.screenshot img")
  -- the image really loaded from the coordinator
  page:wait_for("figure.screenshot img")
  local w = page:eval("(async () => { const i = document.querySelector('figure.screenshot img');"
    .. " if (!i.complete) await new Promise(r => i.onload = i.onerror = r); return i.naturalWidth })()")
  expect(type(w) == "number" and w > 100, "the failure screenshot shows: width " .. tostring(w))
  expect(page:text("dl.facts"):find("Acme rejected the service account", 1, true), "the error message")
  local files = table.concat(page:locator("ul.artifacts a"):all_texts(), " ")
  expect(files:find("error.txt", 1, true) and files:find("steps.json", 1, true), "the report: " .. files)
  -- the report opens, as text
  page:navigate(base .. page:locator('ul.artifacts a[href$="/error.txt"]'):get_attribute("href"))
  expect(page:text("body"):find("Acme rejected the service account", 1, true), "error.txt served")
end

-- "Retry all failed": one parent job whose status rolls up from its children
local function retry_all(page)
  page:navigate(base .. "/admin/integrations/acme-bad/users")
  page:wait_for('tr[data-user="eve@example.com"] button.retry')
  page:click("button.retry-all")
  -- eve is queued again: nobody left to retry
  page:wait_for("button.retry-all", { state = "detached", timeout = 10000 })
  page:navigate(base .. "/admin/jobs?integration=acme-bad")
  local t = page:locator("table.jobs"):table()
  local g = row_of(t, "Task", "retry 1 failed users")
  expect(g and g.Trigger == "web app" and g.Job:find("(1 jobs)", 1, true), "the parent job is listed")
  -- eve's service account is still wrong: the child fails, the parent says so
  page:wait_for('table.jobs tr:has(.kids) .j-not_completed', { timeout = 60000 })
  t = page:locator("table.jobs"):table()
  g = row_of(t, "Task", "retry 1 failed users")
  expect(g["Person needed"] == "Yes" and g["Error class"] == "needs_human", "rolled up: needs a person")
end

local function sync_now_and_safeguard(page)
  page:navigate(base .. "/admin/integrations/acme-prod/users")
  page:click("button.sync-now")
  -- no reload from here on: the page follows the jobs by itself
  page:wait_for("section.halt", { timeout = 90000 })
  local gone = page:locator("ul.would-delete li"):all_texts()
  table.sort(gone)
  expect(#gone == 3 and gone[1] == "ghost1@example.com" and gone[3] == "ghost3@example.com",
    "the halt lists what it would delete: " .. table.concat(gone, ", "))
  expect(page:text("section.halt"):find("nothing was applied", 1, true), "the halt says nothing was applied")
  page:click("button.approve")
  page:wait_for("section.halt", { state = "detached", timeout = 10000 })
  page:wait_for('tr[data-user="ghost1@example.com"][data-state="deleted"]', { timeout = 90000 })
  expect(page:eval("document.getElementById('content').dataset.refreshed") ~= nil,
    "the table changed without a reload")
end

local function user_actions(page)
  -- dave was not expected by the IdP: the approved sync found him unmatched
  page:wait_for('tr[data-user="dave@acme.test"][data-state="unmatched"]', { timeout = 30000 })
  page:click('tr[data-user="dave@acme.test"] button.exempt')
  page:wait_for('tr[data-user="dave@acme.test"][data-state="exempted"]')
  page:click('tr[data-user="alice@acme.test"] button.remove')
  page:wait_for('tr[data-user="alice@acme.test"][data-state="delete_awaiting"], '
    .. 'tr[data-user="alice@acme.test"][data-state="removing"], '
    .. 'tr[data-user="alice@acme.test"][data-state="deleted"]')
  page:wait_for('tr[data-user="alice@acme.test"][data-state="deleted"]', { timeout = 90000 })
end

local function big_integration(page)
  page:navigate(base .. "/admin/integrations/big/users")
  local t = users_table(page)
  expect(#t == 50, "50 users a page, not 10,000: " .. #t)
  expect(page:text("nav.pager .count") == "page 1 of 200 · 10000 users", page:text("nav.pager .count"))
  page:click("nav.pager a.next")
  page:wait_for("nav.pager >> text=page 2 of 200")
  expect(users_table(page)[1]._attrs["data-user"] == "user00051@big.test", "page 2 starts at user 51")
  page:select_option('form.filters select[name="state"]', "failed")
  page:click("form.filters button")
  page:wait_for("nav.pager >> text=1000 users")
  expect(users_table(page)[1]["Provisioning state"] == "Update failed", "filtered on failed")
end

function app.list_users(page)
  integrations_page(page)
  users_tab(page)
  activity_tab(page)
  failed_job(page)
  retry_all(page)
  big_integration(page)
  sync_now_and_safeguard(page)
  user_actions(page)
  -- what a person sees at the end, in the older names
  page:navigate(base .. "/admin/integrations/acme-prod/users?names=older")
  local out = {}
  for _, r in ipairs(users_table(page)) do
    local email = r._attrs["data-user"] or r.User
    out[#out + 1] = { email = email, seen = r["Provisioning state"], roles = {} }
  end
  out[#out + 1] = { email = "checks@admin.pages", seen = tostring(checks), roles = {} }
  return out
end

return app
