-- Opens a failure report (report.html, via account.base_url = file://…) in
-- Chromium and checks what a person would look at: the screenshot has
-- rendered (naturalWidth > 0, or exactly account.width) and the error text
-- (account.expect) is on the page.  Run it with the `validate` action.
local app = { name = "report viewer", can_be_empty = true, lists_service_account = false }

function app.login(page, account)
  page:navigate(account.base_url)
  app.account = account
end

function app.validate(page)
  local want = app.account
  page:wait_for("img#screenshot", { state = "attached" })
  local width = page:eval([[
    new Promise(function (done) {
      var img = document.getElementById("screenshot");
      if (img.complete) return done(img.naturalWidth);
      img.onload = function () { done(img.naturalWidth); };
      img.onerror = function () { done(0); };
    })]])
  if type(width) ~= "number" or width <= 0 then
    fail("business", "the screenshot did not render (naturalWidth " .. tostring(width) .. ")")
  end
  if want.width and width ~= want.width then
    fail("business", string.format("the screenshot is %d px wide, expected %d", width, want.width))
  end
  local text = page:text("#error")
  if not text:find(want.expect, 1, true) then
    fail("business", "the error on the page is " .. string.format("%q", text))
  end
  local steps = page:count("table.steps tr.failed")
  if steps < 1 then fail("business", "no failed step in the steps table") end
  log.warn(string.format("report ok: screenshot %d px wide, error shown, %d failed step(s)",
    width, steps))
end

function app.list_users(page) return {} end
function app.invite(page, user) end
function app.update(page, user) end
function app.remove(page, user) end

return app
