#!/usr/bin/env python3
"""Kernel benchmark (root only): Bulkhead's emitted nftables ruleset for one firewall qube
against a naive one-rule-per-flow ruleset, with FLOWS allowed flows each (flows.py):
(a) load time of `nft -f` into the firewall namespace, (b) new TCP connections per second
through it (bulkhead-bench-connect). Prints markdown tables; asserts nothing about time.

The namespaces (prefix bhbench-): client (every client qube's address) -> fw (vif1.0,
group 2, Qubes' base tables and antispoof sets) -> server (answers every probe's address
on a closed port, so each attempt is SYN out, RST back). Reuses the e2e harness's netns.py.

Bulkhead's ruleset is `bulkhead compile` of flows.policy(N) where compile is affordable
(COMPILE_MAX flows); above, it is the compiled ruleset of the smallest size with its
per-client sets refilled with the N flows (scale()), the layout compile emits: checked
here by comparing scale() of the small ruleset with compile's own output at VALIDATE flows.

  BUILD=build  KERNEL_FLOWS="100 100000"  KERNEL_RUNS=5  KERNEL_SECONDS=2
"""
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import netns  # noqa: E402
import flows as F  # noqa: E402

BUILD = Path(os.environ.get("BUILD", REPO / "build")).resolve()
SIZES = [int(n) for n in os.environ.get("KERNEL_FLOWS", "100 100000").split()]
RUNS = int(os.environ.get("KERNEL_RUNS", "5"))
SECONDS = float(os.environ.get("KERNEL_SECONDS", "2"))
COMPILE_MAX = 1000  # compile at 10,000 address-literal flows takes minutes of check
VALIDATE = 1000
PREFIX = "bhbench-"
CLIENT, FW, SERVER = PREFIX + "client", PREFIX + "fw", PREFIX + "server"
PROBES = 16


def compile_ruleset(count, work):
    policy = work / f"k{count}.bh"
    policy.write_text(F.policy(count))
    out = work / f"out-{count}"
    done = subprocess.run([BUILD / "bulkhead", "compile", "--no-baseline", policy, "-o", out],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"compile of {count} flows failed ({done.returncode}):\n"
                           + done.stderr[-2000:])
    return (out / "sys-firewall" / "bulkhead.nft").read_text()


def without_header(text):
    """The ruleset without its leading comments (they name the policy file and its hash)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


ELEMENTS = re.compile(r"^add element inet bulkhead ext-q-c(\d+)-ap4 \{.*\}$", re.M)


def scale(small, count):
    """The compiled ruleset `small` with each client's destination set holding its flows of
    flows(count), in compile's order and batches of 500 (nft_emit.cpp)."""
    per = {}
    for c, dst, port in F.flows(count):
        per.setdefault(c, []).append((int(F.ipaddress.ip_address(dst)), port, dst))
    first = ELEMENTS.search(small)
    if not first:
        raise RuntimeError("the compiled ruleset has no per-client destination set")
    lines = []
    for c in sorted(per, key=lambda c: f"c{c}"):  # set names in byte order, as emitted
        items = [f"{dst} . 6 . {port}" for _, port, dst in sorted(per[c])]
        for i in range(0, len(items), 500):
            lines.append(f"add element inet bulkhead ext-q-c{c}-ap4 {{ "
                         + ", ".join(items[i:i + 500]) + " }")
    body = ELEMENTS.sub("", small)
    head, tail = body[:first.start()], body[first.start():]
    return head + "\n".join(lines) + "\n" + tail.lstrip("\n")


def normalise(text):
    return [line for line in without_header(text).splitlines() if line.strip()]


