"""What runs in each net qube namespace, in boot order: Qubes' base tables, the antispoof
sets vif-route-qubes fills, Qubes' own `ip qubes-firewall` table made from the emitted
qvm-firewall rules (R4.2 layout, qubes-formats.md §3.4), then Bulkhead's loader script."""
import os

import netns

BASE_FILES = ["qubes-antispoof.nft", "qubes-ipv4.nft", "qubes-ipv6.nft"]
REJECT = "reject with icmp type admin-prohibited"


def chain_name(ip):
    return "qbs-" + ip.replace(".", "-").replace(":", "-")


def translate(line):
    """One `qvm-firewall --raw` rule as NftablesWorker writes it into an IPv4 chain; [] for
    a rule of the other family (dom0 never sends those to this chain)."""
    opts = dict(word.split("=", 1) for word in line.split())
    if "dst6" in opts:
        return []
    unknown = set(opts) - {"action", "proto", "dst4", "dstports", "icmptype"}
    if unknown:
        raise ValueError(f"rule option(s) {sorted(unknown)} not handled: {line}")
    verdict = {"accept": "accept", "drop": REJECT}[opts["action"]]
    head = []
    if "proto" in opts:
        head.append(f"ip protocol {opts['proto']}")
    if "dst4" in opts:
        head.append(f"ip daddr {opts['dst4']}")
    if "icmptype" in opts:
        head.append(f"icmp type {opts['icmptype']}")
    if "dstports" not in opts:
        return [" ".join(head + [verdict])]
    low, high = opts["dstports"].split("-")
    ports = low if low == high else f"{low}-{high}"
    protos = [opts["proto"]] if "proto" in opts else ["tcp", "udp"]
    return [" ".join(head + [f"{p} dport {ports}", verdict]) for p in protos]


def qubes_firewall_table(clients):
    """clients: [(ip, rules text or None)]; None is Qubes' default of one accept rule."""
    jumps, chains = [], []
    for ip, rules in clients:
        body = ["accept"] if rules is None else \
            [r for line in rules.splitlines() if line.strip() for r in translate(line)] + [REJECT]
        jumps.append(f"    ip saddr {ip} jump {chain_name(ip)}")
        chains.append(f"  chain {chain_name(ip)} {{\n" + "".join(f"    {r}\n" for r in body) + "  }")
    return ("table ip qubes-firewall {\n"
            "  chain forward {\n"
            "    type filter hook forward priority 0; policy drop;\n"
            "    ct state established,related accept\n"
            '    meta iifname != "vif*" accept\n' + "\n".join(jumps) + "\n  }\n" +
            "\n".join(chains) + "\n}\n")



def load_base(plan, repo):
    """Qubes' own tables in every net qube namespace, and the antispoof sets filled."""
    for p in plan.providers():
        for name in BASE_FILES:
            netns.run("nft", "-f", repo / "backends" / "qubes-nft" / name, ns=p.ns)
        elements = []
        for c in plan.clients_of(p.name):
            elements.append(f"add element ip qubes downstream {{ {c.ip} }}")
            elements.append(f'add element ip qubes allowed {{ "{p.vif[c.name]}" . {c.ip} }}')
        netns.load_nft(p.ns, "\n".join(elements) + "\n")


def load_per_qube(plan, per_qube_rules=True):
    """Qubes' `ip qubes-firewall` table from the emitted qvm-firewall rules (without
    per_qube_rules, every qube gets Qubes' default: accept)."""
    for p in plan.providers():
        table = qubes_firewall_table(
            [(c.ip, open(c.rules).read()
              if per_qube_rules and c.rules and os.path.exists(c.rules) else None)
             for c in plan.clients_of(p.name)])
        netns.load_nft(p.ns, table)


def remove(plan, family, table):
    for p in plan.providers():
        netns.run("nft", "delete", "table", family, table, ns=p.ns, check=False)


def run_loader(plan, out_dir, only=None):
    """Bulkhead's own loader script, run as Qubes' firewall service would, with its
    /rw/config/bulkhead.nft replaced by the emitted file's path (the script is otherwise
    run unchanged, in the net qube's namespace)."""
    for p in plan.providers():
        if only and p.name != only:
            continue
        script = out_dir / p.name / "qubes-firewall.d" / "50-bulkhead"
        ruleset = out_dir / p.name / "bulkhead.nft"
        if not script.exists():
            continue
        text = script.read_text().replace("/rw/config/bulkhead.nft", str(ruleset))
        netns.run("sh", "-c", text, ns=p.ns)
