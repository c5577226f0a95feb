#!/usr/bin/env bash
# Issue 11 on a machine with an NVIDIA GPU, in one call (about 8 minutes at most; every step has
# its own time limit): the GPU tests, CPU/GPU parity of `mcsim run` on the bench models, and
# iterations/s at 10^8 (10^9 for npv_project if time is left), printed as a markdown table.
# Installs nothing and needs no network. Build beforehand (on any machine; no CUDA toolkit needed):
#
#   cargo build --release --no-default-features --features cuda          # target/release/mcsim
#   cargo build --release -p mcsim-ops --features cuda --example gpu_bench
#   cargo test  --release -p mcsim-ops --features cuda --test gpu_codegen --no-run
#
# and bring target/release/mcsim, target/release/examples/gpu_bench and the gpu_codegen test
# binary (target/release/deps/gpu_codegen-*) along. libnvrtc comes from the pip wheel
# nvidia-cuda-nvrtc-cu12 when python3 can import it, else from the system (/usr/local/cuda).
#
#   bench/gpu.sh [OUTDIR]      (OUTDIR default: $OUT, else a temporary directory)
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
out="${1:-${OUT:-$(mktemp -d)}}"
mkdir -p "$out"
mcsim="${MCSIM:-$here/target/release/mcsim}"
bench="${GPU_BENCH:-$here/target/release/examples/gpu_bench}"
tests="${GPU_TEST_BIN:-$(ls -t "$here"/target/release/deps/gpu_codegen-* 2>/dev/null | grep -v '\.d$' | head -1)}"
models="$here/bench/models"
SECONDS=0
log() { echo "[gpu.sh ${SECONDS}s] $*"; }

# libnvrtc: the pip wheel's lib directory, else the system's.
nvrtc=$(python3 -c "import nvidia.cuda_nvrtc, os; print(os.path.join(os.path.dirname(nvidia.cuda_nvrtc.__file__), 'lib'))" 2>/dev/null || true)
for d in "$nvrtc" /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  if [ -n "$d" ] && [ -d "$d" ]; then export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
done
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee "$out/gpu.txt"
gpu_name=$(head -1 "$out/gpu.txt" 2>/dev/null | cut -d, -f1)
[ -x "$mcsim" ] || { echo "gpu.sh: $mcsim not found (build it first, see the header)"; exit 2; }
"$mcsim" doctor | tee "$out/doctor.txt"

# 1. The GPU tests of gpu_codegen (cudarc launch, sampling and reduction parity on the device).
#    MCSIM_GPU_QUICK=1 leaves grid_20k out (two NVRTC compiles of an 86,212-instruction kernel);
#    step 4 covers it through `mcsim run`.
if [ -n "$tests" ] && [ -x "$tests" ]; then
  log "gpu_codegen cuda_kernel ($tests)"
  MCSIM_GPU_QUICK=1 timeout 150 "$tests" cuda_kernel --nocapture --test-threads 1 2>&1 | tail -25 | tee "$out/tests.txt"
elif command -v cargo >/dev/null; then
  log "cargo test (offline) gpu_codegen cuda_kernel"
  MCSIM_GPU_QUICK=1 timeout 240 cargo test --offline --release -p mcsim-ops --features cuda --test gpu_codegen cuda_kernel -- --nocapture 2>&1 | tail -25 | tee "$out/tests.txt"
else
  echo "SKIPPED: no gpu_codegen test binary and no cargo" | tee "$out/tests.txt"
fi

