-- Globex Workspace (tests/fixtures/apps/globex): sign-in in two steps (a
-- password, then a TOTP code), members in an ARIA grid inside the open
-- shadow root of <globex-users>, 25 to a page; roles as checkboxes in an
-- edit sheet; the invite form in a same-origin iframe, which can create an
-- account with a generated password shown once; Remove asks with a native
-- confirm().  Selectors pierce the shadow root by themselves.
local app = { name = "Globex", roles = { "owner", "admin", "billing", "developer", "viewer" } }
-- The admin accounts this app signs in with are not among its users (they
-- live apart from the members list), so validate cannot look for the
-- service account there; the reader must still read someone.
app.lists_service_account = false

local HOST = "globex-users"
local GRID = HOST .. " >> [role=grid]"
local READY = HOST .. ' >> [role=grid][data-state="ready"]'
local INVITE_FRAME = HOST .. " >> iframe.invite-frame"

local base_url
local fresh = false   -- the grid shows page 1 with no search

local STATUS = { ["Invited"] = "pending", ["Invite expired"] = "expired" }

local function shown(v) return v ~= nil and v ~= "" and v ~= "—" and v ~= "None" and v or nil end

local function split(v, sep)
  local out = {}
  for part in (shown(v) or ""):gmatch("[^" .. sep .. "]+") do
    local t = part:gsub("^%s+", ""):gsub("%s+$", "")
    if t ~= "" then out[#out + 1] = t end
  end
  return out
end

-- "2024-11-20 09:15 UTC" -> "2024-11-20T09:15:00Z"
local function iso(s)
  local d, t = (s or ""):match("^(%d+%-%d+%-%d+) (%d+:%d+) UTC$")
  return d and (d .. "T" .. t .. ":00Z") or nil
end

local function to_user(row)
  local invite = STATUS[row.status]
  local sso = (row.sign_in or ""):match("^SSO%s+(.+)$")
  local roles = {}
  for _, r in ipairs(split(row.roles, ",")) do roles[#roles + 1] = r:lower() end
  return {
    email = row.email,
    username = shown(row.username),
    display_name = shown(row.name),
    roles = roles,
    entitlements = split(row.entitlements, ";"),
    active = row.status == "Active",
    invite = invite,
    login_method = invite and "pending_user_claim" or (sso and "sso" or "password"),
    sso_label = sso,
    last_used = iso(row.last_active),
    app_id = row.member_id,
  }
end

function app.login(page, account)
  base_url = account.base_url
  page:navigate(base_url .. "/")
  page:fill("#login-email", account.username)
  page:fill("#login-password", account.password)
  page:click("#login-continue")
  local step = page:wait_for_any({ code = "#otp", rejected = ".login-error", ok = GRID })
  if step == "rejected" then
    fail("needs_human", "Globex rejected the service account's password")
  end
  if step == "code" then
    if not account.totp_secret then
      fail("needs_human", "Globex asks for a one-time code: store the service account's "
        .. "TOTP seed as totp_secret")
    end
    -- A code typed at the very end of its 30 s step can expire in transit:
    -- one retry with the next code, then it is a person's problem.
    for attempt = 1, 2 do
      page:fill("#otp", totp(account.totp_secret))
      page:click("#otp-verify")
      step = page:wait_for_any({ ok = GRID, rejected = ".login-error" })
      if step == "ok" then break end
      if attempt == 2 then
        fail("needs_human", "Globex refused the one-time code twice: check the TOTP seed "
          .. "and this machine's clock")
      end
      page:wait(1000)
    end
  end
  fresh = true
end

-- Back to page 1 of the unfiltered list (a reload starts the app over).
local function first_page(page)
  if not fresh then page:reload() end
  page:wait_for(READY, { timeout = 10000 })
  fresh = false
end

local function read_page(page, users)
  for _, row in ipairs(page:locator(GRID):table()) do
    if row.email and row.email:find("@", 1, true) then users[#users + 1] = to_user(row) end
  end
end

function app.list_users(page)
  first_page(page)
  local users = {}
  while true do
    local grid = page:locator(READY)
    local k = tonumber(grid:get_attribute("data-page"))
    local n = tonumber(grid:get_attribute("data-pages"))
    read_page(page, users)
    progress(k, n, #users)
    if k >= n then break end
    page:click(HOST .. " >> button.next")
    page:wait_for(string.format('%s >> [role=grid][data-state="ready"][data-page="%d"]', HOST, k + 1))
  end
  return users
end

-- Search instead of paging through everyone.
function app.find_user(page, user)
  first_page(page)
  local q = user.email or user.username
  page:fill(HOST .. ' >> input[name="q"]', q)
  page:wait_for(string.format('%s >> [role=grid][data-state="ready"][data-query="%s"]', HOST, q))
  local found = {}
  read_page(page, found)
  for _, u in ipairs(found) do
    if (user.email and u.email:lower() == user.email:lower())
        or (user.username and u.username == user.username)
        or (user.app_id and u.app_id == user.app_id) then
      return u
    end
  end
  return nil
end

local function wants_password(user)
  local a = user.attributes or {}
  return user.login == "password" or a.login == "password"
end

function app.invite(page, user)
  first_page(page)
  page:get_by_role("button", { name = "Invite member" }):click()
  local form = page:frame(INVITE_FRAME)
  form:get_by_label("Email", { exact = true }):fill(user.email)
  if user.display_name then form:get_by_label("Full name"):fill(user.display_name) end
  local want = {}
  for _, r in ipairs(user.roles or { "viewer" }) do want[r:lower()] = true end
  for _, r in ipairs(app.roles) do
    local box = form:locator(string.format('input[name="role"][value="%s"]', r))
    if want[r] then box:check() else box:uncheck() end
  end
  local password = wants_password(user)
  if password then form:locator('input[name="login"][value="password"]'):check() end
  form:get_by_role("button", { name = "Send invite" }):click()
  local outcome = page:wait_for_any({ done = INVITE_FRAME .. " >> enter-frame >> .done",
                                      refused = INVITE_FRAME .. " >> enter-frame >> .error" })
  if outcome == "refused" then
    fail("business", "Globex refused the invite: " .. form:locator(".error"):text())
  end
  local result = { state = "pending_user_claim" }
  if password then
    -- Shown once: read it as a secret; the agent moves it into the vault.
    local pw = form:locator("code.generated-password"):secret_text()
    result = { state = "onboarded", credentials = { username = user.email, password = pw } }
  end
  form:get_by_role("button", { name = "Done" }):click()
  page:wait_for(HOST .. " >> .invite-overlay", { state = "detached" })
  page:wait_for(READY)
  return result
end

local function row_of(user)
  if user.app_id then
    return string.format('%s >> [role=row][data-member-id="%s"]', HOST, user.app_id)
  end
  return string.format('%s >> [role=row][data-email="%s"]', HOST, user.email)
end

-- Show the user's row: search for them (the grid pages 25 at a time).
local function show(page, user)
  local found = app.find_user(page, user)
  if not found then fail("business", (user.email or "?") .. " is not in Globex") end
  return found
end

function app.update(page, user)
  local found = show(page, user)
  page:locator(row_of(found)):get_by_role("button", { name = "Edit" }):click()
  local want = {}
  for _, r in ipairs(user.roles or {}) do want[r:lower()] = true end
  local sheet = page:locator(HOST .. " >> .edit-panel")
  for _, r in ipairs(app.roles) do
    local box = sheet:locator(string.format('input[name="role"][value="%s"]', r))
    if want[r] then box:check() else box:uncheck() end
  end
  sheet:get_by_role("button", { name = "Save changes" }):click()
  local outcome = page:wait_for_any({ saved = { HOST .. " >> .edit-overlay", state = "detached" },
                                      refused = HOST .. " >> .edit-panel .error" })
  if outcome == "refused" then
    fail("business", "Globex refused the role change: " .. sheet:locator(".error"):text())
  end
  page:wait_for(READY)
end

function app.remove(page, user)
  local found = show(page, user)
  page:on_dialog("accept")          -- "Remove x from Globex?" is a native confirm()
  page:locator(row_of(found)):get_by_role("button", { name = "Remove" }):click()
  page:wait_for(row_of(found), { state = "detached" })
  page:wait_for(READY)
end

return app
