-- An error object that raises when anything reads it: its fields, its
-- string form.  Nothing may abort the process over it.
local hostile = setmetatable({}, {
  __index = function(t, k) error("boom reading ." .. tostring(k)) end,
  __newindex = function(t, k) error("boom writing ." .. tostring(k)) end,
  __tostring = function() error("boom from __tostring") end,
})
local app = {}
function app.login(page, account)
  error(hostile)
end
function app.list_users(page) return {} end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