# 2. Parity of `mcsim run`: the same run on the CPU and on the GPU, samples written as CSV;
#    inputs must be bit-identical, outputs within 1e-12 relative (CUDA's exp/log vs glibc's).
parity() { # model iterations limit
  local m=$1 n=$2 lim=$3
  log "parity $m n=$n"
  timeout "$lim" "$mcsim" run "$models/${m}_risk.xlsx" -n "$n" --seed 20261207 --backend cpu -q --format json --out "$out/$m-cpu.csv" > "$out/$m-cpu.json" || { echo "| $m | $n | CPU run failed or timed out | |" >> "$out/parity.md"; return; }
  timeout "$lim" "$mcsim" run "$models/${m}_risk.xlsx" -n "$n" --seed 20261207 --backend cuda -q --format json --out "$out/$m-gpu.csv" > "$out/$m-gpu.json" 2> "$out/$m-gpu.err" || { echo "| $m | $n | GPU run failed: $(head -c 300 "$out/$m-gpu.err" | tr '\n|' '  ') | |" >> "$out/parity.md"; return; }
  python3 - "$out/$m-cpu.csv" "$out/$m-gpu.csv" "$out/$m-cpu.json" "$out/$m-gpu.json" "$m" "$n" >> "$out/parity.md" <<'EOF'
import csv, json, math, struct, sys
a, b, ja, jb, m, n = sys.argv[1:]
ra, rb = json.load(open(ja)), json.load(open(jb))
n_in = len(ra["inputs"])
same_in = diff_in = same_out = diff_out = 0
worst = 0.0
with open(a) as fa, open(b) as fb:
    ca, cb = csv.reader(fa), csv.reader(fb)
    ha, hb = next(ca), next(cb)
    assert ha == hb, "headers differ"
    for x, y in zip(ca, cb):
        assert x[0] == y[0], "iteration numbers differ"
        for k, (u, v) in enumerate(zip(x[1:], y[1:])):
            fu = float(u) if u not in ("", "NaN", "nan") else math.nan
            fv = float(v) if v not in ("", "NaN", "nan") else math.nan
            bits = (math.isnan(fu) and math.isnan(fv)) or struct.pack("<d", fu) == struct.pack("<d", fv)
            if k < n_in:
                same_in += bits; diff_in += not bits
            else:
                same_out += bits; diff_out += not bits
                if not bits:
                    worst = max(worst, abs(fu - fv) / max(abs(fu), abs(fv)) if not (math.isnan(fu) or math.isnan(fv)) else math.inf)
ok = diff_in == 0 and worst <= 1e-12
print(f"| {m} | {n} | {rb['backend']} | inputs: {diff_in} of {same_in+diff_in} differ; outputs: {diff_out} of {same_out+diff_out} not bit-identical, worst {worst:.2e} relative | {'PASS' if ok else 'FAIL'} |")
EOF
}
echo "| model | iterations | backend | samples, GPU vs CPU | 1e-12 |" > "$out/parity.md"
echo "|---|---|---|---|---|" >> "$out/parity.md"
parity npv_project 100000 90
parity portfolio 50000 90

# 3. Throughput: gpu_bench (device sampling, evaluation and reduction; nothing but BlockStats
#    records copied back), its means against `mcsim run --backend cpu` at 10^7, and `mcsim run
#    --backend cuda` end to end (samples copied back into the CPU statistics) at 10^7.
echo "| model | iterations | path | seconds | iterations/s | check |" > "$out/bench.md"
echo "|---|---|---|---|---|---|" >> "$out/bench.md"
through() { # model iterations limit
  local m=$1 n=$2 lim=$3
  log "gpu_bench $m n=$n"
  if timeout "$lim" "$bench" "$models/${m}_risk.xlsx" "$n" 12345 > "$out/$m-bench-$n.json" 2> "$out/$m-bench-$n.err"; then
    python3 -c "
import json; r = json.load(open('$out/$m-bench-$n.json'))
print(f\"| $m | {r['iterations']:.0e} | GPU, device reduction ({len(r['devices'])} GPU) | {r['run_seconds']:.2f} (+{r['load_seconds']:.1f} compile) | {r['iterations_per_second']:.3e} | |\")" >> "$out/bench.md"
  else
    echo "| $m | $n | GPU, device reduction | failed or timed out: $(head -c 200 "$out/$m-bench-$n.err" | tr '\n|' '  ') | | |" >> "$out/bench.md"
  fi
}
endtoend() { # model iterations backend limit
  local m=$1 n=$2 be=$3 lim=$4
  log "mcsim run $m n=$n --backend $be"
  if timeout "$lim" "$mcsim" run "$models/${m}_risk.xlsx" -n "$n" --seed 12345 --backend "$be" -q --format json > "$out/$m-run-$be-$n.json" 2> "$out/$m-run-$be-$n.err"; then
    python3 -c "
import json; r = json.load(open('$out/$m-run-$be-$n.json'))
print(f\"| $m | {r['iterations']:.0e} | mcsim run --backend $be ({r['backend']}, {r['threads']} threads) | {r['simulation_seconds']:.2f} | {r['iterations_per_second']:.3e} | {r['statistics_mode']} |\")" >> "$out/bench.md"
  else
    echo "| $m | $n | mcsim run --backend $be | failed or timed out | | |" >> "$out/bench.md"
  fi
}
means() { # model: gpu_bench's means at 10^7 against the CPU run's (LHS, same seed)
  local m=$1
  python3 - "$out/$m-bench-10000000.json" "$out/$m-run-cpu-10000000.json" >> "$out/bench.md" <<'EOF' || true
import json, sys
g, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
worst = 0.0
for go, co in zip(g["outputs"], c["outputs"]):
    a, b = go["mean"], co["summary"]["mean"]
    worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-300))
print(f"| {c['workbook'].split('/')[-1]} | 1e+07 | device-reduced means vs CPU means | | | worst {worst:.1e} relative ({'PASS' if worst <= 1e-12 else 'CHECK'}) |")
EOF
}
for m in npv_project portfolio; do
  through $m 10000000 90
  endtoend $m 10000000 cpu 90
  means $m
  endtoend $m 10000000 cuda 90
  through $m 100000000 90
