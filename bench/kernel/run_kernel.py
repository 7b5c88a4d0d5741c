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
    nft_text(FW, "\n".join(elements) + "\n")


def nft_text(ns, text):
    with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as f:
        f.write(text)
    try:
        netns.run("nft", "-f", f.name, ns=ns)
    finally:
        os.unlink(f.name)


def set_server_addresses(addresses):
    netns.run("ip", "addr", "flush", "dev", "lo", ns=SERVER)
    netns.batch([f"-n {SERVER} addr add 127.0.0.1/8 dev lo"]
                + [f"-n {SERVER} addr add {a}/32 dev lo" for a in sorted(set(addresses))])


def unload():
    netns.run("nft", "delete", "table", "inet", "bulkhead", ns=FW, check=False)
    netns.run("nft", "delete", "table", "inet", "naive", ns=FW, check=False)


def load_seconds(path):
    """Median wall time of `nft -f path` in the firewall namespace (the table replaced each
    time, as a reload does), over RUNS loads after one warm-up load."""
    times = []
    for i in range(RUNS + 1):
        unload()
        start = time.perf_counter()
        netns.run("nft", "-f", path, ns=FW)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def connect_rate(probes):
    argv = [str(BUILD / "bulkhead-bench-connect"), str(SECONDS)] + probes
    rates = []
    for _ in range(RUNS):
        out = netns.run(*argv, ns=CLIENT).split()
        attempts, refused, connected, unreachable, other, rate = (float(x) for x in out)
        if refused != attempts:
            raise RuntimeError(f"not every probe reached the server: {out} (attempts refused "
                               "connected unreachable other rate)")
        rates.append(rate)
    return statistics.median(rates), min(rates), max(rates)


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
        build_topology()
        load_rows, rate_rows = [], []
        reference = None
        for n in SIZES:
            bh = work / f"bulkhead-{n}.nft"
            if n in compiled or n <= COMPILE_MAX:
                text = compiled.get(n) or compile_ruleset(n, work)
                origin = "compiled"
            else:
                text, origin = scale(compiled[small], n), "compiled layout, sets refilled"
            bh.write_text(text)
            naive = work / f"naive-{n}.nft"
            naive.write_text(F.naive_ruleset(n))
            probes, picks = probes_for(n)
            set_server_addresses([dst for _, dst, _ in picks])
            # A control: the first probe's client and address on the next port, which no flow
            # allows, must be rejected by whichever form is loaded.
            c, dst, port = picks[0]
            allowed = set(F.flows(n))
            blocked = f"{F.client_ip(c)}:{dst}:{port + 1}" if (c, dst, port + 1) not in allowed \
                else None
            for form, path in (("Bulkhead", bh), ("naive", naive)):
                median, fastest = load_seconds(path)
                lines = sum(1 for _ in open(path))
                size_kb = path.stat().st_size / 1024
                load_rows.append((n, form, median, fastest, lines, size_kb, origin
                                  if form == "Bulkhead" else "one rule per flow"))
                # the form just loaded stays for the rate test
                if blocked and not blocked_probe_is_rejected(blocked):
                    raise RuntimeError(f"the {form} ruleset lets an unlisted port through")
                rate_rows.append((n, form) + connect_rate(probes))
            unload()
            if reference is None:
                reference = connect_rate(probes)[0]
        report(load_rows, rate_rows, reference, validated)
    finally:
        netns.remove_all(PREFIX)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(load_rows, rate_rows, reference, validated):
    print("### Ruleset load time (`nft -f` in the firewall namespace)\n")
    print(f"Median of {RUNS} loads (min beside it), each replacing the table. "
          f"Bulkhead's ruleset: {validated}.\n")
    print("| flows | form | load (median) | min | lines | size | ruleset |")
    print("|---|---|---|---|---|---|---|")
    by = {(n, form): median for n, form, median, *_ in load_rows}
    for n, form, median, fastest, lines, size_kb, origin in load_rows:
        print(f"| {n:,} | {form} | {median * 1000:.0f} ms | {fastest * 1000:.0f} ms | "
              f"{lines:,} | {size_kb:,.0f} KiB | {origin} |")
    print()
    for n in sorted({n for n, _ in by}):
        if (n, "naive") in by and (n, "Bulkhead") in by:
            print(f"- {n:,} flows: the naive form takes ×{by[(n, 'naive')] / by[(n, 'Bulkhead')]:.1f} "
                  "Bulkhead's load time")
    print("\n### New TCP connections per second through the firewall namespace\n")
    print(f"bulkhead-bench-connect for {SECONDS:g} s, {PROBES} allowed flows spread evenly "
          f"over the flow list, round robin; median of {RUNS} runs (min–max). With Qubes' "
          f"base tables only (no ruleset): {reference:,.0f}/s.\n")
    print("| flows | form | connections/s (median) | min–max |")
    print("|---|---|---|---|")
    rate = {}
    for n, form, median, low, high in rate_rows:
        rate[(n, form)] = median
        print(f"| {n:,} | {form} | {median:,.0f} | {low:,.0f}–{high:,.0f} |")
    print()
    sizes = sorted({n for n, _ in rate})
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for form in ("Bulkhead", "naive"):
            print(f"- {form}: {hi:,} flows run at ×{rate[(hi, form)] / rate[(lo, form)]:.2f} "
                  f"the {lo:,}-flow rate")
    print()


if __name__ == "__main__":
    sys.exit(main())
