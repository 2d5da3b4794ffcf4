-- make bench: the invite flow on the acme fixture app, step for step the
-- one bench/flow.js drives with Puppeteer — sign in, open the invite form,
-- fill, select, click, wait for the new row — plus what every real job
-- does and bench/flow.js mirrors: a check-first read of the users table
-- before the invite and a verifying read after it (find_user below).
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

app.lists_service_account = false

-- One read of the users table: the row of this email, if any.
function app.find_user(page, user)
  page:wait_for('table.users[data-loaded="true"]')
  for _, row in ipairs(page:locator("table.users"):table()) do
    if row.email == user.email then
      return { email = row.email, roles = { row.role },
               invite = row.status == "Pending invite" and "pending" or nil }
    end
  end
  return nil
end

function app.list_users(page)
  page:wait_for('table.users[data-loaded="true"]')
  local users = {}
  for _, row in ipairs(page:locator("table.users"):table()) do
    users[#users + 1] = { email = row.email, roles = { row.role },
      invite = row.status == "Pending invite" and "pending" or nil }
  end
  return users
end

function app.invite(page, user)
  page:click("button.invite-open")
  page:fill('.modal input[name="email"]', user.email)
  page:select_option('.modal select[name="role"]', user.roles[1])
  page:click(".modal button.send")
  page:wait_for('table.users tbody tr >> has-text=' .. user.email)
  return { state = "pending_user_claim" }
end

return app
