#!/usr/bin/env python3
"""Pre-commit latency: `bulkhead check` as a process, end to end, and the parts of it measured
apart (process start, Z3 start-up, Qubes' baseline). Median wall time and CPU (user + sys)
over RUNS runs each; prints a markdown table. Figures only.

  BUILD=build  CORPUS=../shared/corpus/qubes-policy  LATENCY_RUNS=15
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("BUILD", REPO / "build")).resolve()
CORPUS = Path(os.environ.get("CORPUS", REPO.parent / "shared" / "corpus" / "qubes-policy"))
RUNS = int(os.environ.get("LATENCY_RUNS", "15"))

# The smallest policy check accepts: one qube, nothing to prove (no Z3 query is made).
TRIVIAL = """policy "trivial";
trust low = red < high = black;
template deb { trust high; }
qube a { template deb; trust low; netvm none; }
"""
# The same with one assertion that holds: check proves it with a Z3-checked certificate.
WITH_PROOF = TRIVIAL + "qube b { template deb; trust high; netvm none; }\n" \
    "assert no path from trust low to b via rpc;\n"


def measure(argv):
    """(median wall s, median cpu s, exit code) over RUNS runs after one warm-up run."""
    walls, cpus, code = [], [], None
    for i in range(RUNS + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        code = done.returncode
        if i:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus), code


def main():
    work = Path(tempfile.mkdtemp(prefix="bhbench-latency-"))
    try:
        (work / "trivial.bh").write_text(TRIVIAL)
        (work / "proof.bh").write_text(WITH_PROOF)
        bh = str(BUILD / "bulkhead")
        ws = str(REPO / "policies" / "workstation.bh")
        rows = [("process start: `bulkhead --version`", [bh, "--version"]),
                ("front end only: `check --no-baseline` of a 1-qube policy, nothing to prove",
                 [bh, "check", "--no-baseline", str(work / "trivial.bh")]),
                ("+ Z3 start-up: the same with one assertion (a Z3-checked certificate)",
                 [bh, "check", "--no-baseline", str(work / "proof.bh")])]
        baseline = []
        if (CORPUS / "policy.d").is_dir():
            baseline = ["--baseline", str(CORPUS / "policy.d"),
                        "--baseline-legacy", str(CORPUS / "legacy")]
            rows.append(("+ Qubes' baseline: the 1-qube policy with Qubes' shipped policy",
                         [bh, "check"] + baseline + [str(work / "trivial.bh")]))
        rows.append(("`check --no-baseline policies/workstation.bh`",
                     [bh, "check", "--no-baseline", ws]))
        if baseline:
            rows.append(("`check` of policies/workstation.bh with Qubes' baseline (pre-commit)",
                         [bh, "check"] + baseline + [ws]))
        rows.append(("floor for a Python linter: `python3 -c pass`",
                     [sys.executable, "-c", "pass"]))
        rows.append(("`python3 -I -S -c pass` (no site packages)",
                     [sys.executable, "-I", "-S", "-c", "pass"]))
        lint = shutil.which("qubes-policy-lint")
        if lint:
            rows.append(("Qubes' syntax-only linter: `qubes-policy-lint`",
                         [lint, str(CORPUS / "policy.d")]))
        print(f"Median of {RUNS} runs each after one warm-up; CPU is user + sys of the process.\n")
        print("| what | wall | CPU | exit |")
        print("|---|---|---|---|")
        for label, argv in rows:
            wall, cpu, code = measure(argv)
            print(f"| {label} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {code} |")
        if not lint:
            print("\nQubes' syntax-only linter (`qubes-policy-lint`, from qubes-core-qrexec) is "
                  "not installed on this machine, so it is not in the table; `python3 -c pass` "
                  "is the floor any Python linter starts from.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
