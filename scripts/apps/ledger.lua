-- Ledger admin console (tests/fixtures/apps/ledger): its people page shows
-- cards with a name only, so the users come from the JSON the page itself
-- fetches (expect_response); invites go through the bulk-invite CSV upload
-- (set_input_files with a file made from the job's user); role changes and
-- removals call the app's own JSON API with the page's cookies (request).
local app = { name = "Ledger", roles = { "owner", "accountant", "viewer" } }
-- Ledger's admin accounts live apart from its people.
app.lists_service_account = false

local base   -- account.base_url: every URL is built from it

function app.login(page, account)
  base = account.base_url
  page:navigate(base .. "/")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("#signin")
  local outcome = page:wait_for_any({ { "rejected", ".login-error" },
                                      { "ok", '.cards[data-loaded="true"]' } })
  if outcome == "rejected" then
    fail("needs_human", "Ledger rejected the service account")
  end
end

function app.is_signed_in(page, account)
  base = account.base_url
  page:navigate(base .. "/")
  return page:wait_for_any({ yes = "#refresh", no = "#password" }) == "yes"
end

-- A CSV field as RFC 4180 writes it.
local function csv_field(s)
  s = tostring(s)
  if s:find('[",\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local STATUS = { invited = "pending", expired = "expired" }

local function to_user(u)
  local invite = STATUS[u.status]
  return {
    email = u.email,
    username = u.username ~= json.null and u.username or nil,
    display_name = u.name,
    roles = u.roles or {},
    active = u.status == "active",
    invite = invite,
    login_method = invite and "pending_user_claim" or "password",
    last_used = u.last_login ~= json.null and u.last_login or nil,
    app_id = u.id,
  }
end

-- The page fetches api/users each time it shows the people: arm the wait,
-- then ask it to refresh, and read the JSON it got.
function app.list_users(page)
  local r = page:expect_response("**/api/users", function()
    page:click("#refresh")
  end)
  if r.status ~= 200 or type(r.body) ~= "table" then
    fail("transient", string.format("Ledger's api/users answered %s", tostring(r.status)))
  end
  local users = {}
  for _, u in ipairs(r.body.users or {}) do users[#users + 1] = to_user(u) end
  return users
end

-- One invite through the bulk form: a one-line CSV made from the job's user.
function app.invite(page, user)
  local rows = { "email,name,role",
    string.format("%s,%s,%s", csv_field(user.email), csv_field(user.display_name or ""),
      table.concat(user.roles or { "viewer" }, ";")) }
  page:locator("#bulk-file"):set_input_files({ name = "invite.csv",
    text = table.concat(rows, "\r\n") .. "\r\n" })
  page:wait_for('.chosen >> has-text="invite.csv"')
  page:click("button.upload")
  local outcome = page:wait_for_any({ { "refused", ".bulk-result >> has-text=Error" },
                                      { "sent", ".bulk-result >> has-text=Invited 1" } })
  if outcome == "refused" then
    fail("business", "Ledger refused the invite: " .. page:text(".bulk-result"))
  end
  return { state = "pending_user_claim" }
end

local function api(page, method, user, body)
  local r = page:request(method, base .. "/api/users/" .. user.app_id, { json = body })
  if r.status == 404 then fail("business", "Ledger has no user " .. user.app_id) end
  if not r.ok then
    fail("transient", string.format("Ledger answered %d to %s: %s", r.status, method,
      type(r.body) == "table" and tostring(r.body.error) or r.text))
  end
  return r
end

function app.update(page, user)
  api(page, "PATCH", user, { roles = user.roles })
end

function app.remove(page, user)
  api(page, "DELETE", user)
end

return app
