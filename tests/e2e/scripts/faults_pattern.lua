-- A pattern that backtracks for hours inside Lua's C matcher, where the
-- count hook never fires: the job deadline must still stop it.
-- account.fn picks the string function (find, match, gmatch, gsub).
local app = {}
function app.login(page, account)
  local s = ("a"):rep(40)
  local p = ("a*"):rep(30) .. "c"
  local fn = account.fn or "find"
  if fn == "gmatch" then
    for m in s:gmatch(p) do return m end
  elseif fn == "gsub" then
    return s:gsub(p, function(x) return x end)
  else
    return s[fn](s, p)
  end
end
function app.list_users(page) return {} end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end
return app
