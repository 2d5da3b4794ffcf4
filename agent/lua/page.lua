-- page.lua — the page API scripts use: Playwright-like locators that wait
-- for actionability, built on cdp.send / cdp.wait_event and the injected
-- helper (agent/js/helper.js), which resolves selectors and checks elements
-- inside the page in one round trip per attempt.
local host = ...
local P = host.modules.prelude
local HELPER_JS  -- agent/js/helper.js, fetched on first use
local WORLD = "idlcm"

-- Captured at load: a script that replaces the global cannot unhook it.
local register_secret = secret

local M = {}
local Page = {}
Page.__index = Page
local Locator = {}
Locator.__index = Locator

local function quote(s) return '"' .. tostring(s) .. '"' end

-- ---------------------------------------------------------------- page

function M.new(session, opts)
  opts = opts or {}
  local self = setmetatable({
    session = session,
    timeout = opts.timeout or 5000,          -- actions and waits
    nav_timeout = opts.nav_timeout or 30000, -- goto
    step = 0,
    action = opts.action or "script",
    _ctx = nil,                              -- isolated world context id
  }, Page)
  if opts.frame_id then
    -- host.open_page() found the main frame and registered the helper's
    -- init script already (job_page_prepare; a worker's warm child does
    -- it before the job is even claimed).
    self.frame_id, self._auto_world = opts.frame_id, opts.helper and true or false
  else
    local tree = self:send("Page.getFrameTree")
    self.frame_id = tree.frameTree.frame.id
    -- The helper goes into its world as each document starts: no round
    -- trips to set it up again after every navigation (see Page:_world).
    HELPER_JS = HELPER_JS or host.embedded("helper.js")
    local ok = pcall(self.send, self, "Page.addScriptToEvaluateOnNewDocument",
      { source = HELPER_JS, worldName = WORLD, runImmediately = true })
    self._auto_world = ok
  end
  -- A dialog nobody expected would block the page (and every command
  -- after it) until timeouts: dismiss it unless the script says otherwise.
  self:on_dialog("dismiss")
  return self
end

function Page:__tostring() return "page(" .. tostring(self.session) .. ")" end

-- Raw CDP on this page's session.
function Page:send(method, params, timeout)
  return cdp.send(method, params, { session = self.session, timeout = timeout })
end

function Page:wait_event(method, timeout)
  return cdp.wait_event(method, timeout or self.timeout, self.session)
end

function Page:set_default_timeout(ms) self.timeout = ms end

-- Called by the job runner: steps are counted per action, for messages.
function Page:_begin(action)
  self.action, self.step = action, 0
end

function Page:_next_step(verb)
  self.step = self.step + 1
  return string.format("%s, step %d of %s", verb, self.step, self.action)
end

local CONTEXT_GONE = {
  "Cannot find context with specified id",
  "Execution context was destroyed",
  "Inspected target navigated or closed",
  "Cannot find default execution context",
  "No frame with given id found",
}

local function context_gone(msg)
  msg = tostring(msg or "")
  for _, s in ipairs(CONTEXT_GONE) do
    if msg:find(s, 1, true) then return true end
  end
  return false
end

-- The helper lives in an isolated world: the page's own scripts can't see
-- or replace it.  Worlds die with each navigation; recreate lazily.
-- The newest context Chromium announced for our world in the main frame
-- (the init script above runs in it), from the queued events; nil if none.
function Page:_announced_world()
  local found
  while true do
    local ev = cdp.wait_event("Runtime.executionContextCreated", 0, self.session)
    if not ev then return found end
    local ctx = ev.context or {}
    local aux = ctx.auxData or {}
    if ctx.name == WORLD and aux.frameId == self.frame_id then found = ctx.id end
  end
end

function Page:_world()
  if self._ctx then return self._ctx end
  if self._auto_world then
    self._ctx = self:_announced_world()
    if self._ctx then return self._ctx end
  end
  HELPER_JS = HELPER_JS or host.embedded("helper.js")
  local w = self:send("Page.createIsolatedWorld",
    { frameId = self.frame_id, worldName = WORLD, grantUniveralAccess = true })
  local r = self:send("Runtime.evaluate",
    { expression = HELPER_JS, contextId = w.executionContextId, returnByValue = true })
  if r.exceptionDetails then
    P.raise("script", "cannot install the page helper: " ..
      tostring(r.exceptionDetails.exception and r.exceptionDetails.exception.description
        or r.exceptionDetails.text))
  end
  self._ctx = w.executionContextId
  return self._ctx
end

local function exception_text(d)
  if not d then return "unknown exception" end
  local ex = d.exception
  return (ex and (ex.description or ex.value)) or d.text or "exception"
end

-- Call __idlcm.fn(args...) in this world (the page's, or a frame's from
-- another site: see "frames from other sites"); returns its value, or with
-- by_ref its RemoteObject (an element to ask the browser about).
function Page:_helper_here(fn, args, timeout, by_ref)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = json.encode(a) end
  local expr = "__idlcm." .. fn .. "(" .. table.concat(parts, ",") .. ")"
  local last
  for _ = 1, 5 do
    local ctx = self:_world()
    local ok, r = pcall(self.send, self, "Runtime.evaluate",
      { expression = expr, contextId = ctx, returnByValue = not by_ref, awaitPromise = true },
      timeout)
    if ok and not r.exceptionDetails then
      if by_ref then return r.result end
      return r.result and r.result.value
    end
    local msg = ok and exception_text(r.exceptionDetails) or r
    if not ok and P.must_propagate(r) then error(r, 0) end
    if context_gone(type(msg) == "table" and msg.message or msg)
        or tostring(msg):find("__idlcm is not defined", 1, true) then
      -- A navigation replaced the document under us: new world, try again.
      self._ctx = nil
      last = msg
      clock.sleep(20)
    elseif not ok then
      error(r, 0)
    else
      P.raise("script", "page helper failed in " .. fn .. ": " .. tostring(msg))
    end
  end
  P.raise("navigation", "the page kept navigating away: " .. tostring(
    type(last) == "table" and last.message or last))
end

-- ------------------------------------------- frames from other sites

