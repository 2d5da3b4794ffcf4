-- Micro-benchmarks of the page API on a static page, run as the
-- list_users action of a script so that it goes through the real agent.
-- Prints "bench: NAME median_ms" lines (log.warn) for tools/bench.sh.
local app = {}
local PAGE = "data:text/html," ..
  "<title>bench</title><input id=t><button id=b onclick='this.dataset.n=(+this.dataset.n||0)+1'>Go</button>" ..
  "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody>" ..
  string.rep("<tr><td>a</td><td>b</td></tr>", 50) .. "</tbody></table>"

function app.login(page, account) page:navigate(PAGE) end

-- Median over batches of per-call time: the clock has 1 ms resolution, a
-- batch of n calls takes several ms.
local function bench(name, batches, n, fn)
  local per = {}
  for b = 1, batches do
    local t0 = clock.now()
    for _ = 1, n do fn() end
    per[b] = (clock.now() - t0) / n
  end
  table.sort(per)
  log.warn(string.format("bench: %-28s %.3f ms", name, per[(batches + 1) // 2]))
end

function app.list_users(page)
  bench("cdp round trip (eval)", 15, 50, function()
    page:send("Runtime.evaluate", { expression = "1", returnByValue = true })
  end)
  bench("locator count", 15, 20, function() page:locator("td"):count() end)
  bench("click (checks + 3 events)", 15, 10, function() page:click("#b") end)
  bench("fill", 15, 10, function() page:fill("#t", "hello world") end)
  bench("text read", 15, 20, function() page:text("#b") end)
  bench("table read (50 rows)", 15, 10, function() page:locator("table"):table() end)
  return {}
end
return app
