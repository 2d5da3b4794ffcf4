-- Polls the page until the test stops the browser (SIGSTOP).
local app = {}
function app.login(page, account)
  page:navigate(account.base_url .. "/")
  log.warn("polling")
  while true do
    page:send("Runtime.evaluate", { expression = "1" }, 4000)
    clock.sleep(100)
  end
end
function app.list_users(page) return {} end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