def build_topology():
    netns.remove_all(PREFIX)
    for ns in (CLIENT, FW, SERVER):
        netns.add(ns)
    fw_sysctls = {"net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 0,
                  "net.ipv4.conf.default.rp_filter": 0,
                  # RST-closed entries go in a second: the table never fills during a run
                  "net.netfilter.nf_conntrack_tcp_timeout_close": 1,
                  "net.ipv4.icmp_ratelimit": 0}
    cmds = [f"link add eth0 netns {CLIENT} type veth peer name vif1.0 netns {FW}",
            f"link add eth0 netns {FW} type veth peer name up0 netns {SERVER}",
            f"-n {CLIENT} link set eth0 group 1 up",
            f"-n {CLIENT} route add {F.FIREWALL_IP}/32 dev eth0 scope link",
            f"-n {FW} link set vif1.0 group 2 up",
            f"-n {FW} addr add {F.FIREWALL_IP}/32 dev vif1.0",
            f"-n {FW} link set eth0 group 1 up",
            f"-n {FW} addr add 100.64.0.1/30 dev eth0",
            f"-n {FW} route add default via 100.64.0.2",
            f"-n {SERVER} link set up0 up",
            f"-n {SERVER} addr add 100.64.0.2/30 dev up0",
            f"-n {SERVER} route add 10.137.0.0/16 via 100.64.0.1"]
    for i in range(F.CLIENTS):
        ip = F.client_ip(i)
        cmds += [f"-n {CLIENT} addr add {ip}/32 dev eth0",
                 f"-n {FW} route add {ip}/32 dev vif1.0"]
    cmds.append(f"-n {CLIENT} route add default via {F.FIREWALL_IP} dev eth0 "
                f"src {F.client_ip(0)}")
    netns.batch(cmds)
    for name in ["qubes-antispoof.nft", "qubes-ipv4.nft", "qubes-ipv6.nft"]:
        netns.run("nft", "-f", REPO / "backends" / "qubes-nft" / name, ns=FW)
    # after the tables: the conntrack sysctls exist once a ct expression is loaded
    for ns in (CLIENT, SERVER):
        for k in ("net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter"):
            netns.run("sysctl", "-qw", f"{k}=0", ns=ns, check=False)
    for k, v in fw_sysctls.items():
        netns.run("sysctl", "-qw", f"{k}={v}", ns=FW, check=False)
    elements = []
    for i in range(F.CLIENTS):
        elements.append(f"add element ip qubes downstream {{ {F.client_ip(i)} }}")
        elements.append(f'add element ip qubes allowed {{ "vif1.0" . {F.client_ip(i)} }}')
    netns.load_nft(FW, "\n".join(elements) + "\n")



def set_server_addresses(addresses):
    netns.run("ip", "addr", "flush", "dev", "lo", ns=SERVER)
    netns.batch([f"-n {SERVER} addr add 127.0.0.1/8 dev lo"]
                + [f"-n {SERVER} addr add {a}/32 dev lo" for a in sorted(set(addresses))])


def unload():
    netns.run("nft", "delete", "table", "inet", "bulkhead", ns=FW, check=False)
    netns.run("nft", "delete", "table", "inet", "naive", ns=FW, check=False)


def load_once(path):
    """Wall seconds and CPU seconds (user + sys of nft, which makes the kernel's commit
    too) of one `nft -f path` in the firewall namespace, the tables unloaded first."""
    unload()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    netns.run("nft", "-f", path, ns=FW)  # `ip netns exec` execs nft: its usage is counted
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def connect_once(probes):
    """(connections per wall second, per CPU second of the connecting process)."""
    out = netns.run(BUILD / "bulkhead-bench-connect", SECONDS, *probes, ns=CLIENT).split()
    attempts, refused, _, _, _, rate, cpu = (float(x) for x in out)
    if refused != attempts:
        raise RuntimeError(f"not every probe reached the server: {out} (attempts refused "
                           "connected unreachable other rate cpu)")
    return rate, attempts / cpu if cpu > 0 else 0.0


def blocked_probe_is_rejected(probe):
    """A control: a port the flows do not allow must not reach the server (no RST back)."""
    out = netns.run(BUILD / "bulkhead-bench-connect", "0.01", probe, ns=CLIENT).split()
    return int(out[1]) == 0


