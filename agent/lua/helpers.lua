-- url, text and csv: small pure-Lua helpers that authors used to write by
-- hand in every script.  Pure Lua on purpose: every loop here runs under
-- the job's count hook, so a hostile page or export cannot outlast the
-- job's deadline; C string functions are used only where they are linear
-- in the input (find, sub, gsub without string.rep).
local host = ...
local M = {}

local function want_string(v, fname, n)
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then
    error(string.format("%s: argument %d must be a string (got %s)", fname, n, type(v)), 3)
  end
  return v
end

-- ---- url -------------------------------------------------------------

url = {}

-- RFC 3986 unreserved: ALPHA DIGIT - . _ ~ stay; every other byte is %XX.
function url.encode(s)
  s = want_string(s, "url.encode", 1)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- %XX back to bytes; a stray % and "+" stay as they are (RFC 3986, not
-- form encoding).
function url.decode(s)
  s = want_string(s, "url.decode", 1)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function query_value(v, key)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return tostring(v) end
  error(string.format('url.build: query value for "%s" must be a string, number, boolean '
    .. "or array of them (got %s)", key, t), 4)
end

-- url.build(base, {q="a b", tag={"x","y"}}) -> base?q=a%20b&tag=x&tag=y
-- Keys sorted so the same table always gives the same URL (cassettes,
-- evidence); an array value repeats its key; a fragment stays last.
function url.build(base, query)
  base = want_string(base, "url.build", 1)
  if query == nil then return base end
  if type(query) ~= "table" then
    error("url.build: argument 2 must be a table of query parameters (got "
      .. type(query) .. ")", 2)
  end
  local keys = {}
  for k in pairs(query) do
    if type(k) ~= "string" and type(k) ~= "number" then
      error("url.build: query keys must be strings (got " .. type(k) .. ")", 2)
    end
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = query[k]
    if v == nil then v = query[tonumber(k)] end
    if type(v) == "table" then
      -- only an array repeats its key: {x=1} has no order to send it in
      local count = 0
      for _ in pairs(v) do count = count + 1 end
      if count ~= #v then query_value(v, k) end
      for i = 1, #v do
        parts[#parts + 1] = url.encode(k) .. "=" .. url.encode(query_value(v[i], k))
      end
    else
      parts[#parts + 1] = url.encode(k) .. "=" .. url.encode(query_value(v, k))
    end
  end
  if #parts == 0 then return base end
  local frag = ""
  local hash = base:find("#", 1, true)
  if hash then base, frag = base:sub(1, hash - 1), base:sub(hash) end
  local joiner
  if not base:find("?", 1, true) then joiner = "?"
  elseif base:sub(-1) == "?" or base:sub(-1) == "&" then joiner = ""
  else joiner = "&" end
  return base .. joiner .. table.concat(parts, "&") .. frag
end

-- ---- text ------------------------------------------------------------

text = {}

local NBSP = "\194\160"

-- ASCII whitespace and U+00A0 (what &nbsp; in a table cell becomes).
function text.trim(s)
  s = want_string(s, "text.trim", 1)
  local i, j = 1, #s
  while i <= j do
    local _, e = s:find("^%s+", i)
    if e then i = e + 1
    elseif s:sub(i, i + 1) == NBSP then i = i + 2
    else break end
  end
  while j >= i do
    if s:sub(j, j):find("^%s") then j = j - 1
    elseif j - 1 >= i and s:sub(j - 1, j) == NBSP then j = j - 2
    else break end
  end
  return s:sub(i, j)
end

-- text.split(s, sep [, {plain=true, max=n}]): at most max pieces, the last
-- one holding the rest; plain=false makes sep a Lua pattern.
function text.split(s, sep, opts)
  s = want_string(s, "text.split", 1)
  sep = want_string(sep, "text.split", 2)
  opts = opts or {}
  if type(opts) ~= "table" then error("text.split: argument 3 must be an options table", 2) end
  local plain = opts.plain ~= false
  local max = opts.max
  if max ~= nil and (math.type(max) ~= "integer" or max < 1) then
    error("text.split: max must be a whole number of 1 or more", 2)
  end
  if sep == "" then error("text.split: the separator is empty", 2) end
  local out, pos = {}, 1
  while not max or #out < max - 1 do
    local a, b = s:find(sep, pos, plain)
    if not a then break end
    if b < a then error('text.split: the pattern "' .. sep .. '" matches the empty string', 2) end
    out[#out + 1] = s:sub(pos, a - 1)
    pos = b + 1
  end
  out[#out + 1] = s:sub(pos)
  return out
end

-- ---- csv -------------------------------------------------------------

csv = {}

-- csv.decode(s [, {header=true, sep=","}]) per RFC 4180, read the way
-- exports are really written: CRLF, LF or CR line ends, a UTF-8 BOM,
-- blank lines skipped.
function csv.decode(s, opts)
  s = want_string(s, "csv.decode", 1)
  opts = opts or {}
  if type(opts) ~= "table" then error("csv.decode: argument 2 must be an options table", 2) end
  local header = opts.header ~= false
  local sep = opts.sep or ","
  if type(sep) ~= "string" or #sep ~= 1 or sep:find('^[%w"\r\n]') then
    error('csv.decode: sep must be one character other than a letter, digit, quote or '
      .. "line end (got " .. (type(sep) == "string" and '"' .. sep .. '"' or type(sep)) .. ")", 2)
  end
  local stop = "[%" .. sep .. "\r\n]"
  local pos, n, line = 1, #s, 1
  if s:sub(1, 3) == "\239\187\191" then pos = 4 end
  local records, rec_lines = {}, {}

  while pos <= n do
    local rec, rec_line = {}, line
    local quoted_any = false
    while true do
      local field
      if s:byte(pos) == 34 then	-- '"'
        quoted_any = true
        local start_line, parts, p = line, {}, pos + 1
        while true do
          local q = s:find('"', p, true)
          if not q then
            error(string.format("csv.decode: line %d: unterminated quote (the field opened "
              .. "there never closes)", start_line), 2)
          end
          local chunk = s:sub(p, q - 1)
          local _, nl = chunk:gsub("\n", "")
          local _, cr = chunk:gsub("\r[^\n]", "")
          line = line + nl + cr + (chunk:sub(-1) == "\r" and 1 or 0)
          parts[#parts + 1] = chunk
          if s:byte(q + 1) == 34 then
            parts[#parts + 1] = '"'
            p = q + 2
          else
            pos = q + 1
            break
          end
        end
        field = table.concat(parts)
        local c = s:sub(pos, pos)
        if c ~= "" and c ~= sep and c ~= "\r" and c ~= "\n" then
          error(string.format("csv.decode: line %d: unexpected %q after a closing quote "
            .. "(a quote inside a quoted field is written twice)", line, c), 2)
        end
      else
        local e = s:find(stop, pos)
        field = s:sub(pos, (e or n + 1) - 1)
        pos = e or n + 1
      end
      rec[#rec + 1] = field
      local c = s:sub(pos, pos)
      if c == sep then
        pos = pos + 1
      else
        if c == "\r" then
          pos = pos + (s:sub(pos + 1, pos + 1) == "\n" and 2 or 1)
          line = line + 1
        elseif c == "\n" then
          pos = pos + 1
          line = line + 1
        end
        break
      end
    end
    if not (#rec == 1 and rec[1] == "" and not quoted_any) then
      records[#records + 1] = rec
      rec_lines[#records] = rec_line
    end
  end

  if not header then return records end
  local rows = { header = records[1] or {} }
  local cols = rows.header
  local seen = {}
  for _, name in ipairs(cols) do
    if seen[name] then
      error(string.format('csv.decode: line %d: the header repeats the column "%s"',
        rec_lines[1], name), 2)
    end
    seen[name] = true
  end
  for r = 2, #records do
    local rec = records[r]
    if #rec > #cols then
      error(string.format("csv.decode: line %d has %d fields, the header has %d",
        rec_lines[r], #rec, #cols), 2)
    end
    local row = {}
    for i = 1, #cols do row[cols[i]] = rec[i] end
    rows[#rows + 1] = row
  end
  return rows
end

return M
