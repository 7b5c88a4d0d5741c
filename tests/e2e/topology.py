"""A policy's qubes as network namespaces wired like Qubes wires them: each net qube
(netvm, firewall, vpn) forwards for its clients over `vif<N>.0` (group 2) with /32 host
routes, its uplink is `eth0` (group 1), and a `world` namespace upstream of the top net
qube answers on addresses chosen inside each network object. `plan` only decides; `build`
makes it."""
import ipaddress
import random
from dataclasses import dataclass, field

from model import PROVIDER_KINDS
import netns

# Addresses every policy's world answers on, outside any network a policy declares here.
OUTSIDE = ["1.1.1.1", "8.8.8.8", "93.184.216.34"]
UPLINK = ipaddress.ip_network("100.64.0.0/16")  # world <-> top net qubes, one /30 each
TUNNEL = ipaddress.ip_network("100.65.0.0/16")  # world <-> vpn qubes, one /30 each
SYSTEM = [ipaddress.ip_network("10.137.0.0/16"), ipaddress.ip_network("10.138.0.0/16")]


@dataclass
class Node:
    name: str  # the model's name: a qube, or "@dispvm:T" for a disposable of T
    ns: str
    ip: str
    kind: str
    netvm: str  # the provider node's name, or "none"
    invented_ip: bool = False  # the policy gives none; only for routing
    vif: dict = field(default_factory=dict)  # provider: client name -> "vif<N>.0"
    rules: str = ""  # the qvm-firewall rules file that applies to it (dom0/qvm-firewall)


@dataclass
class Plan:
    prefix: str
    world: str
    nodes: dict  # name -> Node
    world_addresses: list  # addresses the world namespace answers on
    uplinks: dict = field(default_factory=dict)  # top provider -> (its addr, world addr)
    tunnels: dict = field(default_factory=dict)  # vpn provider -> (its addr, world addr)

    def providers(self):
        return [n for n in self.nodes.values() if n.kind in PROVIDER_KINDS]

    def clients_of(self, provider):
        return [n for n in self.nodes.values() if n.netvm == provider]

    def sources(self):
        """Nodes whose own packets the model judges: not forwarders (their netvm sees their
        clients' traffic under their address, docs/deploy.md)."""
        return [n for n in self.nodes.values()
                if n.netvm != "none" and not n.invented_ip and n.kind not in ("netvm", "firewall")]


def representatives(prefix_text, rng):
    """A few addresses inside a network object's IPv4 prefix: its ends and one inside."""
    net = ipaddress.ip_network(prefix_text, strict=False)
    if net.version != 4:
        return []
    if net.prefixlen == 0:
        return list(OUTSIDE)
    if net.num_addresses <= 2:
        return [str(net.network_address)]
    inner = net.network_address + rng.randrange(1, net.num_addresses - 1)
    return sorted({str(net.network_address + 1), str(inner), str(net.broadcast_address - 1)},
                  key=ipaddress.ip_address)


def plan(policy, prefix, out_dir, seed):
    rng = random.Random(seed)
    used = {q.ip for q in policy.qubes.values() if q.ip}
    free = (f"10.137.0.{i}" for i in range(254, 1, -1) if f"10.137.0.{i}" not in used)
    nodes = {}
    counter = iter(range(1, 1000))

    def add(name, kind, netvm, ip, invented=False, rules=""):
        nodes[name] = Node(name, f"{prefix}{next(counter)}", ip, kind, netvm, invented, rules=rules)

    rules_dir = out_dir / "dom0" / "qvm-firewall"
    for q in policy.qubes.values():
        if q.kind in PROVIDER_KINDS:  # a vpn qube has qvm-firewall rules of its own
            add(q.name, q.kind, q.netvm, q.ip or next(free), invented=not q.ip,
                rules=str(rules_dir / f"{q.name}.rules"))
        elif q.netvm != "none" and q.ip:
            add(q.name, q.kind, q.netvm, q.ip, rules=str(rules_dir / f"{q.name}.rules"))
    # One disposable for each dispvm-template with a netvm, from Qubes' disposables range.
    k = 0
    for q in policy.qubes.values():
        if q.kind == "dispvm-template" and q.netvm != "none":
            k += 1
            add(f"@dispvm:{q.name}", "disposable", q.netvm, f"10.138.250.{k}",
                rules=str(rules_dir / f"{q.name}.rules"))
    vif = iter(range(1, 1000))
    for n in nodes.values():
        if n.netvm != "none":
            nodes[n.netvm].vif[n.name] = f"vif{next(vif)}.0"

    world = set(OUTSIDE)
    for prefixes in policy.networks.values():
        for p in prefixes:
            world.update(representatives(p, rng))
    world = sorted((a for a in world if not any(ipaddress.ip_address(a) in s for s in SYSTEM)),
                   key=ipaddress.ip_address)
    result = Plan(prefix, f"{prefix}0", nodes, world)
    links = iter(UPLINK.subnets(new_prefix=30))
    tunnels = iter(TUNNEL.subnets(new_prefix=30))
    for p in result.providers():
        if p.netvm == "none":
            hosts = list(next(links).hosts())
            result.uplinks[p.name] = (str(hosts[1]), str(hosts[0]))
        if p.kind == "vpn":
            hosts = list(next(tunnels).hosts())
            result.tunnels[p.name] = (str(hosts[1]), str(hosts[0]))
    return result


