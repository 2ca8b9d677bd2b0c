-- wrk script for the benchmark: send the logged-in session (and, for searches, the htmx header) with every
-- request, and print the figures as one JSON line when the run is done.
-- BENCH_COOKIE: the Cookie header; BENCH_HX: "1" to send HX-Request: true; BENCH_UA: the login's User-Agent.
-- No per-response callback, which would cost the load generator time on the same two cores: the harness
-- checks each path's answer before and after its run instead, and wrk counts 4xx/5xx answers itself.

local cookie = os.getenv("BENCH_COOKIE") or ""

wrk.headers["User-Agent"] = os.getenv("BENCH_UA") or "portal-bench"
if cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
if os.getenv("BENCH_HX") == "1" then
  wrk.headers["HX-Request"] = "true"
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
