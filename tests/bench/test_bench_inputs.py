#!/usr/bin/env python3
"""The benchmark's inputs are what they claim to be (bench/, docs/performance.md):
- `bulkhead-bench-gen --sound` policies pass `bulkhead check` (exit 0), without and with
  Qubes' shipped policy, at several sizes and seeds, so compile can be benchmarked on them;
- the generator is deterministic (same options, same bytes), sound mode or not;
- `--deployed` writes inputs `bulkhead audit` accepts, and audit reads all of them: every
  qube of the inventory and every rule, from the 10 policy.d files (the README is skipped);
- the kernel benchmark's scale() (a compiled ruleset with its sets refilled) gives exactly
  the ruleset `bulkhead compile` emits for the larger flow list.
Usage: test_bench_inputs.py BULKHEAD BENCH_GEN SOURCE_DIR"""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import expect, failures, run  # noqa: E402

bulkhead, gen, source = sys.argv[1], sys.argv[2], Path(sys.argv[3])
corpus = source.parent / "shared" / "corpus" / "qubes-policy"
sys.path.insert(0, str(source / "bench" / "kernel"))
import flows  # noqa: E402
import run_kernel  # noqa: E402



with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for n, seed in [(20, 1), (40, 2), (60, 5), (100, 3)]:
        policy = tmp / f"sound-{n}-{seed}.bh"
        run(gen, "--qubes", n, "--seed", seed, "--sound", "-o", policy)
        done = run(bulkhead, "check", "--no-baseline", policy)
        expect(done.returncode == 0, f"--sound N={n} seed={seed}: check --no-baseline exit "
               f"{done.returncode}\n{done.stderr[-3000:]}")
        if (corpus / "policy.d").is_dir():
            done = run(bulkhead, "check", "--baseline", corpus / "policy.d",
                       "--baseline-legacy", corpus / "legacy", policy)
            expect(done.returncode == 0, f"--sound N={n} seed={seed}: check with the baseline "
                   f"exit {done.returncode}\n{done.stderr[-3000:]}")
    for extra in ([], ["--sound"]):
        a, b = tmp / "a.bh", tmp / "b.bh"
        run(gen, "--qubes", 50, "--seed", 4, *extra, "-o", a)
        run(gen, "--qubes", 50, "--seed", 4, *extra, "-o", b)
        expect(a.read_bytes() == b.read_bytes(), f"generator not deterministic {extra}")

    deployed = tmp / "deployed"
    run(gen, "--qubes", 60, "--deployed", deployed, "--no-firewall", "-o", tmp / "deployed.bh")
    names = sorted(p.name for p in (deployed / "policy.d").iterdir())
    expect(len([n for n in names if n.endswith(".policy")]) == 10 and "README" in names,
           f"policy.d files: {names}")
    rules = sum(1 for p in (deployed / "policy.d").glob("*.policy")
                for line in p.read_text().splitlines() if line and not line.startswith("#"))
    qubes = len((deployed / "qubes.txt").read_text().splitlines())
    done = run(bulkhead, "audit", "--policy-dir", deployed / "policy.d",
               "--inventory", deployed / "qubes.txt")
    expect(done.returncode in (0, 1), f"audit exit {done.returncode}\n{done.stderr[-3000:]}")
    m = re.search(r"deployed system: (\d+) qubes, (\d+) rules from (\d+) files", done.stdout)
    # the inventory lists dom0, which audit does not count as a qube
    expect(m is not None and (int(m[1]), int(m[2]), int(m[3])) == (qubes - 1, rules, 10),
           f"audit read {m and m.groups()}, expected {(qubes - 1, rules, 10)}: {done.stdout}")

    run_kernel.BUILD = Path(bulkhead).resolve().parent
    small = run_kernel.compile_ruleset(flows.CLIENTS, tmp)  # every client has a flow
    big = run_kernel.compile_ruleset(300, tmp)
    expect(run_kernel.normalise(run_kernel.scale(small, 300)) == run_kernel.normalise(big),
           "scale() of the 100-flow ruleset differs from compile's at 300 flows")
    expect(len(flows.flows(300)) == len(set(flows.flows(300))), "flows are not distinct")

print("FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
