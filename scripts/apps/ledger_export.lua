-- Ledger admin console (tests/fixtures/apps/ledger), read through its CSV
-- export: the "Export CSV" button downloads every person (a BOM, CRLF line
-- ends, quoted names with commas, quotes and line breaks), which
-- expect_download saves into the run folder and csv.decode reads.
local app = { name = "Ledger (CSV export)", roles = { "owner", "accountant", "viewer" } }
app.lists_service_account = false

function app.login(page, account)
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

return app
