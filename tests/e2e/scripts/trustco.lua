-- Trustco (tests/fixtures/apps/trustco): a plain users table whose head has
-- a second row of filter inputs.  This reader reads cells by class; the
-- tests swap in a reader that takes the table's last head row for labels
-- (and so reads nothing) to prove that an empty read never passes.
local app = { name = "Trustco", roles = { "admin", "member", "viewer", "billing" } }

local LOADED = 'table.users[data-loaded="true"]'

local function row_of(user)
  return string.format('table.users tbody tr >> has-text="%s"', user.email)
end

function app.login(page, account)
  page:navigate(account.base_url .. "/")
  page:get_by_placeholder("Username"):fill(account.username)
  page:get_by_placeholder("Password"):fill(account.password)
  page:get_by_role("button", { name = "Sign in" }):click()
  if page:wait_for_any({ ok = LOADED, rejected = ".login-error" }) == "rejected" then
    fail("needs_human", "Trustco rejected the service account")
  end
end

function app.list_users(page)
  page:wait_for(LOADED)
  local col = function(c) return page:locator("table.users tbody td." .. c):all_texts() end
  local emails, names, roles, status = col("email"), col("username"), col("roles"), col("status")
  local users = {}
  for i, email in ipairs(emails) do
    local r = {}
    for part in (roles[i] or ""):gmatch("[^,%s]+") do r[#r + 1] = part end
    users[#users + 1] = { email = email, username = names[i] ~= "" and names[i] or nil,
                          roles = r, active = status[i] == "Active",
                          invite = status[i] == "Pending" and "pending" or nil }
  end
  progress(1, 1, #users)
  return users
end

function app.invite(page, user)
  local form = page:locator("form#invite")
  local sent = tonumber(form:get_attribute("data-sent") or "0") or 0
  form:get_by_placeholder("Email"):fill(user.email)
  for _, r in ipairs(user.roles or {}) do
    form:get_by_role("checkbox", { name = r, exact = true }):check()
  end
  form:get_by_role("button", { name = "Invite" }):click()
  local outcome = page:wait_for_any({ sent = string.format('form#invite[data-sent="%d"]', sent + 1),
                                      refused = "form#invite .error:not(:empty)" })
  if outcome == "refused" then
    fail("business", "Trustco refused the invite: " .. form:locator(".error"):text())
  end
  page:wait_for(LOADED)
  -- Trustco has no pending-invite state, but this script says so anyway:
  -- the agent must report what the app shows.
  return { state = "pending_user_claim" }
end

function app.update(page, user)
  fail("business", "Trustco has no role editor")
end

function app.remove(page, user)
  page:locator(row_of(user)):get_by_role("button", { name = "Remove" }):click()
  page:wait_for(row_of(user), { state = "detached" })
  page:wait_for(LOADED)
end

return app
