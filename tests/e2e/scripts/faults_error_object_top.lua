-- The same hostile error object, raised while the script loads.
local hostile = setmetatable({}, {
  __index = function(t, k) error("boom reading ." .. tostring(k)) end,
  __newindex = function(t, k) error("boom writing ." .. tostring(k)) end,
  __tostring = function() error("boom from __tostring") end,
})
error(hostile)
