-- Hooli admin console (tests/fixtures/apps/hooli): the invite form is a
-- widget from another site in an iframe (out of process in Chromium); the
-- users table opens with a toolbar row, ends with a footer row, and its
-- email cells carry screen-reader-only text.  page:frame() reaches into
-- the widget as into any frame; table() options read the table as shown.
local app = { name = "Hooli", roles = { "admin", "member", "viewer" } }
-- The service account is not among the people listed.
app.lists_service_account = false

local TABLE = "table.users"
local LOADED = 'table.users[data-loaded="true"]'
local WIDGET = '#invite-panel iframe[title="Invite people"]'

local function row_of(user)
  if user.app_id then return string.format('%s tr#user-%s', TABLE, user.app_id) end
  return string.format('%s tr.person >> has-text="%s"', TABLE, user.email)
end

local INVITE = { Invited = "pending", ["Invite expired"] = "expired" }

function app.login(page, account)
  page:navigate(account.base_url .. "/")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("#signin")
  if page:wait_for_any({ ok = LOADED, rejected = ".login-error" }) == "rejected" then
    fail("needs_human", "Hooli rejected the service account")
  end
end

function app.list_users(page)
  page:wait_for(LOADED, { timeout = 10000 })
  -- Row 1 is the toolbar, row 2 the header; only people rows count (not
  -- the footer); the email cell's "(opens profile)" is for screen readers.
  local users = {}
  for _, row in ipairs(page:table(TABLE, { header_row = 2, rows = "tr.person" })) do
    local role = page:locator("#" .. row._id .. " select.role"):input_value()
    users[#users + 1] = {
      email = row.email,
      display_name = row.name ~= "" and row.name or nil,
      roles = { role },
      active = row.status == "Active",
      invite = INVITE[row.status],
      app_id = row._id:match("^user%-(.+)$"),
    }
  end
  progress(1, 1, #users)
  return users
end

function app.invite(page, user)
  page:click("button.invite-open")
  local widget = page:frame(WIDGET)
  widget:locator("#email"):fill(user.email)
  if user.display_name then widget:locator("#name"):fill(user.display_name) end
  widget:locator("#role"):select_option((user.roles or {})[1] or "member")
  widget:locator("button.send"):click()
  if widget:wait_for_any({ sent = ".done", refused = ".error" }) == "refused" then
    fail("business", "Hooli refused the invite: " .. widget:locator(".error"):text())
  end
  return { state = "pending_user_claim" }
end

function app.update(page, user)
  local row = page:locator(row_of(user))
  row:locator("select.role"):select_option(user.roles[1])
  page:wait_for(row_of(user) .. '[data-saved="true"]')
end

function app.remove(page, user)
  page:locator(row_of(user)):locator("button.remove"):click()
  page:wait_for(row_of(user), { state = "detached" })
  page:wait_for(LOADED)
end

return app
