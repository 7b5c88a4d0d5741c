#!/usr/bin/env bash
# Benchmark of `bulkhead check` on generated policies (DESIGN §9, docs/performance.md).
# Prints a markdown table of wall time and peak RSS at each size, with the growth factor from
# one size to the next, and writes it to bench/results/latest.md. Figures only: nothing here
# asserts a time. Sizes: 100 and 1000 qubes; 10000 too with BENCH_LARGE=1 (BENCH_SIZES="50 100"
# overrides the list).
#   BUILD=build  where bulkhead and bulkhead-bench-gen are
#   CORPUS=../shared/corpus/qubes-policy  Qubes' shipped policy; checked with it when present
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

# One run: prints "wall_s peak_kb exit".
measure() {
    local out=$1
    shift
    local code=0
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >"$out" 2>&1 || code=$?
    # bulkhead exits 1 when it reports findings: a generated policy has some.
    if [[ $code -ne 0 && $code -ne 1 ]]; then
        echo "bench: '$*' failed with exit $code:" >&2
        tail -n 20 "$out" >&2
        exit 1
    fi
    echo "$(tail -n 1 "$work/time") $code"
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
        read -r wall rss _ < <(measure "$work/out-$mode-$n.txt" "$BUILD/bulkhead" check "${args[@]}" "$policy")
        summary=$(grep -oE '[0-9]+ nodes, [0-9]+ edges' "$work/out-$mode-$n.txt" || echo "?")
        rpc=$(grep -c '^rpc ' "$policy")
        flows=$(grep -cE '^(allow|deny) ' "$policy")
        growth_wall="" growth_rss=""
        if [[ -n $prev_wall ]]; then
            growth_wall=$(awk -v a="$prev_wall" -v b="$wall" 'BEGIN { printf "×%.1f", (a > 0 ? b / a : 0) }')
            growth_rss=$(awk -v a="$prev_rss" -v b="$rss" 'BEGIN { printf "×%.1f", b / a }')
        fi
        rss_mb=$(awk -v k="$rss" 'BEGIN { printf "%.0f MB", k / 1024 }')
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