done
if [ "$SECONDS" -lt 300 ]; then through npv_project 1000000000 90; fi

# 3b. A streaming run reduced on the device (--memory far below the samples, no --out): moments,
#     histograms and the quantile passes' selection on the GPU (the sensitivity pass still copies
#     its chunks back); its summary against the CPU's streaming run of the same seed, every
#     number within 1e-12 relative (CUDA's exp/log vs glibc's), and both timings.
streaming() { # model iterations limit
  local m=$1 n=$2 lim=$3
  for be in cpu cuda; do
    log "mcsim run $m n=$n --memory 64MiB --backend $be"
    timeout "$lim" "$mcsim" run "$models/${m}_risk.xlsx" -n "$n" --seed 12345 --memory 64MiB --backend "$be" -q --format json > "$out/$m-stream-$be-$n.json" 2> "$out/$m-stream-$be-$n.err" || { echo "| $m | $n | streaming --backend $be failed or timed out | | | |" >> "$out/bench.md"; return; }
  done
  python3 - "$out/$m-stream-cpu-$n.json" "$out/$m-stream-cuda-$n.json" >> "$out/bench.md" <<'EOF' || true
import json, math, sys
c, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def nums(v, path=""):
    if isinstance(v, bool): return
    if isinstance(v, (int, float)): yield path, float(v)
    elif isinstance(v, dict):
        for k, x in v.items(): yield from nums(x, path + "/" + k)
    elif isinstance(v, list):
        for i, x in enumerate(v): yield from nums(x, f"{path}/{i}")
worst, where = 0.0, ""
for co, go in zip(c["outputs"], g["outputs"]):
    for (pa, a), (pb, b) in zip(nums(co["summary"]), nums(go["summary"])):
        d = 0.0 if a == b or (math.isnan(a) and math.isnan(b)) else abs(a - b) / max(abs(a), abs(b), 1e-300)
        if d > worst: worst, where = d, pa
for r, be in ((c, "cpu"), (g, "cuda")):
    print(f"| {r['workbook'].split('/')[-1]} | {r['iterations']:.0e} | streaming run --memory 64MiB --backend {be} ({r['backend']}, {r['simulation_passes']} passes) | {r['simulation_seconds']:.2f} | {r['iterations_per_second']:.3e} | {r['statistics_mode']} |")
print(f"| | | streaming summary GPU vs CPU | | | worst {worst:.1e} relative {where} ({'PASS' if worst <= 1e-12 else 'CHECK'}) |")
EOF
}
if [ "$SECONDS" -lt 300 ]; then streaming npv_project 100000000 150; fi

# 4. grid_20k (86,212 instructions: NVRTC takes minutes on its kernel), if time is left.
if [ "$SECONDS" -lt 330 ]; then
  parity grid_20k 20000 120
  if [ "$SECONDS" -lt 400 ]; then through grid_20k 10000000 60; fi
fi

echo
echo "## GPU: ${gpu_name:-unknown}"
echo
cat "$out/parity.md"
echo
cat "$out/bench.md"
log "done"
