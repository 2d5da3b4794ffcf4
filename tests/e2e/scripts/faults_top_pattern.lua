-- A runaway pattern at the script's top level (what `check` runs).
local s = ("a"):rep(40)
s:find(("a*"):rep(30) .. "c")
return {}
