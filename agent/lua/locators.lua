-- locators.lua — finding elements the way a person does, and checking what
-- the page shows: page:get_by_role / get_by_label / get_by_placeholder /
-- get_by_text / get_by_title / get_by_alt_text / get_by_test_id (on the page,
-- on locators and on frame scopes), the retrying assertions expect(loc):…,
-- page:wait_for_url and click{ wait_for_navigation = true }.
--
-- Every get_by_* builds an ordinary selector part (role=…, label=…, text=…,
-- testid=…; agent/js/helper.js resolves them), so the locators they return
-- work with every action, chain with " >> ", replay like any other, and
-- scripts may write the same parts by hand.  The call as written is kept as
-- the locator's description for messages: expect(get_by_role("row",
-- {name="alice"})):to_have_count(1) failed after 5000 ms: …
local host = ...
local P = host.modules.prelude
local pagemod = host.modules.page
local Page, Locator, FRAME = pagemod.Page, pagemod.Locator, pagemod.FRAME_METHODS

local M = {}

local function quote(s) return '"' .. tostring(s) .. '"' end

-- A string written /…/flags is a (JavaScript) regular expression: its
-- source and flags, else nil.
local function as_regex(s)
  if type(s) ~= "string" then return nil end
  local src, flags = s:match("^/(.+)/([a-z]*)$")
  return src, flags
end
M.as_regex = as_regex

