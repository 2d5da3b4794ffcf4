-- Hostile: an error object that shares one table at every level,
-- {message = t, kind = t} 100 deep: 2^100 values if copied naively (it
-- kept the agent in C, past the script's deadline, until the hard backstop).
local app = { name = "review-error-dag" }

function app.login(page, a)
  local t = {}
  for _ = 1, 100 do t = { message = t, kind = t } end
  error(t)
end

function app.list_users(page) return {} end
function app.invite() end
function app.update() end
function app.remove() end
return app
