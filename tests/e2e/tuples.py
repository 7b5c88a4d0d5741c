"""Which (source, destination, protocol, port) tuples to try, and what the model says of
each. Allowed: every allow flow expanded over its qubes, the addresses chosen in its
networks and the ends of each port range. Forbidden: a seeded sample of every other tuple
over the test's sources, destinations and ports that the model does not permit, plus
reply-direction probes. The verdicts come from `bulkhead explain --batch` only."""
import ipaddress
import random
from dataclasses import dataclass

import model

COMMON_PORTS = [1, 21, 22, 23, 25, 53, 80, 110, 123, 443, 445, 993, 3306, 8080, 8443, 65535]


@dataclass
class Tuple:
    src: str
    dst: str  # address
    proto: str
    port: int
    verdict: model.Verdict = None
    sport: int = 0
    saddr: str = ""
    note: str = ""


def _sources(policy, plan, word):
    names = policy.tagged(word[5:]) if word.startswith("@tag:") else [word]
    out = []
    for n in names:
        q = policy.qubes.get(n)
        if q and q.kind == "dispvm-template" and f"@dispvm:{n}" in plan.nodes:
            out.append(f"@dispvm:{n}")
        if n in plan.nodes and plan.nodes[n] in plan.sources():
            out.append(n)
    return out


def _destinations(policy, plan, word):
    if word in policy.networks or "/" in word or word[:1].isdigit():
        out = []
        for p in policy.networks.get(word, [word]):
            net = ipaddress.ip_network(p, strict=False)
            out += [a for a in plan.world_addresses if ipaddress.ip_address(a) in net]
        return out
    names = policy.tagged(word[5:]) if word.startswith("@tag:") else [word]
    out = []
    for n in names:
        if n in plan.nodes and not plan.nodes[n].invented_ip:
            out.append(plan.nodes[n].ip)
        if f"@dispvm:{n}" in plan.nodes:
            out.append(plan.nodes[f"@dispvm:{n}"].ip)
    return out


def _ports(proto, low, high):
    if proto == "icmp":
        return [8] if low <= 8 <= high else []
    return sorted({low, high})


def allowed_candidates(policy, plan):
    """{(source, destination, proto, port): indexes of the allow flows that name it}."""
    out = {}
    for index, f in enumerate(policy.flows):
        if f.verdict != "allow":
            continue
        for sw in f.sources:
            for s in _sources(policy, plan, sw):
                for dw in f.destinations:
                    for d in _destinations(policy, plan, dw):
                        if d == plan.nodes[s].ip:
                            continue
                        for proto, low, high in f.services:
                            protos = ["tcp", "udp", "icmp"] if proto == "any" else [proto]
                            for pr in protos:
                                ports = [22, 443] if proto == "any" and pr != "icmp" else \
                                    _ports(pr, low, high)
                                for p in ports:
                                    out.setdefault((s, d, pr, p), set()).add(index)
    return out


def _universe(policy, plan, rng):
    ports = set(COMMON_PORTS)
    for services in policy.services.values():
        for proto, low, high in services:
            if proto in ("tcp", "udp"):
                ports.update(p for p in (low - 1, low, high, high + 1) if 0 < p < 65536)
    ports.update(rng.randrange(1024, 65536) for _ in range(8))
    dests = [n.ip for n in plan.nodes.values() if not n.invented_ip] + plan.world_addresses
    out = []
    for s in plan.sources():
        # A net qube and its own clients reach each other without forwarding (its input and
        # output chains; the model's `netvm` edge), which no flow decides: not probed.
        near = {s.ip, plan.nodes[s.netvm].ip} | {c.ip for c in plan.clients_of(s.name)}
        for d in dests:
            if d in near:
                continue
            out.append((s.name, d, "icmp", 8))
            for p in sorted(ports):
                out.append((s.name, d, "tcp", p))
                out.append((s.name, d, "udp", p))
    return out


def choose(bulkhead, policy, plan, seed, forbidden_count=1000):
    """Returns (allowed, forbidden, covered): lists of Tuple with the model's verdicts, and
    the indexes of the allow flows that some allowed tuple exercises."""
    rng = random.Random(seed)
    named = allowed_candidates(policy, plan)
    flows = sorted(named)
    universe = sorted(set(_universe(policy, plan, rng)) - set(flows))
    questions = flows + universe
    verdicts = model.decide(bulkhead, policy.path, questions)
    answered = [Tuple(*q, verdict=v) for q, v in zip(questions, verdicts)]
    from_flows, rest = answered[:len(flows)], answered[len(flows):]
    allowed = [t for t in from_flows if t.verdict.permitted]
    covered = set()
    for t in allowed:
        covered |= named[(t.src, t.dst, t.proto, t.port)]
    # Tuples the flows name but a deny carves out are forbidden ones worth trying first.
    carved = [t for t in from_flows if not t.verdict.permitted]
    others = [t for t in rest if not t.verdict.permitted]
    forbidden = carved + rng.sample(others, min(len(others), max(0, forbidden_count - len(carved))))
    # Permitted tuples the sample met outside the expanded flows must connect too.
    extra = [t for t in rest if t.verdict.permitted]
    allowed += rng.sample(extra, min(len(extra), 100))
    return allowed, forbidden, covered


def reply_direction(bulkhead, policy, plan, allowed, limit=50):
    """Packets that look like the answer of an allowed connection but belong to none: from
    the destination's address and service port back to the sender, as a new connection.
    Between qubes the model must forbid the reverse tuple; from outside, the sender's
    address as the top net qube forwards to it (its uplink) is tried, which no flow opens."""
    out = []
    back = {}
    for t in allowed:
        owner = next((n for n in plan.nodes.values() if n.ip == t.dst and not n.invented_ip), None)
        if t.proto == "icmp":
            continue
        if owner and owner in plan.sources():
            back.setdefault((owner.name, plan.nodes[t.src].ip, t.proto, 40000 + t.port % 20000), t)
    questions = sorted(back)[:limit]
    for q, v in zip(questions, model.decide(bulkhead, policy.path, questions) if questions else []):
        t = back[q]
        if not v.permitted:
            out.append(Tuple(*q, verdict=v, sport=t.port,
                             note=f"reply-direction of {t.src} -> {t.dst} {t.proto}/{t.port}"))
    # From the world: to each client of a top net qube, from an allowed flow's outside
    # address and port (or a plain outside one when no flow leaves the system).
    outside = [(t.dst, t.proto, t.port) for t in allowed
               if t.proto in ("tcp", "udp") and t.dst in plan.world_addresses][:3]
    outside = outside or [(plan.world_addresses[0], "tcp", 443)]
    for top in plan.uplinks:
        for c in plan.clients_of(top):
            for addr, proto, port in outside:
                out.append(Tuple("world", c.ip, proto, 40000 + port % 20000,
                                 verdict=model.Verdict(False, "  no flow opens a connection from outside"),
                                 sport=port, saddr=addr,
                                 note=f"reply-direction from {addr}:{port} to {c.name}"))
    return out
