-- wrk script: send pre-built raw HTTP requests (each one distinct), one after the other.
-- BENCH_REQUESTS: file of "<length>\n<raw request bytes>" records (bench/common.py).
-- BENCH_DELAY_MS: pause before each request on a connection (a fixed, lower rate).
-- BENCH_RATE: requests a second in all, on a schedule (request k is due k / rate seconds
--   after the start): each connection waits for the next free slot (bench/storm.py).
-- BENCH_ONCE: send the file once; then cheap `POST /bench/ping` requests (not counted by
--   the inbox) until as many as there are slots in flight, and stop the thread (wrk still
--   waits out its duration).
-- The pool is cycled if the run outlasts it; bench/ingest.py makes it large enough and
-- checks the inbox's row count, so a repeat would show as a duplicate, never as "accepted".
local path = os.getenv("BENCH_REQUESTS")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local once = (os.getenv("BENCH_ONCE") or "") ~= ""

local now_ms = nil
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  now_ms = function()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
end

function init(args)
  local f = assert(io.open(path, "rb"))
  reqs = {}
  local host = nil
  while true do
    local line = f:read("*l")
    if not line then break end
    reqs[#reqs + 1] = f:read(tonumber(line))
    host = host or reqs[#reqs]:match("\r\nHost: ([^\r]+)\r\n")
  end
  f:close()
  ping = "POST /bench/ping HTTP/1.1\r\nHost: " .. (host or "127.0.0.1")
    .. "\r\nContent-Length: 0\r\n\r\n"
  i = 0
  pings = 0
  slot = 0
  start = nil
  checked = false
end

function request()
  -- wrk calls request() once on (the first) thread's state to check the script; that
  -- answer is never sent, so it must not use up a request.
  if not checked then
    checked = true
    return reqs[1]
  end
  i = i + 1
  if i > #reqs then
    if once then
      pings = pings + 1
      if pings > 64 then wrk.thread:stop() end
      return ping
    end
    i = 1
  end
  return reqs[i]
end

if rate > 0 then
  function delay()
    if start == nil then start = now_ms() end
    slot = slot + 1
    local due = start + slot * 1000 / rate
    return math.max(0, math.floor(due - now_ms() + 0.5))
  end
elseif pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors_status": %d, "errors_connect": %d, '
      .. '"errors_read": %d, "errors_write": %d, "errors_timeout": %d, "p50_ms": %.3f, '
      .. '"p90_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000))
end
