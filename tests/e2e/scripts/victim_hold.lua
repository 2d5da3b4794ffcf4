-- The victim of the cross-job tests: logs into acme (an HttpOnly session
-- cookie), then holds its page open for account.hold_ms so that another
-- job can try to reach it.
local app = { name = "victim" }
local hold_ms

function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("button >> has-text=Sign in")
  page:wait_for("table.users")
  hold_ms = tonumber(account.hold_ms) or 8000
end

function app.list_users(page)
  clock.sleep(hold_ms)
  return {}
end

function app.invite() end
function app.update() end
function app.remove() end
return app
