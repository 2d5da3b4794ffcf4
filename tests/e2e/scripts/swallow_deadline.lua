-- A script that swallows the deadline error and carries on, as an author's
-- ordinary retry around a slow step would: account.then says what it does
-- after — "act" (goes to the page and claims success) or "return" (pure
-- Lua, then returns as if it had invited the user).
local app = { can_be_empty = true }
local acct
function app.login(page, account) acct = account end
function app.list_users(page) return {} end
function app.invite(page, user)
  page:navigate(acct.base_url .. "/")
  local ok = pcall(function() while true do end end)   -- the deadline lands here
  if acct["then"] == "act" then
    local ok2 = pcall(page.navigate, page, acct.base_url .. "/")
    log.info("after the deadline the page call " .. (ok2 and "went through" or "was refused"))
  end
  return { state = "pending_user_claim" }
end
return app
