#!/usr/bin/env bash
# `make bench` (docs/performance.md "Benchmarks"): figures only, nothing asserts a time.
# Writes every table to bench/results/latest.md (and prints it):
#   growth   check, compile and audit on generated policies at N = 100, 1000 qubes
#            (10000 too with BENCH_LARGE=1; BENCH_SIZES="50 100" overrides), M = 10 N flows,
#            R = 10 N rpc rules: wall, CPU, peak RSS, growth factor from each size to the next
#   import   Qubes' policy.d loader on a 100,000-line generated directory (IMPORT_LINES)
#   latency  `bulkhead check` of policies/workstation.bh as a process, and its parts
#   kernel   the emitted ruleset on a real kernel (root only; skipped with a message otherwise)
# BENCH_ONLY="growth latency" runs a subset.
#   BUILD=build  where bulkhead and the bench tools are
#   CORPUS=../shared/corpus/qubes-policy  Qubes' shipped policy; used when present
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
read -r -a PARTS <<<"${BENCH_ONLY:-growth import latency kernel}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
results="$work/latest.md"

TIMEOUT=${BENCH_TIMEOUT:-600}
MEM_KB=$((${BENCH_MEM_GB:-16} * 1024 * 1024))

baseline=() base_args=(--no-baseline)
if [[ -d "$CORPUS/policy.d" ]]; then
    baseline=(--baseline "$CORPUS/policy.d" --baseline-legacy "$CORPUS/legacy")
    base_args=("${baseline[@]}")
fi

# One run of "$@" with its output in $1: prints "wall_s cpu_s peak_kb status". Exit 0 and 1
# (findings) are results; a timeout or running out of memory is reported in the table
# rather than stopping the benchmark; anything else stops it.
measure() {
    local out=$1
    shift
    local code=0
    (ulimit -v "$MEM_KB" && exec /usr/bin/time -o "$work/time" -f '%e %U %S %M' \
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
    grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$work/time" | tail -n 1 |
        awk -v s="$status" '{ printf "%s %.2f %s %s\n", $1, $2 + $3, $4, s }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "×%.1f", (a > 0 ? b / a : 0) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }

# A table for one command over SIZES: its title, the function that runs it for size N, and
# the kind of generated input (whose files give the rule and flow counts).
growth_table() {
    local title=$1 run=$2 kind=$3
    {
        echo "#### $title"
        echo
        echo "| N qubes | rpc rules | flows | wall | growth | CPU | growth | peak RSS | growth | result |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
    } >>"$results"
    local prev_wall="" prev_cpu="" prev_rss=""
    for n in "${SIZES[@]}"; do
        local out="$work/out-$run-$n.txt" wall cpu rss status
        read -r wall cpu rss status < <("$run" "$n" "$out")
        local rpc flows summary fwread files=("$work/$kind-$n.bh")
        shopt -s nullglob
        files+=("$work/$kind-$n".part-*.bh)
        shopt -u nullglob
        rpc=$(cat "${files[@]}" | grep -c '^rpc ' || true)
        flows=$(cat "${files[@]}" | grep -cE '^(allow|deny) ' || true)
        summary=$(grep -oE '[0-9]+ (nodes|rules from [0-9]+ files), [0-9]+ (edges|nodes)|wrote [0-9]+ files' "$out" | head -n 1 || echo "?")
        # audit: what it read from the firewall inputs, too
        fwread=$(grep -oE '[0-9]+ firewall inputs, [0-9]+ network flows' "$out" | head -n 1 || true)
        if [[ -n $fwread ]]; then summary="$summary; $fwread"; fi
        if [[ $status != ok ]]; then
            echo "| $n | $rpc | $flows | $status after ${wall} s | | ${cpu} s | | $(mb "$rss") | | |" >>"$results"
            break
        fi
        local gw="" gc="" gr=""
        if [[ -n $prev_wall ]]; then
            gw=$(ratio "$prev_wall" "$wall") gc=$(ratio "$prev_cpu" "$cpu") gr=$(ratio "$prev_rss" "$rss")
        fi
        echo "| $n | $rpc | $flows | ${wall} s | $gw | ${cpu} s | $gc | $(mb "$rss") | $gr | $summary |" >>"$results"
        prev_wall=$wall prev_cpu=$cpu prev_rss=$rss
    done
    echo >>"$results"
}

gen() { # N, then generator options; once per N and kind
    local n=$1 kind=$2
    shift 2
    [[ -f "$work/$kind-$n.bh" ]] || "$BUILD/bulkhead-bench-gen" --qubes "$n" "$@" -o "$work/$kind-$n.bh"
}
run_check() {
    gen "$1" bench
    measure "$2" "$BUILD/bulkhead" check "${base_args[@]}" "$work/bench-$1.bh"
}
run_check_nobase() {
    gen "$1" bench
    measure "$2" "$BUILD/bulkhead" check --no-baseline "$work/bench-$1.bh"
}
run_compile_nokernel() {
    gen "$1" sound --sound
    rm -rf "$work/out-$1"
    measure "$2" "$BUILD/bulkhead" compile --no-kernel-check "${base_args[@]}" \
        "$work/sound-$1.bh" -o "$work/out-$1"
}
run_compile_kernel() {
    gen "$1" sound --sound
    rm -rf "$work/out-$1"
    measure "$2" "$BUILD/bulkhead" compile "${base_args[@]}" "$work/sound-$1.bh" -o "$work/out-$1"
}
run_audit() {
    gen "$1" deployed --deployed "$work/deployed-$1"
    local dir="$work/deployed-$1" fw=() f q
    # Every firewall input the generator wrote (nft/ is missing when not run as root).
    shopt -s nullglob
    for f in "$dir"/nft/*.json; do
        q=${f##*/}
        fw+=(--nft-ruleset "${q%.json}=$f")
    done
    for f in "$dir"/firewall/*.rules; do
        q=${f##*/}
        fw+=(--qvm-firewall "${q%.rules}=$f")
    done
    shopt -u nullglob
    measure "$2" "$BUILD/bulkhead" audit --policy-dir "$dir/policy.d" \
        --inventory "$dir/qubes.txt" "${fw[@]}"
}

