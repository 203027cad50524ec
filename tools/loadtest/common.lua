-- Shared reporting for the seqcast load-test scripts: done() prints one line
--   LOADTEST requests=N duration_s=S rps=R p50_us=A p90_us=B p99_us=C max_us=D errors=E status=F
-- that run.sh parses (wrk's own --latency table shows the same percentiles).
local M = {}

function M.done(summary, latency, requests)
  local e = summary.errors
  local dur_s = summary.duration / 1e6
  io.write(string.format(
    "LOADTEST requests=%d duration_s=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d status=%d\n",
    summary.requests, dur_s, summary.requests / dur_s,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end

-- path: where the scripts POST (LOADTEST_PATH, default /predict).
M.path = os.getenv("LOADTEST_PATH") or "/predict"

return M
