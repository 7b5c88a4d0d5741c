#!/usr/bin/env bash
# make fuzz: run each libFuzzer target for FUZZ_SECONDS on a working copy of its corpus,
# then print executions and findings per target. New corpus entries stay in the build
# directory; findings (crash-*, leak-*, timeout-*) are written there too and make the run
# fail: fix them and add the input to tests/fuzz/corpus/<target>/ as a regression.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
declare -A dict=([dsl]=dsl.dict [check]=dsl.dict [qrexec]=qrexec.dict [nft_json]=json.dict
                 [inventory]=json.dict)
status=0
printf '| target | seconds | executions | exec/s | corpus | findings |\n|---|---:|---:|---:|---:|---|\n' \
  > "$build/fuzz-results.md"
for target in dsl check qrexec nft_json inventory; do
  work="$build/fuzz-corpus/$target"
  findings="$build/fuzz-findings/$target"
  mkdir -p "$work" "$findings"
  log="$build/fuzz-$target.log"
  set +e
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -dict="$src/${dict[$target]}" -artifact_prefix="$findings/" -print_final_stats=1 \
    "$work" "$src/corpus/$target" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(( execs / (seconds > 0 ? seconds : 1) ))
  corpus=$(ls "$work" | wc -l)
  found=$(ls "$findings" | wc -l)
  [ "$rc" -eq 0 ] && [ "$found" -eq 0 ] || status=1
  printf '| %s | %s | %s | %s | %s | %s |\n' "$target" "$seconds" "$execs" "$rate" "$corpus" \
    "$([ "$found" -eq 0 ] && echo none || ls "$findings" | tr '\n' ' ')" >> "$build/fuzz-results.md"
done
cat "$build/fuzz-results.md"
exit $status
