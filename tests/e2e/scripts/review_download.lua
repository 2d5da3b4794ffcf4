-- A download larger than the job wants: expect_download{max_bytes=} cancels
-- it and fails the step.  account.n: the download's size.
local app = { can_be_empty = true }
local acct
function app.login(page, account)
  acct = account
  page:navigate(account.base_url .. "/acme/#/login")
end
function app.list_users(page)
  page:eval("(function () { var a = document.createElement('a'); a.id = 'big';"
    .. " a.textContent = 'Export'; a.href = " .. json.encode(acct.base_url .. "/bytes?n=" .. acct.n)
    .. "; a.setAttribute('download', 'big.bin'); document.body.appendChild(a); })()")
  local d = page:expect_download(function() page:click("#big") end,
    { max_bytes = 1000000, timeout = 20000 })
  log.info("downloaded " .. #d.text .. " bytes")
  return {}
end
return app
