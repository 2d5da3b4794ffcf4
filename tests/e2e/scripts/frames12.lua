-- Frames from other sites and table() options (issue 12 points 4 and 6),
-- on tests/fixtures/apps/xframes.  account.case picks the case; list_users
-- runs it, raises on the first broken expectation, and prints what it saw.
local app = { name = "frames12" }
local C

local function expect(cond, what)
  if not cond then error("frames check failed: " .. what, 2) end
end

-- The job's targets of type iframe (Target.getTargets, filtered to the
-- job's own context by the guard): the proof that a frame is out of process.
local function oopifs()
  local n, urls = 0, {}
  for _, t in ipairs(cdp.send("Target.getTargets").targetInfos or {}) do
    if t.type == "iframe" then
      n = n + 1
      urls[#urls + 1] = (t.url:gsub("^https?://([^:/]+).-/xframes/", "%1 "))
    end
  end
  table.sort(urls)
  return n, table.concat(urls, ", ")
end

function app.login(page, account)
  C = account
end

local cases = {}

-- frame(): fill and click inside a frame from another site, read its text.
function cases.frame(page)
  page:navigate(C.base_url .. "/top.html")
  local f = page:frame("#x")
  f:locator("#name"):fill("Ann")
  f:locator("#go"):click()
  print("out: " .. f:locator("#out"):text())
  expect(page:eval("document.getElementById('x').contentDocument") == nil,
    "the page cannot reach into the frame (it is cross-origin)")
end

-- The same through one selector chain with >> enter-frame.
function cases.chain(page)
  page:navigate(C.base_url .. "/top.html")
  page:fill("#x >> enter-frame >> #name", "Bo")
  page:click("#x >> enter-frame >> #go")
  print("out: " .. page:text("#x >> enter-frame >> #out"))
  print("count: " .. page:count("#x >> enter-frame >> button"))
end

-- A frame from another site inside a frame from another site.
function cases.nested(page)
  page:navigate(C.base_url .. "/top.html?child=middle.html")
  local inner = page:frame("#x"):frame("#inner")
  inner:locator("#name"):fill("Cy")
  inner:locator("#go"):click()
  print("out: " .. inner:locator("#out"):text())
  print("middle: " .. page:frame("#x"):locator("#where"):text())
end

-- The frame is added 1.5 s after the page loaded: the click waits for it.
function cases.late(page)
  page:navigate(C.base_url .. "/top.html?late=1500")
  local f = page:frame("#x")
  f:locator("#name"):fill("Di", { timeout = 10000 })
  f:locator("#go"):click()
  print("out: " .. f:locator("#out"):text())
end

-- A native confirm() opened by the frame (its own session) is answered
-- by the page's on_dialog policy, set before or after the frame attached.
function cases.dialog(page)
  page:on_dialog("accept")
  page:navigate(C.base_url .. "/top.html")
  local f = page:frame("#x")
  f:locator("#ask"):click()
  f:locator("text=confirmed:"):wait_for()
  print("first: " .. f:locator("#out"):text())
  page:on_dialog("dismiss")
  f:locator("#ask"):click()
  f:locator("text=confirmed: false"):wait_for()
  print("then: " .. f:locator("#out"):text())
end

-- A selector that never matches inside the frame: the usual timeout.
function cases.missing(page)
  page:navigate(C.base_url .. "/top.html")
  page:frame("#x"):locator("#nope"):click({ timeout = 1500 })
end

-- The frame (from another site) fetches the DevTools endpoint's target
-- list by itself: the guard on the frame's own target fails the request
-- and stops the job.
function cases.guard(page)
  page:navigate(C.base_url .. "/top.html?child=" .. url.encode("probe.html?dt=" .. C.devtools_port))
  local f = page:frame("#x")
  f:locator("text=done:"):wait_for({ timeout = 10000 })
  print("probe: " .. f:locator("#state"):text())
end

-- table() options on table.html.
function cases.table(page)
  page:navigate(C.base_url .. "/table.html")
  local plain = page:table("#members")
  print("plain rows: " .. #plain)
  local rows, headers = page:table("#members", { header_row = 2, skip = "tr.footer" })
  print("headers: " .. table.concat(headers, "|"))
  for _, r in ipairs(rows) do
    print(string.format("row %s class=%s email=%s name=%s status=%s href=%s checked=%s data-id=%s",
      tostring(r._id), tostring(r._class), r.Email, r.Name, r.status, tostring(r._links.Email),
      tostring(r._checked[1]), tostring(r._attrs["data-id"])))
  end
  local only = page:table("#members", { header_row = 2, rows = "tr.member", skip = function(r) return r.Status == "Invited" end })
  print("filtered: " .. #only .. " " .. only[1].Email)
  local kept = page:table("#members", { header_row = 2, rows = "tr.member", hidden_text = true })
  print("with hidden text: " .. kept[1].Name .. " / " .. kept[2].Status)
end

-- A frame from another site fetches JSON in its own process: the page's
-- wait_for_response / expect_response see it, on a click and as it loads.
function cases.response(page)
  page:navigate(C.base_url .. "/top.html?child=fetcher.html")
  local f = page:frame("#x")
  f:locator("#out"):wait_for()
  local r = page:expect_response("**/data.json*", function() f:locator("#load"):click() end)
  print("clicked: " .. r.status .. " " .. #r.body.users .. " users, first " .. r.body.users[1].email ..
    " from " .. r.url:match("from=([^&]+)"))
  -- the frame attaches after the wait is armed and fetches at once
  r = page:expect_response("**/data.json*", function()
    page:navigate(C.base_url .. "/top.html?child=" .. url.encode("fetcher.html?auto=1"))
  end)
  print("on load: " .. r.status .. " " .. #r.body.users .. " users")
end

function app.list_users(page)
  local run = cases[C.case]
  if not run then error("no case " .. tostring(C.case)) end
  run(page)
  local n, urls = oopifs()
  print("oopif targets: " .. n .. (n > 0 and (" (" .. urls .. ")") or ""))
  return { { email = C.case .. "@frames.test" } }
end

function app.invite() fail("business", "frames12 only lists users") end
function app.update() fail("business", "frames12 only lists users") end
function app.remove() fail("business", "frames12 only lists users") end

return app
