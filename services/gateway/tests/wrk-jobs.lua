-- wrk -t2 -c64 -d10s -s services/gateway/tests/wrk-jobs.lua http://127.0.0.1:3000
-- POSTs a full job with a fresh uuid per request and counts the answers by status, so a run
-- that "succeeds" on 503s shows it.

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  -- Seeded per thread: two threads drawing the same ids would submit the same job twice.
  math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function (c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function request()
  local body = string.format(
    '{"id":"%s","type":"wrk","status":"PENDING","createdAt":"%s","payload":{"simulate":{"durationMs":0}}}',
    uuid(), os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format(nil, "/jobs", nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d: %d\n", code, n))
  end
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n",
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
