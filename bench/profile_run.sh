#!/usr/bin/env bash
# Profiles `mcsim run` on the bench @RISK models with perf (1 thread) and prints the top functions
# and the time split by phase: compute (sampling + evaluation) vs statistics/sensitivity.
#
#   cargo build --release        # or `cargo bench --no-run`, which builds target/release/mcsim
#   bench/profile_run.sh [MCSIM_BINARY] [OUTDIR]
#
# Iterations per model are fixed (N_npv_project etc. below) so that the compute phase is ~1-3 s.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/mcsim}"
out="${2:-${TMPDIR:-/tmp}/mcsim-profile}"
mkdir -p "$out"
declare -A N=([npv_project]=1000000 [portfolio]=500000 [grid_20k]=12000)
for m in npv_project portfolio grid_20k; do
  data="$out/$m.perf.data"
  /usr/bin/time -f "$m: %e s wall, %M KiB max RSS" \
    perf record -q -F 999 -g -o "$data" -- "$bin" run "$here/bench/models/${m}_risk.xlsx" \
      -n "${N[$m]}" --threads 1 --seed 12345 -q --format json > "$out/$m.json"
  perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9.]+%' > "$out/$m.symbols.txt"
  echo "== $m (n=${N[$m]}): top functions (self time)"
  head -15 "$out/$m.symbols.txt" | sed -E 's/ +- +- +$//'
  # Phase split by symbol: the statistics crate and sorting vs everything else. The AVX-512
  # copies made by `mcsim_sampling::on_wide_lanes` are the statistics' (moments, rank sums, the
  # inputs' correlation matrix); closures (`Fn::call`, the rank-hint check among them) count as
  # other.
  awk '{p=$1; sub("%","",p); s=$0;
        if (s ~ /mcsim_results|slice::sort|sort8|median3|RankedInputs|on_wide_lanes/) st+=p;
        else if (s ~ /mcsim_sampling|rand_chacha|normal_quantile/) sa+=p;
        else if (s ~ /mcsim_engine|__powidf2|ieee754|__exp|__log|round_kernel/) ev+=p;
        else ot+=p}
       END {printf "   split: statistics+sensitivity %.1f%%, sampling %.1f%%, evaluation %.1f%%, other (kernel, memcpy, alloc) %.1f%%\n", st, sa, ev, ot}' \
    "$out/$m.symbols.txt"
  echo
done
