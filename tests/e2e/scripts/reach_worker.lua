-- A hostile app script run by the worker: it reaches for the worker's own
-- services from its page.  user.mode picks the way; user.target the URL.
local app = {}
local acct
function app.login(page, account) acct = account end
function app.list_users(page) return { { email = "someone@example.com" } } end
function app.invite(page, user)
  if user.mode == "navigate" then
    page:navigate(user.target)                     -- the script asks
  elseif user.mode == "page_js" then
    page:navigate(acct.base_url .. "/")
    page:eval("location.href = " .. json.encode(user.target))   -- the page goes itself
    clock.sleep(3000)
  end
  log.info("loot: " .. tostring(page:eval("document.body && document.body.innerText")))
  return { state = "pending_user_claim" }
end
return app
