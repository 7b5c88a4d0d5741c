#!/usr/bin/env python3
"""Kills `bulkhead compile` with SIGKILL at many points while it replaces OUT and checks that
OUT is then exactly the previous output or exactly the new one, never a mix: every file
the manifest lists is there with its sha256, nothing else is, and the set of hashes is one
of the two known outputs.

Usage: kill_compile.py BULKHEAD SOURCE_DIR [ROUNDS]"""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def tree(out):
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = hashlib.sha256(f.read()).hexdigest()
    return files


def consistent(out):
    files = tree(out)
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    listed["manifest.json"] = files.get("manifest.json")
    return files == listed, files


def main():
    bulkhead, src = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    tmp = tempfile.mkdtemp(prefix="bulkhead-kill-")
    out = os.path.join(tmp, "out")
    text = open(os.path.join(src, "policies", "workstation.bh")).read()
    old_policy = os.path.join(tmp, "old.bh")
    new_policy = os.path.join(tmp, "new.bh")
    open(old_policy, "w").write(text)
    # A change that alters the policy.d file and the nftables rulesets.
    open(new_policy, "w").write(text.replace("allow personal -> internet : http;\n", ""))

    def compile_(policy, target):
        return subprocess.run([bulkhead, "compile", "--no-baseline", policy, "-o", target],
                              capture_output=True, text=True, timeout=120)

    for policy, name in ((old_policy, "old"), (new_policy, "new")):
        r = compile_(policy, os.path.join(tmp, name))
        if r.returncode != 0:
            sys.exit(f"compile of the {name} policy failed: {r.stderr[-500:]}")
    old, new = tree(os.path.join(tmp, "old")), tree(os.path.join(tmp, "new"))
    if old == new:
        sys.exit("the two policies compile to the same files; the test would prove nothing")
    # How long a full compile takes, to spread the kills over it.
    start = time.monotonic()
    compile_(old_policy, os.path.join(tmp, "timing"))
    full = time.monotonic() - start

    compile_(old_policy, out)
    rng = random.Random(7)
    seen = {"old": 0, "new": 0}
    for i in range(rounds):
        if tree(out) != old:
            compile_(old_policy, out)  # start each round from the previous output
        p = subprocess.Popen([bulkhead, "compile", "--no-baseline", new_policy, "-o", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The files are written and swapped in at the end of a compile: aim most kills there.
        time.sleep(rng.uniform(0.5, 1.15) * full)
        p.send_signal(signal.SIGKILL)
        p.wait()
        ok, files = consistent(out)
        if not ok:
            sys.exit(f"round {i}: OUT is inconsistent after SIGKILL: {sorted(files)}")
        if files == old:
            seen["old"] += 1
        elif files == new:
            seen["new"] += 1
        else:
            sys.exit(f"round {i}: OUT is neither the old nor the new output")
    leftovers = [n for n in os.listdir(tmp) if n.startswith(".out.bulkhead-")]
    # The next compile clears what killed runs left.
    compile_(new_policy, out)
    if tree(out) != new or any(n.startswith(".out.bulkhead-") for n in os.listdir(tmp)):
        sys.exit("a full compile after the kills did not leave exactly the new output")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{rounds} compiles killed at random points (full compile {full:.2f} s): OUT was "
          f"the previous output {seen['old']} times, the new one {seen['new']} times, never "
          f"a mix; {len(leftovers)} staging directories left by killed runs, removed by the next run")
    if seen["old"] == 0 or seen["new"] == 0:
        print("note: every kill fell on the same side of the swap this time")


if __name__ == "__main__":
    main()
