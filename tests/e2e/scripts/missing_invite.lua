-- The contract needs invite for an invite job; this script has none.
local app = { can_be_empty = true }  -- a stub reader
function app.login(page, account) end
function app.list_users(page) return {} end
return app
