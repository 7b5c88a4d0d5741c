#!/usr/bin/env python3
"""`bulkhead-bench-gen --deployed` writes the generated system's firewall state as audit reads
it (bench/firewall_state.h, docs/performance.md), and it is the network the policy states:
- DIR/nft/NETQUBE.json for each qube that provides network, DIR/firewall/QUBE.rules for each
  networked qube with an address and the VPN qube, per the generated inventory;
- the same options give the same bytes, the kernel's JSON included;
- audit reads every file (exit 0 or 1, no BH1307, the inputs counted in its summary);
- audit with the policy as --intent finds no firewall drift: for every qube the firewall
  inputs decide, the packets the deployed rulesets let through are exactly those the policy
  permits; the same for the qvm-firewall lists alone, none of whose lines is dead (BH1310). Two edits of the policy prove the comparison sees the flows: a qube-to-qube allow
  taken out is reported as let through by the deployed ruleset, and a new allow between two
  qubes the policy keeps apart is reported as dropped.
Loading the rulesets needs root and a network namespace: without them the
generator skips DIR/nft/ and this test prints SKIPPED (exit 77).
Usage: test_deployed_firewall.py BULKHEAD BENCH_GEN"""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import expect, failures, run  # noqa: E402

bulkhead, gen = sys.argv[1], sys.argv[2]