def probes_for(count):
    fl = F.flows(count)
    picks = [fl[(2 * k + 1) * len(fl) // (2 * PROBES)] for k in range(PROBES)]
    return [f"{F.client_ip(c)}:{dst}:{port}" for c, dst, port in picks], picks


def main():
    if os.geteuid() != 0:
        print("kernel benchmark skipped: it needs root (network namespaces)")
        return 0
    for tool in ("nft", "ip"):
        if not shutil.which(tool):
            print(f"kernel benchmark skipped: `{tool}` is not installed")
            return 0
    if min(SIZES) < F.CLIENTS:
        print(f"kernel benchmark: every size needs at least {F.CLIENTS} flows (one per client)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bhbench-kernel-"))
    try:
        small = min(SIZES)
        compiled = {small: compile_ruleset(small, work)}
        if VALIDATE > small and any(n > COMPILE_MAX for n in SIZES):
            real = compile_ruleset(VALIDATE, work)
            if normalise(scale(compiled[small], VALIDATE)) != normalise(real):
                raise RuntimeError(f"scale() does not reproduce compile's ruleset at "
                                   f"{VALIDATE} flows")
            validated = f"scale() of the {small}-flow ruleset equals compile's at {VALIDATE}"
        else:
            validated = "every size compiled"
        cases = []  # (flows, form, path, origin, probes, blocked probe or None)
        for n in SIZES:
            if n in compiled or n <= COMPILE_MAX:
                text = compiled.get(n) or compile_ruleset(n, work)
                origin = "compiled"
            else:
                text, origin = scale(compiled[small], n), "compiled layout, sets refilled"
            (work / f"bulkhead-{n}.nft").write_text(text)
            (work / f"naive-{n}.nft").write_text(F.naive_ruleset(n))
            probes, picks = probes_for(n)
            # A control: the first probe's client and address on the next port, which no
            # flow allows, must not get through whichever form is loaded.
            c, dst, port = picks[0]
            blocked = f"{F.client_ip(c)}:{dst}:{port + 1}" \
                if (c, dst, port + 1) not in set(F.flows(n)) else None
            cases.append((n, "Bulkhead", work / f"bulkhead-{n}.nft", origin, probes, blocked))
            cases.append((n, "naive", work / f"naive-{n}.nft", "one rule per flow", probes,
                          blocked))
        build_topology()
        set_server_addresses([p.split(":")[1] for case in cases for p in case[4]])
        loads = {}
        for n, form, path, *_ in cases:
            load_once(path)  # warm-up
            loads[(n, form)] = [load_once(path) for _ in range(RUNS)]
        # Rates in rounds, every case once a round, so that the machine's other load falls
        # on all of them alike.
        rates = {(n, form): [] for n, form, *_ in cases}
        reference = []
        for r in range(RUNS):
            unload()
            reference.append(connect_once(cases[0][4]))
            for n, form, path, _, probes, blocked in cases:
                load_once(path)
                if r == 0 and blocked and not blocked_probe_is_rejected(blocked):
                    raise RuntimeError(f"the {form} ruleset lets an unlisted port through")
                rates[(n, form)].append(connect_once(probes))
        unload()
        report(cases, loads, rates, reference, validated)
    finally:
        netns.remove_all(PREFIX)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def med(values, k):
    return statistics.median(v[k] for v in values)


def report(cases, loads, rates, reference, validated):
    print("#### Ruleset load time (`nft -f` in the firewall namespace)\n")
    print(f"Median of {RUNS} loads after a warm-up, each into a namespace holding only Qubes' "
          "base tables; CPU is user + sys of `nft`, which includes the kernel's commit. "
          f"Bulkhead's ruleset: {validated}.\n")
    print("| flows | form | wall | CPU | lines | size | ruleset |")
    print("|---|---|---|---|---|---|---|")
    for n, form, path, origin, *_ in cases:
        v = loads[(n, form)]
        lines = sum(1 for _ in open(path))
        print(f"| {n:,} | {form} | {med(v, 0) * 1000:,.0f} ms | {med(v, 1) * 1000:,.0f} ms | "
              f"{lines:,} | {path.stat().st_size / 1024:,.0f} KiB | {origin} |")
    print()
    for n in SIZES:
        b, v = loads[(n, "Bulkhead")], loads[(n, "naive")]
        print(f"- {n:,} flows: naive / Bulkhead = ×{med(v, 0) / med(b, 0):.1f} wall, "
              f"×{med(v, 1) / med(b, 1):.1f} CPU")
    print("\n#### New TCP connections per second through the firewall namespace\n")
    print(f"`bulkhead-bench-connect` for {SECONDS:g} s a run: connect() after connect() to "
          f"{PROBES} allowed flows spread evenly over the flow list (each from its client's "
          "address; a closed port answers RST), round robin; the cases take turns, "
          f"{RUNS} rounds, medians. Per CPU second: connections / (user + sys of the "
          "connecting process), where veth runs most of the path. With Qubes' base tables "
          f"only: {med(reference, 0):,.0f}/s wall, {med(reference, 1):,.0f} per CPU s.\n")
    print("| flows | form | per second (wall) | min–max | per CPU second |")
    print("|---|---|---|---|---|")
    for n, form, *_ in cases:
        v = rates[(n, form)]
        print(f"| {n:,} | {form} | {med(v, 0):,.0f} | {min(x[0] for x in v):,.0f}–"
              f"{max(x[0] for x in v):,.0f} | {med(v, 1):,.0f} |")
    print()
    if len(SIZES) > 1:
        lo, hi = SIZES[0], SIZES[-1]
        for form in ("Bulkhead", "naive"):
            a, b = rates[(lo, form)], rates[(hi, form)]
            print(f"- {form}: {hi:,} flows run at ×{med(b, 0) / med(a, 0):.2f} the {lo:,}-flow "
                  f"rate (wall), ×{med(b, 1) / med(a, 1):.2f} per CPU second")
    print()


if __name__ == "__main__":
    sys.exit(main())
