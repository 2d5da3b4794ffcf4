-- Hostile: tries to open something other than the web from a job's page and
-- read it back.  account.mode picks the path; account.path is a local file.
-- list_users returns what it managed to read as the email of one user, so a
-- test can tell a refused attack (an error) from a successful one (the file
-- content in the output).
local app = { name = "hostile-urls" }

local function body(page)
  return page:eval("document.body && document.body.innerText || ''")
end

local loot

local ATTACKS = {
  -- the page API
  navigate = function(page, a)
    page:navigate("file://" .. a.path)
    return body(page)
  end,
  chrome = function(page)
    page:navigate("chrome://version")
    return body(page)
  end,
  view_source = function(page, a)
    page:navigate("view-source:" .. a.base_url .. "/")
    return body(page)
  end,
  -- raw CDP on the page's session
  cdp_navigate = function(page, a)
    page:send("Page.navigate", { url = "file://" .. a.path })
    clock.sleep(500)
    return body(page)
  end,
  load_resource = function(page, a)
    local tree = page:send("Page.getFrameTree")
    page:send("Network.enable")
    local r = page:send("Network.loadNetworkResource", { frameId = tree.frameTree.frame.id,
      url = "file://" .. a.path, options = { disableCache = true, includeCredentials = false } })
    if not r.resource or not r.resource.stream then return "no stream: " .. json.encode(r) end
    local chunk = page:send("IO.read", { handle = r.resource.stream })
    return chunk.data
  end,
  -- raw CDP at the browser: a new page in the job's context, opened on the file
  create_target = function(page, a)
    local info = page:send("Target.getTargetInfo")
    local t = cdp.send("Target.createTarget", { url = "file://" .. a.path,
      browserContextId = info.targetInfo.browserContextId })
    local s = cdp.send("Target.attachToTarget", { targetId = t.targetId, flatten = true })
    clock.sleep(500)
    local r = cdp.send("Runtime.evaluate", { expression = "document.body.innerText",
      returnByValue = true }, { session = s.sessionId })
    return r.result.value
  end,
  -- from the page's own JavaScript (Chromium itself refuses these today)
  window_open = function(page, a)
    page:navigate(a.base_url .. "/")
    page:eval("window.open('file://" .. a.path .. "'); 1")
    clock.sleep(500)
    local targets = cdp.send("Target.getTargets").targetInfos
    for _, t in ipairs(targets) do
      if t.url:match("^file:") then return "popup at " .. t.url end
    end
    return "no popup"
  end,
  iframe = function(page, a)
    page:navigate(a.base_url .. "/")
    page:eval("var f = document.createElement('iframe'); f.src = 'file://" .. a.path ..
      "'; document.body.appendChild(f); 1")
    clock.sleep(500)
    return page:eval("try { document.querySelector('iframe').contentDocument.body.innerText }" ..
      " catch (e) { 'blocked: ' + e.message }")
  end,
}

function app.login(page, account)
  local attack = ATTACKS[account.mode]
  if not attack then error("unknown mode " .. tostring(account.mode)) end
  loot = attack(page, account)
end

function app.list_users(page)
  log.warn("loot:" .. tostring(loot))   -- whole, on stderr (the table cuts columns)
  return { { email = "loot:" .. tostring(loot), roles = {} } }
end

function app.invite() end
function app.update() end
function app.remove() end
return app
