-- prelude.lua — shared by the other prelude modules: structured errors and
-- small helpers.  Runs inside the job's sandbox; `host` (private C
-- primitives) arrives as the chunk argument and never becomes a global.
local host = ...
local M = {}

local error_mt = host.error_mt

-- An error is a table {kind=, message=, ...} that prints as its message.
-- kind: "timeout" | "selector" | "navigation" | "cdp" | "deadline" |
--       "script" | "business" | "needs_human" | "transient" | "contract"
local ours = setmetatable({}, { __mode = "k" })	-- errors made here
function M.new_error(kind, message, fields)
  local e = fields or {}
  e.kind, e.message = kind, message
  ours[e] = true
  return setmetatable(e, error_mt)
end

-- An error as the runner reads it.  A script may raise anything, even a
-- table whose __index, __newindex or __tostring raise: such an object is
-- copied field by field with raw reads into a plain error, so nothing the
-- runner does with it afterwards can raise again.
local FIELDS = { "kind", "message", "where", "selector", "step", "transient", "cdp",
  "method", "code", "class", "state", "hint" }
function M.plain_error(e)
  local t = type(e)
  if t == "string" or t == "number" then return M.new_error("script", tostring(e)) end
  if t ~= "table" then return M.new_error("script", "error object of type " .. t) end
  if ours[e] or getmetatable(e) == nil then return e end
  local out = {}
  for _, k in ipairs(FIELDS) do
    local v = rawget(e, k)
    local vt = type(v)
    if vt == "string" or vt == "number" or vt == "boolean" then out[k] = v end
  end
  local summary = rawget(e, "summary")
  if type(summary) == "table" and getmetatable(summary) == nil then out.summary = summary end
  if type(out.kind) ~= "string" then out.kind = "script" end
  if out.message == nil then
    out.message = "the script raised an error object with no readable message"
  end
  return setmetatable(out, error_mt)
end

function M.raise(kind, message, fields)
  error(M.new_error(kind, message, fields), 0)
end

-- Errors a retry loop must never swallow: the deadline, a lost browser,
-- a replay that left its cassette (nothing will get better by trying again
-- in this job).
function M.must_propagate(err)
  if type(err) ~= "table" then return true end
  if err.kind == "deadline" then return true end
  if err.kind == "cdp" and (err.cdp == "closed" or err.cdp == "replay") then return true end
  return false
end

function M.trim(s)
  return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

function M.lower(s) return s and string.lower(s) or nil end

-- "Last login" -> "last_login"
function M.key(s)
  return (M.trim(s):lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", ""))
end

function M.shallow_copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- Scripts may call fail("business", "no seats left") to end a job with a
-- classified error; plain error{kind=..., message=...} works the same.
function fail(kind, message, fields)
  M.raise(kind, message, fields)
end

return M
