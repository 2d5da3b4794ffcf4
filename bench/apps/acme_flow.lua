-- make bench: the invite flow on the acme fixture app, step for step the
-- one bench/flow.js drives with Puppeteer — sign in, open the invite form,
-- fill, select, click, wait for the new row.  No check-first read and no
-- verify (list_users is empty, there is no find_user), so both sides do
-- the same page work.
local app = { name = "acme (bench flow)", roles = { "admin", "member", "viewer" } }

function app.login(page, account)
  page:navigate(account.base_url .. "/#/login")
  page:fill("#username", account.username)
  page:fill("#password", account.password)
  page:click("button >> has-text=Sign in")
  page:wait_for("table.users")
end

function app.is_signed_in(page, account)
  page:navigate(account.base_url .. "/")
  return page:wait_for_any({ yes = "table.users", no = "#password" }) == "yes"
end

function app.list_users(page) return {} end

function app.invite(page, user)
  page:click("button.invite-open")
  page:fill('.modal input[name="email"]', user.email)
  page:select_option('.modal select[name="role"]', user.roles[1])
  page:click(".modal button.send")
  page:wait_for('table.users tbody tr >> has-text=' .. user.email)
  return { state = "pending_user_claim" }
end

return app
