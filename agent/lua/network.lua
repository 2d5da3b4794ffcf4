-- network.lua — the page's own traffic for scripts: wait for a response
-- the page fetched and read its body (page:wait_for_response,
-- page:expect_response), and send a request with the page's cookies
-- (page:request).  Responses are followed through Network events on the
-- page's session; bodies come from Network.getResponseBody, so a recording
-- holds them and a replay hands the same bodies back.  Every frame passes
-- the secret redactor on its way to logs, evidence and cassettes, and the
-- cookies and Authorization values the page sends become secrets as they
-- are seen (agent/cdp_scrub.c).
local host = ...
local P = host.modules.prelude
local pagemod = host.modules.page
local Page = pagemod.Page

local M = {}
local KEEP_FINISHED = 200   -- finished responses kept for a later wait

local function quote(s) return '"' .. tostring(s) .. '"' end

-- ------------------------------------------------------------ matching

-- "**/api/users*" → a Lua pattern over the whole URL: ** is anything,
-- * anything but "/"; every other character stands for itself ("?" too:
-- URLs are full of them).
local function glob_pattern(glob)
  local out, i = { "^" }, 1
  while i <= #glob do
    local c = glob:sub(i, i)
    if c == "*" then
      if glob:sub(i + 1, i + 1) == "*" then
        out[#out + 1] = ".*"
        i = i + 1
      else
        out[#out + 1] = "[^/]*"
      end
    elseif c:match("[%^%$%(%)%%%.%[%]%+%-%?]") then
      out[#out + 1] = "%" .. c
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

-- A URL matcher from what a script gives: a function(url) → bool, a Lua
-- pattern (a string starting with "^"), a glob (a string with "*"), or
-- the exact URL.  Returns the matcher and how to name it in messages.
function M.matcher(pattern, caller)
  local t = type(pattern)
  if t == "function" then
    return pattern, "a response the predicate accepts"
  end
  if t ~= "string" or pattern == "" then
    error(string.format("%s wants a URL pattern (a glob like \"**/api/users*\", a Lua "
      .. "pattern starting with \"^\", the exact URL, or a function), not %s", caller,
      t == "string" and "an empty string" or t), 3)
  end
  local shown = "a response from " .. quote(pattern)
  if pattern:sub(1, 1) == "^" then
    local ok, err = pcall(string.find, "", pattern)
    if not ok then error(caller .. ": bad Lua pattern " .. quote(pattern) .. ": " .. tostring(err), 3) end
    return function(u) return u:find(pattern) ~= nil end, shown
  end
  if pattern:find("*", 1, true) then
    local lp = glob_pattern(pattern)
    return function(u) return u:find(lp) ~= nil end, shown
  end
  return function(u) return u == pattern end, shown
end

-- ------------------------------------------------------------- watching

-- The page's responses are followed from the first network call on:
-- Network.enable once per page (a page that never asks sends nothing more
-- than before, so its recordings stay as they were).  Frames from other
-- sites fetch in processes of their own, each a session: the ones already
-- there are turned on here, and the ones that attach later turn it on
-- before they run (host.frames_network), so a frame that fetches as it
-- loads is seen too.
local function watch(page)
  local net = page._net
  if net then return net end
  net = { pending = {}, finished = {}, recent = {}, on = { [page.session] = true } }
  page._net = net
  page:send("Network.enable", { maxPostDataSize = 0 })
  host.frames_network(page.session)
  page:_frames_update()
  for _, t in pairs(page._targets or {}) do
    local ok, e = pcall(cdp.send, "Network.enable", { maxPostDataSize = 0 }, { session = t.session })
    if not ok and P.must_propagate(e) then error(e, 0) end
  end
  return net
end

-- The sessions whose responses count: the page's and its frames' (those
-- that attached after watch() came with Network on).
local function sessions_of(page)
  page:_frames_update()
  local list = { page.session }
  for _, t in pairs(page._targets or {}) do list[#list + 1] = t.session end
  return list
end

-- Read one session's queued Network events (waiting up to ms for the
-- first): a response whose body has finished loading joins net.finished.
local function pump_session(net, session, ms)
  local ev, method = cdp.wait_event("Network.*", math.max(0, math.floor(ms)), session)
  while ev do
    local key = session .. "\n" .. tostring(ev.requestId)
    if method == "Network.responseReceived" then
      local r = ev.response or {}
      net.pending[key] = { url = r.url, status = r.status, status_text = r.statusText,
        headers = r.headers, mime_type = r.mimeType, request_id = ev.requestId, type = ev.type,
        session = session }
    elseif method == "Network.loadingFinished" then
      local r = net.pending[key]
      net.pending[key] = nil
      if r then
        net.finished[#net.finished + 1] = r
        if #net.finished > KEEP_FINISHED then table.remove(net.finished, 1) end
        net.recent[#net.recent + 1] = r.url
        if #net.recent > 5 then table.remove(net.recent, 1) end
      end
    elseif method == "Network.loadingFailed" then
      net.pending[key] = nil
    end
    ev, method = cdp.wait_event("Network.*", 0, session)
  end
end

-- Every session's queued events; waiting (up to ms) on the page's while
-- no frame has a session, else in short turns across them all.
local function pump(page, net, ms)
  local list = sessions_of(page)
  if #list == 1 or ms <= 0 then
    for i, s in ipairs(list) do pump_session(net, s, i == 1 and ms or 0) end
    return
  end
  local deadline = clock.now() + ms
  repeat
    local before = #net.finished
    for _, s in ipairs(list) do pump_session(net, s, 0) end
    if #net.finished > before then return end
    pump_session(net, page.session, math.min(50, math.max(0, deadline - clock.now())))
    if #net.finished > before then return end
  until clock.now() >= deadline
end

local function lower_keys(h)
  local out = {}
  for k, v in pairs(h or {}) do out[tostring(k):lower()] = v end
  return out
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64_decode(s)
  local map = {}
  for i = 1, 64 do map[B64:sub(i, i)] = i - 1 end
  local out, bits, n = {}, 0, 0
  for c in s:gmatch("[%w%+/]") do
    bits = (bits << 6) | map[c]
    n = n + 6
    if n >= 8 then
      n = n - 8
      out[#out + 1] = string.char((bits >> n) & 0xff)
    end
  end
  return table.concat(out)
end

local function is_json(mime, text)
  mime = (mime or ""):lower()
  if mime:find("json", 1, true) then return true end
  return false
end

-- What a script gets: {status, status_text, ok, url, headers (lowercase
-- names), mime_type, text, body}; body is the decoded JSON for a JSON
-- response (when it parses), else the text.
local function response_of(r, text)
  local res = { status = r.status, status_text = r.status_text, url = r.url,
    headers = lower_keys(r.headers), mime_type = r.mime_type, text = text, body = text }
  res.ok = type(r.status) == "number" and r.status >= 200 and r.status < 300
  if text and is_json(r.mime_type or res.headers["content-type"], text) then
    local ok, v = pcall(json.decode, text)
    if ok then res.body = v else res.json_error = tostring(v) end
  end
  return res
end

local function body_of(page, r, step)
  if r.status == 204 or r.status == 304 then return "" end   -- no body to ask for
  local ok, b = pcall(cdp.send, "Network.getResponseBody", { requestId = r.request_id },
    { session = r.session or page.session })
  if not ok then
    if P.must_propagate(b) then error(b, 0) end
    -- evicted or gone with a navigation: another try may catch it in time
    P.raise("transient", string.format("the body of %s (%s) is no longer available: %s (%s)",
      r.url, tostring(r.status), type(b) == "table" and b.message or tostring(b), step),
      { step = step })
  end
  local text = b.body or ""
  if b.base64Encoded then text = base64_decode(text) end
  return text
end

-- Take the first finished response that matches, in arrival order.
local function take(net, match)
  for i, r in ipairs(net.finished) do
    if match(r.url or "") then
      table.remove(net.finished, i)
      return r
    end
  end
end

local function wait_matching(page, net, match, shown, timeout, step)
  local deadline = clock.now() + timeout
  while true do
    pump(page, net, 0)
    local r = take(net, match)
    if r then return response_of(r, body_of(page, r, step)) end
    local left = deadline - clock.now()
    if left <= 0 then break end
    pump(page, net, math.min(left, 1000))
    r = take(net, match)
    if r then return response_of(r, body_of(page, r, step)) end
  end
  local seen = #net.recent > 0 and ("; the last responses were from " ..
    table.concat(net.recent, ", ")) or "; no response finished loading meanwhile"
  P.raise("timeout", string.format("timeout %d ms waiting for %s (%s)%s", timeout, shown,
    step, seen), { transient = true, step = step })
end

local function check_opts(name, opts, pos)
  if opts ~= nil and type(opts) ~= "table" then
    error(string.format("%s: argument %d must be an options table, not a %s", name, pos,
      type(opts)), 3)
  end
  return opts or {}
end

-- page:wait_for_response(pattern [, {timeout=}]) → the next response of
-- the page whose URL matches and whose body has loaded, not returned
-- before.  Responses are followed from the page's first network call:
-- call it (or expect_response) before the action that makes the request.
function Page:wait_for_response(pattern, opts)
  local match, shown = M.matcher(pattern, "wait_for_response")
  opts = check_opts("wait_for_response", opts, 2)
  local step = self:_next_step("wait_for_response")
  local net = watch(self)
  return wait_matching(self, net, match, shown, opts.timeout or self.timeout, step)
end

-- page:expect_response(pattern, fn [, {timeout=}]) → response, fn's results.
-- The wait is armed before fn runs (responses that finished earlier do not
-- count), so a response that comes back while fn is still acting is not
-- missed:
--   local r = page:expect_response("**/api/users*", function()
--     page:click("nav >> text=Users")
--   end)
function Page:expect_response(pattern, fn, opts)
  local match, shown = M.matcher(pattern, "expect_response")
  if type(fn) ~= "function" then
    error("expect_response wants a function that makes the page fetch, as its argument 2", 2)
  end
  opts = check_opts("expect_response", opts, 3)
  local net = watch(self)
  pump(self, net, 0)
  net.finished, net.pending = {}, {}   -- only what the page receives from now on
  local res = table.pack(fn())
  local step = self:_next_step("expect_response")
  return wait_matching(self, net, match, shown, opts.timeout or self.timeout, step),
    table.unpack(res, 1, res.n)
end

-- ------------------------------------------------------------ requests

-- JSON with its object keys sorted: the same table gives the same text on
-- every run, so a recording replays (Lua's own order is not stable).
local function sorted_json(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return json.encode(v) end
  if next(v) == nil then return json.encode(v) end
  if v[1] ~= nil or #v > 0 then
    local parts = {}
    for i = 1, #v do parts[i] = sorted_json(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    parts[i] = json.encode(k) .. ":" .. sorted_json(val)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
M.sorted_json = sorted_json

local function form_encode(form)
  local keys = {}
  for k in pairs(form) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = form[k]
    if type(v) == "table" then
      for _, each in ipairs(v) do parts[#parts + 1] = url.encode(k) .. "=" .. url.encode(tostring(each)) end
    else
      parts[#parts + 1] = url.encode(k) .. "=" .. url.encode(tostring(v))
    end
  end
  return table.concat(parts, "&")
end

-- Runs in the helper's isolated world (the page's scripts cannot replace
-- its fetch) with the page's origin and cookies.
local FETCH_JS = [[
(async (method, url, headers, body, timeout) => {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  try {
    const r = await fetch(url, { method, headers, body: body === null ? undefined : body,
      credentials: 'include', redirect: 'follow', signal: ctl.signal });
    const text = await r.text();
    const h = {};
    r.headers.forEach((v, k) => { h[k] = v; });
    return { status: r.status, status_text: r.statusText, url: r.url, headers: h, text };
  } catch (e) {
    return { error: ctl.signal.aborted ? 'timeout' : String(e && e.message || e) };
  } finally {
    clearTimeout(timer);
  }
})]]

local METHODS = { GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true,
  OPTIONS = true }

-- page:request(method, url [, {json=, form=, body=, headers=, timeout=}])
-- → {status, ok, url, headers, text, body}.  Sent from inside the page
-- with its cookies (fetch, credentials "include"), so it reaches what the
-- page itself may: web URLs only (the job's confinement), and another
-- origin only when that origin allows it (CORS).  url may be absolute or
-- a path on the page's own origin ("/api/users").
function Page:request(method, target, opts)
  if type(method) ~= "string" or not METHODS[method:upper()] then
    error("request wants an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS), not "
      .. quote(method), 2)
  end
  method = method:upper()
  if type(target) ~= "string" or target == "" then error("request wants a URL as argument 2", 2) end
  opts = check_opts("request", opts, 3)
  local step = self:_next_step("request")
  local timeout = opts.timeout or self.nav_timeout
  -- "/path" stays on the page's origin; "//host" and "/\host" do not
  if not target:match("^/[^/\\]") then
    local ok, why = host.url_ok(target)
    if not ok then
      P.raise("script", string.format("request %s %s is not allowed: %s (%s)", method, target,
        why, step), { refused = true, step = step })
    end
  end
  local headers, body = {}, json.null
  local given = 0
  for _, k in ipairs({ "json", "form", "body" }) do if opts[k] ~= nil then given = given + 1 end end
  if given > 1 then error("request: give one of json=, form= or body=, not several", 2) end
  if opts.json ~= nil then
    body = sorted_json(opts.json)
    headers["content-type"] = "application/json"
  elseif opts.form ~= nil then
    if type(opts.form) ~= "table" then error("request: form= wants a table of fields", 2) end
    body = form_encode(opts.form)
    headers["content-type"] = "application/x-www-form-urlencoded"
  elseif opts.body ~= nil then
    body = tostring(opts.body)
  end
  for k, v in pairs(opts.headers or {}) do headers[tostring(k):lower()] = tostring(v) end
  local expr = FETCH_JS .. "(" .. table.concat({ json.encode(method), json.encode(target),
    sorted_json(headers), body == json.null and "null" or json.encode(body),
    tostring(math.floor(timeout)) }, ",") .. ")"
  local r
  for _ = 1, 5 do
    local ctx = self:_world()
    -- objectGroup idlcm-body: a recording keeps the reply whole (cassette.h)
    local ok, res = pcall(self.send, self, "Runtime.evaluate", { expression = expr, contextId = ctx,
      returnByValue = true, awaitPromise = true, objectGroup = "idlcm-body" }, timeout + 5000)
    if ok and not res.exceptionDetails then r = res.result and res.result.value break end
    if not ok and P.must_propagate(res) then error(res, 0) end
    self._ctx = nil     -- the document changed under us: a new world
    clock.sleep(20)
  end
  if type(r) ~= "table" then
    P.raise("navigation", string.format("request %s %s: the page kept navigating away (%s)",
      method, target, step), { transient = true, step = step })
  end
  if r.error then
    P.raise(r.error == "timeout" and "timeout" or "navigation", string.format(
      "request %s %s failed: %s (%s)", method, target,
      r.error == "timeout" and string.format("no answer within %d ms", timeout) or r.error, step),
      { transient = true, step = step })
  end
  return response_of({ status = r.status, status_text = r.status_text, url = r.url,
    headers = r.headers, mime_type = (r.headers or {})["content-type"] }, r.text)
end

return M
