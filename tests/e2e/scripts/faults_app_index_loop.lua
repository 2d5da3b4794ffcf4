-- An app table whose every read loops forever.
return setmetatable({}, { __index = function(t, k) while true do end end })
