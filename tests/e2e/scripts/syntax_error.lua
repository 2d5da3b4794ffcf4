local app = {}

function app.login(page, account)
  page:navigate(account.base_url
end

return app
