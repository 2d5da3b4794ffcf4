-- url, text and csv helpers end to end: list_users reads the users from a
-- CSV export shown in a data: page (BOM, CRLF, quoted commas, doubled
-- quotes, a newline inside quotes, NBSP padding) and prints the next-page
-- link that url.build made, as the page's <a href> reads it back.
local app = { name = "helpers12" }

local EXPORT = table.concat({
  "\239\187\191email,name,roles",
  'ann@h12.test,"Lee, Ann",admin; billing',
  '&nbsp;bob@h12.test&nbsp;,"Bob ""The Builder""",viewer',
  '"carol@h12.test","Carol\nSmith",',
}, "\r\n")

-- the export needs no sign-in; this app only lists
function app.login(page, account) end
function app.invite(page, user) fail("business", "helpers12 only lists users") end
function app.update(page, user) fail("business", "helpers12 only lists users") end
function app.remove(page, user) fail("business", "helpers12 only lists users") end

function app.list_users(page)
  local next_url = url.build("https://h12.test/users?sort=email#list",
    { role = { "admin", "viewer" }, q = "a b&c", page = 2 })
  local html = '<pre id="export">' .. EXPORT .. '</pre><a id="next" href="'
    .. next_url:gsub("&", "&amp;") .. '">next</a>'
  page:navigate("data:text/html;charset=utf-8," .. url.encode(html))
  local export = page:eval("document.getElementById('export').textContent")
  print("next page: " .. page:eval("document.getElementById('next').getAttribute('href')"))
  local rows = csv.decode(export)
  print("columns: " .. table.concat(rows.header, "|"))
  local users = {}
  for _, row in ipairs(rows) do
    local roles = {}
    for _, r in ipairs(text.split(row.roles or "", ";")) do
      r = text.trim(r)
      if r ~= "" then roles[#roles + 1] = r end
    end
    users[#users + 1] = { email = text.trim(row.email), display_name = row.name, roles = roles }
  end
  return users
end

return app