part_growth() {
    local with="no baseline"
    [[ ${#baseline[@]} -gt 0 ]] && with="Qubes' shipped policy as baseline"
    {
        echo "### check, compile and audit: growth"
        echo
        echo "\`bulkhead-bench-gen --qubes N\` (seed 1; M = 10 N flows, R = 10 N rpc rules), one run each, $with unless said; wall and peak RSS from \`/usr/bin/time\`, CPU = user + sys. Wall time depends on the other users of the machine; CPU time much less."
        echo
    } >>"$results"
    # shellcheck disable=SC2317  # called through growth_table
    growth_table "check (the generated policy, with the findings a real one has)" run_check bench
    if [[ ${#baseline[@]} -gt 0 ]]; then
        growth_table "check --no-baseline" run_check_nobase bench
    fi
    growth_table "compile --no-kernel-check (the \`--sound\` policy; nothing is loaded into a kernel, so no read-back proof either)" run_compile_nokernel sound
    if [[ $(id -u) == 0 ]]; then
        growth_table "compile with the kernel check (each firewall qube's ruleset loaded into a throw-away namespace and proven)" run_compile_kernel sound
    else
        echo "compile with the kernel check: skipped (needs root)" >>"$results"
    fi
    growth_table "audit (\`--deployed\`: the policy's rules as 10 policy.d files, the qubes as a qvm-ls inventory, and the firewall readers: each net qube's \`nft -j list ruleset\` and each networked qube's \`qvm-firewall --raw\` list)" run_audit deployed
}

part_import() {
    local lines=${IMPORT_LINES:-100000}
    # policy.d only: the firewall state of 10,000 qubes is not read here
    "$BUILD/bulkhead-bench-gen" --qubes $((lines / 10)) --rpc-rules "$lines" \
        --deployed "$work/import" --no-firewall -o "$work/import.bh"
    local l b rules median fastest rate mbs rss cpu
    read -r l b rules median fastest rate mbs rss cpu < <("$BUILD/bulkhead-bench-import" "$work/import/policy.d" 5)
    {
        echo "### policy.d import throughput"
        echo
        echo "\`bulkhead-bench-import\`: Qubes' loader (\`loadQrexecPolicy\`, as check's baseline and audit call it) on \`bulkhead-bench-gen --qubes $((lines / 10)) --rpc-rules $lines --deployed\`'s policy.d (10 files); median of 5 loads in one process."
        echo
        echo "| lines | bytes | rules | wall (median) | CPU (median) | lines/s (wall) | MB/s (wall) | lines/s (CPU) | peak RSS |"
        echo "|---|---|---|---|---|---|---|---|---|"
        awk -v l="$l" -v b="$b" -v r="$rules" -v m="$median" -v c="$cpu" -v rss="$rss" 'BEGIN {
            printf "| %d | %.1f MB | %d | %.3f s | %.3f s | %.0f | %.1f | %.0f | %.0f MB |\n",
                l, b / 1e6, r, m, c, l / m, b / m / 1e6, l / c, rss / 1024 }'
        echo
    } >>"$results"
}

part_latency() {
    {
        echo "### Pre-commit latency"
        echo
        BUILD=$BUILD CORPUS=$CORPUS python3 bench/latency.py
        echo
    } >>"$results"
}

part_kernel() {
    {
        echo "### The emitted ruleset on a real kernel"
        echo
        BUILD=$BUILD python3 bench/kernel/run_kernel.py
        echo
    } >>"$results"
}

{
    echo "# Bulkhead benchmarks"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
} >"$results"
for part in "${PARTS[@]}"; do
    "part_$part"
    cp "$results" bench/results/latest.md
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"
cp "$results" bench/results/latest.md
cat bench/results/latest.md
