-- wrk script: send pre-built raw HTTP requests (each one distinct), one after the other.
-- BENCH_REQUESTS: file of "<length>\n<raw request bytes>" records (bench/common.py).
-- BENCH_DELAY_MS: pause before each request on a connection (a fixed, lower rate).
-- The pool is cycled if the run outlasts it; bench/ingest.py makes it large enough and
-- checks the inbox's row count, so a repeat would show as a duplicate, never as "accepted".
local path = os.getenv("BENCH_REQUESTS")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0

function init(args)
  local f = assert(io.open(path, "rb"))
  reqs = {}
  while true do
    local line = f:read("*l")
    if not line then break end
    reqs[#reqs + 1] = f:read(tonumber(line))
  end
  f:close()
  i = 0
end

function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end

if pause > 0 then
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
