-- files.lua — files in and out of the job's page: uploads into file
-- inputs (loc:set_input_files) and downloads (page:expect_download).
-- Both stay inside the job's folders: an upload reads only files in the
-- job's files folder (--files-dir) or what the script made for it in the
-- run folder; a download lands in <run folder>/downloads, which the agent
-- (not the script) tells the browser (host.downloads).
local host = ...
local P = host.modules.prelude
local pagemod = host.modules.page
local Page, Locator = pagemod.Page, pagemod.Locator

local M = {}

-- A download bigger than this is cancelled (expect_download{max_bytes=}):
-- a job's run folder is on the worker's disk, shared with every job, and
-- the agent reads no more than this of a download's text anyway.
M.MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024

local function quote(s) return '"' .. tostring(s) .. '"' end

-- ------------------------------------------------------------- uploads

-- The file input behind sel (or the input a <label> stands for), as a
-- handle for DOM.setFileInputFiles: objectId, or nil and what is wrong.
local function input_handle(page, sel, step)
  for _ = 1, 5 do
    local ctx = page:_world()
    local ok, r = pcall(page.send, page, "Runtime.evaluate", {
      expression = "__idlcm.fileInput(" .. json.encode(sel) .. ")",
      contextId = ctx, returnByValue = false })
    if ok and not r.exceptionDetails then
      local res = r.result or {}
      if res.objectId then return res.objectId end
      return nil, tostring(res.value)
    end
    if not ok and P.must_propagate(r) then error(r, 0) end
    page._ctx = nil     -- a navigation replaced the document: a new world
    clock.sleep(20)
  end
  P.raise("navigation", "the page kept navigating away (" .. step .. ")")
end

-- loc:set_input_files(files [, {timeout=}]): give a file input (or the
-- <label> of one) these files, as a person choosing them would; {} clears
-- it.  Each entry is a path inside the job's files folder (--files-dir;
-- relative paths start there) or a file made on the spot:
--   { name = "invite.csv", text = "email,role\r\nada@x.test,member\r\n" }
-- which is written to <run folder>/input/ first.  A path that leads out of
-- those folders ("..", a symlink, an absolute path elsewhere) is refused.
function Locator:set_input_files(files, opts)
  if type(files) == "string" or (type(files) == "table" and files.name) then files = { files } end
  if type(files) ~= "table" then
    error("set_input_files wants a path, a {name=, text=} table or an array of them", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    P.raise("script", string.format("%s:set_input_files(…): the options argument must be a "
      .. "table, not a %s", tostring(self), type(opts)), { selector = self.sel })
  end
  opts = opts or {}
  local page = self.page
  local paths = json.array({})
  for i, f in ipairs(files) do
    if type(f) == "string" then
      paths[i] = host.upload_path(f)
    elseif type(f) == "table" and type(f.name) == "string" and f.text ~= nil then
      paths[i] = host.upload_path(host.write_input(f.name, tostring(f.text)))
    else
      error(string.format("set_input_files: file %d must be a path or {name=, text=}", i), 2)
    end
  end
  -- Attached is enough: file inputs are often hidden behind a styled label.
  self:wait_for({ state = "attached", timeout = opts.timeout })
  local step = page:_next_step("set_input_files")
  local id, why = input_handle(page, self.sel, step)
  if not id then
    P.raise("selector", string.format("set_input_files %s: %s (%s)", quote(self.sel),
      (tostring(why):gsub("^error: ", "")), step), { selector = self.sel, step = step })
  end
  local ok, err = pcall(page.send, page, "DOM.setFileInputFiles", { files = paths, objectId = id })
  pcall(page.send, page, "Runtime.releaseObject", { objectId = id })
  if not ok then
    if type(err) == "table" and err.refused then error(err, 0) end
    if P.must_propagate(err) then error(err, 0) end
    P.raise("script", string.format("set_input_files %s: %s (%s)", quote(self.sel),
      type(err) == "table" and err.message or tostring(err), step),
      { selector = self.sel, step = step })
  end
  return self
end

function Page:set_input_files(sel, files, opts)
  return self:locator(sel):set_input_files(files, opts)
end

-- ----------------------------------------------------------- downloads

-- page:expect_download(fn [, {timeout=}]) → download, fn's results.
-- Downloads are allowed into <run folder>/downloads while fn runs (and
-- until the download ends); the file is renamed to its cleaned suggested
-- name.  download = {path, text, suggested_filename, url}:
--   local d = page:expect_download(function() page:click("text=Export CSV") end)
--   local rows = csv.decode(d.text)
function Page:expect_download(fn, opts)
  if type(fn) ~= "function" then
    error("expect_download wants a function that starts the download, as its argument 1", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("expect_download: argument 2 must be an options table", 2)
  end
  opts = opts or {}
  local timeout = opts.timeout or self.nav_timeout
  local max_bytes = opts.max_bytes or M.MAX_DOWNLOAD_BYTES
  if type(max_bytes) ~= "number" or max_bytes < 1 then
    error("expect_download: max_bytes must be a positive number of bytes", 2)
  end
  local dir = host.downloads(true)
  cdp.drop_events("Browser.downloadWillBegin")
  cdp.drop_events("Browser.downloadProgress")
  local ok, res = pcall(function() return table.pack(fn()) end)
  if not ok then
    pcall(host.downloads, false)
    error(res, 0)
  end
  local step = self:_next_step("expect_download")
  local deadline = clock.now() + timeout
  local begun
  while not begun do
    local left = deadline - clock.now()
    local ev = left > 0 and cdp.wait_event("Browser.downloadWillBegin", math.floor(left))
    if not ev then
      pcall(host.downloads, false)
      P.raise("timeout", string.format("timeout %d ms waiting for a download to start (%s)",
        timeout, step), { transient = true, step = step })
    end
    begun = ev
  end
  local done
  while not done do
    local left = deadline - clock.now()
    local ev = left > 0 and cdp.wait_event("Browser.downloadProgress", math.floor(left))
    if not ev then
      pcall(host.downloads, false)
      P.raise("timeout", string.format("timeout %d ms waiting for the download of %s to finish "
        .. "(%s)", timeout, quote(begun.suggestedFilename), step), { transient = true, step = step })
    end
    if ev.guid == begun.guid then
      if (ev.receivedBytes or 0) > max_bytes or (ev.totalBytes or 0) > max_bytes then
        pcall(host.downloads, false)   -- cancels it: nothing more is written
        P.raise("script", string.format("the download of %s is larger than %d bytes (max_bytes) "
          .. "and was cancelled (%s)", quote(begun.suggestedFilename), max_bytes, step),
          { step = step })
      end
      if ev.state == "completed" then
        done = ev
      elseif ev.state == "canceled" then
        pcall(host.downloads, false)
        P.raise("transient", string.format("the download of %s was canceled (%s)",
          quote(begun.suggestedFilename), step), { step = step })
      end
    end
  end
  host.downloads(false)
  local path, text = host.download_file(dir, begun.guid, begun.suggestedFilename)
  return { path = path, text = text, suggested_filename = begun.suggestedFilename,
    url = begun.url }, table.unpack(res, 1, res.n)
end

return M
