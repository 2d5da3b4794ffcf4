-- acme, but invite clicks a button that never appears.
local app = { can_be_empty = true }  -- a stub reader
function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("button >> has-text=Sign in")
  page:wait_for("table.users")
end
function app.list_users(page) return {} end
function app.invite(page, user)
  page:click("button.invite-open")
  page:click("button.nope", { timeout = 2000 })
end
function app.update(page, user) end
function app.remove(page, user) end
return app
