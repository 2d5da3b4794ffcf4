-- Round trips of single page calls on a static page (test_speed.sh): the
-- debug log counts each call's CDP commands.
local app = {}
local PAGE = "data:text/html,<input id=t><button id=b onclick='this.dataset.n=(+this.dataset.n||0)+1'>Go</button>"

function app.login(page, account) page:navigate(PAGE) end

function app.list_users(page)
  page:fill("#t", "hello")
  page:click("#b")
  page:click("#b")
  return { { email = "n@example.com", display_name = page:get_attribute("#b", "data-n") } }
end

return app
