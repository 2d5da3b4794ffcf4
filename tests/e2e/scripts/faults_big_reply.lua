-- A reply over the CDP message cap (the test sets IDLCM_CDP_MAX_MESSAGE
-- to 1 MiB): a 3 MB string evaluated by value.
local app = {}
function app.login(page, account)
  page:navigate(account.base_url .. "/")
  local r = page:send("Runtime.evaluate",
    { expression = "'x'.repeat(3000000)", returnByValue = true }, 25000)
  error("the oversized reply came through: " .. #r.result.value .. " bytes")
end
function app.list_users(page) return {} end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
