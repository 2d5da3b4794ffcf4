-- Ledger admin console (tests/fixtures/apps/ledger), read through its CSV
-- export: the "Export CSV" button downloads every person (a BOM, CRLF line
-- ends, quoted names with commas, quotes and line breaks), which
-- expect_download saves into the run folder and csv.decode reads.
-- Invites, role changes and removals work as in ledger.lua: a bulk-invite
-- upload, and the app's JSON API through page:request.
local app = { name = "Ledger (CSV export)", roles = { "owner", "accountant", "viewer" } }
app.lists_service_account = false

local base

function app.login(page, account)
  base = account.base_url
  page:navigate(account.base_url .. "/")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("#signin")
  local outcome = page:wait_for_any({ { "rejected", ".login-error" },
                                      { "ok", '.cards[data-loaded="true"]' } })
  if outcome == "rejected" then
    fail("needs_human", "Ledger rejected the service account")
  end
end

local STATUS = { invited = "pending", expired = "expired" }

function app.list_users(page)
  page:wait_for('.cards[data-loaded="true"]')
  local d = page:expect_download(function() page:click("#export") end)
  local users = {}
  for _, row in ipairs(csv.decode(d.text)) do
    local invite = STATUS[row.status]
    local roles = {}
    for r in (row.roles or ""):gmatch("[^;]+") do roles[#roles + 1] = r end
    users[#users + 1] = {
      email = row.email,
      username = row.username ~= "" and row.username or nil,
      display_name = row.name,
      roles = roles,
      active = row.status == "active",
      invite = invite,
      login_method = invite and "pending_user_claim" or "password",
      last_used = row.last_login ~= "" and row.last_login or nil,
      app_id = row.id,
    }
  end
  return users
end

local function csv_field(s)
  s = tostring(s)
  if s:find('[",\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

function app.invite(page, user)
  local line = table.concat({ csv_field(user.email), csv_field(user.display_name or ""),
    table.concat(user.roles or { "viewer" }, ";") }, ",")
  page:locator("label.pick"):set_input_files({ name = "invite.csv",
    text = "email,name,role\r\n" .. line .. "\r\n" })
  page:wait_for('.chosen >> has-text="invite.csv"')
  page:click("button.upload")
  if page:wait_for_any({ { "refused", ".bulk-result >> has-text=Error" },
                         { "sent", ".bulk-result >> has-text=Invited 1" } }) == "refused" then
    fail("business", "Ledger refused the invite: " .. page:text(".bulk-result"))
  end
  return { state = "pending_user_claim" }
end

local function api(page, method, user, body)
  local r = page:request(method, base .. "/api/users/" .. user.app_id, { json = body })
  if not r.ok then
    fail(r.status == 404 and "business" or "transient",
      string.format("Ledger answered %d to %s %s", r.status, method, user.app_id))
  end
end

function app.update(page, user) api(page, "PATCH", user, { roles = user.roles }) end
function app.remove(page, user) api(page, "DELETE", user) end

return app
