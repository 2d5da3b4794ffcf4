-- job.lua — the orchestration around an app script's functions: log in
-- once, check first (an invite for a user who exists reports its state; a
-- removal of an absent user succeeds), act, verify with find_user, and map
-- the outcome to provisioning states.  Every transition is emitted as an
-- event; C decides where events go (terminal, JSON lines, outbox).
local host = ...
local P = host.modules.prelude
local pagemod = host.modules.page
local M = {}

-- States per action (DESIGN.md): queued, running, failed.
M.ACTIONS = {
  invite     = { queued = "provisioning_awaiting", running = "inviting", failed = "invite_failed" },
  update     = { queued = "update_awaiting", running = "updating", failed = "update_failed" },
  remove     = { queued = "delete_awaiting", running = "removing", failed = "delete_failed" },
  list_users = { status_running = "in_progress", status_ok = "up_to_date", status_failed = "failed" },
  validate   = { status_running = "validating", status_ok = "validated", status_failed = "validation_failed" },
  sync       = { status_running = "in_progress", status_ok = "up_to_date", status_failed = "failed" },
}

-- What each action needs from the script.
M.NEEDS = {
  invite = { "login", "invite" }, update = { "login", "update" },
  remove = { "login", "remove" }, list_users = { "login", "list_users" },
  validate = { "login" }, sync = { "login", "list_users" },
}
M.CONTRACT = { "login", "list_users", "invite", "update", "remove" }

local function emit(ev)
  ev.at = clock.epoch_ms()
  host.emit(ev)
end

-- Captured at load: a script that replaces the global cannot unhook it.
local register_secret = secret

-- Scripts report paging with progress(k, n, count): page k of n (n may be
-- nil when the app does not say), count users read so far.
function progress(k, n, count)
  emit({ kind = "progress", step = "page", page = k, pages = n, users = count,
         detail = string.format("page %s of %s, %s users so far", tostring(k),
           n and tostring(n) or "?", tostring(count or 0)) })
end

local function who(user)
  return user.email or user.username or user.app_id or user.id or "?"
end

-- The provisioning state an app user is in, from what list_users shows.
function M.state_of(u)
  if u.invite == "expired" then return "invite_expired" end
  if u.invite == "pending" or u.login_method == "pending_user_claim" then
    return "pending_user_claim"
  end
  if u.login_method == "pending_user_login" then return "pending_user_login" end
  return "onboarded"
end

local function same_user(a, b)
  local function eq(x, y) return x and y and P.lower(P.trim(x)) == P.lower(P.trim(y)) end
  return eq(a.email, b.email) or eq(a.username, b.username)
      or (a.app_id and b.app_id and tostring(a.app_id) == tostring(b.app_id))
end

local function role_set(roles)
  local s, n = {}, 0
  for _, r in ipairs(roles or {}) do
    local k = P.lower(P.trim(r))
    if not s[k] then s[k] = true; n = n + 1 end
  end
  return s, n
end

function M.same_roles(a, b)
  local sa, na = role_set(a)
  local sb, nb = role_set(b)
  if na ~= nb then return false end
  for k in pairs(sa) do if not sb[k] then return false end end
  return true
end

-- Make an app user well-formed whatever the script returned.
function M.normalize(u)
  if type(u) ~= "table" then return nil end
  local out = P.shallow_copy(u)
  if type(out.roles) == "string" then out.roles = { out.roles } end
  out.roles = json.array(out.roles or {})
  if out.entitlements ~= nil and type(out.entitlements) ~= "table"
      and type(out.entitlements) ~= "number" then
    out.entitlements = { tostring(out.entitlements) }
  end
  if type(out.entitlements) == "table" then out.entitlements = json.array(out.entitlements) end
  if out.active == nil then out.active = out.invite == nil end
  out.state = M.state_of(out)
  return out
end

local function list(app, page)
  local users = app.list_users(page)
  if type(users) ~= "table" then
    P.raise("script", "list_users must return an array of users (it returned "
      .. type(users) .. ")")
  end
  local out = json.array({})
  for i, u in ipairs(users) do out[i] = M.normalize(u) end
  return out
end

local function find(app, page, user)
  if app.find_user then return M.normalize(app.find_user(page, user)) end
  for _, u in ipairs(list(app, page)) do
    if same_user(u, user) then return u end
  end
  return nil
