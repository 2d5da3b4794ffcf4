local app = { can_be_empty = true }  -- a stub reader
function app.login(page, account) end
function app.list_users(page) return {} end
function app.invite(page, user)
  local form = nil
  return form.email   -- line 6: indexes nil
end
return app
