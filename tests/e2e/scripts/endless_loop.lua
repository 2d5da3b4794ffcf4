-- A login that never ends: the deadline must stop it.
local app = {}
function app.login(page, account)
  local n = 0
  while true do n = n + 1 end
end
function app.list_users(page) return {} end
function app.invite(page, user) end
return app
