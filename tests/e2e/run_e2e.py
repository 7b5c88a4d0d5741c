#!/usr/bin/env python3
"""Bulkhead end to end: compiled policies loaded into network namespaces wired like Qubes,
and real packets checked against the model (docs/testing.md).

  run_e2e.py --bulkhead build/bulkhead policies            every example policy
  run_e2e.py --bulkhead build/bulkhead broken-allow        a deleted allow element is caught
  run_e2e.py --bulkhead build/bulkhead broken-deny         a deleted deny element is caught
  run_e2e.py --bulkhead build/bulkhead reload              a reload never opens a window
  run_e2e.py --bulkhead build/bulkhead witnesses           the analyzer's witnesses replay
  run_e2e.py --bulkhead build/bulkhead broken-witnesses    ... and fail on a damaged ruleset

Needs root (exit 77, SKIPPED, otherwise). Every namespace it makes is named bh<pid>-<n> and
removed at the end, on failure too."""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import firewalls  # noqa: E402
import model  # noqa: E402
import netns  # noqa: E402
import probes  # noqa: E402
import topology  # noqa: E402
import tuples  # noqa: E402
import witnesses  # noqa: E402

SKIP = 77
REPO = Path(__file__).resolve().parents[2]
SEED = 20240605


def compile_policy(bulkhead, policy_path, out_dir):
    done = subprocess.run([bulkhead, "compile", "--no-baseline", str(policy_path), "-o", str(out_dir)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"compile {policy_path} failed ({done.returncode}):\n{done.stderr}")


class Lab:
    """One policy's namespaces: built on entry, removed on exit whatever happened."""

    def __init__(self, prefix, policy, out_dir, qubes_firewall=True):
        self.prefix, self.policy, self.out_dir = prefix, policy, out_dir
        self.qubes_firewall = qubes_firewall
        self.listeners = probes.Listeners()

    def __enter__(self):
        try:
            self.plan = topology.plan(self.policy, self.prefix, self.out_dir, SEED)
            topology.build(self.plan)
            firewalls.load_base(self.plan, REPO)
            firewalls.load_per_qube(self.plan, self.qubes_firewall)
            firewalls.run_loader(self.plan, self.out_dir)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.listeners.stop()
        netns.remove_all(self.prefix)

    def ns_of(self, address):
        for n in self.plan.nodes.values():
            if n.ip == address:
                return n.ns
        return self.plan.world

    def src_ns(self, name):
        return self.plan.world if name == "world" else self.plan.nodes[name].ns

    def listen_for(self, ts):
        for ns, proto, port in sorted({(self.ns_of(t.dst), t.proto, t.port) for t in ts
                                       if t.proto in ("tcp", "udp")}):
            self.listeners.open(ns, proto, port)
        self.listeners.start()

    def probe(self, ts, timeout):
        """One bool (connected) per tuple. A tuple the model permits that did not connect is
        tried again, alone and with a long timeout, so a loaded machine is no discrepancy."""
        def run(batch, seconds, parallel=500):
            return probes.run([probes.Probe(t.src, self.src_ns(t.src), t.dst, t.proto, t.port,
                                            t.sport, t.saddr) for t in batch],
                              timeout=seconds, parallel=parallel)
        results = run(ts, timeout)
        again = [i for i, t in enumerate(ts) if t.verdict and t.verdict.permitted and not results[i]]
        for i, r in zip(again, run([ts[i] for i in again], 2.0, parallel=1)):
            results[i] = r
        return results


def describe(t):
    port = "echo" if t.proto == "icmp" else t.port
    sport = f" (source port {t.sport})" if t.sport else ""
    return f"{t.src} -> {t.dst} {t.proto}/{port}{sport}"


def check_policy(args, policy_path, prefix, work):
    """Returns the discrepancies (text) found for one policy; prints its counts."""
    started = time.monotonic()
    name = Path(policy_path).stem
    out_dir = work / name
    compile_policy(args.bulkhead, policy_path, out_dir)
    if args.damage:
        deleted, args.expect, args.expect_what = damage(out_dir, args.damage)
        print(f"{name}: damaged on purpose: {deleted}")
    policy = model.load(args.bulkhead, str(policy_path))
    with Lab(prefix, policy, out_dir) as lab:
        allowed, forbidden, covered = tuples.choose(args.bulkhead, policy, lab.plan, SEED,
                                                    args.forbidden)
        replies = tuples.reply_direction(args.bulkhead, policy, lab.plan, allowed)
        lab.listen_for(allowed + forbidden + replies)
        passes = {}
        # Both layers, as deployed; then each layer alone, since each must hold the flows by
        # itself (docs/deploy.md); then neither, to show what the probes would reach.
        passes["both layers"] = (allowed + forbidden + replies,
                                 lab.probe(allowed + forbidden, args.timeout) +
                                 lab.probe(replies, args.timeout))
        firewalls.remove(lab.plan, "ip", "qubes-firewall")
        passes["Bulkhead's table alone"] = (allowed + forbidden,
                                            lab.probe(allowed + forbidden, args.timeout))
        firewalls.load_per_qube(lab.plan)
        firewalls.remove(lab.plan, "inet", "bulkhead")
        passes["qvm-firewall rules alone"] = (allowed + forbidden,
                                              lab.probe(allowed + forbidden, args.timeout))
        firewalls.remove(lab.plan, "ip", "qubes-firewall")
        open_without = sum(lab.probe(forbidden, args.timeout))
    problems = []
    for layers, (ts, results) in passes.items():
        for t, connected in zip(ts, results):
            if connected != t.verdict.permitted:
                what = ("the model permits it, the kernel blocked it" if t.verdict.permitted
                        else "the model forbids it, the kernel let it through")
                note = f" [{t.note}]" if t.note else ""
                problems.append(f"DISCREPANCY {name} ({layers}): {describe(t)}{note}: {what}\n"
                                f"{t.verdict.explanation}")
    results = passes["both layers"][1]
    flows = [i for i, f in enumerate(policy.flows) if f.verdict == "allow"]
    for i in sorted(set(flows) - covered):
        problems.append(f"UNTESTED {name}: no tuple of this flow could be tried: {policy.flows[i].text}")
    print(f"{name}: {len(covered)}/{len(flows)} allow flows exercised; "
          f"{len(allowed)} allowed tuples connected "
          f"{sum(results[:len(allowed)])}/{len(allowed)}; {len(forbidden)} forbidden tuples and "
          f"{len(replies)} reply-direction probes blocked "
          f"{len(results) - len(allowed) - sum(results[len(allowed):])}/{len(forbidden) + len(replies)}; "
          f"each layer alone: {sum(1 for p in problems if 'alone' in p)} discrepancies; "
          f"{open_without}/{len(forbidden)} forbidden connect with neither layer; "
          f"{len(lab.plan.nodes) + 1} namespaces, {time.monotonic() - started:.1f} s")
    return problems


def check_witnesses(args, policy_path, prefix, work):
    """Replays every net edge's witness packet that the topology can send, with both layers
    loaded as deployed; returns the ones that did not connect (text); prints the counts."""
    started = time.monotonic()
    name = Path(policy_path).stem
    out_dir = work / name
    compile_policy(args.bulkhead, policy_path, out_dir)
    if args.damage:
        deleted, _, _ = damage(out_dir, args.damage)
        print(f"{name}: damaged on purpose: {deleted}")
    policy = model.load(args.bulkhead, str(policy_path))
    found, edges = witnesses.load(args.bulkhead, str(policy_path))
    with Lab(prefix, policy, out_dir) as lab:
        ts, skipped, extra = witnesses.plan_replay(found, policy, lab.plan)
        for address in extra:  # the world answers on every outside address a witness names
            netns.run("ip", "addr", "add", f"{address}/32", "dev", "lo", ns=lab.plan.world)
        questions = [(t.src, t.dst, t.proto, t.port) for t in ts]
        for t, v in zip(ts, model.decide(args.bulkhead, policy.path, questions) if ts else []):
            t.verdict = v
        lab.listen_for(ts)
        results = lab.probe(ts, args.timeout)
    problems = []
    for t, connected in zip(ts, results):
        if not t.verdict.permitted:
            problems.append(f"NOT PERMITTED {name}: {describe(t)}: the analyzer's witness "
                            f"{t.note}, but explain says\n{t.verdict.explanation}")
        if not connected:
            problems.append(f"NOT REPLAYED {name}: {describe(t)}: the witness {t.note} does "
                            f"not connect\n{t.verdict.explanation}")
    reasons = "; ".join(f"{len(ws)} {reason}" for reason, ws in sorted(skipped.items()))
    print(f"{name}: {len(found)} witness packets of {edges} net edges; replayed "
          f"{sum(results)}/{len(ts)} connected ({len(extra)} outside addresses added to the "
          f"world); skipped {sum(len(ws) for ws in skipped.values())}"
          f"{': ' + reasons if reasons else ''}; {time.monotonic() - started:.1f} s")
    if args.verbose:
        for reason, ws in sorted(skipped.items()):
            for w in ws:
                print(f"  skipped ({reason}): {w.describe()}")
    return problems


DAMAGE = {"allow": "-ap4", "deny": "-dq4"}
PROTOCOLS = {"6": "tcp", "17": "udp", "0-255": "", "1": "icmp"}


def damage(out_dir, kind):
    """Deletes an element of an allow (or deny) set of the first ruleset that has one, after
    compile (which refuses to write a ruleset that fails validation): the element of a
    one-element set when there is one (a flow no other element covers, so every probe and
    witness of it must notice), else the first element of the first set.
    Returns what was deleted and the text a discrepancy report of it must contain."""
    for path in sorted(out_dir.glob("*/bulkhead.nft")):
        text = path.read_text()
        pattern = r"^add element inet bulkhead (\S+" + DAMAGE[kind] + r") \{ ([^,}]+?)(, | \})"
        matches = list(re.finditer(pattern, text, re.M))
        if not matches:
            continue
        m = next((x for x in matches if x.group(3) == " }"), matches[0])
        element = m.group(2).strip()
        if m.group(3) == " }":  # the only element: the whole line goes
            text = text[:m.start()] + text[m.end():]
        else:
            text = text[:m.start(2)] + text[m.end():]
        path.write_text(text)
        fields = [f.strip() for f in element.split(" . ")]
        proto = PROTOCOLS.get(fields[1], "")
        expect = f" {proto}/{fields[2]}" if len(fields) > 2 else ""
        what = ("the model permits it, the kernel blocked it" if kind == "allow"
                else "the model forbids it, the kernel let it through")
        return f"{path.parent.name}: element {element} of set {m.group(1)} deleted", expect, what
    raise RuntimeError(f"no {kind} set to damage")


def run_witnesses(args, prefix, work):
    problems = []
    for p in args.policy:
        problems += check_witnesses(args, p, prefix, work)
    for text in problems:
        print(text)
    if args.damage:
        missed = [p for p in problems if p.startswith("NOT REPLAYED")]
        print(f"{'OK' if missed else 'FAILED'}: {len(missed)} witnesses do not replay on the "
              f"damaged ruleset{'' if missed else ' (the damage went unnoticed)'}")
        return 0 if missed else 1
    print(f"{'FAILED' if problems else 'OK'}: {len(problems)} witnesses did not replay")
    return 1 if problems else 0


def run_policies(args, prefix, work):
    problems = []
    for p in args.policy:
        problems += check_policy(args, p, prefix, work)
    for text in problems:
        print(text)
    if args.damage:
        caught = [p for p in problems if "(Bulkhead's table alone)" in p.splitlines()[0]
                  and args.expect in p.splitlines()[0] and args.expect_what in p.splitlines()[0]]
        if not caught:
            print(f"FAILED: the damaged ruleset went unnoticed (expected a discrepancy with "
                  f"'{args.expect.strip()}': {args.expect_what})")
            return 1
        print(f"OK: the damaged ruleset was caught ({len(caught)} discrepancies name it)")
        return 0
    print(f"{'FAILED' if problems else 'OK'}: {len(problems)} discrepancies")
    return 1 if problems else 0


def run_reload(args, prefix, work):
    """Reloads a changed ruleset over and over while a forbidden flow is probed without a
    pause; only sys-firewall's Bulkhead table guards it (the per-qube firewall layer is left
    open, sys-net's table is removed)."""
    original = REPO / "policies" / "workstation.bh"
    removed = "allow personal -> internet : http;"
    changed = work / "workstation-changed.bh"
    text = original.read_text()
    assert removed in text
    changed.write_text(text.replace(removed, "# " + removed))
    out_a, out_b = work / "a", work / "b"
    compile_policy(args.bulkhead, original, out_a)
    compile_policy(args.bulkhead, changed, out_b)
    policy = model.load(args.bulkhead, str(original))
    src, dst = "personal", topology.OUTSIDE[1]
    verdicts = model.decide(args.bulkhead, str(original), [(src, dst, "tcp", 22), (src, dst, "tcp", 80)])
    assert not verdicts[0].permitted and verdicts[1].permitted
    verdicts_b = model.decide(args.bulkhead, str(changed), [(src, dst, "tcp", 80)])
    assert not verdicts_b[0].permitted
    forbidden = tuples.Tuple(src, dst, "tcp", 22, verdict=verdicts[0])
    http = tuples.Tuple(src, dst, "tcp", 80, verdict=verdicts_b[0])
    with Lab(prefix, policy, out_a, qubes_firewall=False) as lab:
        lab.listen_for([forbidden, http])
        fw = lab.plan.nodes["sys-firewall"].ns
        # sys-firewall's table is the only guard (sys-net's would stop the flow too), and the
        # probe has teeth: without that table the flow connects.
        firewalls.remove(lab.plan, "inet", "bulkhead")
        if lab.probe([forbidden], 0.5) != [True]:
            print("FAILED: the probe does not connect even without Bulkhead's table")
            return 1
        netns.run("nft", "-f", out_a / "sys-firewall" / "bulkhead.nft", ns=fw)
        stop = threading.Event()
        counts = {"probes": 0, "connected": 0}

        def hammer():
            while not stop.is_set():
                r = lab.probe([forbidden] * 8, 0.2)
                counts["probes"] += len(r)
                counts["connected"] += sum(r)

        thread = threading.Thread(target=hammer)
        thread.start()
        reloads = 0
        deadline = time.monotonic() + args.reload_seconds
        try:
            while time.monotonic() < deadline:
                for out in (out_b, out_a):
                    netns.run("nft", "-f", out / "sys-firewall" / "bulkhead.nft", ns=fw)
                    reloads += 1
        finally:
            stop.set()
            thread.join(timeout=10)
        netns.run("nft", "-f", out_b / "sys-firewall" / "bulkhead.nft", ns=fw)
        after = lab.probe([http], 0.5)
    print(f"reload: {reloads} reloads of sys-firewall's ruleset, {counts['probes']} probes of "
          f"{describe(forbidden)}, {counts['connected']} connected; after the last reload "
          f"{describe(http)} (removed from the policy) {'connects' if after[0] else 'is blocked'}")
    ok = counts["connected"] == 0 and counts["probes"] > 0 and not after[0]
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["policies", "broken-allow", "broken-deny", "reload",
                                     "witnesses", "broken-witnesses"])
    ap.add_argument("--bulkhead", required=True)
    ap.add_argument("--policy", action="append", help="default: every policies/*.bh")
    ap.add_argument("--forbidden", type=int, default=1000, help="forbidden tuples per policy")
    ap.add_argument("--timeout", type=float, default=0.4, help="seconds per blocked probe")
    ap.add_argument("--reload-seconds", type=float, default=5.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="witnesses: list the skipped")
    args = ap.parse_args(argv)
    args.damage = args.mode[len("broken-"):] if args.mode.startswith("broken-") else None
    if args.damage == "witnesses":  # the allow damage of broken-allow, seen by the replay
        args.damage = "allow"
    if not args.policy:
        args.policy = sorted(str(p) for p in (REPO / "policies").glob("*.bh"))
        if args.damage:
            args.policy = [str(REPO / "policies" / "workstation.bh")]
    if os.geteuid() != 0:
        print("SKIPPED: the end-to-end tests need root (network namespaces and nftables)")
        return SKIP
    missing = [t for t in ("ip", "nft", "sysctl") if not shutil.which(t)]
    if missing:
        print(f"SKIPPED: {', '.join(missing)} not installed")
        return SKIP
    prefix = f"bh{os.getpid()}-"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the cleanup below runs
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bulkhead-e2e-") as tmp:
        try:
            if args.mode == "reload":
                code = run_reload(args, prefix, Path(tmp))
            elif args.mode.endswith("witnesses"):
                code = run_witnesses(args, prefix, Path(tmp))
            else:
                code = run_policies(args, prefix, Path(tmp))
        finally:
            netns.remove_all(prefix)
    print(f"{args.mode}: {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
