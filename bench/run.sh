#!/usr/bin/env bash
# Benchmark of `bulkhead check` on generated policies (DESIGN §9, docs/performance.md).
# Prints a markdown table of wall time and peak RSS at each size, with the growth factor from
# one size to the next, and writes it to bench/results/latest.md. Figures only: nothing here
# asserts a time. Sizes: 100 and 1000 qubes; 10000 too with BENCH_LARGE=1 (BENCH_SIZES="50 100"
# overrides the list).
#   BUILD=build  where bulkhead and bulkhead-bench-gen are
#   CORPUS=../shared/corpus/qubes-policy  Qubes' shipped policy; checked with it when present
#   BENCH_TIMEOUT=600  seconds before a run is stopped and reported as not finished
#   BENCH_MEM_GB=16    address-space cap per run (ulimit -v): reported as out of memory
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-../shared/corpus/qubes-policy}
read -r -a SIZES <<<"${BENCH_SIZES:-100 1000}"
if [[ "${BENCH_LARGE:-0}" == 1 ]]; then
    SIZES+=(10000)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results

modes=("no-baseline")
if [[ -d "$CORPUS/policy.d" ]]; then
    modes+=("baseline")
fi

TIMEOUT=${BENCH_TIMEOUT:-600}
MEM_KB=$((${BENCH_MEM_GB:-16} * 1024 * 1024))

# One run: prints "wall_s peak_kb status". bulkhead exits 1 when it reports findings (a
# generated policy has some); a run that times out or runs out of memory is reported as
# such in the table rather than stopping the benchmark.
measure() {
    local out=$1
    shift
    local code=0
    (ulimit -v "$MEM_KB" && exec /usr/bin/time -o "$work/time" -f '%e %M' \
        timeout "$TIMEOUT" "$@") >"$out" 2>&1 || code=$?
    local status=ok
    if [[ $code -eq 124 ]]; then
        status="timeout"
    elif grep -q 'bad_alloc' "$out"; then
        status="out-of-memory"
    elif [[ $code -ne 0 && $code -ne 1 ]]; then
        echo "bench: '$*' failed with exit $code:" >&2
        tail -n 20 "$out" >&2
        exit 1
    fi
    echo "$(grep -E '^[0-9.]+ [0-9]+$' "$work/time" | tail -n 1) $status"
}

table="$work/table.md"
{
    echo "| N qubes | rpc rules | flows | mode | wall | growth | peak RSS | growth | nodes, edges |"
    echo "|---|---|---|---|---|---|---|---|---|"
} >"$table"

for mode in "${modes[@]}"; do
    prev_wall="" prev_rss=""
    for n in "${SIZES[@]}"; do
        policy="$work/bench-$n.bh"
        [[ -f "$policy" ]] || "$BUILD/bulkhead-bench-gen" --qubes "$n" -o "$policy"
        if [[ $mode == baseline ]]; then
            args=(--baseline "$CORPUS/policy.d" --baseline-legacy "$CORPUS/legacy")
        else
            args=(--no-baseline)
        fi
        read -r wall rss status < <(measure "$work/out-$mode-$n.txt" "$BUILD/bulkhead" check "${args[@]}" "$policy")
        summary=$(grep -oE '[0-9]+ nodes, [0-9]+ edges' "$work/out-$mode-$n.txt" || echo "?")
        rpc=$(grep -c '^rpc ' "$policy")
        flows=$(grep -cE '^(allow|deny) ' "$policy")
        growth_wall="" growth_rss=""
        if [[ -n $prev_wall ]]; then
            growth_wall=$(awk -v a="$prev_wall" -v b="$wall" 'BEGIN { printf "×%.1f", (a > 0 ? b / a : 0) }')
            growth_rss=$(awk -v a="$prev_rss" -v b="$rss" 'BEGIN { printf "×%.1f", b / a }')
        fi
        rss_mb=$(awk -v k="$rss" 'BEGIN { printf "%.0f MB", k / 1024 }')
        if [[ $status != ok ]]; then
            # Not finished: no growth factor, and the next size is not worth running.
            echo "| $n | $rpc | $flows | $mode | $status after ${wall} s | | $rss_mb | | |" >>"$table"
            break
        fi
        echo "| $n | $rpc | $flows | $mode | ${wall} s | $growth_wall | $rss_mb | $growth_rss | $summary |" >>"$table"
        prev_wall=$wall prev_rss=$rss
    done
done

{
    echo "# bulkhead check on generated policies"
    echo
    echo "$(date -u +%Y-%m-%d) on $(nproc) cores; \`bulkhead-bench-gen --qubes N\` (seed 1), \`/usr/bin/time -f '%e %M'\`, one run each."
    echo
    cat "$table"
} >bench/results/latest.md
cat bench/results/latest.md