end

local function note_step(step, detail)  -- the runner's own steps; progress() is for scripts
  emit({ kind = "progress", step = step, detail = detail })
end

local function transition(user, from, to, detail)
  emit({ kind = "state", user = who(user), from = from, state = to, detail = detail })
end

-- Error classes: transient (retry), business, needs_human (don't), script
-- (a broken script or selector: fix the script).
local function classify(err)
  if type(err) ~= "table" then
    return { class = "script", kind = "script", message = tostring(err) }
  end
  local kind = err.kind or "script"
  local class
  if kind == "business" or kind == "needs_human" or kind == "transient" then
    class = kind
  elseif kind == "sync_failed" then
    class = "business"
  elseif err.transient or kind == "timeout" or kind == "deadline" or kind == "navigation" then
    class = "transient"
  elseif kind == "cdp" then
    class = err.transient and "transient" or "script"
  else
    class = "script"
  end
  return { class = class, kind = kind, message = tostring(err.message or err),
           where = err.where, selector = err.selector, step = err.step }
end

-- ------------------------------------------------------------- actions

local run_action = {}

function run_action.invite(app, page, job, res)
  local user = job.user
  note_step("check", "looking for " .. who(user))
  local existing = find(app, page, user)
  if existing and existing.invite ~= "expired" then
    res.state, res.detail, res.app_user = existing.state, "already in the app", existing
    return
  end
  page:_begin("invite")
  note_step("act", existing and "re-inviting (invite expired)" or "inviting")
  local r = app.invite(page, user) or {}
  if type(r) ~= "table" then r = {} end
  local state = r.state
  if app.find_user then
    page:_begin("verify")
    local found = M.normalize(app.find_user(page, user))
    if not found then
      P.raise("business", "the invite did not take: " .. who(user) .. " is not in the app afterwards")
    end
    res.app_user = found
    state = state or found.state
  end
  res.state = state or "pending_user_claim"
  res.invite_link = r.invite_link
  if type(r.credentials) == "table" then
    -- C moves the password into the vault before anything is written.
    if type(r.credentials.password) == "string" then register_secret(r.credentials.password) end
    res.credentials = r.credentials
    if res.app_user then res.app_user.login_method = "password" end
    if res.state == "pending_user_login" then res.state = "onboarded" end
  end
end

function run_action.update(app, page, job, res)
  local user = job.user
  note_step("check", "looking for " .. who(user))
  local existing = find(app, page, user)
  if not existing then
    P.raise("business", who(user) .. " is not in the app, so it cannot be updated")
  end
  if user.roles and M.same_roles(existing.roles, user.roles) then
    res.state, res.detail, res.app_user = existing.state, "roles already match", existing
    return
  end
  page:_begin("update")
  note_step("act", "updating")
  local merged = P.shallow_copy(existing)
  for k, v in pairs(user) do merged[k] = v end
  app.update(page, merged)
  local now = existing
  if app.find_user then
    page:_begin("verify")
    now = M.normalize(app.find_user(page, user))
    if not now then P.raise("business", who(user) .. " vanished during the update") end
    if user.roles and not M.same_roles(now.roles, user.roles) then
      P.raise("business", string.format("roles are [%s] after the update, expected [%s]",
        table.concat(now.roles, ", "), table.concat(user.roles, ", ")))
    end
  end
  res.app_user = now
  res.state = now.state
end

function run_action.remove(app, page, job, res)
  local user = job.user
  note_step("check", "looking for " .. who(user))
  local existing = find(app, page, user)
  if not existing then
    res.state, res.detail = "deleted", "not in the app"
    return
  end
  page:_begin("remove")
  note_step("act", "removing")
  local merged = P.shallow_copy(existing)
  for k, v in pairs(user) do merged[k] = v end
  app.remove(page, merged)
  if app.find_user then
    page:_begin("verify")
    if app.find_user(page, user) then
      P.raise("business", who(user) .. " is still in the app after the removal")
    end
  end
  res.state = "deleted"
end

function run_action.list_users(app, page, job, res)
  page:_begin("list_users")
  res.users = list(app, page)
end

-- ---------------------------------------------------------------- sync

local function keys_of(u)
  local k = {}
  for _, f in ipairs({ "email", "username" }) do
    if type(u[f]) == "string" and P.trim(u[f]) ~= "" then k[#k + 1] = P.lower(P.trim(u[f])) end
  end
  return k
end

-- Reconcile the app's users with the IdP's: matched users keep the state
-- the app shows, app users the IdP does not know are unmatched, exempt ones
-- exempted, and expected users the app lacks are deleted.  Matching is on
-- email or username, case-insensitive.  Returns users, summary.
function M.reconcile(app_users, expected, exempt)
  local by_key, exempt_set = {}, {}
  for i, e in ipairs(expected or {}) do
    for _, k in ipairs(keys_of(e)) do by_key[k] = by_key[k] or i end
    if e.exempt == true then
      for _, k in ipairs(keys_of(e)) do exempt_set[k] = true end
    end
  end
  for _, x in ipairs(exempt or {}) do
    if type(x) == "table" then
      for _, k in ipairs(keys_of(x)) do exempt_set[k] = true end
    elseif type(x) == "string" then
      exempt_set[P.lower(P.trim(x))] = true
    end
  end
  local function exempt_user(u)
    for _, k in ipairs(keys_of(u)) do if exempt_set[k] then return true end end
    return false
  end

  local out, used = json.array({}), {}
  local sum = { app_users = #app_users, expected = #(expected or {}), matched = 0,
                unmatched = 0, exempted = 0, deleted = 0 }
  for _, u in ipairs(app_users) do
    local r = P.shallow_copy(u)
    local idx
    for _, k in ipairs(keys_of(u)) do
      if by_key[k] and not used[by_key[k]] then idx = by_key[k]; break end
    end
    if idx then
      used[idx] = true
      local e = expected[idx]
      r.matched = e.email or e.username
      r.upstream_id = e.upstream_id or e.id
    end
    if exempt_user(u) then
      r.state = "exempted"
      sum.exempted = sum.exempted + 1
    elseif idx then
      r.state = M.state_of(u)
      sum.matched = sum.matched + 1
    else
      r.state = "unmatched"
      sum.unmatched = sum.unmatched + 1
    end
    out[#out + 1] = r
  end
  sum.managed = 0
  for i, e in ipairs(expected or {}) do
    if not exempt_user(e) then
      sum.managed = sum.managed + 1
      if not used[i] then
        out[#out + 1] = { email = e.email, username = e.username, matched = e.email or e.username,
                          upstream_id = e.upstream_id or e.id, roles = json.array({}),
                          active = false, state = "deleted" }
        sum.deleted = sum.deleted + 1
      end
    end
  end
  return out, sum
end

function run_action.sync(app, page, job, res)
  page:_begin("sync")
  note_step("list", "reading every user")
  local users = list(app, page)
  if job.expected == nil then
    res.users = users
    res.summary = { app_users = #users }
    return
  end
  local out, sum = M.reconcile(users, job.expected, job.exempt)
  local ratio = tonumber(job.max_delete_ratio) or 0.2
  res.summary = sum
  if sum.managed > 0 and sum.deleted / sum.managed > ratio then
    P.raise("sync_failed", string.format(
      "sync safeguard: %d of %d expected users (%.0f%%) are missing from the app, above "
      .. "the limit of %.0f%% (--max-delete-ratio %g); nothing was applied",
      sum.deleted, sum.managed, 100 * sum.deleted / sum.managed, 100 * ratio, ratio),
      { summary = sum })
  end
  for _, u in ipairs(out) do
    emit({ kind = "state", user = who(u), state = u.state, upstream_id = u.upstream_id,
           app_id = u.app_id, sync = true })
  end
  note_step("reconciled", string.format("%d app users: %d matched, %d unmatched, %d exempted; "
    .. "%d expected users deleted", sum.app_users, sum.matched, sum.unmatched, sum.exempted,
    sum.deleted))
  res.users = out
end

function run_action.validate(app, page, job, res)
  page:_begin("validate")
  if app.validate then
    app.validate(page)
  else
    res.users = list(app, page)
  end
end

-- ---------------------------------------------------------------- entry

-- Which contract functions are missing for this action (nil when none).
function M.missing(app, action)
  local miss = {}
  for _, fn in ipairs(M.NEEDS[action] or M.CONTRACT) do
    if type(app[fn]) ~= "function" then miss[#miss + 1] = fn end
  end
  return #miss > 0 and miss or nil
end

function M.check(app, arg)
  local miss = M.missing(app, arg.action)
  return { ok = miss == nil, missing = miss and json.array(miss) or nil }
end

-- Message handler: note where in the app script the error happened while
-- the stack is still there.
local function annotate(e)
  if type(e) ~= "table" then
    e = P.new_error("script", tostring(e))
  end
  if not e.where then e.where = host.where() end
  return e
end

local function capture_failure(page)
  if not page then return end
  -- No screenshot once a secret was on screen (pixels cannot be redacted).
  local shot = not page._secret_shown and pcall(page.screenshot, page, "failure.png")
  local ok, html = pcall(page.content, page)
  if ok and type(html) == "string" then pcall(host.write_artifact, "page.html", html) end
  return shot
end

-- ------------------------------------------------------------- sign-in

-- Without app.is_signed_in: open account.base_url and look for a sign-in
-- form; signed in unless a password field shows within a second.
local function default_is_signed_in(page, account)
  if type(account.base_url) ~= "string" then return false end
  page:navigate(account.base_url)
  local r = page:_helper("waitFor", { "input[type=password]", "visible", 1000 }, 11000)
  return not (type(r) == "table" and r.ok)
end

-- Sign in once per job: restore the saved sign-in state (agent/session.c)
-- and ask the script whether it still holds; only when it does not (or
-- there is none, or --fresh-login) does app.login run, and a successful
-- login is saved for the next job.  A rejected state never fails the job.
function M.sign_in(app, page, job)
  local account = job.account or {}
  if host.session_restore() then
    note_step("login", "checking the saved sign-in state")
    page:_begin("is_signed_in")
    local ok, yes = pcall(app.is_signed_in or default_is_signed_in, page, account)
    host.session_settled()
    if ok and yes then
      note_step("login", "signed in with the saved state")
      return "reused"
    end
    if not ok and type(yes) == "table" and P.must_propagate(yes) then error(yes, 0) end
    note_step("login", ok and "the saved sign-in state was rejected; logging in"
      or ("checking the saved sign-in state failed (" .. tostring(type(yes) == "table"
        and yes.message or yes) .. "); logging in"))
    host.session_forget()
  end
  note_step("login", "logging in")
  page:_begin("login")
  app.login(page, account)
  host.session_save()
  return "login"
end

-- job = {action, user, account, action_timeout, artifacts}
function M.run(app, job)
  local spec = M.ACTIONS[job.action]
  if not spec then P.raise("usage", "unknown action " .. tostring(job.action)) end
  local user = job.user or {}
  local res = { action = job.action }
  local page

  if spec.running then
    transition(user, spec.queued, spec.running)
  else
    emit({ kind = "status", status = spec.status_running })
  end

  local ok, err = xpcall(function()
    page = pagemod.new(host.open_page(), { timeout = job.action_timeout, action = "login" })
    res.sign_in = M.sign_in(app, page, job)
    run_action[job.action](app, page, job, res)
  end, annotate)

  if ok then
    res.ok = true
    if spec.running then
      transition(user, spec.running, res.state, res.detail)
    else
      emit({ kind = "status", status = spec.status_ok })
    end
    return res
  end

  res.ok = false
  res.error = classify(err)
  if job.action == "sync" then
    -- The safeguard (or any failure) applies nothing: no user changes.
    res.state, res.reason, res.users = "sync_failed", res.error.message, nil
    if type(err) == "table" and err.summary then res.summary = err.summary end
  end
  if job.artifacts then capture_failure(page) end
  -- The worker runs a transient failure again: no final state yet (it
  -- reports `retrying` itself).
  if job.retry_transient and res.error.class == "transient" then
    res.retrying = true
    return res
  end
  if spec.running then
    res.state = spec.failed
    transition(user, spec.running, spec.failed, res.error.message)
  else
    emit({ kind = "status", status = spec.status_failed, state = res.state,
           detail = (res.state and (res.state .. ": ") or "") .. res.error.message })
  end
  return res
end

return M
