-- __APP__ — an idlcm app script (written by `idlcm-agent new __APP__`).
--
-- The agent calls these functions with a `page` (the page API: see
-- scripts/apps/README.md) and owns everything around them: it logs in once
-- per job, checks first (an invite for a user who is already there reports
-- their state; removing an absent user succeeds), verifies with find_user,
-- maps outcomes to provisioning states and retries transient errors.
--
-- Fill in the selectors (every "TODO" below), then:
--   idlcm-agent check scripts/apps/__APP__.lua
--   idlcm-agent run scripts/apps/__APP__.lua list_users --account @account.json
--   idlcm-agent record scripts/apps/__APP__.lua list_users --account @account.json \
--       --cassette tests/fixtures/cassettes/__APP__-list_users.jsonl
local app = {
  name = "__NAME__",
  roles = { "admin", "member" },        -- TODO: the roles the app offers
}

-- Every URL comes from account.base_url, so one script serves every
-- tenant (and every fixture port).
local function url(account, path) return account.base_url .. path end

-- The users table, and one row of it by email.
local TABLE = "table.users"                                   -- TODO
local function row_of(user)
  return string.format('%s tbody tr >> has-text="%s"', TABLE, user.email)
end

-- account: base_url, username, password (and totp_secret when the app
-- asks for a one-time code).  Raise needs_human when a person must act.
function app.login(page, account)
  page:navigate(url(account, "/login"))                      -- TODO: the login page
  page:fill("#username", account.username)                   -- TODO
  page:fill("#password", account.password)                   -- TODO
  page:click("button >> has-text=Sign in")                   -- TODO
  local outcome = page:wait_for_any({ ok = TABLE, rejected = ".login-error" })
  if outcome == "rejected" then
    fail("needs_human", "__NAME__ rejected the service account: " .. page:text(".login-error"))
  end
end

-- Every user of the app: username, email, roles (array), active (bool),
-- last_used (ISO 8601 or nil), login_method ("sso", "password",
-- "pending_user_login", "pending_user_claim"), invite (nil, "pending",
-- "expired"), app_id (the app's own id).
function app.list_users(page)
  page:wait_for(TABLE)
  local users = {}
  -- table() reads the whole table in one call; cells by header text or key.
  for _, row in ipairs(page:locator(TABLE):table()) do
    users[#users + 1] = {
      email = row.email,                                     -- TODO: column keys
      username = row.email,
      roles = { row.role },
      active = row.status == "Active",
      invite = row.status == "Invited" and "pending" or nil,
      app_id = row._attrs["data-id"],
    }
  end
  return users
end

-- Optional: find one user faster than listing them all (the default
-- searches list_users by email, username or app_id).
function app.find_user(page, user)
  for _, u in ipairs(app.list_users(page)) do
    if u.email and user.email and u.email:lower() == user.email:lower() then return u end
  end
  return nil
end

-- user: email, username, display_name, roles, attributes.
-- Return { state = "pending_user_claim" } (or "onboarded"), and
-- credentials = { username=, password= } when the app shows a password.
function app.invite(page, user)
  page:click("button >> has-text=Invite")                    -- TODO
  local form = page:locator(".modal")                        -- TODO
  form:locator('input[name="email"]'):fill(user.email)
  form:locator('select[name="role"]'):select_option((user.roles or {})[1] or "member")
  form:locator("button[type=submit]"):click()
  local outcome = page:wait_for_any({ sent = { ".modal", state = "detached" },
                                      refused = ".modal .error" })
  if outcome == "refused" then
    fail("business", "__NAME__ refused the invite: " .. page:text(".modal .error"))
  end
  return { state = "pending_user_claim" }
end

-- Set the user's roles to user.roles (the agent has checked they differ).
function app.update(page, user)
  local row = page:locator(row_of(user))
  row:locator("button >> has-text=Edit"):click()             -- TODO
  row:locator("select.role"):select_option(user.roles[1])    -- TODO
  row:locator("button >> has-text=Save"):click()             -- TODO
  page:wait_for(row_of(user) .. " select.role", { state = "detached" })
end

-- Remove the user (the agent has checked they are there).
function app.remove(page, user)
  page:on_dialog("accept")            -- when the app asks with a native confirm()
  page:locator(row_of(user)):locator("button >> has-text=Remove"):click()   -- TODO
  page:wait_for(row_of(user), { state = "detached" })
end

-- Optional: prove the service account works (the default: login and
-- list_users).
-- function app.validate(page) end

return app
