#!/usr/bin/env bash
# Peak memory and time of `mcsim run` on npv_project as iterations grow, with and without a memory
# budget, and the streaming percentiles against an exact run's (issue 9's constant-memory targets).
#
#   cargo build --release
#   bench/memory.sh [MCSIM_BINARY] [ITERATIONS...]
#
# Prints one line per run: iterations, --memory, statistics mode, passes, wall seconds, peak RSS,
# and for streaming runs with an exact twin of the same size, the largest percentile difference
# in rank terms (how many of the n sorted values lie between the two values, divided by n).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/mcsim}"
shift || true
sizes=("${@:-1000000 10000000}")
model="$here/bench/models/npv_project_risk.xlsx"
out="${TMPDIR:-/tmp}/mcsim-memory"
mkdir -p "$out"
run() { # n memory tag
  /usr/bin/time -f "%e %M" -o "$out/time.$3" "$bin" run "$model" -n "$1" --seed 7 -q \
    --format json ${2:+--memory "$2"} > "$out/$3.json"
  read -r wall rss < "$out/time.$3"
  python3 - "$out/$3.json" "$1" "${2:-default}" "$wall" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"n={sys.argv[2]:>11} memory={sys.argv[3]:>8} mode={r['statistics_mode']:<9} passes={r['simulation_passes']} "
      f"wall={float(sys.argv[4]):7.2f}s peak_rss={int(sys.argv[5])/1024:7.1f}MiB")
PY
}
for n in ${sizes[@]}; do
  run "$n" 64MiB "s$n"
done
echo "exact twins (--memory 64GiB) of the streaming runs:"
for n in ${sizes[@]}; do
  if (( n <= 20000000 )); then
    run "$n" 64GiB "e$n"
    python3 - "$out/s$n.json" "$out/e$n.json" <<'PY'
import json, sys
s, e = (json.load(open(p)) for p in sys.argv[1:3])
worst = 0.0
for so, eo in zip(s["outputs"], e["outputs"]):
    for ps, pe in zip(so["summary"]["percentiles"], eo["summary"]["percentiles"]):
        if ps["value"] != pe["value"]:
            worst = max(worst, 1.0)  # any difference is a failure of the exact second pass
print(f"   percentiles identical to the exact run: {'yes' if worst == 0 else 'NO'}")
PY
  fi
done
