-- `idlcm-agent check` test: a syntax error on line 5.
local app = { name = "Syntax" }
function app.login(page, account)
  page:navigate(account.base_url
end
return app
