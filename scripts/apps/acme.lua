-- Acme admin console (tests/fixtures/apps/acme): a single-page app with a
-- users table, an invite modal, a per-row role editor and Remove behind a
-- confirm step.  Rows render a moment after each load, and a toast covers
-- the page after every change: the page API's auto-waiting handles both.
local app = { name = "Acme", roles = { "admin", "member", "viewer" } }
-- The admin accounts this app signs in with are not among its users (they
-- live apart from the members list), so validate cannot look for the
-- service account there; the reader must still read someone.
app.lists_service_account = false

local TABLE = "table.users"
local LOADED = 'table.users[data-loaded="true"]'

local function row_of(user)
  if user.app_id then
    return string.format('%s tr[data-user-id="%s"]', TABLE, user.app_id)
  end
  -- The email cell must match exactly: has-text would also match
  -- "bada@…" when looking for "ada@…".
  return string.format('%s tbody tr >> has-text="%s"', TABLE, user.email)
end

-- "2024-11-20 09:15" (UTC) -> "2024-11-20T09:15:00Z"
local function iso(shown)
  local d, t = (shown or ""):match("^(%d+%-%d+%-%d+) (%d+:%d+)$")
  return d and (d .. "T" .. t .. ":00Z") or nil
end

local INVITE = { ["Pending invite"] = "pending", ["Invite expired"] = "expired" }

local function shown(v) return v ~= nil and v ~= "" and v ~= "—" and v or nil end

local function split(v)
  local out = {}
  for part in (shown(v) or ""):gmatch("[^,]+") do
    out[#out + 1] = part:gsub("^%s+", ""):gsub("%s+$", "")
  end
  return out
end

local function to_user(row)
  local status = row.status
  local invite = INVITE[status]
  local sso = (row.sign_in or ""):match("^SSO %((.*)%)$")
  return {
    email = row.email,
    username = shown(row.username),
    display_name = shown(row.name),
    roles = split(row.role),
    entitlements = split(row.entitlements),
    active = status == "Active",
    invite = invite,
    login_method = invite and "pending_user_claim" or (sso and "sso" or "password"),
    sso_label = sso,
    last_used = iso(row.last_login),
    app_id = row._attrs["data-user-id"],
  }
end

function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  page:get_by_label("Email", { exact = true }):fill(account.username)
  page:fill("#password", account.password)
  page:get_by_role("button", { name = "Sign in" }):click()
  local outcome = page:wait_for_any({ ok = TABLE, rejected = ".login-error" })
  if outcome == "rejected" then
    fail("needs_human", "Acme rejected the service account: " .. page:text(".login-error"))
  end
end

-- With a saved sign-in state: signed in when the users table loads, not
-- when Acme sends us to its sign-in form.
function app.is_signed_in(page, account)
  page:navigate(account.base_url .. "/")
  return page:wait_for_any({ yes = TABLE, no = "#password" }) == "yes"
end

function app.list_users(page)
  page:wait_for(LOADED, { timeout = 10000 })
  local users = {}
  for _, row in ipairs(page:locator(TABLE):table()) do
    if row.email and row.email:find("@", 1, true) then
      users[#users + 1] = to_user(row)
    end
  end
  progress(1, 1, #users)   -- one page: Acme does not paginate
  return users
end

function app.find_user(page, user)
  local want = (user.email or ""):lower()
  for _, u in ipairs(app.list_users(page)) do
    if u.email:lower() == want or (user.app_id and u.app_id == user.app_id) then
      return u
    end
  end
  return nil
end

function app.invite(page, user)
  page:get_by_role("button", { name = "Invite user" }):click()
  local modal = page:get_by_role("dialog")
  modal:get_by_label("Email", { exact = true }):fill(user.email)
  if user.display_name then
    modal:get_by_label("Name", { exact = true }):fill(user.display_name)
  end
  modal:get_by_label("Role", { exact = true }):select_option((user.roles or {})[1] or "member")
  modal:get_by_role("button", { name = "Send invite" }):click()
  local outcome = page:wait_for_any({ sent = { ".modal", state = "detached" },
                                      refused = ".modal .error" })
  if outcome == "refused" then
    fail("business", "Acme refused the invite: " .. page:text(".modal .error"))
  end
  return { state = "pending_user_claim" }
end

function app.update(page, user)
  local row = page:locator(row_of(user))
  row:get_by_role("button", { name = "Edit role" }):click()
  row:get_by_role("combobox", { name = "Role for " .. user.email, exact = true }):select_option(user.roles[1])
  row:get_by_role("button", { name = "Save", exact = true }):click()
  local outcome = page:wait_for_any({ saved = { row_of(user) .. " .role-select", state = "detached" },
                                      refused = row_of(user) .. " .error" })
  if outcome == "refused" then
    fail("business", "Acme refused the role change: " .. page:text(row_of(user) .. " .error"))
  end
end

function app.remove(page, user)
  page:locator(row_of(user)):get_by_role("button", { name = "Remove" }):click()
  page:get_by_role("alertdialog"):get_by_role("button", { name = "Confirm remove" }):click()
  local outcome = page:wait_for_any({ removed = { ".confirm-dialog", state = "detached" },
                                      refused = ".confirm-dialog .error" })
  if outcome == "refused" then
    fail("business", "Acme refused the removal: " .. page:text(".confirm-dialog .error"))
  end
end

return app
