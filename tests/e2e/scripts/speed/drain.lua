-- The drain test's job (tests/e2e/test_speed.sh): as small as a job gets —
-- a page is opened for it (prewarmed, in the worker) and it reads one
-- value from it; no app, no login form.
local app = { name = "drain" }

function app.login(page, account) end

function app.list_users(page)
  return { { email = "drain@example.com", display_name = page:title() } }
end

return app
