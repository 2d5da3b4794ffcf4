-- `idlcm-agent check` test: calls the page API does not have, and no remove.
local app = { name = "Bad" }
local TABLE = "table.users"
function app.login(p, account)
  p:navigate(account.base_url)
  p:fil("#username", account.username)
  p:nth(2)
  p.click("button")
  local f = io.open("/etc/passwd")
  local modal = p:locator(".modal")
  modal:locator("input"):fill("x")
  modal:clik()
  p:locator(".x"):first():get_atribute("href")
  local s = ("x"):upper()
end
function app.list_users(page)
  -- page:bogus() in a comment is fine, and so is a string:
  local t = "page:bogus()"
  return page:locator(TABLE):table()
end
function app.invite(page, user) page:wait_for_selector("x") end
function app.update(page, user) end
return app
