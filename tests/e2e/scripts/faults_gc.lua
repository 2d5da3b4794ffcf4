-- A finalizer that never returns (Lua runs __gc with hooks off).
local app = { login = function() end, list_users = function() return {} end,
  invite = function() end, update = function() end, remove = function() end }
setmetatable({}, { __gc = function() while true do end end })
return app
