-- check.lua — the static half of `idlcm-agent check` (not part of the job
-- prelude): scans an app script's source for method calls on page and
-- locator values that the page API does not have, methods called with a
-- dot instead of a colon, and libraries the sandbox does not offer.  The
-- method lists come from the loaded prelude (steps.methods()), so this
-- never drifts from page.lua.
local host = ...
local M = {}

-- ------------------------------------------------------------ tokens

local function count_nl(s) local _, n = s:gsub("\n", ""); return n end

-- Lua source -> { {t="name"|"str"|"num"|"op", v=..., line=...}, ... }
function M.tokenize(src)
  local toks, i, line, n = {}, 1, 1, #src
  local function push(t, v) toks[#toks + 1] = { t = t, v = v, line = line } end
  if src:sub(1, 1) == "#" then i = (src:find("\n", 1, true) or n + 1) end  -- shebang
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line = line + 1; i = i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local stop
      if eq then
        local _, e = src:find("]" .. eq .. "]", i + 2, true)
        stop = e or n
      else
        stop = (src:find("\n", i, true) or n + 1) - 1
      end
      line = line + count_nl(src:sub(i, stop))
      i = stop + 1
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local _, e = src:find("]" .. eq .. "]", i, true)
      e = e or n
      push("str", src:sub(i + #eq + 2, e - #eq - 2))
      line = line + count_nl(src:sub(i, e))
      i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      push("str", src:sub(i + 1, j - 1))
      line = line + count_nl(src:sub(i + 1, j - 1))
      i = j + 1
    elseif c:match("[%a_]") then
      local w = src:match("^[%w_]+", i)
      push("name", w); i = i + #w
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local w = src:match("^0[xX][%x%.]+[pP][+-]?%d+", i) or src:match("^0[xX][%x%.]+", i)
        or src:match("^[%d%.]+[eE][+-]?%d+", i) or src:match("^[%d%.]+", i)
      push("num", w); i = i + #w
    else
      local op = src:match("^%.%.%.", i) or src:match("^[=~<>]=", i) or src:match("^%.%.", i)
        or src:match("^::", i) or src:match("^//", i) or src:match("^<<", i)
        or src:match("^>>", i) or c
      push("op", op); i = i + #op
    end
  end
  return toks
end

-- ------------------------------------------------------------ analysis

local CONTRACT = { login = true, list_users = true, find_user = true, invite = true,
  update = true, remove = true, validate = true, is_signed_in = true }

-- What a call returns, when it is a page or a locator: builders return a
-- Locator; actions return their receiver.
local RETURNS = {
  Page = { locator = "Locator", frame = "Frame", navigate = "Page", ["goto"] = "Page",
    reload = "Page", press = "Page" },
  Locator = { locator = "Locator", nth = "Locator", first = "Locator", last = "Locator",
    filter = "Locator", frame = "Frame", click = "Locator", dblclick = "Locator",
    hover = "Locator", focus = "Locator", fill = "Locator", check = "Locator",
    uncheck = "Locator", press = "Locator", set_input_files = "Locator" },
  Frame = { locator = "Locator", frame = "Frame" },
  Expect = { never = "Expect", not_ = "Expect" },
}
-- The finders of agent/lua/locators.lua return a Locator wherever they are called.
for _, kind in ipairs({ "Page", "Locator", "Frame" }) do
  for _, f in ipairs({ "get_by_role", "get_by_label", "get_by_placeholder", "get_by_text",
      "get_by_title", "get_by_alt_text", "get_by_test_id" }) do
    RETURNS[kind][f] = "Locator"
  end
end

-- Locator methods whose argument number N is the options table: a string
-- literal there is a selector in the wrong place (loc:click("#x")).
local OPTS_ARG = { click = 1, dblclick = 1, hover = 1, focus = 1, check = 1, uncheck = 1,
  text = 1, outer_html = 1, input_value = 1, is_checked = 1, is_visible = 1, count = 1,
  all_texts = 1, table = 1, wait_for = 1, fill = 2, select_option = 2, press = 2,
  get_attribute = 2, set_input_files = 2 }

local SANDBOXED = { io = "io", os = "os", require = "require", package = "package",
  debug = "debug", dofile = "dofile", loadfile = "loadfile",
  collectgarbage = "collectgarbage" }

local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggest(name, list)
  local best, bestd
  for _, m in ipairs(list) do
    if not m:match("^_") then
      local d = distance(name, m)
      if (not bestd or d < bestd) then best, bestd = m, d end
    end
  end
  if best and bestd <= math.max(2, #name // 3) then return best end
  local prefix   -- wait_for_selector -> wait_for (the longest method it starts with)
  for _, m in ipairs(list) do
    if #m >= 4 and name:sub(1, #m) == m and (not prefix or #m > #prefix) then prefix = m end
  end
  return prefix
end

-- source, {Page={...}, Locator={...}} -> array of {line=, message=}
function M.scan(src, methods)
  local toks = M.tokenize(src)
  local has = { Page = {}, Locator = {}, Frame = {}, Expect = {} }
  for kind, list in pairs(methods) do
    for _, m in ipairs(list) do has[kind][m] = true end
  end
  local kind_of_name = { page = "Page" }
  local locals = {}
  local problems = {}
  local function problem(line, msg) problems[#problems + 1] = { line = line, message = msg } end

  -- Names that hold a page: the first parameter of the contract functions.
  for k, t in ipairs(toks) do
    if t.t == "name" and t.v == "function" then
      local j, last = k + 1, nil
      while toks[j] and (toks[j].t == "name" or toks[j].v == "." or toks[j].v == ":") do
        if toks[j].t == "name" then last = toks[j].v end
        j = j + 1
      end
      if last and CONTRACT[last] and toks[j] and toks[j].v == "("
          and toks[j + 1] and toks[j + 1].t == "name" then
        kind_of_name[toks[j + 1].v] = "Page"
      end
    end
    if t.t == "name" and t.v == "local" and toks[k + 1] and toks[k + 1].t == "name" then
      locals[toks[k + 1].v] = true
      if toks[k + 1].v == "function" and toks[k + 2] and toks[k + 2].t == "name" then
        locals[toks[k + 2].v] = true
      end
    end
  end

  -- The kind of the value that the call ending at token index k (a ")" or
  -- a string/table argument) returns, or nil.
  local call_kind
  local function receiver_kind(k)  -- k: index of the token before ":"
    local t = toks[k]
    if not t then return nil end
    if t.t == "name" then
      local prev = toks[k - 1]
      if prev and prev.v == "." and (t.v == "never" or t.v == "not_") then
        return receiver_kind(k - 2) == "Expect" and "Expect" or nil
      end
      if prev and prev.v == "." then return t.v == "page" and "Page" or nil end
      if prev and prev.v == ":" then return nil end
      return kind_of_name[t.v]
    end
    if t.v == ")" then
      local depth, j = 0, k
      while j > 0 do
        if toks[j].v == ")" then depth = depth + 1
        elseif toks[j].v == "(" then depth = depth - 1; if depth == 0 then break end end
        j = j - 1
      end
      -- expect(x): a global call, not a method
      local f, before = toks[j - 1], toks[j - 2]
      if f and f.t == "name" and f.v == "expect" and not locals.expect
          and not (before and (before.v == "." or before.v == ":" or before.v == "function")) then
        return "Expect"
      end
      return call_kind(j - 1)
    end
    return nil
  end
  -- k: index of the method name in "recv : name (" 
  call_kind = function(k)
    local name, colon = toks[k], toks[k - 1]
    if not (name and name.t == "name" and colon and colon.v == ":") then return nil end
    local rk = receiver_kind(k - 2)
    return rk and RETURNS[rk][name.v]
  end

  -- Variables assigned a locator: local x = <page or locator>:...:locator(...)
  for pass = 1, 2 do
    for k, t in ipairs(toks) do
      if t.v == "=" and toks[k - 1] and toks[k - 1].t == "name" then
        -- the expression's last call before the statement ends
        local j = k + 1
        local last_call
        while toks[j] do
          local tj = toks[j]
          if tj.v == ":" and toks[j + 1] and toks[j + 1].t == "name" then
            last_call = j + 1
            j = j + 2
            if toks[j] and toks[j].v == "(" then
              local depth = 0
              repeat
                if toks[j].v == "(" then depth = depth + 1
                elseif toks[j].v == ")" then depth = depth - 1 end
                j = j + 1
              until depth == 0 or not toks[j]
            elseif toks[j] then
              j = j + 1
            end
          elseif j == k + 1 and tj.t == "name" then
            j = j + 1
          elseif tj.v == "." and toks[j + 1] and toks[j + 1].t == "name" and not last_call then
            j = j + 2
          else
            break
          end
        end
        local tail = toks[j]
        local ends = not tail or tail.t == "name" or tail.v == ";" or tail.v == ")"
          or tail.v == "}" or tail.v == ","
        if last_call and ends then
          local kind = call_kind(last_call)
          if kind then kind_of_name[toks[k - 1].v] = kind_of_name[toks[k - 1].v] or kind end
        end
      end
    end
  end

  for k, t in ipairs(toks) do
    local nxt = toks[k + 1]
    -- recv:method( / recv:method"…" / recv:method{…}
    if t.v == ":" and nxt and nxt.t == "name" and toks[k + 2]
        and (toks[k + 2].v == "(" or toks[k + 2].t == "str" or toks[k + 2].v == "{") then
      local kind = receiver_kind(k - 1)
      local recv_name = toks[k - 1].t == "name" and toks[k - 1].v or nil
      if kind == "Frame" and not has.Frame[nxt.v] then
        problem(nxt.line, string.format('%s:%s() — a frame scope is not an element: write '
          .. '%s:locator(sel):%s(…)', recv_name or "frame", nxt.v, recv_name or "frame", nxt.v))
      elseif kind == "Locator" and OPTS_ARG[nxt.v] and has.Locator[nxt.v] then
        -- the Nth argument's first token, when it is a string literal
        local j, argn, depth = k + 3, 1, 0
        local first_tok = toks[k + 2].t == "str" and toks[k + 2] or nil
        if toks[k + 2].v == "(" then
          while toks[j] and argn < OPTS_ARG[nxt.v] do
            local v = toks[j].v
            if v == "(" or v == "{" or v == "[" then depth = depth + 1
            elseif v == ")" or v == "}" or v == "]" then
              if depth == 0 then break end
              depth = depth - 1
            elseif v == "," and depth == 0 then argn = argn + 1 end
            j = j + 1
          end
          if argn == OPTS_ARG[nxt.v] and toks[j] and toks[j].t == "str" and toks[j + 1]
              and (toks[j + 1].v == ")" or toks[j + 1].v == ",") then
            first_tok = toks[j]
          else
            first_tok = nil
          end
        elseif OPTS_ARG[nxt.v] ~= 1 then
          first_tok = nil
        end
        if first_tok then
          problem(nxt.line, string.format('%s:%s(…, "%s") — %s takes an options table there, not '
            .. 'a selector: write %s:locator("%s"):%s(…)', recv_name or "locator", nxt.v,
            first_tok.v, nxt.v, recv_name or "locator", first_tok.v, nxt.v))
        end
      end
      if kind and kind ~= "Frame" and not has[kind][nxt.v] then
        local recv = toks[k - 1].t == "name" and toks[k - 1].v
          or (kind == "Page" and "page" or kind == "Expect" and "expect(…)" or "locator")
        if kind == "Expect" and (recv == "never" or recv == "not_") then recv = "expect(…)." .. recv end
        local other = kind == "Page" and "Locator" or kind == "Locator" and "Page" or "Locator"
        local msg = string.format('%s:%s() — %s has no method "%s"', recv, nxt.v, kind, nxt.v)
        if has[other][nxt.v] then
          msg = msg .. string.format(" (it is a %s method%s)", other,
            kind == "Page" and ': page:locator(sel):' .. nxt.v .. '(…)' or "")
        else
          local s = suggest(nxt.v, methods[kind])
          if s then msg = msg .. string.format(' (did you mean "%s"?)', s) end
        end
        problem(nxt.line, msg)
      end
    end
    -- get_by_role("button", "Save"): the name goes in the options table
    if t.v == ":" and nxt and nxt.v == "get_by_role" and toks[k + 2] and toks[k + 2].v == "("
        and toks[k + 3] and toks[k + 3].t == "str" and toks[k + 4] and toks[k + 4].v == ","
        and toks[k + 5] and toks[k + 5].t == "str" then
      problem(nxt.line, string.format('get_by_role("%s", "%s") — the name goes in the options: '
        .. 'get_by_role("%s", { name = "%s" })', toks[k + 3].v, toks[k + 5].v, toks[k + 3].v, toks[k + 5].v))
    end
    -- page.click(…): a method called with a dot gets no self
    if t.t == "name" and kind_of_name[t.v] and nxt and nxt.v == "." and toks[k + 2]
        and toks[k + 2].t == "name" and toks[k + 3] and toks[k + 3].v == "("
        and (not toks[k - 1] or (toks[k - 1].v ~= "." and toks[k - 1].v ~= ":")) then
      local kind, m = kind_of_name[t.v], toks[k + 2].v
      if has[kind][m] then
        problem(t.line, string.format("%s.%s(…) calls a method with a dot: write %s:%s(…)",
          t.v, m, t.v, m))
      end
    end
    -- io, os, require…: not in the sandbox
    if t.t == "name" and SANDBOXED[t.v] and not locals[t.v]
        and (not toks[k - 1] or (toks[k - 1].v ~= "." and toks[k - 1].v ~= ":"
          and toks[k - 1].v ~= "local" and toks[k - 1].v ~= "function"))
        and nxt and (nxt.v == "." or nxt.v == "(" or nxt.v == ":" or nxt.t == "str") then
      problem(t.line, string.format("%s is not available to scripts (they get string, "
        .. "table, math, utf8, coroutine, json, clock, log, totp, secret, random, url, text, csv, fail, "
        .. "expect and the page API)", t.v))
    end
  end
  table.sort(problems, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    return a.message < b.message
  end)
  return problems
end

return M
