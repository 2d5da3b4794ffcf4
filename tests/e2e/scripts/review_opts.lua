-- Options given as something else than a table, and locator:all().
-- account.mode picks the case.
local app = { can_be_empty = true }
local acct
function app.login(page, account)
  acct = account
  page:navigate(account.base_url .. "/#/login")
  page:wait_for("#password")
end
function app.list_users(page)
  local m = acct.mode
  if m == "wait_for" then page:wait_for("body", "hidden")
  elseif m == "navigate" then page:navigate(acct.base_url .. "/", 3000)
  elseif m == "reload" then page:reload("fast")
  elseif m == "wait_for_any" then page:wait_for_any({ a = "body" }, "x")
  elseif m == "fill_disk" then
    page:eval("(function () { var i = document.createElement('input'); i.type = 'file';"
      .. " i.id = 'f'; document.body.appendChild(i); })()")
    local big = string.rep("x", 17 * 1024 * 1024)
    page:set_input_files("#f", { name = "one.csv", text = big })
    log.info("the first upload made on the spot was written")
    page:set_input_files("#f", { name = "two.csv", text = big })
    log.info("the second upload made on the spot was written")
  elseif m == "all" then
    local locs, texts = page:locator("form input, form button"):all(), page:locator("form input, form button"):all_texts()
    assert(#locs == #texts and #locs > 1, "all() gave " .. #locs .. " for " .. #texts .. " texts")
    for i, l in ipairs(locs) do
      assert(l:text() == texts[i], "item " .. i .. " reads " .. l:text() .. ", not " .. texts[i])
    end
    log.info("all: " .. #locs .. " locators, each its own element")
  end
  return {}
end
return app