def files(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def firewall_args(deployed):
    args = []
    for f in sorted((deployed / "nft").glob("*.json")):
        args += ["--nft-ruleset", f"{f.stem}={f}"]
    for f in sorted((deployed / "firewall").glob("*.rules")):
        args += ["--qvm-firewall", f"{f.stem}={f}"]
    return args


def audit(deployed, *extra):
    return run(bulkhead, "audit", "--policy-dir", deployed / "policy.d", "--legacy-dir",
               deployed / "none", "--inventory", deployed / "qubes.txt",
               *firewall_args(deployed), *extra)


def drift(result):
    """The firewall drift findings: (qube, what the deployed rules do, where they are)."""
    return re.findall(r"^(\S+?):\d+:\d+: warning\[BH1306\]: firewall drift: .*?(lets through|drops)"
                      r" .*? of '([^']+)'", result.stderr, re.M)


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    made = run(gen, "--qubes", 100, "--seed", 1, "--deployed", tmp / "a", "-o", tmp / "a.bh")
    expect(made.returncode == 0, f"generator exit {made.returncode}: {made.stderr}")
    if not (tmp / "a" / "nft").is_dir():
        print("SKIPPED:", made.stderr.strip())
        sys.exit(77)
    deployed = tmp / "a"

    # Which files, per the generated inventory (NAME|CLASS|LABEL|TEMPLATE|NETVM|IP|...).
    inventory = [line.split("|") for line in (deployed / "qubes.txt").read_text().splitlines()]
    providers = {q[0] for q in inventory if q[9] == "True"}
    firewalls = {q[0] for q in inventory if q[4] in providers}
    networked = {q[0] for q in inventory if q[4] != "-" and q[5] != "-"} - providers
    nft = {f.stem for f in (deployed / "nft").glob("*.json")}
    rules = {f.stem for f in (deployed / "firewall").glob("*.rules")}
    expect(nft == providers, f"nft/ holds {sorted(nft)}, the net qubes are {sorted(providers)}")
    # and the VPN qube's own list: its netvm judges its own flows (its clients ride inside)
    expect(rules == networked | {"sys-vpn"},
           f"firewall/ holds {sorted(rules ^ networked)} in excess or missing")
    expect(firewalls >= networked and len(networked) > 50, f"{len(networked)} networked qubes")
    expect(all(b'"metainfo"' in (deployed / "nft" / f"{q}.json").read_bytes() for q in nft),
           "a ruleset is not `nft -j list ruleset` output")

    # The same seed, the same bytes; another seed, another system.
    run(gen, "--qubes", 100, "--seed", 1, "--deployed", tmp / "b", "-o", tmp / "b.bh")
    expect(files(deployed) == files(tmp / "b"), "--deployed is not deterministic")
    run(gen, "--qubes", 100, "--seed", 2, "--deployed", tmp / "c", "-o", tmp / "c.bh")
    expect(files(tmp / "c" / "firewall") != files(deployed / "firewall"), "seed ignored")

    plain = audit(deployed)
    expect(plain.returncode in (0, 1), f"audit exit {plain.returncode}\n{plain.stderr[-3000:]}")
    expect("BH1307" not in plain.stderr, "part of a firewall not read:\n" +
           "\n".join(line for line in plain.stderr.splitlines() if "BH1307" in line)[:3000])
    m = re.search(r"; (\d+) firewall inputs, (\d+) network flows;", plain.stdout)
    expect(m is not None and int(m[1]) == len(nft) + len(rules) and int(m[2]) > 0,
           f"summary {plain.stdout.strip()!r}, expected {len(nft) + len(rules)} firewall inputs")

    policy = (tmp / "a.bh").read_text()
    same = audit(deployed, "--intent", tmp / "a.bh")
    expect(same.returncode in (0, 1), f"audit --intent exit {same.returncode}\n{same.stderr[-3000:]}")
    expect(drift(same) == [], f"firewall drift against the policy itself: {drift(same)[:5]}")
    # The qvm-firewall lists alone (compile's, tidied: qube addresses joined into prefixes,
    # covered lines left out) decide every packet as the policy does, and none of their
    # lines is dead.
    lists = run(bulkhead, "audit", "--policy-dir", deployed / "policy.d", "--legacy-dir",
                deployed / "none", "--inventory", deployed / "qubes.txt", "--intent", tmp / "a.bh",
                *[a for f in sorted((deployed / "firewall").glob("*.rules"))
                  for a in ("--qvm-firewall", f"{f.stem}={f}")])
    expect(lists.returncode in (0, 1), f"audit of the lists exit {lists.returncode}")
    expect(drift(lists) == [], f"qvm-firewall lists against the policy: {drift(lists)[:5]}")
    expect("BH1310" not in lists.stderr, "a qvm-firewall line that never applies:\n" +
           "\n".join(line for line in lists.stderr.splitlines() if "BH1310" in line)[:2000])

    # A qube-to-qube allow whose pair no other allow names, taken out of the policy: the
    # deployed ruleset of their net qube still lets it through.
    q2q = re.findall(r"^allow (app-\d+) -> (app-\d+) : [\w/-]+;\n", policy, re.M)
    pairs = [p for p in q2q if q2q.count(p) == 1 and
             not re.search(rf"^allow {p[0]} -> {p[1]} :.*,", policy, re.M)]
    expect(len(pairs) > 0, "no qube-to-qube allow to take out")
    sender, receiver = pairs[0]
    line = re.search(rf"^allow {sender} -> {receiver} : [\w/-]+;\n", policy, re.M)[0]
    (tmp / "less.bh").write_text(policy.replace(line, ""))
    less = audit(deployed, "--intent", tmp / "less.bh")
    found = drift(less)
    expect(len(found) > 0 and all(f[1] == "lets through" and f[2] == sender for f in found) and
           all(f[0].endswith(".json") for f in found),
           f"without `{line.strip()}`: drift {found[:5]}")

    # An allow between two networked qubes the policy keeps apart, added: the deployed
    # ruleset drops what the edited policy permits.
    apps = sorted(q for q in networked if q.startswith("app-"))
    talking = {p for p in q2q}
    apart = next((a, b) for a in apps for b in apps
                 if a != b and (a, b) not in talking and
                 not re.search(rf"^allow (@tag:\S+|{a}) -> {b} ", policy, re.M))
    (tmp / "more.bh").write_text(policy + f"allow {apart[0]} -> {apart[1]} : tcp/7777;\n")
    more = audit(deployed, "--intent", tmp / "more.bh")
    found = drift(more)
    expect(len(found) > 0 and all(f[1] == "drops" and f[2] == apart[0] for f in found),
           f"with allow {apart[0]} -> {apart[1]} : tcp/7777: drift {found[:5]}")

print("FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
