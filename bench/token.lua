-- wrk script for bench/run.sh: one token request, over and over, on keep-alive connections.
-- Everything comes from the environment:
--   BENCH_AUTH    value of the Authorization header ("Basic ...")
--   BENCH_BODY    form body (default "grant_type=client_credentials")
--   BENCH_RATE    if set, pace the requests of all connections together to about this many
--                 per second (the paced run); unset = as fast as possible
--   BENCH_THREADS the -t given to wrk (each thread paces its share of BENCH_RATE)
--   BENCH_POOL    if set, a file of live refresh tokens, one a line: the refresh-token grant
--                 instead of BENCH_BODY. A refresh token is spent by its use and presenting it
--                 again revokes its family, so each request takes a token out of its thread's
--                 pool and the answer's new refresh_token goes back in: every token is sent
--                 exactly once. A failed refresh loses its slot; a request that finds the pool
--                 empty is sent with a token that cannot work and counts as an error.
-- done() prints one line, for run.sh to parse:
--   RESULT rps=<achieved requests/s> p50_ms=<> p99_ms=<> requests=<> non2xx=<>
--          socket_errors=<connect+read+write+timeout> starved=<requests that found the pool
--          empty> first_error=<status and body of the first non-2xx answer, or ->
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
local pool_file = os.getenv("BENCH_POOL")
if pool_file == "" then
  pool_file = nil
end
local seeds -- main state: the pool file's tokens, dealt out to the threads

function setup(thread)
  table.insert(threads, thread)
  if pool_file then
    if not seeds then
      seeds = {}
      local f = assert(io.open(pool_file, "r"))
      for line in f:lines() do
        if line ~= "" then
          table.insert(seeds, line)
        end
      end
      f:close()
    end
    -- Thread i of n gets tokens i, i + n, i + 2n, ...: no token is in two pools.
    local n = tonumber(os.getenv("BENCH_THREADS") or "") or 1
    local mine = {}
    for j = #threads, #seeds, n do
      table.insert(mine, seeds[j])
    end
    thread:set("seed", table.concat(mine, " "))
  end
end

-- Thread state.
non2xx = 0
starved = 0
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

local function note_error(text)
  non2xx = non2xx + 1
  if first_error == "" then
    first_error = text
  end
end

local pool -- this thread's live refresh tokens (refresh mode)

if pool_file then
  function init(args)
    pool = {}
    for token in string.gmatch(seed or "", "%S+") do
      table.insert(pool, token)
    end
  end

  -- wrk calls request() once more than it sends, on the first thread, to check the script:
  -- that token is taken out of the pool but never sent, so it is neither spent nor reused.
  function request()
    local token = table.remove(pool)
    if not token then
      starved = starved + 1
      if first_error == "" then
        first_error = "the refresh-token pool is empty (its slots were lost to failed refreshes)"
      end
      token = "kpr_pool_empty"
    end
    return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
  end

  function response(status, headers, body)
    if status ~= 200 then
      note_error(tostring(status) .. " " .. string.sub(body or "", 1, 200))
      return
    end
    local fresh = string.match(body or "", '"refresh_token"%s*:%s*"([^"]+)"')
    if fresh then
      table.insert(pool, fresh)
    else
      note_error("200 without a refresh_token: " .. string.sub(body or "", 1, 200))
    end
  end
else
  function response(status, headers, body)
    if status < 200 or status > 299 then
      note_error(tostring(status) .. " " .. string.sub(body or "", 1, 200))
    end
  end
end

function done(summary, latency, requests)
  local bad, hungry, first = 0, 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    hungry = hungry + (t:get("starved") or 0)
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
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d starved=%d first_error=%s\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.requests,
    bad,
    socket_errors,
    hungry,
    first))
end
