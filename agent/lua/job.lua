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

-- A generated secret may be on screen from then on: no failure screenshot
-- (pixels cannot be redacted).
local secret_generated = false
do
  local password, bytes = random.password, random.bytes
  random.password = function(...) secret_generated = true; return password(...) end
  random.bytes = function(...) secret_generated = true; return bytes(...) end
end

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

-- "Absent" needs evidence: a reader that reads nothing (a changed
-- selector, a header row taken for labels) must not pass for an empty app,
-- or a removal of someone still there would report success.  Every call of
-- the script's list_users goes through this guard, also the ones its own
-- find_user makes.  An app that can really be empty says so.
local EMPTY_READ = "the users reader found no users; every app has at least the service "
  .. "account (did a selector change? an app that can really be empty sets "
  .. "app.can_be_empty = true)"

-- A row the runner cannot tell apart from anyone (no email, username or
-- app_id: a renamed column, a cell read from the wrong place) would match
-- nobody, so a user still there would read as absent.
local function has_identity(u)
  local function set(v) return (type(v) == "string" and P.trim(v) ~= "") or type(v) == "number" end
  return type(u) == "table" and (set(u.email) or set(u.username) or set(u.app_id))
end

local function row_keys(u)
  if type(u) ~= "table" then return type(u) end
  local keys = {}
  for k in pairs(u) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return #keys > 0 and ("it has " .. table.concat(keys, ", ")) or "it is empty"
end