-- A frame from another site runs in a process of its own: Chromium gives it
-- a target, which the agent auto-attaches to the page's session (and a
-- frame's frames to the frame's: cdp_auto_attach in browser.c), each with
-- a flat session.  A selector's enter-frame into such a frame goes on in
-- that session, in a helper world of its own; same-origin frames stay in
-- the page's helper, which walks into them itself.  Input is dispatched on
-- the page's session, at the frame's offset in the page.
local World = {}
World.__index = World
World.__tostring = function(w) return "frame(" .. tostring(w.url or w.frame_id) .. ")" end

-- The page's children (and theirs) as they attach and go: targetId →
-- { session, url }.  The attach events wait in each session's queue.
function Page:_frames_update()
  self._targets = self._targets or {}
  self._worlds = self._worlds or {}
  local sessions = { self.session }
  for _, t in pairs(self._targets) do sessions[#sessions + 1] = t.session end
  local i = 1
  while i <= #sessions do
    local s = sessions[i]
    while true do
      local ok, ev = pcall(cdp.wait_event, "Target.attachedToTarget", 0, s)
      if not ok or not ev then break end
      local info = ev.targetInfo or {}
      if info.type == "iframe" and info.targetId and ev.sessionId then
        self._targets[info.targetId] = { session = ev.sessionId, url = info.url, parent = s }
        sessions[#sessions + 1] = ev.sessionId
      end
    end
    while true do
      local ok, ev = pcall(cdp.wait_event, "Target.detachedFromTarget", 0, s)
      if not ok or not ev then break end
      for id, t in pairs(self._targets) do
        if t.session == ev.sessionId then self._targets[id] = nil end
      end
      self._worlds[ev.sessionId or ""] = nil
    end
    i = i + 1
  end
end

-- The helper world in the frame that targetId is, or nil while the frame
-- has no target (not attached yet: it is still loading).
function Page:_frame_world(target_id)
  self:_frames_update()
  local t = self._targets[target_id]
  if not t then return nil end
  local w = self._worlds[t.session]
  if not w then
    w = setmetatable({ session = t.session, frame_id = target_id, url = t.url,
      page = self }, World)
    self._worlds[t.session] = w
  end
  return w
end

-- Which <iframe> from another site sel enters, asked in world w: "same",
-- "none", or the frame's id (the frame's target has the same id).
local function frame_host(w, sel)
  local r = w:_helper_here("frameHost", { sel }, nil, true)
  if type(r) ~= "table" then return "none" end
  if r.type == "string" then
    local v = r.value or "none"
    if v:sub(1, 6) == "error:" then
      P.raise("selector", v:sub(7), { selector = sel })
    end
    return v
  end
  if not r.objectId then return "none" end
  local ok, d = pcall(w.send, w, "DOM.describeNode", { objectId = r.objectId })
  pcall(w.send, w, "Runtime.releaseObject", { objectId = r.objectId })
  if not ok then
    if P.must_propagate(d) then error(d, 0) end
    return "none"
  end
  return { frame_id = d.node and d.node.frameId }
end

-- Split a selector at its enter-frame parts: { "a >> b", "c", … }.
local function frame_segments(sel)
  local segs, cur = {}, {}
  for part in (sel .. " >> "):gmatch("(.-) >> ") do
    if part:match("^%s*enter%-frame%s*$") then
      segs[#segs + 1] = table.concat(cur, " >> ")
      cur = {}
    else
      cur[#cur + 1] = part
    end
  end
  segs[#segs + 1] = table.concat(cur, " >> ")
  return segs
end

-- The world a selector's element lives in and the selector to give its
-- helper there, with the chain of { world, iframe selector } crossed on
-- the way (for the frame's offset in the page).
function Page:_scope(sel)
  if type(sel) ~= "string" or not sel:find("enter-frame", 1, true) then return self, sel, nil end
  local segs = frame_segments(sel)
  local tail = ""
  if segs[#segs] == "" then   -- the selector names a frame's document
    segs[#segs] = nil
    tail = " >> enter-frame"
  end
  local w, prefix, chain = self, "", {}
  for k = 1, #segs - 1 do
    local cand = prefix .. segs[k]
    local host = frame_host(w, cand)
    local child = type(host) == "table" and host.frame_id and self:_frame_world(host.frame_id)
    if host == "same" then
      prefix = cand .. " >> enter-frame >> "
    elseif child then
      chain[#chain + 1] = { world = w, sel = cand }
      w, prefix = child, ""
    else
      -- Nothing there yet, or a frame still loading (no target yet): the
      -- helper here waits on the whole rest and says what it misses.
      local rest = { cand }
      for m = k + 1, #segs do rest[#rest + 1] = segs[m] end
      return w, table.concat(rest, " >> enter-frame >> ") .. tail, chain
    end
  end
  return w, prefix .. segs[#segs] .. tail, chain
end

-- A point in a frame's viewport → the page's (the sum of the offsets of the
-- <iframe>s crossed, each scrolled into view in its parent).
function Page:_frame_offset(chain)
  local x, y = 0, 0
  for _, c in ipairs(chain) do
    local o = c.world:_helper_here("frameOffset", { c.sel })
    if type(o) ~= "table" or not o.ok then
      P.raise("navigation", string.format("the frame %s went away (%s)", quote(c.sel),
        type(o) == "table" and (o.error or o.reason) or "no answer"), { transient = true })
    end
    x, y = x + o.x, y + o.y
  end
  return x, y
end

-- Call __idlcm.fn(args...) where sel's element lives: in the page's world,
-- or in a frame's from another site with sel (wherever it is an argument)
-- cut to what is inside that frame; points it answers come back in the
-- page's coordinates.
function Page:_helper(fn, args, timeout, sel)
  if not sel then return self:_helper_here(fn, args, timeout) end
  for attempt = 1, 3 do
    local w, lsel, chain = self:_scope(sel)
    if w == self then return self:_helper_here(fn, args, timeout) end
    local a = {}
    for i, v in ipairs(args) do a[i] = v == sel and lsel or v end
    local ok, r = pcall(w._helper_here, w, fn, a, timeout)
    -- A frame that navigated to another site (or back to the page's) left
    -- its target: look the frame up again.
    local gone = not ok and tostring(type(r) == "table" and r.message or r):find("detached", 1, true)
    if gone and attempt < 3 then
      self._worlds[w.session] = nil
      if self._targets[w.frame_id] and self._targets[w.frame_id].session == w.session then
        self._targets[w.frame_id] = nil
      end
    elseif not ok then
      error(r, 0)
    else
      if type(r) == "table" and type(r.x) == "number" and type(r.y) == "number" and #chain > 0 then
        local dx, dy = self:_frame_offset(chain)
        r.x, r.y = r.x + dx, r.y + dy
      end
      if type(r) == "table" and #chain > 0 then r._other_site = true end
      return r
    end
  end
end

for _, name in ipairs({ "send", "_world", "_announced_world", "_helper_here" }) do
  World[name] = Page[name]
end

-- What to say when we gave up waiting: "to be visible", "to receive
-- pointer events: <div class="toast"> intercepts pointer events", ...
-- Actions wait for their element to be visible; when it is not even in the
-- page, say so after the usual phrase.
local ACTIONS_WANT_VISIBLE = { click = true, dblclick = true, hover = true, fill = true,
  check = true, uncheck = true, select_option = true, press = true, focus = true }

local function waiting_for(r, verb)
  if not r or not r.reason then return "to be ready", nil end
  local reason = r.reason
  if reason == "not attached" and ACTIONS_WANT_VISIBLE[verb] then
    return "to be visible", r.detail or "no element matches the selector yet"
  end
  local phrase
  if reason == "covered" then
    phrase = "to receive pointer events"
  elseif reason:match("^not ") then
    phrase = "to be " .. reason:sub(5)
  elseif reason:match("^still ") then
    phrase = "to be no longer " .. reason:sub(7)
  else
    phrase = "to have " .. reason:gsub("^no ", "")
  end
  return phrase, r.detail
end

-- A wait that ended with nothing matching the selector at any point, on a
-- page that had finished loading, is the script's (or a changed app's)
-- problem: class `script`, which no retry fixes.  An element that exists
-- but stays hidden, disabled or covered is `transient`.
local function raise_timeout(msg, fields, never_found, last)
  if never_found and last and last.absent and last.loaded then
    fields.absent = true
    P.raise("selector", msg, fields)
  end
  fields.transient = true
  P.raise("timeout", msg, fields)
end

-- Run a helper function repeatedly with fresh in-page budgets until it
-- says ok, reports a fatal error, or the timeout passes.  `shown` is the
-- timeout to name in the message when `timeout` is what is left of it;
-- `seen` (a table) carries "an element matched once" across such calls.
function Page:_until(fn, args_for, sel, verb, timeout, step, shown, seen)
  timeout = timeout or self.timeout
  seen = seen or {}
  local deadline = clock.now() + timeout
  local last
  repeat
    local left = deadline - clock.now()
    local budget = math.max(0, math.min(left, 1000))
    local r = self:_helper(fn, args_for(budget), budget + 10000, sel)
    if type(r) ~= "table" then
      P.raise("script", "page helper returned nothing for " .. fn)
    end
    if r.ok then return r end
    if r.error then
      P.raise("selector", string.format("%s (%s)", r.error, step or verb),
        { selector = sel, step = step })
    end
    if not r.absent then seen.found = true end
    last = r
  until clock.now() >= deadline
  local phrase, detail = waiting_for(last, verb)
  raise_timeout(string.format("timeout %d ms waiting for %s %s (%s)%s",
    shown or timeout, quote(sel), phrase, step or verb, detail and (": " .. detail) or ""),
    { selector = sel, step = step }, not seen.found, last)
end

-- ------------------------------------------------------------ navigation

-- A page call's options must be a table: a string there would be indexed
-- as one (("hidden").state is nil) and the call would go on with its
-- defaults, doing something else than the author wrote.
local function page_opts(name, opts)
  if opts == nil then return {} end
  if type(opts) == "table" then return opts end
  local hint = ""
  if name == "wait_for" and type(opts) == "string" then
    hint = string.format("; to wait for another state write { state = %s }", quote(opts))
  elseif type(opts) == "number" then
    hint = string.format("; for a timeout write { timeout = %s }", tostring(opts))
  end
  error(string.format("%s: the options argument must be a table, not a %s (%s)%s", name,
    type(opts), quote(tostring(opts)), hint), 3)
end

-- `goto` is a reserved word in Lua 5.4 (page:goto(...) does not parse), so
-- the call is page:navigate(url); page["goto"] is the same function.
function Page:navigate(url, opts)
  opts = page_opts("navigate", opts)
  local timeout = opts.timeout or self.nav_timeout
  local step = self:_next_step("navigate")
  cdp.drop_events("Page.lifecycleEvent", self.session)
  local r = self:send("Page.navigate", { url = url }, timeout)
  if r.errorText == "net::ERR_UNSAFE_REDIRECT" then
    -- Chromium refuses a server redirect to file:, chrome: and the like:
    -- it will do so on every try
    P.raise("navigation", string.format("cannot open %s: the server redirected it to a URL "
      .. "a job's pages may not open (%s) (%s)", url, r.errorText, step),
      { transient = false, url = url })
  end
  if r.errorText and r.errorText ~= "" then
    P.raise("navigation", string.format("cannot open %s: %s (%s)", url, r.errorText, step),
      { transient = true, url = url })
  end
  self._ctx = nil
  if not r.loaderId then return self end   -- same-document (#hash) navigation
  local deadline = clock.now() + timeout
  local want = opts.wait_until or "load"
  while true do
    local left = deadline - clock.now()
    local ev = left > 0 and cdp.wait_event("Page.lifecycleEvent", left, self.session)
    if not ev then
      P.raise("timeout", string.format("timeout %d ms waiting for %s to %s (%s)",
        timeout, url, want, step), { transient = true, url = url })
    end
    if ev.name == want and ev.loaderId == r.loaderId and ev.frameId == self.frame_id then
      return self
    end
  end
end

Page["goto"] = Page.navigate

function Page:reload(opts)
  return self:navigate(self:url(), page_opts("reload", opts))
end

-- Evaluate in the helper's world (same DOM, not the page's globals).
function Page:_eval_isolated(expr)
  for _ = 1, 5 do
    local ctx = self:_world()
    local ok, r = pcall(self.send, self, "Runtime.evaluate",
      { expression = expr, contextId = ctx, returnByValue = true })
    if ok and not r.exceptionDetails then return r.result.value end
    if not ok and (P.must_propagate(r) or not context_gone(r.message)) then error(r, 0) end
    if ok then P.raise("script", "evaluate failed: " .. exception_text(r.exceptionDetails)) end
    self._ctx = nil
    clock.sleep(20)
  end
  P.raise("navigation", "the page kept navigating away")
end

function Page:url() return self:_eval_isolated("location.href") end
function Page:title() return self:_eval_isolated("document.title") end
function Page:content() return self:_eval_isolated("document.documentElement.outerHTML") end

-- Evaluate JavaScript in the page's own world (its globals are visible).
-- Promises are awaited; the value comes back as Lua data.
function Page:eval(js)
  local r = self:send("Runtime.evaluate",
    { expression = js, returnByValue = true, awaitPromise = true }, self.nav_timeout)
  if r.exceptionDetails then
    P.raise("script", "page:eval failed: " .. exception_text(r.exceptionDetails))
  end
  return r.result and r.result.value
end

-- Save a PNG under this run's artifacts folder; returns its path.
function Page:screenshot(name, opts)
  name = name or "screenshot.png"
  if not name:match("%.png$") then name = name .. ".png" end
  local r = self:send("Page.captureScreenshot",
    { format = "png", captureBeyondViewport = opts and opts.full_page or false })
  return host.write_artifact(name, r.data, "base64")
end

-- Native alert/confirm/prompt: answer them as they open, since the page
-- (and every command we send it) blocks until someone does.
function Page:on_dialog(policy, prompt_text)
  if policy == nil or policy == "none" then
    cdp.autoreply(self.session, "Page.javascriptDialogOpening", nil, nil)
    self:_frames_on_dialog(policy)
    return
  end
  if policy ~= "accept" and policy ~= "dismiss" then
    error('on_dialog wants "accept", "dismiss" or "none", not ' .. quote(policy), 2)
  end
  cdp.autoreply(self.session, "Page.javascriptDialogOpening", "Page.handleJavaScriptDialog",
    { accept = policy == "accept", promptText = prompt_text })
  self:_frames_on_dialog(policy, prompt_text)
end

-- Frames from other sites open their dialogs on their own sessions: those
-- attached from now on copy the page's rule (cdp.c); those already there
-- get it here.
function Page:_frames_on_dialog(policy, prompt_text)
  if not self._targets then return end
  self:_frames_update()
  local ids = {}
  for id in pairs(self._targets) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local s = self._targets[id].session
    if policy == nil or policy == "none" then
      cdp.autoreply(s, "Page.javascriptDialogOpening", nil, nil)
    else
      cdp.autoreply(s, "Page.javascriptDialogOpening", "Page.handleJavaScriptDialog",
        { accept = policy == "accept", promptText = prompt_text })
    end
  end
end

-- ------------------------------------------------------------- waiting

local STATES = { attached = true, detached = true, visible = true, hidden = true }

function Page:wait_for(sel, opts)
  opts = page_opts("wait_for", opts)
  local state = opts.state or "visible"
  if not STATES[state] then
    error("wait_for: state must be attached, detached, visible or hidden, not " .. quote(state), 2)
  end
  local step = self:_next_step("wait_for")
  local r = self:_until("waitFor", function(b) return { sel, state, b } end,
    sel, "wait_for", opts.timeout, step)
  return r.count
end

-- Wait until one of several outcomes shows and return its name, for steps
-- that can end more than one way:
--   page:wait_for_any{ done = ".modal >> visible=false", failed = ".modal .error" }
--   page:wait_for_any({ {"failed", ".error"}, {"done", ".toast"} })
-- A selector is waited on to be visible; {selector, state=...} (table form)
-- or {name, selector, state=...} (array form) picks another state.  Every
-- outcome is checked on the same DOM each round; when several hold at once
-- the first wins: in the array form the order given, in the table form the
-- names in alphabetical order.
function Page:wait_for_any(outcomes, opts)
  opts = page_opts("wait_for_any", opts)
  if type(outcomes) ~= "table" or next(outcomes) == nil then
    error("wait_for_any wants a table of outcomes", 2)
  end
  local timeout = opts.timeout or self.timeout
  local step = self:_next_step("wait_for_any")
  local list = {}
  if outcomes[1] ~= nil then
    for i, o in ipairs(outcomes) do
      if type(o) ~= "table" or type(o[1]) ~= "string" or type(o[2]) ~= "string" then
        error(string.format("wait_for_any: outcome %d wants {name, selector [, state=...]}", i), 2)
      end
      list[i] = { name = o[1], sel = o[2], state = o.state or "visible" }
    end
  else
    local names = {}
    for name in pairs(outcomes) do names[#names + 1] = tostring(name) end
    table.sort(names)
    for i, name in ipairs(names) do
      local o = outcomes[name]
      list[i] = { name = name, sel = type(o) == "table" and o[1] or o,
                  state = type(o) == "table" and o.state or "visible" }
    end
  end
  local conds, desc = json.array({}), {}
  for i, o in ipairs(list) do
    if type(o.sel) ~= "string" or not STATES[o.state] then
      error("wait_for_any: " .. o.name .. " wants a selector or {selector, state=...}", 2)
    end
    conds[i] = json.array({ o.sel, o.state })
    desc[i] = string.format("%s (%s to be %s)", o.name, quote(o.sel), o.state)
  end
  local deadline = clock.now() + timeout
  local last, seen = nil, false
  repeat
    local budget = math.max(0, math.min(deadline - clock.now(), 1000))
    local w, here = self:_any_scope(list, conds)
    local r = w:_helper_here("waitForAny", { here, budget }, budget + 10000)
    if type(r) == "table" and r.error then
      P.raise("selector", r.error .. " (" .. step .. ")", { step = step })
    end
    if type(r) == "table" and r.ok then return list[r.index].name end
    if type(r) == "table" and not r.absent then seen = true end
    last = r
  until clock.now() >= deadline
  raise_timeout(string.format("timeout %d ms waiting for any of: %s (%s)",
    timeout, table.concat(desc, ", "), step), { step = step }, not seen,
    type(last) == "table" and last or nil)
end

-- Where wait_for_any's outcomes live: the page, or one frame from another
-- site (outcomes in several such frames cannot be checked on one DOM).
function Page:_any_scope(list, conds)
  local w0, here = nil, json.array({})
  for i, o in ipairs(list) do
    local w, l = self:_scope(o.sel)
    if w0 and w ~= w0 then
      P.raise("script", string.format("wait_for_any: %s and %s are in different frames from "
        .. "other sites; wait in one frame at a time", quote(list[1].sel), quote(o.sel)))
    end
    w0 = w
    here[i] = json.array({ l, o.state })
  end
  if w0 == self then return self, conds end
  return w0, here
end

-- Pause that keeps events flowing; prefer waiting for something visible.
function Page:wait(ms) clock.sleep(ms) end

-- ------------------------------------------------------------- locators

function Page:locator(sel)
  if type(sel) ~= "string" or sel == "" then
    error("locator wants a selector string", 2)
  end
  return setmetatable({ page = self, sel = sel }, Locator)
end

-- ---------------------------------------------------------- frame scope

-- A scope inside a same-origin iframe: page:frame("iframe#invite"):locator("input").
-- It is not an element: its methods take selectors (locator, frame,
-- wait_for, count), and an action called on it the way one is called on
-- the page (form:click("#x")) is an error naming the call instead of a
-- click on the iframe.
local Frame = {}
local FRAME_METHODS = {}

local function new_frame(page, sel)
  if type(sel) ~= "string" or sel == "" then error("frame wants the iframe's selector", 3) end
  return setmetatable({ page = page, sel = sel .. " >> enter-frame" }, Frame)
end

function FRAME_METHODS:locator(sub)
  if type(sub) ~= "string" or sub == "" then error("locator wants a selector string", 2) end
  return setmetatable({ page = self.page, sel = self.sel .. " >> " .. sub }, Locator)
end
function FRAME_METHODS:frame(sel) return new_frame(self.page, self.sel .. " >> " .. tostring(sel)) end
function FRAME_METHODS:wait_for(sel, opts) return FRAME_METHODS.locator(self, sel):wait_for(opts) end
function FRAME_METHODS:count(sel) return FRAME_METHODS.locator(self, sel):count() end
-- frame:wait_for_any{ sent = ".done", refused = ".error" }: the outcomes'
-- selectors are inside the frame.
function FRAME_METHODS:wait_for_any(outcomes, opts)
  if type(outcomes) ~= "table" then error("wait_for_any wants a table of outcomes", 2) end
  local inside = function(sel)
    return type(sel) == "string" and (self.sel .. " >> " .. sel) or sel
  end
  local scoped = {}
  for k, o in pairs(outcomes) do
    if type(o) == "table" then
      local c = {}
      for kk, v in pairs(o) do c[kk] = v end
      if type(k) == "number" then c[2] = inside(c[2]) else c[1] = inside(c[1]) end
      scoped[k] = c
    else
      scoped[k] = inside(o)
    end
  end
  return self.page:wait_for_any(scoped, opts)
end

Frame.__index = function(_, name)
  local m = FRAME_METHODS[name]
  if m then return m end
  if type(name) == "string" and (Locator[name] or Page[name]) then
    return function(self, arg)
      local shown = type(arg) == "string" and quote(arg) or "sel"
      P.raise("script", string.format("frame:%s(%s): a frame scope is not an element; "
        .. "write frame:locator(%s):%s(…) (the frame is %s)", name,
        type(arg) == "string" and quote(arg) or "…", shown, name,
        quote((self.sel:gsub(" >> enter%-frame$", "")))))
    end
  end
  return nil
end
Frame.__tostring = function(self) return "frame(" .. quote(self.sel) .. ")" end

function Page:frame(sel) return new_frame(self, sel) end

-- Shortcuts so scripts can say page:click("button.save").
for _, name in ipairs({ "click", "dblclick", "hover", "fill", "select_option", "check",
  "uncheck", "press", "text", "get_attribute", "is_visible", "all_texts", "count",
  "table", "input_value", "is_checked", "focus", "outer_html" }) do
  Page[name] = function(self, sel, ...)
    local loc = self:locator(sel)
    return loc[name](loc, ...)
  end
end

function Locator:__tostring() return "locator(" .. quote(self.sel) .. ")" end

function Locator:locator(sub)
  return setmetatable({ page = self.page, sel = self.sel .. " >> " .. sub }, Locator)
end

function Locator:nth(i) return self:locator("nth=" .. tostring(i)) end
function Locator:first() return self:nth(0) end
function Locator:last() return self:nth(-1) end

-- loc:filter{has_text = "ada@example.com"} / {visible = true}
function Locator:filter(opts)
  local l = self
  if opts.has_text then l = l:locator("has-text=" .. opts.has_text) end
  if opts.visible ~= nil then l = l:locator("visible=" .. tostring(opts.visible)) end
  return l
end

function Locator:frame(sel) return new_frame(self.page, self.sel .. " >> " .. tostring(sel)) end

-- An action's last argument is its options table.  A string there is a
-- selector meant for something else: frame:click("#x") on a scope,
-- loc:click("#x") meaning loc:locator("#x"):click().  Say so instead of
-- acting on the receiver.
local function check_opts(self, name, opts)
  if opts == nil or type(opts) == "table" then return opts end
  local hint = ""
  if type(opts) == "string" then
    hint = string.format("; to %s an element inside it, write :locator(%s):%s(…)",
      name == "text" and "read" or name, quote(opts), name)
  end
  P.raise("script", string.format("%s:%s(…): the options argument must be a table, not a %s (%s)%s",
    tostring(self), name, type(opts), quote(tostring(opts)), hint), { selector = self.sel })
end

local function act(self, action, opts, verb)
  opts = opts or {}
  local page = self.page
  local step = page:_next_step(verb or action)
  local helper_opts = {}
  for k, v in pairs(opts) do if k ~= "timeout" then helper_opts[k] = v end end
  local r = page:_until("act", function(b) return { action, self.sel, b, helper_opts } end,
    self.sel, verb or action, opts.timeout, step)
  return r, step
end

-- What the mouse events of an action are called in messages.
local POINTER_NOUN = { click = "the click", dblclick = "the double click", hover = "the pointer",
  check = "the click", uncheck = "the click" }

-- A pointer action counts only when it lands.  The helper checks the
-- element (visible, enabled, stable, receiving events at its point) and in
-- the same call arms a guard that cancels the mouse events if they reach
-- another element; send(r) dispatches them; one more call asks whether
-- they landed.  A miss (the layout shifted between check and dispatch) is
-- retried until the timeout, then named: "click "#go": the click landed on
-- div#banner (it covers the element's point) after 5000 ms".
local function pointer_act(self, action, opts, send)
  local page = self.page
  local step = page:_next_step(action)
  local timeout = opts.timeout or page.timeout
  local deadline = clock.now() + timeout
  local helper_opts = { position = opts.position, force = opts.force, guard = true }
  local seen, missed = {}, nil
  local function missed_error()
    P.raise("timeout", string.format("%s %s: %s landed on %s (%s) after %d ms (%s)",
      action, quote(self.sel), POINTER_NOUN[action], missed.hit,
      missed.encloses and "the element moved away from the point"
        or "it covers the element's point", timeout, step),
      { selector = self.sel, step = step, transient = true, landed_on = missed.hit })
  end
  while true do
    local ok, r = pcall(page._until, page, "act",
      function(b) return { action, self.sel, b, helper_opts } end,
      self.sel, action, math.max(0, deadline - clock.now()), step, timeout, seen)
    if not ok then
      if missed and type(r) == "table" and r.kind == "timeout" then missed_error() end
      error(r, 0)
    end
    if r.done then return r, step end
    send(r)
    if opts.force then return r, step end
    local v = page:_helper("landed", {}, nil, self.sel)
    if type(v) == "table" and v.verdict == "unseen" and v._other_site then
      -- In a frame from another site the guard sees every event that
      -- reaches the frame: none did, so they went to the page around it.
      v = { verdict = "missed", hit = "the page around the frame", encloses = false }
    end
    if type(v) ~= "table" or v.verdict ~= "missed" then return r, step end
    missed = v
    log.debug(string.format("%s %s landed on %s; trying again", action, quote(self.sel), v.hit))
    if clock.now() >= deadline then missed_error() end
  end
end

-- nowait: pipelined (see cdp.send); the last event of a click waits, and
-- its reply comes after the earlier ones were dispatched.
local function mouse(page, kind, x, y, extra, nowait)
  local p = { type = kind, x = x, y = y }
  for k, v in pairs(extra or {}) do p[k] = v end
  if nowait then
    cdp.send("Input.dispatchMouseEvent", p, { session = page.session, nowait = true })
  else
    page:send("Input.dispatchMouseEvent", p)
  end
end

local function click_at(page, x, y, opts)
  local button = opts.button or "left"
  local count = opts.click_count or 1
  mouse(page, "mouseMoved", x, y, nil, true)
  for i = 1, count do
    mouse(page, "mousePressed", x, y, { button = button, buttons = 1, clickCount = i }, true)
    mouse(page, "mouseReleased", x, y, { button = button, buttons = 0, clickCount = i }, i < count)
  end
end

function Locator:click(opts)
  opts = check_opts(self, "click", opts) or {}
  pointer_act(self, "click", opts, function(r) click_at(self.page, r.x, r.y, opts) end)
  return self
end

function Locator:dblclick(opts)
  opts = check_opts(self, "dblclick", opts) or {}
  pointer_act(self, "dblclick", opts, function(r)
    click_at(self.page, r.x, r.y, { button = opts.button, click_count = 2 })
  end)
  return self
end

function Locator:hover(opts)
  opts = check_opts(self, "hover", opts) or {}
  pointer_act(self, "hover", opts, function(r) mouse(self.page, "mouseMoved", r.x, r.y) end)
  return self
end

function Locator:focus(opts)
  act(self, "focus", check_opts(self, "focus", opts))
  return self
end

-- ---------------------------------------------------------------- keys

local NAMED_KEYS = {
  Enter = { code = "Enter", vk = 13, text = "\r" },
  Tab = { code = "Tab", vk = 9 },
  Escape = { code = "Escape", vk = 27 },
  Backspace = { code = "Backspace", vk = 8 },
  Delete = { code = "Delete", vk = 46 },
  Space = { key = " ", code = "Space", vk = 32, text = " " },
  ArrowUp = { code = "ArrowUp", vk = 38 }, ArrowDown = { code = "ArrowDown", vk = 40 },
  ArrowLeft = { code = "ArrowLeft", vk = 37 }, ArrowRight = { code = "ArrowRight", vk = 39 },
  Home = { code = "Home", vk = 36 }, End = { code = "End", vk = 35 },
  PageUp = { code = "PageUp", vk = 33 }, PageDown = { code = "PageDown", vk = 34 },
  Shift = { code = "ShiftLeft", vk = 16 }, Control = { code = "ControlLeft", vk = 17 },
  Alt = { code = "AltLeft", vk = 18 }, Meta = { code = "MetaLeft", vk = 91 },
}
local MODIFIER_BITS = { Alt = 1, Control = 2, Meta = 4, Shift = 8 }

local function key_info(name)
  local k = NAMED_KEYS[name]
  if k then return { key = k.key or name, code = k.code, vk = k.vk, text = k.text } end
  if utf8.len(name) == 1 then
    local up = name:upper()
    local code
    if name:match("%a") then code = "Key" .. up
    elseif name:match("%d") then code = "Digit" .. name end
    return { key = name, code = code, vk = up:byte(), text = name }
  end
  error("unknown key " .. quote(name) .. " (use Enter, Tab, Escape, a single character, "
    .. "or Modifier+Key like Control+a)", 3)
end

-- page:press("Enter"), loc:press("Control+a")
local function press_keys(page, combo)
  local parts = {}
  for p in (combo .. "+"):gmatch("(.-)%+") do
    if p == "" then p = "+" end
    parts[#parts + 1] = p
  end
  local main = key_info(parts[#parts])
  local mods = 0
  for i = 1, #parts - 1 do
    local bit = MODIFIER_BITS[parts[i]]
    if not bit then error("unknown modifier " .. quote(parts[i]), 3) end
    mods = mods | bit
    local m = key_info(parts[i])
    page:send("Input.dispatchKeyEvent", { type = "rawKeyDown", key = m.key, code = m.code,
      windowsVirtualKeyCode = m.vk, modifiers = mods })
  end
  local text = (mods & ~8) == 0 and main.text or nil  -- shortcuts type nothing
  page:send("Input.dispatchKeyEvent", { type = text and "keyDown" or "rawKeyDown",
    key = main.key, code = main.code, windowsVirtualKeyCode = main.vk, text = text,
    unmodifiedText = text, modifiers = mods })
  page:send("Input.dispatchKeyEvent", { type = "keyUp", key = main.key, code = main.code,
    windowsVirtualKeyCode = main.vk, modifiers = mods })
  for i = #parts - 1, 1, -1 do
    local m = key_info(parts[i])
    mods = mods & ~MODIFIER_BITS[parts[i]]
    page:send("Input.dispatchKeyEvent", { type = "keyUp", key = m.key, code = m.code,
      windowsVirtualKeyCode = m.vk, modifiers = mods })
  end
end

function Locator:press(key, opts)
  if type(key) ~= "string" then error("press wants a key name like \"Enter\"", 2) end
  check_opts(self, "press", opts)
  key_info((key:match("([^+]+)$")) or key) -- validate before waiting
  act(self, "press", opts, "press")
  press_keys(self.page, key)
  return self
end

-- Page:press(key) without a selector presses on whatever has focus.
local page_press_sel = Page.press
function Page:press(sel_or_key, key, opts)
  if key == nil then
    press_keys(self, sel_or_key)
    return self
  end
  return page_press_sel(self, sel_or_key, key, opts)
end

-- --------------------------------------------------------------- forms

function Locator:fill(value, opts)
  opts = check_opts(self, "fill", opts) or {}
  value = tostring(value == nil and "" or value)
  local r, step = act(self, "fill", { timeout = opts.timeout, value = value }, "fill")
  if not r.done then
    -- What goes into a password field is a secret, whatever its origin:
    -- registered before it is typed, so no log, frame or artifact keeps it.
    if r.password and value ~= "" then register_secret(value) end
    if value == "" then
      press_keys(self.page, "Delete")
    else
      self.page:send("Input.insertText", { text = value })
    end
    -- Read back: the text must be in the field, not wherever the focus went.
    local v = self.page:_helper("verifyFill", { self.sel, value }, nil, self.sel)
    if type(v) == "table" and v.ok and not v.matches and v.focused == false then
      P.raise("script", string.format("fill %s: the text went to %s, which had the focus, "
        .. "not to the field (%s)", quote(self.sel), v.focus, step),
        { selector = self.sel, step = step, transient = true, focus = v.focus })
    end
    if type(v) == "table" and v.ok and v.empty and value ~= "" then
      P.raise("script", string.format("fill %s: the field is still empty after typing (%s)",
        quote(self.sel), step), { selector = self.sel, step = step, transient = true })
    end
  end
  return self
end

function Locator:select_option(values, opts)
  check_opts(self, "select_option", opts)
  if type(values) ~= "table" then values = { values } end
  local list = json.array({})
  for i, v in ipairs(values) do list[i] = tostring(v) end
  local r = act(self, "select", { timeout = opts and opts.timeout, values = list }, "select_option")
  return r.selected
end

local function set_checked(self, want, opts)
  local verb = want and "check" or "uncheck"
  opts = check_opts(self, verb, opts) or {}
  local r, step = pointer_act(self, verb, opts, function(p) click_at(self.page, p.x, p.y, {}) end)
  if r.done then return self end
  local now = self.page:_helper("read", { self.sel, "checked", json.null, 1000 }, nil, self.sel)
  if type(now) == "table" and now.ok and now.value ~= want then
    P.raise("script", string.format("%s %s: clicking did not change its state (%s)",
      verb, quote(self.sel), step), { selector = self.sel, step = step })
  end
  return self
end

function Locator:check(opts) return set_checked(self, true, opts) end
function Locator:uncheck(opts) return set_checked(self, false, opts) end

-- --------------------------------------------------------------- reads

-- Strict reads wait for the element to exist; non-waiting ones don't.
local function read(self, what, arg, opts, wait)
  local page = self.page
  if not wait then
    local r = page:_helper("read", { self.sel, what, arg == nil and json.null or arg, 0 }, nil, self.sel)
    if type(r) == "table" and r.error then
      P.raise("selector", r.error .. " (" .. what .. ")", { selector = self.sel })
    end
    return type(r) == "table" and r.value
  end
  local step = page:_next_step(what)
  local r = page:_until("read", function(b)
    return { self.sel, what, arg == nil and json.null or arg, b }
  end, self.sel, what, opts and opts.timeout, step)
  return r.value
end

function Locator:text(opts) return read(self, "text", nil, check_opts(self, "text", opts), true) end
function Locator:outer_html(opts)
  return read(self, "html", nil, check_opts(self, "outer_html", opts), true)
end
function Locator:input_value(opts)
  return read(self, "value", nil, check_opts(self, "input_value", opts), true)
end
function Locator:get_attribute(name, opts)
  if type(name) ~= "string" then error("get_attribute wants an attribute name", 2) end
  return read(self, "attribute", name, check_opts(self, "get_attribute", opts), true)
end
function Locator:is_checked(opts)
  return read(self, "checked", nil, check_opts(self, "is_checked", opts), true)
end
function Locator:is_visible(opts)
  check_opts(self, "is_visible", opts)
  return read(self, "visible") == true
end
function Locator:count(opts)
  check_opts(self, "count", opts)
  local r = self.page:_helper("count", { self.sel }, nil, self.sel)
  if type(r) == "table" and r.error then P.raise("selector", r.error, { selector = self.sel }) end
  return r.count
end
-- One locator per element that matches now, in document order (no
-- waiting), as Playwright's locator.all(): for rows acted on one by one.
function Locator:all(opts)
  local out = {}
  for i = 1, self:count(check_opts(self, "all", opts)) do out[i] = self:nth(i - 1) end
  return out
end
function Locator:all_texts(opts)
  check_opts(self, "all_texts", opts)
  local v = read(self, "all_texts")
  return v or {}
end

-- A whole table in one call: an array of rows; each row has its cells by
-- position (row[1]), by header text (row["Last login"]) and by key
-- (row.last_login); row._attrs holds the row's data-* attributes, row._id
-- and row._class its element's, row._links and row._checked each cell's
-- first link (absolute href) and checkbox state, the same three ways.
-- Options (see table_options): header_row, rows, skip, hidden_text.
local TABLE_OPTS = { header_row = "number", rows = "string", skip = "string|function",
  hidden_text = "boolean", timeout = "number" }

local function table_options(self, opts)
  local out = {}
  for k, v in pairs(opts or {}) do
    local want = TABLE_OPTS[k]
    if not want then
      P.raise("script", string.format("table(…): unknown option %s (options: header_row, rows, "
        .. "skip, hidden_text, timeout)", quote(tostring(k))), { selector = self.sel })
    end
    if not want:find(type(v), 1, true) then
      P.raise("script", string.format("table(…): option %s must be a %s, not a %s", k,
        want:gsub("|", " or "), type(v)), { selector = self.sel })
    end
    if k ~= "timeout" and not (k == "skip" and type(v) == "function") then out[k] = v end
  end
  if not next(out) then return json.null end
  -- By position: a JSON object's keys would come out in the table's hash
  -- order, which differs between runs (and a replay compares the text).
  local n = json.null
  return json.array({ out.header_row or n, out.rows or n, out.skip or n,
    out.hidden_text == nil and n or out.hidden_text })
end

-- One cell list keyed by position, header text and header key.
local function by_header(values, headers)
  local t = {}
  for j, v in ipairs(values or {}) do
    if v == json.null then v = nil end
    t[j] = v
    local h = headers[j]
    if h and h ~= "" then
      t[h] = v
      t[P.key(h)] = v
    end
  end
  return t
end

function Locator:table(opts)
  check_opts(self, "table", opts)
  local helper_opts = table_options(self, opts)
  local t = read(self, "table", helper_opts, opts, true)
  local headers = t.headers or {}
  local skip = opts and type(opts.skip) == "function" and opts.skip
  local rows = {}
  for _, r in ipairs(t.rows or {}) do
    local row = by_header(r.cells, headers)
    row._attrs = r.attrs or {}
    row._id = r.id ~= json.null and r.id or nil
    row._class = r.class ~= json.null and r.class or nil
    row._links = by_header(r.links, headers)
    row._checked = by_header(r.checked, headers)
    if not (skip and skip(row)) then rows[#rows + 1] = row end
  end
  return rows, headers
end

function Locator:wait_for(opts)
  return self.page:wait_for(self.sel, check_opts(self, "wait_for", opts))
end

-- A value the app shows once (a generated password): read with debug
-- logging paused and registered as a secret before anything else can write
-- it; from then on every log, output and artifact redacts it.
function Locator:secret_text(opts)
  host.quiet(true)
  local ok, v = pcall(self.text, self, opts)
  host.quiet(false)
  if not ok then error(v, 0) end
  if type(v) == "string" and v ~= "" then register_secret(v) end
  -- A screenshot cannot be redacted: none from now on in this job.
  self.page._secret_shown = true
  return v
end
function Page:secret_text(sel, opts) return self:locator(sel):secret_text(opts) end

-- ------------------------------------------------------------- evidence

-- Failure evidence: page.html and, next to it, frame-1.html … for every
-- same-origin frame, with password values blanked in the page copy (the
-- artifact writer then redacts every registered secret).  Returns the
-- number of files written.
function Page:_capture_evidence()
  local snap = self:_helper("snapshot", {})
  if type(snap) ~= "table" or not snap.ok then return 0 end
  host.write_artifact("page.html", snap.html or "")
  local n = 0
  for _, f in ipairs(snap.frames or {}) do
    n = n + 1
    host.write_artifact(string.format("frame-%d.html", n), string.format(
      "<!-- frame %d: %s in %s -->\n%s", n, f.element or "?", f.url or "?", f.html or ""))
  end
  return 1 + n + self:_capture_frames_evidence(n)
end

-- Frames from other sites have their own documents (and targets): each
-- is snapshot in its own helper, and its file says which frame it is.
function Page:_capture_frames_evidence(n)
  local ok = pcall(self._frames_update, self)
  if not ok then return 0 end
  local ids = {}
  for id in pairs(self._targets or {}) do ids[#ids + 1] = id end
  table.sort(ids)
  local written = 0
  for _, id in ipairs(ids) do
    local w = self:_frame_world(id)
    local got, snap = pcall(w and w._helper_here or function() end, w, "snapshot", {})
    if got and type(snap) == "table" and snap.ok then
      local docs = { { url = self._targets[id].url, html = snap.html, element = "the frame" } }
      for _, f in ipairs(snap.frames or {}) do docs[#docs + 1] = f end
      for k, f in ipairs(docs) do
        n, written = n + 1, written + 1
        host.write_artifact(string.format("frame-%d.html", n), string.format(
          "<!-- frame %d: %s in %s (a frame from another site, target %s) -->\n%s", n,
          k == 1 and "cross-origin frame" or (f.element or "?"), f.url or "?", id, f.html or ""))
      end
    end
  end
  return written
end

M.Page, M.Locator, M.Frame = Page, Locator, Frame
M.FRAME_METHODS = FRAME_METHODS   -- locators.lua adds get_by_* to frame scopes
M.FrameMethods = FRAME_METHODS
return M
