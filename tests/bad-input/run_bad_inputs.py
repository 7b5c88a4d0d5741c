#!/usr/bin/env python3
"""Feeds every malformed input of tests/bad-input/cases.txt to bulkhead the way its kind is
read, and checks the promises of docs/cli.md for bad input: exit 2, a message naming the
file (with line and column when the input has lines), the expected text, no crash, no hang
(each run under a time limit), and no output written (check and compile are both run on
DSL inputs; compile's output directory must not appear).

Usage: run_bad_inputs.py BULKHEAD"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT = 30  # seconds per run; a hang is a failure
SIGNALS = {-6: "SIGABRT", -11: "SIGSEGV", -8: "SIGFPE", -4: "SIGILL", -9: "SIGKILL"}

GOOD_INVENTORY = ("dom0|AdminVM|black|-|-|-|-|-|False|False\n"
                  "sys-net|AppVM|red|-|-|10.137.0.5|-|-|False|True\n"
                  "sys-firewall|AppVM|green|-|sys-net|10.137.0.6|-|-|False|True\n"
                  "work|AppVM|blue|-|sys-firewall|10.137.0.12|-|-|False|False\n")


def run(args, cwd=None):
    start = time.monotonic()
    try:
        p = subprocess.run(args, capture_output=True, text=True, errors="replace",
                           timeout=LIMIT, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {LIMIT} s", LIMIT
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


def main():
    bulkhead = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="bulkhead-bad-")
    empty_policy = os.path.join(tmp, "empty.d")
    os.makedirs(empty_policy)
    # The large inputs are written now, not kept in the repository (make_cases.py).
    subprocess.run([sys.executable, os.path.join(HERE, "make_cases.py"), "--large-into",
                    os.path.join(tmp, "generated")], check=True)
    good_inventory = os.path.join(tmp, "inventory.txt")
    with open(good_inventory, "w") as f:
        f.write(GOOD_INVENTORY)
    failures, count, slowest = [], 0, (0.0, "")
    kinds = {}
    for line in open(os.path.join(HERE, "cases.txt")):
        if line.startswith("#") or not line.strip():
            continue
        kind, rel, message = (x.strip() for x in line.split("|", 2))
        path = os.path.join(tmp if rel.startswith("generated/") else HERE, rel)
        commands = []
        out_dir = os.path.join(tmp, "out-" + rel.replace("/", "_"))
        none = os.path.join(tmp, "none")
        if kind == "dsl":
            commands = [["check", "--no-baseline", path],
                        ["compile", "--no-baseline", path, "-o", out_dir]]
        elif kind == "policyd":
            commands = [["audit", "--policy-dir", path, "--legacy-dir", none,
                         "--inventory", good_inventory]]
        elif kind == "inventory":
            commands = [["audit", "--policy-dir", empty_policy, "--legacy-dir", none,
                         "--inventory", path]]
        elif kind == "sysinfo":
            commands = [["audit", "--policy-dir", empty_policy, "--legacy-dir", none,
                         "--system-info", path]]
        elif kind == "labels":
            commands = [["audit", "--policy-dir", empty_policy, "--legacy-dir", none,
                         "--inventory", good_inventory, "--labels", path]]
        elif kind == "nft":
            commands = [["audit", "--policy-dir", empty_policy, "--legacy-dir", none,
                         "--inventory", good_inventory, "--nft-ruleset", "sys-firewall=" + path]]
        elif kind == "qvmfw":
            commands = [["audit", "--policy-dir", empty_policy, "--legacy-dir", none,
                         "--inventory", good_inventory, "--qvm-firewall", "work=" + path]]
        kinds[kind] = kinds.get(kind, 0) + 1
        for c in commands:
            count += 1
            code, out, err, took = run([bulkhead] + c, cwd=os.path.dirname(path))
            if took > slowest[0]:
                slowest = (took, rel)
            what = f"{rel} ({c[0]})"
            if code is None:
                failures.append(f"{what}: {err}")
                continue
            if code < 0:
                failures.append(f"{what}: crashed with {SIGNALS.get(code, code)}")
                continue
            if code != 2:
                failures.append(f"{what}: exit {code}, expected 2\n{err[-600:]}")
                continue
            if message not in err:
                failures.append(f"{what}: stderr lacks {message!r}\n{err[-600:]}")
            name = os.path.basename(rel.rstrip("/"))
            if name not in err and not re.search(r":\d+:\d+: ", err):
                failures.append(f"{what}: no position and no file name in the message\n{err[-600:]}")
            if "Traceback" in err or "terminate called" in err or "AddressSanitizer" in err:
                failures.append(f"{what}: an internal failure leaked out\n{err[-600:]}")
            if c[0] == "compile" and os.path.exists(out_dir):
                failures.append(f"{what}: compile wrote {out_dir} for bad input")
    leftovers = [p for p in os.listdir(tmp) if p.startswith(".out-")]
    if leftovers:
        failures.append(f"staging directories left behind: {leftovers}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{count} runs over {sum(kinds.values())} malformed inputs "
          f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
          f"slowest {slowest[0]:.2f} s ({slowest[1]})")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
