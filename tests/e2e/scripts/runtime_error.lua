local app = {}
function app.login(page, account) end
function app.list_users(page) return {} end
function app.invite(page, user)
  local form = nil
  return form.email   -- line 6: indexes nil
end
return app