local function guard_reader(app)
  local read = app.list_users
  if type(read) ~= "function" then return end
  app.list_users = function(...)
    local users = read(...)
    if type(users) ~= "table" then return users end
    if next(users) == nil and app.can_be_empty ~= true then P.raise("script", EMPTY_READ) end
    for i, u in ipairs(users) do
      if not has_identity(u) then
        P.raise("script", string.format("list_users returned a user without an email, "
          .. "username or app_id (row %d of %d: %s); did a column or selector change?",
          i, #users, row_keys(u)))
      end
    end
    return users
  end
end

-- Could row be user, as far as the keys both carry tell?  A row that
-- shares no key with the user (the user is known by email, the row has
-- none: a renamed column) cannot be ruled out, so the user cannot be
-- called absent.
local function comparable(row, user)
  local function set(v) return (type(v) == "string" and P.trim(v) ~= "") or type(v) == "number" end
  return (set(row.email) and set(user.email)) or (set(row.username) and set(user.username))
      or (set(row.app_id) and set(user.app_id))
end

local function find(app, page, user)
  if app.find_user then return M.normalize(app.find_user(page, user)) end
  local users = list(app, page)
  for _, u in ipairs(users) do
    if same_user(u, user) then return u end
  end
  for i, u in ipairs(users) do
    if not comparable(u, user) then
      P.raise("script", string.format("cannot tell whether %s is in the app: list_users "
        .. "row %d of %d has no %s to compare (%s); did a column or selector change?",
        tostring(user.email or user.username or user.app_id), i, #users,
        user.email and "email" or (user.username and "username" or "app_id"), row_keys(u)))
    end
  end
  return nil
end

local function roles_text(roles)
  return "[" .. table.concat(roles or {}, ", ") .. "]"
end

-- The roles one list has and the other lacks, as text ("extra x; missing y").
local function roles_diff(actual, expected)
  local sa, se = role_set(actual), role_set(expected)
  local extra, missing = {}, {}
  for _, r in ipairs(actual or {}) do if not se[P.lower(P.trim(r))] then extra[#extra + 1] = r end end
  for _, r in ipairs(expected or {}) do if not sa[P.lower(P.trim(r))] then missing[#missing + 1] = r end end
  local parts = {}
  if #extra > 0 then parts[#parts + 1] = "extra " .. table.concat(extra, ", ") end
  if #missing > 0 then parts[#parts + 1] = "missing " .. table.concat(missing, ", ") end
  return table.concat(parts, "; ")
end

-- A job role the script does not declare fails before the app is touched.
local function check_roles(app, job)
  local roles = (job.user or {}).roles
  if type(app.roles) ~= "table" or #app.roles == 0 or type(roles) ~= "table" then return end
  local known = role_set(app.roles)
  for _, r in ipairs(roles) do
    if type(r) ~= "string" or not known[P.lower(P.trim(r))] then
      P.raise("business", string.format("role \"%s\" is not one of %s's roles (%s)",
        tostring(r), tostring(app.name or "the app"), table.concat(app.roles, ", ")))
    end
  end
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

-- The agent's own check-first: its page steps are labelled "check".
local function check_first(app, page, user)
  page:_begin("check")
  note_step("check", "looking for " .. who(user))
  return find(app, page, user)
end

-- A password the invite captured: C moves it into the vault before anything
-- is written.  Without a vault it would be lost, so the job fails and a
-- person must act; a replay keeps nothing.
local function take_credentials(page, job, user, r, res)
  local cred = r.credentials
  if type(cred.password) == "string" then
    register_secret(cred.password)
    page._secret_shown = true	-- no screenshot: pixels cannot be redacted
  end
  if job.capture == "none" and type(cred.password) == "string" then
    r.credentials = nil
    P.raise("needs_human", "the invite created " .. who(user) .. " with a password, but no "
      .. "vault key is set, so the password was not kept: set up the vault (IDLCM_VAULT_KEY_FILE "
      .. "or IDLCM_VAULT_KEY), then reset the user's password in the app")
  end
  if job.capture == "discard" then
    res.credentials = { username = cred.username, stored = false, note = "replay: not stored" }
  else
    res.credentials = cred
  end
end

-- An invite with no roles asks for the app's default access (an IdP user
-- in no group): the roles the app gives are reported, not judged.
local function asked_roles(user)
  if type(user.roles) == "table" and #user.roles > 0 then return user.roles end
  return nil
end

function run_action.invite(app, page, job, res)
  local user = job.user
  local want = asked_roles(user)
  local existing = check_first(app, page, user)
  if existing and existing.invite ~= "expired" then
    res.state, res.detail, res.app_user = existing.state, "already in the app", existing
    if want and not M.same_roles(existing.roles, want) then
      -- Not a plain success: the access the job asked for is not what the
      -- user has.  The event carries both lists for whoever corrects it.
      res.detail = string.format("already in the app with roles %s, the job asked for %s (%s)",
        roles_text(existing.roles), roles_text(user.roles), roles_diff(existing.roles, user.roles))
      res.drift = true
      res.expected_roles, res.actual_roles = json.array(user.roles), existing.roles
      emit({ kind = "roles_differ", user = who(user), expected_roles = json.array(user.roles),
             actual_roles = existing.roles, detail = res.detail })
    end
    return
  end
  page:_begin("invite")
  note_step("act", existing and "re-inviting (invite expired)" or "inviting")
  local r = app.invite(page, user) or {}
  if type(r) ~= "table" then r = {} end
  if type(r.credentials) == "table" then take_credentials(page, job, user, r, res) end
  -- Verify what was asked: the user is there, with exactly the job's roles.
  page:_begin("verify")
  local found = find(app, page, user)
  if not found then
    P.raise("business", "the invite did not take: " .. who(user) .. " is not in the app afterwards")
  end
  if want and not M.same_roles(found.roles, want) then
    P.raise("business", string.format("roles are %s after the invite, expected %s (%s)",
      roles_text(found.roles), roles_text(user.roles), roles_diff(found.roles, user.roles)))
  end
  res.app_user = found
  -- The app's state is the truth; the script's word only adds what a users
  -- list cannot show (a password account not yet used: pending_user_login).
  local state = found.state
  if r.state == "pending_user_login" and found.state == "onboarded" then
    state = r.state
  elseif r.state and r.state ~= found.state then
    res.detail = string.format("the script reported %s; the app shows %s", r.state, found.state)
  end
  res.invite_link = r.invite_link
  if res.credentials then
    res.app_user.login_method = "password"
    if state == "pending_user_login" or state == "pending_user_claim" then state = "onboarded" end
  end
  res.state = state
end

function run_action.update(app, page, job, res)
  local user = job.user
  local existing = check_first(app, page, user)
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
  page:_begin("verify")
  local now = find(app, page, user)
  if not now then P.raise("business", who(user) .. " vanished during the update") end
  if user.roles and not M.same_roles(now.roles, user.roles) then
    P.raise("business", string.format("roles are %s after the update, expected %s (%s)",
      roles_text(now.roles), roles_text(user.roles), roles_diff(now.roles, user.roles)))
  end
  res.app_user = now
  res.state = now.state
end

function run_action.remove(app, page, job, res)
  local user = job.user
  local existing = check_first(app, page, user)
  if not existing and app.find_user then
    -- The script's own find_user said "absent": a false "deleted" leaves a
    -- person with access, so the reader must confirm it (and read someone).
    note_step("check", "confirming that " .. who(user) .. " is not in the app")
    for _, u in ipairs(list(app, page)) do
      if same_user(u, user) then
        P.raise("script", "find_user did not find " .. who(user) .. ", but list_users shows "
          .. "them: the script's find_user misses users")
      end
    end
  end
  if not existing then
    res.state, res.detail = "deleted", "not in the app"
    return
  end
  page:_begin("remove")
  note_step("act", "removing")
  local merged = P.shallow_copy(existing)
  for k, v in pairs(user) do merged[k] = v end
  app.remove(page, merged)
  page:_begin("verify")
  if find(app, page, user) then
    P.raise("business", who(user) .. " is still in the app after the removal")
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
                unmatched = 0, exempted = 0, deleted = 0, drifted = 0 }
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
      -- Role drift: the IdP says which roles the user should have.
      local want = expected[idx].roles
      if type(want) == "string" then want = { want } end
      if type(want) == "table" then
        r.expected_roles = json.array(P.shallow_copy(want))
        r.drift = not M.same_roles(u.roles, want)
        if r.drift then sum.drifted = sum.drifted + 1 end
      end
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
                          expected_roles = type(e.roles) == "table"
                            and json.array(P.shallow_copy(e.roles)) or nil,
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
    -- name who would have gone, so an admin can judge before approving
    sum.would_delete = json.array({})
    for _, u in ipairs(out) do
      if u.state == "deleted" then sum.would_delete[#sum.would_delete + 1] = u.matched end
    end
    P.raise("sync_failed", string.format(
      "sync safeguard: %d of %d expected users (%.0f%%) are missing from the app, above "
      .. "the limit of %.0f%% (--max-delete-ratio %g); nothing was applied",
      sum.deleted, sum.managed, 100 * sum.deleted / sum.managed, 100 * ratio, ratio),
      { summary = sum })
  end
  for _, u in ipairs(out) do
    emit({ kind = "state", user = who(u), state = u.state, upstream_id = u.upstream_id,
           app_id = u.app_id, sync = true, drift = u.drift, roles = u.roles,
           expected_roles = u.expected_roles })
  end
  note_step("reconciled", string.format("%d app users: %d matched (%d with other roles than "
    .. "expected), %d unmatched, %d exempted; %d expected users deleted", sum.app_users,
    sum.matched, sum.drifted, sum.unmatched, sum.exempted, sum.deleted))
  res.users = out
end

-- Is the account the agent signs in with among the users read?
local function lists_account(users, account)
  local names = {}
  for _, f in ipairs({ "username", "email" }) do
    if type(account[f]) == "string" and P.trim(account[f]) ~= "" then
      names[#names + 1] = P.lower(P.trim(account[f]))
    end
  end
  for _, u in ipairs(users) do
    for _, k in ipairs(keys_of(u)) do
      for _, n in ipairs(names) do if k == n then return true end end
    end
  end
  return false, names[1]
end

-- validate proves the reader reads the app: the users it reads include the
-- service account (by username or email).  An app whose list does not show
-- the account the agent signs in with says so (app.lists_service_account =
-- false); its reader must then still read someone.
function run_action.validate(app, page, job, res)
  page:_begin("validate")
  if app.validate then app.validate(page) end
  if type(app.list_users) ~= "function" then return end
  local users = list(app, page)
  if app.lists_service_account ~= false then
    local ok, name = lists_account(users, job.account or {})
    if not ok then
      P.raise("script", string.format("the service account %s is not among the %d users read: "
        .. "the users reader may be reading the wrong rows (an app that does not list the "
        .. "account it signs in with sets app.lists_service_account = false)",
        name and ("\"" .. name .. "\"") or "(no username or email in the account)", #users))
    end
  end
  if not app.validate then res.users = users end
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
  e = P.plain_error(e)
  if not e.where then e.where = host.where() end
  return e
end

local function capture_failure(page)
  if not page then return end
  -- No screenshot once a secret was on screen (pixels cannot be redacted).
  local shot = not page._secret_shown and not secret_generated
    and pcall(page.screenshot, page, "failure.png")
  pcall(page._capture_evidence, page)   -- page.html and frame-N.html, secrets out
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
-- The app's functions, each checked on return: a script that swallowed the
-- deadline error (a pcall around a slow step) returns as if done, and
-- what the runner would do next with its answer (a verify that reads
-- nothing, a state it reports) must not count.  Page calls after the
-- deadline are cut off in C; this catches the pure-Lua way back.
local function deadline_checked(app)
  -- Read through to the app table on every access (a field it sets while
  -- running, a function it inherits through its own metatable), wrapping
  -- each function once; what the runner sets here stays here.
  return setmetatable({}, { __index = function(proxy, k)
    local v = app[k]
    if type(v) ~= "function" then return v end
    local checked = function(...)
      local r = table.pack(v(...))
      local late = host.deadline_passed()
      if late then P.raise("deadline", late) end
      return table.unpack(r, 1, r.n)
    end
    rawset(proxy, k, checked)
    return checked
  end })
end

function M.run(app, job)
  app = deadline_checked(app)
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
    check_roles(app, job)
    guard_reader(app)
    local session, frame_id, helper = host.open_page()
    page = pagemod.new(session, { timeout = job.action_timeout, action = "login",
                                  frame_id = frame_id, helper = helper })
    res.sign_in = M.sign_in(app, page, job)
    run_action[job.action](app, page, job, res)
    -- a script that swallowed the deadline error returns as if done
    local late = host.deadline_passed()
    if late then P.raise("deadline", late) end
  end, annotate)
  host.runner_phase()

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
