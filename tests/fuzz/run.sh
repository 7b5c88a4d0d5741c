#!/usr/bin/env bash
# make fuzz: run each libFuzzer campaign for FUZZ_SECONDS on a working copy of its corpus,
# then print executions and findings per campaign. New corpus entries stay in the build
# directory; findings (crash-*, leak-*, timeout-*, oom-*) are written there too and make the
# run fail: fix them and add the input to tests/fuzz/corpus/<target>/ as a regression.
# FUZZ_ONLY="nft_json inventory" limits the run to some campaigns.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
# campaign -> "binary max_len dictionary seed-dirs...". max_len 0 keeps libFuzzer's default
# (the largest seed). Line-based inputs are fuzzed up to 4 KB: every construct fits in a few
# lines, so a longer input only repeats them at a higher cost per execution (README.md,
# "Speed"); policy trees keep their full length in a campaign of their own.
declare -A campaign=(
  [dsl]="dsl 0 dsl.dict dsl"
  [check]="check 0 dsl.dict check"
  [qrexec]="qrexec 4096 qrexec.dict qrexec"
  [qrexec-tree]="qrexec 0 qrexec.dict qrexec-tree qrexec"
  [nft_json]="nft_json 4096 json.dict nft_json"
  [inventory]="inventory 4096 json.dict inventory"
)
order="${FUZZ_ONLY:-dsl check qrexec qrexec-tree nft_json inventory}"
status=0
printf '| campaign | seconds | executions | exec/s | corpus | findings |\n|---|---:|---:|---:|---:|---|\n' \
  > "$build/fuzz-results.md"
for name in $order; do
  read -r target maxlen dict seeds <<< "${campaign[$name]}"
  work="$build/fuzz-corpus/$name"
  findings="$build/fuzz-findings/$name"
  mkdir -p "$work" "$findings"
  log="$build/fuzz-$name.log"
  seed_dirs=()
  for s in $seeds; do seed_dirs+=("$src/corpus/$s"); done
  set +e
  # -timeout is wall-clock: on a loaded machine a slow unit is CPU starvation, not a hang, so
  # the bound is generous; re-run a timeout artifact alone before calling it a finding.
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len="$maxlen" -timeout=120 \
    -rss_limit_mb=4096 -dict="$src/$dict" -artifact_prefix="$findings/" -print_final_stats=1 \
    "$work" "${seed_dirs[@]}" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(( execs / (seconds > 0 ? seconds : 1) ))
  corpus=$(ls "$work" | wc -l)
  found=$(ls "$findings" | wc -l)
  [ "$rc" -eq 0 ] && [ "$found" -eq 0 ] || status=1
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$seconds" "$execs" "$rate" "$corpus" \
    "$([ "$found" -eq 0 ] && echo none || ls "$findings" | tr '\n' ' ')" >> "$build/fuzz-results.md"
done
cat "$build/fuzz-results.md"
exit $status
