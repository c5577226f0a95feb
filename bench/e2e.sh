#!/usr/bin/env bash
# Issue 9's speed table: `mcsim run` as a user runs it (whole process, default report) against the
# hand-written program of the same model (bench/rust-limit), in the same command, round by round.
# Each row gives the ratio by wall time and by CPU time (user + system): on a loaded machine the
# CPU-time ratio of a 1-thread run is the steadier of the two.
#
#   cargo build --release
#   (cd bench/rust-limit && RUSTFLAGS="-C target-cpu=native" cargo build --release)
#   bench/e2e.sh [MCSIM] [MCSIM_LIMIT] [ROUNDS]
#
# BASE=/path/to/other/mcsim runs that binary too, in the same round right after MCSIM, for a
# before/after comparison on the same machine load; ROWS="npv1 portfolio1" (of npv1, portfolio1,
# grid1, npv2) limits the rows.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/mcsim}"
limit="${2:-$here/bench/rust-limit/target/release/mcsim-limit}"
rounds="${3:-2}"
base="${BASE:-}"
rows="${ROWS:-npv1 portfolio1 grid1 npv2}"
t() { /usr/bin/time -f "%e %M %U %S" "$@" 2>&1 >/dev/null | tail -1; }
row() { # model iterations threads [limit extra]
  local m=$1 n=$2 th=$3 extra=${4:-}
  for r in $(seq "$rounds"); do
    read -r mw mk mu ms < <(t "$bin" run "$here/bench/models/${m}_risk.xlsx" -n "$n" --threads "$th" --seed 12345 -q --format json)
    read -r lw lk lu ls < <(t "$limit" bench --model "$m" --models "$here/bench/models" --iters "$n" --threads "$th" --seed 12345 $extra)
    python3 -c "print(f'$m n=$n threads=$th round $r: mcsim {$mw:.2f} s ({$mu+$ms:.2f} s CPU) {$mk/1024:.0f} MiB | hand-written {$lw:.2f} s ({$lu+$ls:.2f} s CPU) {$lk/1024:.0f} MiB | ratio {$lw/$mw:.3f} wall, {($lu+$ls)/($mu+$ms):.3f} CPU')"
    if [ -n "$base" ]; then
      read -r bw bk bu bs < <(t "$base" run "$here/bench/models/${m}_risk.xlsx" -n "$n" --threads "$th" --seed 12345 -q --format json)
      python3 -c "print(f'  BASE {$bw:.2f} s ({$bu+$bs:.2f} s CPU) {$bk/1024:.0f} MiB | ratio {$lw/$bw:.3f} wall, {($lu+$ls)/($bu+$bs):.3f} CPU | MCSIM/BASE CPU {($mu+$ms)/($bu+$bs):.3f}')"
    fi
  done
}
for r in $rows; do
  case $r in
    npv1) row npv_project 3000000 1 ;;
    portfolio1) row portfolio 1000000 1 ;;
    grid1) row grid_20k 20000 1 --simd-math ;;
    npv2) row npv_project 3000000 2 ;;
  esac
done
