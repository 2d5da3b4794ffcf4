-- A login that never ends: the deadline must stop it.
local app = { can_be_empty = true }  -- a stub reader
function app.login(page, account)
  local n = 0
  while true do n = n + 1 end
end
function app.list_users(page) return {} end
function app.invite(page, user) end
return app
