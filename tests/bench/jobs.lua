-- wrk script: POST a fresh Job per request (tests/bench/run.sh).
-- Each wrk thread has its own Lua state; the seed includes the thread number so two threads
-- never draw the same uuids (a reused id would be a redelivery, not a new job).

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

statuses = {}

-- the job type is the first argument after "--": run.sh gives each run its own
job_type = "bench-wrk"

function init(args)
  if args[1] ~= nil then
    job_type = args[1]
  end
  math.randomseed(os.time() * 100 + tid * 7919 + math.floor(os.clock() * 1e6))
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
    '{"id":"%s","type":"%s","status":"PENDING","createdAt":"%s","payload":{}}',
    uuid(), job_type, os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format(nil, "/jobs", nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%d":%d', code, n))
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationS":%.3f,"requestsPerSec":%.1f,"status":{%s},' ..
    '"socketErrors":%d,"latencyMs":{"p50":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    table.concat(parts, ","),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
