-- Acme, but invite clicks a button that never appears: a failing job whose
-- cassette replays a locator's auto-wait running out (2000 ms of recorded
-- time) and the failure evidence that follows.
local app = { name = "Acme (missing button)", can_be_empty = true }  -- a stub reader

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
