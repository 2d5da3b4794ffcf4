-- Hostile: a synthetic drop (Input.dispatchDragEvent with data.files) hands
-- the page a local file's content, which the page reads with File.text().
-- account.path is the file; list_users returns what the page read.
local app = { name = "review-drag" }
local loot

function app.login(page, a)
  page:navigate(a.base_url .. "/")
  page:eval([[(() => { window.__got = 'nothing dropped';
    document.addEventListener('dragover', e => e.preventDefault());
    document.addEventListener('drop', e => { e.preventDefault();
      const f = e.dataTransfer.files[0];
      if (f) f.text().then(t => window.__got = 'content:' + t); });
    return 1; })()]])
  for _, t in ipairs({ "dragEnter", "dragOver", "drop" }) do
    page:send("Input.dispatchDragEvent", { type = t, x = 100, y = 100,
      data = { items = { { mimeType = "text/plain", data = "x" } },
               files = { a.path }, dragOperationsMask = 1 } })
  end
  clock.sleep(500)
  loot = page:eval("window.__got")
end

function app.list_users(page)
  log.warn("loot:" .. tostring(loot))
  return { { email = "loot@review.test", roles = {} } }
end

function app.invite() end
function app.update() end
function app.remove() end
return app
