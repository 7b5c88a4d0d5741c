"""The analyzer's network witnesses (`bulkhead explain --net-witnesses`): the packet behind each
`net` edge of the graph, sent for real. Which ones the topology can send, and why the others
are skipped; a witness that can be sent must connect (a finding that does not replay is a
bug)."""
import ipaddress
import json
import subprocess
from dataclasses import dataclass

import topology
import tuples


@dataclass(frozen=True)
class Witness:
    sender: str  # graph nodes: the packet goes sender -> receiver
    receiver: str
    source: str  # addresses as the analyzer gives them ("" when the policy has none)
    destination: str
    protocol: str
    port: int
    detail: str
    flow: str  # file:line: the allow flow that makes the edge

    def describe(self):
        return f"{self.detail} [flow {self.flow}]"


def load(bulkhead, policy_path):
    """Every net edge's witness, deduplicated (a `data both` service gives two edges, one
    packet). Returns (witnesses, number of net edges)."""
    done = subprocess.run([bulkhead, "explain", "--no-baseline", policy_path, "--net-witnesses"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"bulkhead explain --net-witnesses failed: {done.stderr.strip()}")
    edges = [json.loads(line) for line in done.stdout.splitlines()]
    seen = {}
    for e in edges:
        w = Witness(e["sender"], e["receiver"], e["source"], e["destination"], e["protocol"],
                    e["port"], e["detail"], e["flow"])
        seen.setdefault(w, None)
    return list(seen), len(edges)


def plan_replay(witnesses, policy, plan):
    """Splits the witnesses into (tuples to send, {reason: [witness]} skipped, outside
    addresses the world namespace must answer on too). Each tuple's `note` is its witness."""
    sendable, skipped, extra = [], {}, set()
    sources = {n.name for n in plan.sources()}

    def internal(name):
        return name in policy.qubes or name.startswith("@dispvm:")

    def skip(reason, w):
        skipped.setdefault(reason, []).append(w)

    for w in witnesses:
        sender = plan.nodes.get(w.sender)
        if not internal(w.sender):
            skip("the sender is outside the system (Qubes forwards no new connection in)", w)
            continue
        if sender is None:
            q = policy.qubes.get(w.sender)
            skip("the sender has no netvm" if q and q.netvm == "none" else
                 "the sender is a dispvm-template's own qube without an address (its "
                 "disposables are replayed)" if q and q.kind == "dispvm-template" else
                 "the sender has no address in the policy", w)
            continue
        if w.sender not in sources:
            skip("the sender is a net qube: its own packets are not probed (docs/testing.md)", w)
            continue
        if w.protocol not in ("tcp", "udp") and not (w.protocol == "icmp" and w.port == 8):
            skip(f"{w.protocol} {w.port}: only tcp, udp and ICMP echo are probed", w)
            continue
        if internal(w.receiver):
            receiver = plan.nodes.get(w.receiver)
            if receiver is None or receiver.invented_ip:
                skip("the receiver has no address or no netvm in the policy (no namespace)", w)
                continue
            if receiver.name == sender.netvm or receiver.netvm == sender.name:
                skip("the receiver is the sender's own net qube or client (no flow decides it)", w)
                continue
            dst = receiver.ip
        else:
            address = ipaddress.ip_address(w.destination)
            if address.version != 4:
                skip("an IPv6 destination (the harness is IPv4 only)", w)
                continue
            if any(address in s for s in topology.SYSTEM):
                skip("an outside address inside the system's ranges", w)
                continue
            dst = w.destination
            if dst not in plan.world_addresses:
                extra.add(dst)
        sendable.append(tuples.Tuple(w.sender, dst, w.protocol, w.port, note=w.describe()))
    return sendable, skipped, sorted(extra, key=ipaddress.ip_address)
