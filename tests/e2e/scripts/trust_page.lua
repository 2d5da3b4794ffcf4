-- Page traits of issue 8 (tests/fixtures/apps/trustpage): clicks that must
-- land, errors that must say what to do, evidence that must hold no secret,
-- scopes that refuse misuse.  account.case picks the case; list_users runs
-- it and raises on the first broken expectation, or returns one user.
local app = {}
local C

local function expect(cond, what)
  if not cond then error("trust check failed: " .. what, 2) end
end

local function hits(page)
  return json.decode(page:text("#hits"))
end

-- The handlers that ran, as "name=count" sorted, for exact comparisons.
local function ran(page)
  local h, out = hits(page), {}
  for k, v in pairs(h) do out[#out + 1] = k .. "=" .. v end
  table.sort(out)
  return table.concat(out, ",")
end

function app.login(page, account)
  C = account
  local file = account.case:match("^(%a+)_")
  page:navigate(account.base_url .. "/" .. file .. ".html")
end

local cases = {}

function cases.shift_click(page)
  page:click("#go")
  local r = ran(page)
  expect(r == "go=1", "the click landed once on #go, not on the banner: " .. r)
end

function cases.shift_dblclick(page)
  page:dblclick("#dbl")
  local r = ran(page)
  expect(r == "dbl=1", "the double click landed once on #dbl: " .. r)
end

function cases.shift_check(page)
  page:check("#agree")
  expect(page:is_checked("#agree"), "#agree is checked")
  local r = ran(page)
  expect(r == "agree=1", "the check's click landed on the box: " .. r)
end

function cases.shift_hover(page)
  page:hover("#hov")
  local r = ran(page)
  expect(r == "hov=1", "the hover reached #hov once: " .. r)
end

function cases.sticky_click(page)
  page:click("#go")
  local r = ran(page)
  expect(r == "go=1", "the click landed once on #go, not on the sticky header: " .. r)
end

-- Every press lands on the banner: the click fails naming it, and the
-- banner's handlers never ran (the guard cancelled its events).
function cases.cover_click(page)
  local ok, err = pcall(page.click, page, "#go", { timeout = C.timeout or 1500 })
  local r = ran(page)
  expect(r == "", "no handler ran, neither the button's nor the banner's: " .. r)
  expect(not ok, "the click cannot succeed")
  error(err, 0)
end

cases.xcover_click = cases.cover_click

function cases.focus_fill(page)
  page:fill("#email", "ada@example.com", { timeout = 1000 })
end

function cases.focus_fill2(page)
  page:fill("#email2", "ada@example.com")
end

function cases.focus_texthint(page)
  page:click("button >> text=Save", { timeout = 800 })
end

function cases.focus_hidden(page)
  page:click("#hidden", { timeout = 800 })
end

function cases.focus_absent(page)
  page:wait_for("#never-there", { timeout = 800 })
end

function cases.focus_waitany(page)
  -- both #a and #b are visible: the first in order wins, every time
  local a = page:wait_for_any({ { "zeta", "#a" }, { "alpha", "#b" } })
  expect(a == "zeta", "array form: first in order wins, got " .. tostring(a))
  local b = page:wait_for_any({ { "alpha", "#b" }, { "zeta", "#a" } })
  expect(b == "alpha", "array form reversed, got " .. tostring(b))
  local t = page:wait_for_any({ zeta = "#a", alpha = "#b" })
  expect(t == "alpha", "table form: alphabetical order wins, got " .. tostring(t))
  local h = page:wait_for_any({ { "gone", "#nope", state = "detached" }, { "shown", "#a" } })
  expect(h == "gone", "array form with a state, got " .. tostring(h))
end

function cases.secret_misuse(page)
  local frame = page:frame("#inner")
  expect(frame:locator("#frame-marker"):text() == "inside the invite frame", "frame scope locator")
  local ok, err = pcall(frame.click, frame, "#x")
  expect(not ok, "frame:click(\"#x\") is refused")
  local msg = tostring(type(err) == "table" and err.message or err)
  expect(msg:find('frame:click("#x"): a frame scope is not an element; write frame:locator("#x"):click(…)', 1, true),
    "frame misuse message: " .. msg)
  ok, err = pcall(function() page:locator("#inner"):click("#x") end)
  msg = tostring(type(err) == "table" and err.message or err)
  expect(not ok and msg:find('the options argument must be a table, not a string ("#x"); to click an element inside it, write :locator("#x"):click(…)', 1, true),
    "string options message: " .. msg)
  ok, err = pcall(function() page:fill("#user", "x", "#y") end)
  msg = tostring(type(err) == "table" and err.message or err)
  expect(not ok and msg:find("options argument must be a table", 1, true), "fill options: " .. msg)
end

-- The SPA mirrors what is typed into value attributes; the job then fails
-- inside the iframe and leaves evidence.
function cases.secret_leak(page)
  page:fill("#user", "admin@trust.test")
  page:fill("#pw", C.password)
  local frame = page:frame("#inner")
  frame:locator("#new-pw"):fill(C.typed_password)
  frame:locator("#x"):fill("visible-value")
  frame:locator("#not-in-the-frame"):click({ timeout = 800 })
end

function app.list_users(page)
  local fn = cases[C.case]
  if not fn then error("no case " .. tostring(C.case)) end
  fn(page)
  return { { email = C.case .. "@trust.test", roles = {} } }
end

return app
