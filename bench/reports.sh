#!/usr/bin/env bash
# Writes the reports a performance change must leave byte-identical: `check` of every example
# policy, the design sketch and generated policies (N = 20, 50, 100, 200 × seeds 1–3), with and
# without Qubes' shipped policy, as text (with the exit code) and as JSON. Run it with the
# binary before and after a change, then `diff -r` the two directories (docs/performance.md,
# "Round 8"). Usage: bench/reports.sh BULKHEAD OUTDIR [BENCH_GEN]
set -euo pipefail
bin=$(realpath "$1")
mkdir -p "$2/inputs"
out=$(realpath "$2")
src=$(cd "$(dirname "$0")/.." && pwd)
gen=$(realpath "${3:-$(dirname "$bin")/bulkhead-bench-gen}")
corpus=$(realpath "$src/../shared/corpus/qubes-policy")
cp "$src"/policies/*.bh "$src/tests/data/design-sketch.bh" "$out/inputs/"
for n in 20 50 100 200; do
  for seed in 1 2 3; do
    "$gen" --qubes "$n" --seed "$seed" -o "$out/inputs/gen-$n-$seed.bh" > /dev/null
  done
done
baseline=(--baseline "$corpus/policy.d" --baseline-legacy "$corpus/legacy")
# Reports name their input files: relative names keep two output directories comparable.
cd "$out/inputs"
for f in *.bh; do
  name=$(basename "$f" .bh)
  # A finding is a non-zero exit: the code is part of what must not change.
  set +e
  "$bin" check "${baseline[@]}" "$f" > "$out/$name.base.txt" 2>&1
  echo "rc=$?" >> "$out/$name.base.txt"
  "$bin" check --no-baseline "$f" > "$out/$name.nobase.txt" 2>&1
  echo "rc=$?" >> "$out/$name.nobase.txt"
  "$bin" check --no-baseline --format json "$f" > "$out/$name.nobase.json" 2> /dev/null
  "$bin" check "${baseline[@]}" --format json "$f" > "$out/$name.base.json" 2> /dev/null
  set -e
done
echo "$(ls "$out" | grep -c -v '^inputs$') reports in $out"
