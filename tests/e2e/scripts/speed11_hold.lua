-- tests/e2e/test_speed11.sh: signs into acme, then holds its page for
-- account.hold_ms while the test counts the launched Chromium's renderers.
local app = { name = "speed11 hold", roles = { "admin", "member", "viewer" } }

function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("button >> has-text=Sign in")
  page:wait_for('table.users[data-loaded="true"]')
  app.hold_ms = tonumber(account.hold_ms) or 3000
end

function app.list_users(page)
  clock.sleep(app.hold_ms)
  local users = {}
  for _, row in ipairs(page:locator("table.users"):table()) do
    users[#users + 1] = { email = row.email, roles = { row.role } }
  end
  return users
end

function app.invite() end
function app.update() end
function app.remove() end
return app
