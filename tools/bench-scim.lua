-- wrk script for tools/bench-scim.sh: one kind of SCIM call per run, as an
-- IdP makes it.  Arguments: KIND TOKEN IDS-FILE USERS
--   lookup   GET /Users?filter=userName eq "…"   (Okta, before every create)
--   extid    GET /Users?filter=externalId eq "…" (Entra)
--   get      GET /Users/{id}
--   page     GET /Users?startIndex=N&count=100
--   create   POST /Users (a new user: an invite job)
--   patch    PATCH /Users/{id} (an attribute: an update job)
--   put      PUT /Users/{id}
local kind, token, ids, users, base = "lookup", "", {}, 10000, ""
local counter = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  kind, token, users = args[1], args[2], tonumber(args[4])
  base = wrk.path:gsub("/$", "")
  for line in io.lines(args[3]) do ids[#ids + 1] = line end
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function hdrs(extra)
  local h = { ["Authorization"] = "Bearer " .. token,
              ["Content-Type"] = "application/scim+json" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function user_body(name)
  return string.format('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],' ..
    '"userName":"%s","externalId":"x-%s","name":{"givenName":"B","familyName":"Ench"},' ..
    '"emails":[{"type":"work","primary":true,"value":"%s"}],"active":true,"title":"T%d"}',
    name, name, name, math.random(1000000))
end

function request()
  counter = counter + 1
  local n = math.random(users)
  local id = ids[math.random(#ids)]
  if kind == "lookup" then
    return wrk.format("GET", base .. "/Users?filter=" .. enc(string.format('userName eq "U%d@BENCH.example"', n)),
                      hdrs())
  elseif kind == "extid" then
    return wrk.format("GET", base .. "/Users?filter=" .. enc(string.format('externalId eq "x-u%d@bench.example"', n)),
                      hdrs())
  elseif kind == "get" then
    return wrk.format("GET", base .. "/Users/" .. id, hdrs())
  elseif kind == "page" then
    return wrk.format("GET", base .. "/Users?startIndex=" .. math.random(users - 100) .. "&count=100", hdrs())
  elseif kind == "create" then
    local name = string.format("w%d-%d-%d@bench.example", tid or 0, counter, os.time())
    return wrk.format("POST", base .. "/Users", hdrs(), user_body(name))
  elseif kind == "patch" then
    return wrk.format("PATCH", base .. "/Users/" .. id, hdrs(), string.format(
      '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":' ..
      '[{"op":"Replace","path":"title","value":"T%d"}]}', math.random(1000000)))
  elseif kind == "put" then
    return wrk.format("PUT", base .. "/Users/" .. id, hdrs(), user_body(string.format("put-%s@bench.example", id)))
  end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %6.1f ms  %7.0f req/s  errors %d\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
  io.write(string.format("P99 %.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("REQS %d\n", summary.requests))
end
