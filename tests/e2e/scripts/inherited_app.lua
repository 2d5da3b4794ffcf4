-- An app whose functions come from a shared base through its metatable,
-- and which sets a contract field while it runs: the runner must see both.
local base = {}
function base.login(page, account) page:navigate(account.base_url .. "/") end
function base.list_users(page) return {} end
local app = setmetatable({}, { __index = base })
function app.validate(page) end
local login = base.login
base.login = function(page, account)
  login(page, account)
  app.can_be_empty = true   -- known only once signed in
end
return app
