#!/usr/bin/env bash
# Issue 10's load benchmark: 1,000 concurrent clients (wrk, keep-alive HTTP/1.1) reading a
# finished run's report and a running run's status while a simulation runs on the server.
#
#   cargo build --release            # the server is in the default build
#   apt-get install wrk              # Debian's wrk
#   bench/server_wrk.sh [MCSIM] [CLIENTS] [SECONDS]
#
# Prints wrk's summary and one line of JSON: requests/s, p50, p95, p99 (ms), errors.
# With PERF_OUT=FILE, the daemon is profiled during the load (perf record -F 499 -g) into FILE.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/mcsim}"
clients="${2:-1000}"
seconds="${3:-20}"
work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
export MCSIM_CONFIG_DIR="$work/config"
ulimit -n 8192 || true

printf 'load-test-password\n' | "$bin" serve --data-dir "$work/data" --create-admin admin >/dev/null
"$bin" serve --data-dir "$work/data" --bind "127.0.0.1:$port" --workers 2 --threads 1 \
  --max-iterations 1000000000 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done

printf 'load-test-password\n' | "$bin" login --server "$url" --user admin --password-stdin >/dev/null
token="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("token") or next(v["token"] for v in d.values() if isinstance(v, dict) and "token" in v))' "$MCSIM_CONFIG_DIR/credentials.json")"
model="$("$bin" upload "$here/bench/models/npv_project_risk.xlsx" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
done_run="$("$bin" run --remote "$model" -n 20000 --seed 1 --wait --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null || true)"
if [ -z "$done_run" ]; then
  # `--wait` prints the report; take the id of the newest run instead.
  done_run="$(curl -sf -H "Authorization: Bearer $token" "$url/api/v1/runs" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("runs", d); print(d[0]["id"])')"
fi
busy_run="$("$bin" run --remote "$model" -n 200000000 --seed 2 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
sleep 2

cat >"$work/load.lua" <<LUA
local paths = { "/api/v1/runs/$done_run/report", "/api/v1/runs/$busy_run" }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % 2) + 1], { ["Authorization"] = "Bearer $token" })
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"clients": %d, "seconds": %.1f, "requests": %d, "requests_per_s": %.0f, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "errors": %d}\n',
    $clients, summary.duration / 1e6, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors))
end
LUA
profiler=""
if [ -n "${PERF_OUT:-}" ]; then
  perf record -F 499 -g -p "$server" -o "$PERF_OUT" -- sleep "$seconds" >/dev/null 2>&1 &
  profiler=$!
fi
wrk -t2 -c"$clients" -d"${seconds}s" --timeout 10s -s "$work/load.lua" "$url"
[ -z "$profiler" ] || wait "$profiler" || true
curl -sf -H "Authorization: Bearer $token" "$url/api/v1/runs/$busy_run" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("busy run during the load:", {k: d.get(k) for k in ("state", "done", "total")})' || true