def _sysctls(ns, forward):
    keys = {"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
            # nft's reject answers every probe at once instead of being rate-limited
            "net.ipv4.icmp_ratelimit": 0, "net.ipv4.icmp_msgs_per_sec": 1000000,
            "net.ipv4.icmp_msgs_burst": 1000000}
    if forward:
        keys["net.ipv4.ip_forward"] = 1
    for k, v in keys.items():
        netns.run("sysctl", "-qw", f"{k}={v}", ns=ns, check=False)


def build(p):
    """Makes the namespaces, links, addresses and routes of plan `p` (no firewall yet)."""
    netns.add(p.world)
    _sysctls(p.world, forward=False)
    for n in p.nodes.values():
        netns.add(n.ns)
        _sysctls(n.ns, forward=n.kind in PROVIDER_KINDS)
    cmds = []
    for a in p.world_addresses:
        cmds.append(f"-n {p.world} addr add {a}/32 dev lo")
    for n in p.nodes.values():
        if n.netvm == "none":
            continue
        gw = p.nodes[n.netvm]
        vif = gw.vif[n.name]
        cmds += [f"link add eth0 netns {n.ns} type veth peer name {vif} netns {gw.ns}",
                 f"-n {n.ns} link set eth0 group 1 up",
                 f"-n {n.ns} addr add {n.ip}/32 dev eth0",
                 f"-n {n.ns} route add {gw.ip}/32 dev eth0 scope link",
                 f"-n {gw.ns} link set {vif} group 2 up",
                 f"-n {gw.ns} addr add {gw.ip}/32 dev {vif}",
                 f"-n {gw.ns} route add {n.ip}/32 dev {vif}"]
        if n.kind != "vpn":
            cmds.append(f"-n {n.ns} route add default via {gw.ip} dev eth0")
    for i, (name, (mine, theirs)) in enumerate(sorted(p.uplinks.items())):
        n = p.nodes[name]
        cmds += [f"link add eth0 netns {n.ns} type veth peer name up{i} netns {p.world}",
                 f"-n {n.ns} link set eth0 group 1 up",
                 f"-n {n.ns} addr add {mine}/30 dev eth0",
                 f"-n {n.ns} route add default via {theirs}",
                 f"-n {p.world} link set up{i} up",
                 f"-n {p.world} addr add {theirs}/30 dev up{i}"]
        for s in SYSTEM:  # an upstream host that sends into the system (reply-direction probes)
            cmds.append(f"-n {p.world} route add {s} via {mine}")
    for i, (name, (mine, theirs)) in enumerate(sorted(p.tunnels.items())):
        # The tunnel stands in for WireGuard: what the clients send leaves through it, out of
        # the upstream firewall's sight; the vpn qube's own packets take its uplink.
        n, gw = p.nodes[name], p.nodes[p.nodes[name].netvm]
        cmds += [f"link add tun0 netns {n.ns} type veth peer name vpn{i} netns {p.world}",
                 f"-n {n.ns} link set tun0 up", f"-n {n.ns} addr add {mine}/30 dev tun0",
                 f"-n {p.world} link set vpn{i} up", f"-n {p.world} addr add {theirs}/30 dev vpn{i}",
                 f"-n {n.ns} route add default via {gw.ip} dev eth0",
                 f"-n {n.ns} route add default via {theirs} dev tun0 table 100",
                 f"-n {n.ns} route add {gw.ip}/32 dev eth0 table 100"]
        for vif in n.vif.values():
            cmds.append(f"-n {n.ns} rule add iif {vif} lookup 100")
    netns.batch(cmds)