-- "…" with backslash escapes, as the helper's parts read them.
local function js_quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- A Lua value as the call would be written, for descriptions.
local function lit(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  return tostring(v)
end

-- The first argument must be a string, the options a table: say so naming
-- the call (get_by_role("button", "Invite") means { name = "Invite" }).
local function want_args(fname, arg, opts, what, level)
  if type(arg) ~= "string" or arg == "" then
    error(string.format("%s wants %s (a non-empty string), not %s", fname, what,
      type(arg) == "string" and '""' or type(arg)), level + 1)
  end
  if opts ~= nil and type(opts) ~= "table" then
    local hint = ""
    if fname == "get_by_role" and type(opts) == "string" then
      hint = string.format('; write get_by_role(%s, { name = %s })', lit(arg), lit(opts))
    end
    error(string.format("%s(%s, …): the options argument must be a table, not a %s%s",
      fname, lit(arg), type(opts), hint), level + 1)
  end
  return opts or {}
end

local function describe(fname, arg, opts, order)
  local parts = {}
  for _, k in ipairs(order) do
    if opts[k] ~= nil then parts[#parts + 1] = k .. "=" .. lit(opts[k]) end
  end
  if #parts == 0 then return string.format("%s(%s)", fname, lit(arg)) end
  return string.format("%s(%s, {%s})", fname, lit(arg), table.concat(parts, ", "))
end

-- A text to match as a part body (text=, label=, placeholder=, alt=, title=):
-- exact → "…" (whole text, case-sensitive); else a case-insensitive
-- substring, written bare when that reads back the same, else as an
-- escaped regular expression (quotes and ">>" would confuse the splitter).
local function text_body(s, exact)
  if as_regex(s) then return s end
  if exact then return js_quote(s) end
  local t = s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if t ~= "" and not t:find("[\"'/\\]") and not t:find(">>", 1, true) then return t end
  local rx = t:gsub("[%^%$%.%*%+%?%(%)%[%]{}|\\/%-]", "\\%0"):gsub('"', "\\x22"):gsub("'", "\\x27")
    :gsub(">", "\\x3e")
  return "/" .. rx .. "/i"
end

local ROLE_OPTS = { name = true, exact = true, level = true, checked = true, pressed = true,
  selected = true, expanded = true, disabled = true, include_hidden = true }
local ROLE_ORDER = { "name", "exact", "level", "checked", "pressed", "selected", "expanded",
  "disabled", "include_hidden" }

function M.role_part(role, opts)
  local s = { "role=" .. role }
  for k in pairs(opts) do
    if not ROLE_OPTS[k] then
      error(string.format("get_by_role(%s, …): unknown option %s (known: %s)", lit(role), quote(k),
        table.concat(ROLE_ORDER, ", ")), 3)
    end
  end
  if opts.name ~= nil then
    if type(opts.name) ~= "string" then
      error(string.format("get_by_role(%s, …): name must be a string (or \"/regex/flags\")",
        lit(role)), 3)
    end
    if as_regex(opts.name) then
      s[#s + 1] = "[name=" .. opts.name .. "]"
    else
      s[#s + 1] = "[name=" .. js_quote(opts.name) .. (opts.exact and "s" or "") .. "]"
    end
  end
  if opts.level ~= nil then
    if math.type(opts.level) ~= "integer" then
      error(string.format("get_by_role(%s, …): level must be an integer", lit(role)), 3)
    end
    s[#s + 1] = "[level=" .. opts.level .. "]"
  end
  for _, k in ipairs({ "checked", "pressed", "selected", "expanded", "disabled", "include_hidden" }) do
    local v = opts[k]
    if v ~= nil then
      if type(v) ~= "boolean" and not (v == "mixed" and (k == "checked" or k == "pressed")) then
        error(string.format("get_by_role(%s, …): %s must be true or false%s", lit(role), k,
          (k == "checked" or k == "pressed") and ' or "mixed"' or ""), 3)
      end
      s[#s + 1] = "[" .. k:gsub("_", "-") .. "=" .. tostring(v) .. "]"
    end
  end
  return table.concat(s)
end

-- The part each finder adds, and its description.
local FINDERS = {}

function FINDERS.get_by_role(_, role, opts)
  opts = want_args("get_by_role", role, opts, "an ARIA role such as \"button\"", 3)
  return M.role_part(role, opts), describe("get_by_role", role, opts, ROLE_ORDER)
end

local function text_finder(fname, engine)
  FINDERS[fname] = function(_, t, opts)
    opts = want_args(fname, t, opts, "the text to look for", 3)
    for k in pairs(opts) do
      if k ~= "exact" then
        error(string.format("%s(%s, …): unknown option %s (known: exact)", fname, lit(t), quote(k)), 3)
      end
    end
    return engine .. "=" .. text_body(t, opts.exact), describe(fname, t, opts, { "exact" })
  end
end
text_finder("get_by_text", "text")
text_finder("get_by_label", "label")
text_finder("get_by_placeholder", "placeholder")
text_finder("get_by_title", "title")
text_finder("get_by_alt_text", "alt")

function FINDERS.get_by_test_id(page, id)
  want_args("get_by_test_id", id, nil, "the test id", 3)
  local attr = page._test_id_attribute
  local part
  if attr and attr ~= "data-testid" then
    part = string.format('css=[%s="%s"]', attr, (id:gsub('[\\"]', "\\%0"):gsub("\n", "\\a ")))
  else
    part = "testid=" .. js_quote(id)
  end
  return part, describe("get_by_test_id", id, {}, {})
end

-- page:set_test_id_attribute("data-qa"): get_by_test_id looks at that
-- attribute from now on (the testid= part always means data-testid).
function Page:set_test_id_attribute(name)
  if type(name) ~= "string" or not name:match("^[%a_][%w_%-]*$") then
    error("set_test_id_attribute wants an attribute name like \"data-qa\"", 2)
  end
  self._test_id_attribute = name
end

local function new_locator(page, sel, desc)
  return setmetatable({ page = page, sel = sel, desc = desc }, Locator)
end

-- What a locator is called in messages: the get_by_* call that made it, or
-- locator("sel").
function M.describe(loc)
  return rawget(loc, "desc") or string.format("locator(%s)", quote(loc.sel))
end

for name in pairs(FINDERS) do
  local find = FINDERS[name]
  Page[name] = function(self, ...)
    local part, desc = find(self, ...)
    return new_locator(self, part, desc)
  end
  Locator[name] = function(self, ...)
    local part, desc = find(self.page, ...)
    return new_locator(self.page, self.sel .. " >> " .. part, M.describe(self) .. ":" .. desc)
  end
  FRAME[name] = function(self, ...)
    local part, desc = find(self.page, ...)
    return new_locator(self.page, self.sel .. " >> " .. part, tostring(self) .. ":" .. desc)
  end
end

-- ------------------------------------------------------------ waiting

-- A URL pattern: "/re/flags" a regular expression, a string with * a glob
-- (** any characters, * any but "/"), else the exact URL.
local function url_pattern(p, fname)
  if type(p) ~= "string" or p == "" then
    error(fname .. " wants a URL, a glob like \"**/users*\" or \"/regex/\"", 3)
  end
  -- arrays, not objects: JSON keeps their order, so calls replay exactly
  local src, flags = as_regex(p)
  if src then return json.array({ "regex", src, flags }) end
  if p:find("*", 1, true) then return json.array({ "glob", p, "" }) end
  return json.array({ "exact", p, "" })
end

local WAIT_UNTIL = { load = true, domcontentloaded = true, commit = true }

-- Wait until the page's URL matches (and, by default, its document has
-- loaded); returns the URL.
function Page:wait_for_url(pattern, opts)
  local want = url_pattern(pattern, "wait_for_url")
  if opts ~= nil and type(opts) ~= "table" then
    error("wait_for_url: the options argument must be a table", 2)
  end
  opts = opts or {}
  local wait_until = opts.wait_until or "load"
  if not WAIT_UNTIL[wait_until] then
    error("wait_for_url: wait_until must be load, domcontentloaded or commit, not " .. quote(wait_until), 2)
  end
  local timeout = opts.timeout or self.nav_timeout
  local step = self:_next_step("wait_for_url")
  local deadline = clock.now() + timeout
  local last
  repeat
    local budget = math.max(0, math.min(deadline - clock.now(), 1000))
    local r = self:_helper("waitUrl", { want, wait_until, budget }, budget + 10000)
    if type(r) ~= "table" then P.raise("script", "page helper returned nothing for waitUrl") end
    if r.ok then return r.url end
    if r.error then P.raise("script", string.format("wait_for_url %s: %s (%s)", quote(pattern), r.error, step)) end
    last = r
  until clock.now() >= deadline
  P.raise("timeout", string.format("timeout %d ms waiting for the url to match %s%s (%s): the page is at %s",
    timeout, quote(pattern), last and last.reason == "not loaded" and " and load" or "", step,
    last and last.url or "?"), { transient = true, step = step, url = last and last.url })
end

-- click{ wait_for_navigation = true }: after the click, wait until the page
-- went somewhere else: a new document that reached `wait_until` ("load" by
-- default; "DOMContentLoaded", "networkIdle" or "commit"), or a
-- same-document change of the URL (history.pushState, #hash), which fires
-- no lifecycle events.
local function wait_navigation(page, before, opts)
  local timeout = opts.navigation_timeout or page.nav_timeout
  local want = opts.wait_until or "load"
  local step = page:_next_step("wait_for_navigation")
  local deadline = clock.now() + timeout
  local loader
  while true do
    local left = deadline - clock.now()
    if left <= 0 then break end
    local ev = cdp.wait_event("Page.lifecycleEvent", math.min(left, 100), page.session)
    if ev then
      if ev.frameId == page.frame_id then
        if ev.name == "init" then
          loader, page._ctx = ev.loaderId, nil
          if want == "commit" then return end
        elseif loader and ev.loaderId == loader and ev.name == want then
          return
        end
      end
    elseif not loader then
      local ok, now_url = pcall(page.url, page)
      if not ok and P.must_propagate(now_url) then error(now_url, 0) end
      if ok and now_url ~= before then
        -- a new document announces itself before our read of its URL
        local ev2 = cdp.wait_event("Page.lifecycleEvent", 0, page.session)
        if not ev2 then return end
        if ev2.frameId == page.frame_id and ev2.name == "init" then
          loader, page._ctx = ev2.loaderId, nil
          if want == "commit" then return end
        end
      end
    end
  end
  P.raise("timeout", string.format("timeout %d ms waiting for %s to navigate%s (%s): the page is still at %s",
    timeout, opts._what, loader and (" and reach " .. want) or "", step, before),
    { transient = true, step = step, url = before })
end

local base_click = Locator.click
function Locator:click(opts)
  if type(opts) ~= "table" or not opts.wait_for_navigation then return base_click(self, opts) end
  local page = self.page
  local before = page:url()
  cdp.drop_events("Page.lifecycleEvent", page.session)
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "wait_for_navigation" and k ~= "wait_until" and k ~= "navigation_timeout" then o[k] = v end
  end
  base_click(self, o)
  wait_navigation(page, before, { navigation_timeout = opts.navigation_timeout,
    wait_until = opts.wait_until, _what = "the click on " .. M.describe(self) })
  return self
end

-- ---------------------------------------------------------------- expect

-- expect(loc):to_have_text("Saved") polls the page until the condition
-- holds or the timeout passes (the page's action timeout unless { timeout
-- = ms }), like Playwright's web-first assertions; .never (or .not_)
-- negates.  A failure names the call, what was expected and what the page
-- showed last.
local Expect = {}
local EXPECT_MT = {}
EXPECT_MT.__index = function(self, k)
  if k == "never" or k == "not_" then
    return setmetatable({ subject = rawget(self, "subject"), negate = not rawget(self, "negate"),
      kind = rawget(self, "kind") }, EXPECT_MT)
  end
  return Expect[k]
end
EXPECT_MT.__tostring = function(self)
  return "expect(" .. (self.kind == "page" and "page" or M.describe(self.subject)) .. ")"
    .. (self.negate and ".never" or "")
end
M.Expect, M.EXPECT_MT = Expect, EXPECT_MT

function expect(subject)
  local mt = getmetatable(subject)
  if mt == Locator then
    return setmetatable({ subject = subject, negate = false, kind = "locator" }, EXPECT_MT)
  elseif mt == Page then
    return setmetatable({ subject = subject, negate = false, kind = "page" }, EXPECT_MT)
  end
  error("expect wants a locator (page:locator(sel), page:get_by_role(…), …) or the page, not "
    .. (type(subject) == "table" and tostring(subject) or type(subject)), 2)
end

-- A wanted text for the helper: {"regex", source, flags} or {"string",
-- text, ignore_case} (an array: JSON objects from Lua tables have no fixed
-- key order, and a recorded call must replay byte for byte).
local function want_text(fname, v, opts, n)
  if type(v) == "number" then v = tostring(v) end
  if type(v) ~= "string" then
    error(string.format("%s wants a string or \"/regex/flags\", not %s", fname, type(v)), n + 1)
  end
  local src, flags = as_regex(v)
  if src then return json.array({ "regex", src, flags }) end
  return json.array({ "string", v, opts and opts.ignore_case and true or false })
end

local function shown(v)
  if v == nil or v == json.null then return "nothing (no element matches)" end
  if type(v) == "table" then
    local out = {}
    for i, x in ipairs(v) do out[i] = shown(x) end
    return "{" .. table.concat(out, ", ") .. "}"
  end
  if type(v) == "string" then return lit(v) end
  return tostring(v)
end

local function want_opts(self, name, opts, n)
  if opts ~= nil and type(opts) ~= "table" then
    error(string.format("%s:%s(…): the options argument must be a table, not a %s", tostring(self),
      name, type(opts)), n + 1)
  end
  if self.kind ~= "locator" then
    error(string.format("%s:%s(…) checks an element: expect a locator, e.g. expect(page:get_by_role(…))",
      tostring(self), name), n + 1)
  end
  return opts or {}
end

-- Poll "expect" in the page (1 s budgets) until it passes or the timeout.
local function assert_state(self, name, args, what, want, expected, opts)
  local loc = self.subject
  local page = loc.page
  local step = page:_next_step("expect")
  local timeout = opts.timeout or page.timeout
  local deadline = clock.now() + timeout
  local head = string.format("%s:%s(%s)", tostring(self), name, args)
  local last, seen = nil, false
  repeat
    local budget = math.max(0, math.min(deadline - clock.now(), 1000))
    local r = page:_helper("expect", { loc.sel, what, want == nil and json.null or want, self.negate, budget },
      budget + 10000)
    if type(r) ~= "table" then P.raise("script", "page helper returned nothing for expect") end
    if r.ok then return true end
    if r.error then
      P.raise("selector", string.format("%s: %s (%s)", head, r.error, step), { selector = loc.sel, step = step })
    end
    if not r.absent then seen = true end
    last = r
  until clock.now() >= deadline
  -- states (visible, checked, …) show as words, texts and values quoted
  local got = last and last.received
  local state = (what == "visible" or what == "hidden" or what == "checked" or what == "enabled")
    and type(got) == "string"
  local msg = string.format("%s failed after %d ms: expected %s%s, received %s (%s)", head, timeout,
    self.negate and "not " or "", expected, state and got or shown(got), step)
  local fields = { selector = loc.sel, step = step, expected = expected,
    received = last and type(last.received) ~= "table" and last.received ~= json.null and last.received or nil }
  -- Nothing ever matched on a loaded page: the script (or a changed app)
  -- is at fault, as for wait_for; anything else may still come right.
  if not seen and not self.negate and last and last.loaded then
    fields.absent = true
    P.raise("selector", msg, fields)
  end
  fields.transient = true
  P.raise("timeout", msg, fields)
end

local function text_args(v, opts)
  local a = type(v) == "table" and shown(v) or lit(v)
  if opts and next(opts) then
    local parts = {}
    for _, k in ipairs({ "ignore_case", "timeout" }) do
      if opts[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(opts[k]) end
    end
    if #parts > 0 then a = a .. ", {" .. table.concat(parts, ", ") .. "}" end
  end
  return a
end

local function text_assertion(name, what)
  Expect[name] = function(self, v, opts)
    opts = want_opts(self, name, opts, 2)
    local want
    if type(v) == "table" then
      want = json.array({})
      for i, x in ipairs(v) do want[i] = want_text(name, x, opts, 2) end
    else
      want = want_text(name, v, opts, 2)
    end
    local expected = type(v) == "table" and shown(v)
      or (as_regex(v) and ("text matching " .. v) or lit(v))
    if what == "contain_text" and type(v) ~= "table" and not as_regex(v) then
      expected = "text containing " .. lit(v)
    end
    return assert_state(self, name, text_args(v, opts), what, want, expected, opts)
  end
end
text_assertion("to_have_text", "text")
text_assertion("to_contain_text", "contain_text")

function Expect:to_be_visible(opts)
  opts = want_opts(self, "to_be_visible", opts, 2)
  return assert_state(self, "to_be_visible", "", "visible", nil, "visible", opts)
end

function Expect:to_be_hidden(opts)
  opts = want_opts(self, "to_be_hidden", opts, 2)
  return assert_state(self, "to_be_hidden", "", "hidden", nil, "hidden", opts)
end

function Expect:to_have_count(n, opts)
  opts = want_opts(self, "to_have_count", opts, 2)
  if math.type(n) ~= "integer" or n < 0 then
    error(tostring(self) .. ":to_have_count wants a count (an integer, 0 or more)", 2)
  end
  return assert_state(self, "to_have_count", tostring(n), "count", n, tostring(n), opts)
end

function Expect:to_have_value(v, opts)
  opts = want_opts(self, "to_have_value", opts, 2)
  local want = want_text("to_have_value", v, nil, 2)
  return assert_state(self, "to_have_value", lit(v), "value", want,
    as_regex(v) and ("a value matching " .. v) or lit(v), opts)
end

-- to_be_checked() / to_be_checked({ checked = false })
function Expect:to_be_checked(opts)
  opts = want_opts(self, "to_be_checked", opts, 2)
  local want = opts.checked == nil and true or not not opts.checked
  return assert_state(self, "to_be_checked", opts.checked == false and "{checked=false}" or "",
    "checked", want, want and "checked" or "unchecked", opts)
end

function Expect:to_be_enabled(opts)
  opts = want_opts(self, "to_be_enabled", opts, 2)
  return assert_state(self, "to_be_enabled", "", "enabled", true, "enabled", opts)
end

function Expect:to_be_disabled(opts)
  opts = want_opts(self, "to_be_disabled", opts, 2)
  return assert_state(self, "to_be_disabled", "", "enabled", false, "disabled", opts)
end

function Expect:to_have_attribute(name, v, opts)
  opts = want_opts(self, "to_have_attribute", opts, 2)
  if type(name) ~= "string" or name == "" then
    error(tostring(self) .. ":to_have_attribute wants an attribute name", 2)
  end
  local want = json.array({ name, want_text("to_have_attribute", v, nil, 2) })
  return assert_state(self, "to_have_attribute", lit(name) .. ", " .. lit(v), "attribute", want,
    string.format("%s=%s", name, lit(v)), opts)
end

-- expect(page):to_have_url(pattern): wait_for_url's check, as an assertion.
function Expect:to_have_url(pattern, opts)
  if self.kind ~= "page" then
    error(tostring(self) .. ":to_have_url(…) checks the page: write expect(page):to_have_url(…)", 2)
  end
  opts = opts or {}
  local page = self.subject
  local want = url_pattern(pattern, "to_have_url")
  local timeout = opts.timeout or page.timeout
  local step = page:_next_step("expect")
  local deadline = clock.now() + timeout
  local url
  repeat
    local budget = math.max(0, math.min(deadline - clock.now(), 1000))
    local r = page:_helper("waitUrl", { want, "commit", budget }, budget + 10000)
    if type(r) ~= "table" then P.raise("script", "page helper returned nothing for waitUrl") end
    if r.error then P.raise("script", string.format("%s:to_have_url(%s): %s (%s)", tostring(self),
      lit(pattern), r.error, step)) end
    if (r.ok and true or false) ~= self.negate then return true end
    url = r.url
  until clock.now() >= deadline
  P.raise("timeout", string.format("%s:to_have_url(%s) failed after %d ms: expected %s%s, received %s (%s)",
    tostring(self), lit(pattern), timeout, self.negate and "not " or "", lit(pattern), lit(url or "?"), step),
    { transient = true, step = step, url = url })
end

return M
