-- steps.lua — how long each page call of the app script took, for the
-- failure report.  Every public Page and Locator method is wrapped: the
-- outermost call made from the app script (not the page API's own inner
-- calls, nor the agent's evidence capture) becomes one step event
--   {kind="step", name, target, phase, where, start, duration, ok, error}
-- with times in ms on the job's clock (the recording's, on replay).
local host = ...
local pagemod = host.modules.page
local M = {}

-- expect(x):… (agent/lua/locators.lua): its calls are steps too
local locmod = host.modules.locators
local expect_methods = locmod and locmod.Expect or {}
local expect_mt = locmod and locmod.EXPECT_MT

local depth = 0
local t0 = clock.now()

-- Builders and raw CDP are not steps.
local SKIP = { send = true, wait_event = true, locator = true, frame = true, nth = true,
  first = true, last = true, filter = true, set_default_timeout = true,
  set_test_id_attribute = true }
for name in pairs(pagemod.FRAME_METHODS) do   -- get_by_role, get_by_label, … (builders)
  if name:match("^get_by_") then SKIP[name] = true end
end

local function note_where(e)
  if type(e) == "table" and not e.where then e.where = host.where() end
  return e
end

local function wrap(class, name, fn)
  class[name] = function(self, ...)
    if depth > 0 then return fn(self, ...) end
    local where = host.where()
    if not where then return fn(self, ...) end
    -- expect(x):to_…(): the step is about x (a locator or the page)
    local about = expect_mt and getmetatable(self) == expect_mt and rawget(self, "subject") or self
    local is_loc = getmetatable(about) == pagemod.Locator
    local first = ...
    local step = {
      kind = "step", name = name, where = where,
      target = is_loc and about.sel or (type(first) == "string" and first or nil),
      phase = is_loc and about.page and about.page.action or about.action,
    }
    local start, trips = clock.now(), host.round_trips()
    depth = depth + 1
    local res = table.pack(xpcall(fn, note_where, self, ...))
    depth = depth - 1
    step.start, step.duration, step.ok = start - t0, clock.now() - start, res[1]
    step.round_trips = host.round_trips() - trips
    log.debug(string.format("%s %s: %d CDP round trips, %d ms", name,
      tostring(step.target or ""), step.round_trips, step.duration))
    if not res[1] then
      local e = res[2]
      step.error = type(e) == "table" and tostring(e.message or e.kind) or tostring(e)
    end
    host.emit(step)
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
end

for _, class in ipairs({ pagemod.Page, pagemod.Locator, expect_methods }) do
  local names = {}
  for name, fn in pairs(class) do
    if type(fn) == "function" and not name:match("^_") and not SKIP[name] then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  for _, name in ipairs(names) do wrap(class, name, class[name]) end
end

-- The methods a script may call, for `idlcm-agent check`.
function M.methods()
  local out = {}
  for cname, class in pairs({ Page = pagemod.Page, Locator = pagemod.Locator }) do
    local list = {}
    for name, fn in pairs(class) do
      if type(fn) == "function" and not name:match("^__") then list[#list + 1] = name end
    end
    table.sort(list)
    out[cname] = list
  end
  -- A frame scope (page:frame(sel)) has only these; everything else on it is misuse.
  out.Frame = {}
  for name in pairs(pagemod.FRAME_METHODS) do out.Frame[#out.Frame + 1] = name end
  table.sort(out.Frame)
  -- expect(loc):… and expect(page):… (agent/lua/locators.lua)
  local ex = host.modules.locators and host.modules.locators.Expect or {}
  out.Expect = { "never", "not_" }
  for name in pairs(ex) do out.Expect[#out.Expect + 1] = name end
  table.sort(out.Expect)
  return out
end

return M
