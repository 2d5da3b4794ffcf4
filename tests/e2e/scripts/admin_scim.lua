-- After an IdP-shaped client created, updated and deactivated a user
-- through SCIM (tests/e2e/test_pages.sh), read what an admin sees: the
-- Users tab row (state, upstream id) and the Activity tab (each step,
-- asked by SCIM, done by a worker).  account.integration and account.email
-- name the integration and the user.
local app = {}
local acct
local checks = 0

local function expect(cond, what)
  if not cond then error("admin pages (SCIM) check failed: " .. what, 2) end
  checks = checks + 1
end

function app.login(page, account)
  acct = account
  page:navigate(account.base_url .. "/admin/sign-in")
  page:fill("#password", account.password)
  page:click("form.signin button")
  page:wait_for("table.integrations", { timeout = 10000 })
end

function app.list_users(page)
  local base, integ, email = acct.base_url, acct.integration, acct.email
  page:navigate(base .. "/admin/integrations/" .. integ .. "/users?q=" .. email)
  page:wait_for("table.users")
  local row
  for _, r in ipairs(page:locator("table.users"):table()) do
    if r._attrs["data-user"] == email then row = r end
  end
  expect(row, "the SCIM user is in the Users tab")
  expect(row["Upstream user ID"] == acct.upstream_id, "upstream id: " .. row["Upstream user ID"])
  expect(row["Provisioning state"] == "Deleted", "deleted: " .. row["Provisioning state"])

  page:navigate(base .. "/admin/integrations/" .. integ .. "/activity")
  page:wait_for("table.activity")
  local seen, order = {}, {}
  for _, r in ipairs(page:locator("table.activity"):table()) do
    if r.Target == email or r.Target == "" then
      seen[r.Event] = r.Actor
      table.insert(order, 1, r.Event)   -- the table is newest first
    end
  end
  for _, ev in ipairs({ "SCIM integration connected", "User invite requested", "User invited",
                        "User update requested", "User updated",
                        "User removal requested", "User removed" }) do
    expect(seen[ev], "activity: " .. ev .. " (saw: " .. table.concat(order, "; ") .. ")")
  end
  expect(seen["User invite requested"] == "SCIM", "asked by SCIM: " .. tostring(seen["User invite requested"]))
  expect(seen["User removal requested"] == "SCIM", "removal asked by SCIM")
  page:navigate(base .. "/admin/jobs?integration=" .. integ)
  page:wait_for("table.jobs")
  for _, r in ipairs(page:locator("table.jobs"):table()) do
    if r.Target == email then expect(r.Trigger == "SCIM", "job " .. r.Job .. " triggered by SCIM") end
  end
  return { { email = email, seen = row["Provisioning state"], roles = {}, checks = checks } }
end

return app
