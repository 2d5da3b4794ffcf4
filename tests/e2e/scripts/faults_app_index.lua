-- An app table whose every read raises.
return setmetatable({}, { __index = function(t, k) error("boom reading app." .. k) end })
