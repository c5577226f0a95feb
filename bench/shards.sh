#!/usr/bin/env bash
# A 2-shard run as two processes against one 2-thread process on the same model, and the cost of
# `mcsim results merge` per million iterations (issue 12's benchmark).
#
#   cargo build --release
#   bench/shards.sh [MCSIM_BINARY] [ITERATIONS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/target/release/mcsim}"
n="${2:-4000000}"
model="$here/bench/models/npv_project_risk.xlsx"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }
for round in 1 2; do
  one=$(t "$bin" run "$model" -n "$n" --seed 7 --threads 2 -q --format json --out "$out/full.parquet" --report /dev/null)
  two=$(t bash -c "'$bin' run '$model' -n $n --seed 7 --threads 1 --shard 0/2 -q --format json --out '$out/s0.parquet' --report /dev/null &
                   '$bin' run '$model' -n $n --seed 7 --threads 1 --shard 1/2 -q --format json --out '$out/s1.parquet' --report /dev/null & wait")
  merge=$(t "$bin" results merge "$out/s0.parquet" "$out/s1.parquet" --out "$out/merged.parquet" --format json -q)
  python3 -c "
n=$n; one=$one; two=$two; merge=$merge
print(f'round $round: n={n}: one process 2 threads {one:.2f} s; two 1-thread shard processes {two:.2f} s (ratio {one/two:.2f}); merge + statistics {merge:.2f} s = {merge/(n/1e6):.3f} s per million iterations')"
done
