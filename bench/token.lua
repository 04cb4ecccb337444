-- wrk script for bench/run.sh: one client-credentials token request, over and over, on
-- keep-alive connections. Everything comes from the environment:
--   BENCH_AUTH    value of the Authorization header ("Basic ...")
--   BENCH_BODY    form body (default "grant_type=client_credentials")
--   BENCH_RATE    if set, pace the requests of all connections together to about this many
--                 per second (the "p99 at ~12k/s" run); unset = as fast as possible
--   BENCH_THREADS the -t given to wrk (each thread paces its share of BENCH_RATE)
-- done() prints one line, for run.sh to parse:
--   RESULT rps=<achieved requests/s> p50_ms=<> p99_ms=<> requests=<> non2xx=<>
--          socket_errors=<connect+read+write+timeout> first_error=<status and body of the
--          first non-2xx answer, or ->
local ffi = require("ffi")

ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]

local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- Main state: every thread, so done() can add up their counters.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Thread state.
non2xx = 0
first_error = ""

local rate = tonumber(os.getenv("BENCH_RATE") or "")
local interval_ms -- time between two requests of this thread, when paced
local next_slot

if rate and rate > 0 then
  -- All connections of a thread share one schedule: each request that is about to be sent
  -- claims the next free slot and waits for it. A slot nobody was ready for is dropped
  -- rather than made up in a burst, so a server that cannot keep up shows it as a lower
  -- achieved rate. wrk's delay() is in whole milliseconds, so a request may leave up to
  -- 1 ms early; the schedule itself does not drift.
  function delay()
    if not interval_ms then
      interval_ms = 1000 * (tonumber(os.getenv("BENCH_THREADS") or "") or 1) / rate
    end
    local now = now_ms()
    next_slot = next_slot and next_slot + interval_ms or now
    if next_slot < now then
      next_slot = now
    end
    local wait = next_slot - now
    if wait < 1 then
      return 0
    end
    return math.floor(wait)
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local e = t:get("first_error") or ""
    if first == "" and e ~= "" then
      first = e
    end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  first = first:gsub("[%c]", " ")
  if first == "" then
    first = "-"
  end
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d first_error=%s\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    bad,
    socket_errors,
    first))
end
