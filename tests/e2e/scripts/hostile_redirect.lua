-- Hostile: an app's server redirects the job's page to what a job may not
-- reach (the fixture server's /redirect?to=URL).  account.mode picks how
-- the page follows it (navigate, a link click, fetch()), account.target
-- what it is sent to (file, devtools, chrome).  list_users shows whatever
-- the page managed to read.
local app = { name = "hostile-redirect" }
local loot = "nothing"

local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function target(a)
  if a.target == "file" then return "file://" .. a.path end
  if a.target == "devtools" then return "http://127.0.0.1:" .. a.devtools_port .. "/json/list" end
  if a.target == "chrome" then return "chrome://version" end
  error("unknown target " .. tostring(a.target))
end

local function body(page)
  local ok, t = pcall(page.eval, page, "document.body ? document.body.innerText : ''")
  return ok and tostring(t):sub(1, 300) or "nothing"
end

local ATTACKS = {
  navigate = function(page, url)
    page:navigate(url)
    return body(page)
  end,
  click = function(page, url, a)
    page:navigate(a.base_url .. "/")
    page:eval("var l = document.createElement('a'); l.id = 'go'; l.textContent = 'go';" ..
      " l.href = '" .. url .. "'; document.body.prepend(l); 1")
    page:click("#go")
    clock.sleep(1500)
    return body(page)
  end,
  fetch = function(page, url, a)
    page:navigate(a.base_url .. "/")
    return page:eval("fetch('" .. url .. "').then(r => r.text(), e => 'fetch failed: ' + e.message)")
  end,
}

function app.login(page, a)
  local attack = ATTACKS[a.mode]
  if not attack then error("unknown mode " .. tostring(a.mode)) end
  local fx = a.base_url:match("^(https?://[^/]+)")
  loot = attack(page, fx .. "/redirect?to=" .. enc(target(a)), a)
end

function app.list_users(page)
  log.warn("loot:" .. tostring(loot))
  return { { email = "loot@redirect.test", roles = {} } }
end

function app.invite() end
function app.update() end
function app.remove() end
return app
