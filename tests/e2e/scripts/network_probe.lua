-- Probes of the network and files page API (tests/e2e/test_network.sh)
-- against the ledger fixture app.  account.mode picks what list_users
-- tries; each outcome is logged as "probe <name>: <message>".
local app = { name = "network probe" }
app.lists_service_account = false

function app.login(page, account)
  page:navigate(account.base_url .. "/")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("#signin")
  page:wait_for('.cards[data-loaded="true"]')
end

local acct

local function probe(name, fn, ...)
  local ok, e = pcall(fn, ...)
  log.warn(string.format("probe %s: %s", name, ok and "allowed" or
    (type(e) == "table" and tostring(e.message) or tostring(e))))
end

local MODES = {}

-- What the confinement refuses, and what it lets through.
function MODES.refusals(page)
  -- expect_response arms first; a later wait_for_response still gets a
  -- response that finished before it was called (followed since the arm)
  local r1 = page:expect_response("**/api/users", function() page:click("#refresh") end)
  page:click("#refresh")
  page:wait_for('.cards[data-loaded="true"]')
  local r2 = page:wait_for_response("**/api/users", { timeout = 2000 })
  log.warn(string.format("probe responses: %d %d users, %d %s", r1.status, #r1.body.users,
    r2.status, r2.headers["content-type"]))
  probe("request-file", page.request, page, "GET", "file:///etc/passwd")
  probe("request-devtools", page.request, page, "GET", acct.devtools .. "/json/version")
  probe("request-scheme-relative", page.request, page, "GET", "//" .. acct.devtools:gsub("^http://", "") .. "/json")
  probe("request-backslash", page.request, page, "GET", "/\\" .. acct.devtools:gsub("^http://", "") .. "/json")
  probe("request-bad-method", page.request, page, "FETCH", acct.base_url .. "/api/users")
  local file = page:locator("#bulk-file")
  probe("upload-dotdot", file.set_input_files, file, "../../../../../../etc/passwd")
  probe("upload-absolute", file.set_input_files, file, "/etc/passwd")
  probe("upload-symlink", file.set_input_files, file, "link.csv")
  probe("upload-missing", file.set_input_files, file, "nope.csv")
  probe("upload-not-input", page.set_input_files, page, "#refresh", "bulk.csv")
  probe("raw-upload", page.send, page, "DOM.setFileInputFiles",
    { files = { "/etc/passwd" }, backendNodeId = 1 })
  probe("raw-download", page.send, page, "Browser.setDownloadBehavior",
    { behavior = "allow", downloadPath = "/tmp" })
  probe("wait-timeout", page.wait_for_response, page, "**/never-fetched", { timeout = 300 })
  probe("pattern-type", page.wait_for_response, page, 42)
  -- allowed: an upload from the files folder, a request with the page's cookies
  file:set_input_files("bulk.csv")
  page:click("button.upload")
  page:wait_for(".bulk-result >> has-text=Invited")
  log.warn("probe upload-ok: " .. page:text(".bulk-result"))
  local r = page:request("GET", "/ledger/api/session")
  log.warn("probe request-session: " .. tostring(r.status) .. " " .. tostring(r.body.username))
  -- a download outside expect_download is denied again
  local d = page:expect_download(function() page:click("#export") end)
  log.warn("probe download-1: " .. d.suggested_filename .. " " .. #d.text)
  page:click("#export")
  page:wait(500)
  r = page:request("GET", acct.base_url .. "/api/users")
  local users = {}
  for _, u in ipairs(r.body.users) do users[#users + 1] = { email = u.email, roles = u.roles } end
  return users
end

-- Reads the users JSON (with the robot's API token in it), then fails:
-- the evidence must not show the token.
function MODES.fail_after_read(page)
  local r = page:expect_response("**/api/users", function() page:click("#refresh") end)
  log.info("probe body: " .. r.text)
  fail("business", "probe failed after reading " .. #r.body.users .. " users")
end

-- In a worker with --files-dir: the integration's own folder only.
function MODES.worker_upload(page)
  local file = page:locator("#bulk-file")
  probe("upload-other-integration", file.set_input_files, file, "../ledger-b/other.csv")
  file:set_input_files("bulk.csv")
  page:click("button.upload")
  page:wait_for(".bulk-result >> has-text=Invited")
  local r = page:request("GET", acct.base_url .. "/api/users")
  local users = {}
  for _, u in ipairs(r.body.users) do users[#users + 1] = { email = u.email, roles = u.roles } end
  return users
end

function app.list_users(page)
  return MODES[acct.mode](page)
end

-- The account arrives with login; keep it for list_users.
local login = app.login
function app.login(page, account)
  acct = account
  return login(page, account)
end

return app
