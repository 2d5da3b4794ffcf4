-- A script that floods its job with events: 3000 progress reports.
local app = { name = "Flood", can_be_empty = true }  -- its reader reads nothing on purpose
function app.login(page, account) end
function app.list_users(page)
  for i = 1, 3000 do progress(i, 3000, i) end
  return {}
end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
