"""The kernel benchmark's allowed flows: (client, destination address, tcp port) triples
through one firewall qube, spread over CLIENTS client qubes, all distinct, with addresses
and ports scattered so that neither form can merge them into a few ranges. Deterministic."""
import ipaddress
import random

CLIENTS = 100
CLIENT_NET = ipaddress.ip_network("10.137.0.0/16")
DEST_NET = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544: benchmarking
FIREWALL_IP = "10.137.255.1"
SERVER_IP = "198.19.255.254"  # the server namespace's own address (an extra local route)


def client_ip(i):
    return str(CLIENT_NET.network_address + 256 + i)


def flows(count, seed=1):
    """count distinct (client index, destination, port), in a fixed order."""
    rng = random.Random(seed)
    seen, out = set(), []
    span = DEST_NET.num_addresses - 2
    while len(out) < count:
        c = len(out) % CLIENTS
        dst = str(DEST_NET.network_address + 1 + rng.randrange(span))
        port = rng.randrange(1024, 60000)
        if (c, dst, port) in seen:
            continue
        seen.add((c, dst, port))
        out.append((c, dst, port))
    return out


def policy(count, seed=1):
    """The flows as a Bulkhead policy: one firewall qube, CLIENTS clients behind it."""
    lines = ['policy "kernel-bench";', "",
             "trust low = red < high = black;",
             "template deb { trust high; }",
             "netvm sys-net { template deb; trust low; }",
             f"firewall sys-firewall {{ template deb; trust high; netvm sys-net; ip {FIREWALL_IP}; }}"]
    for i in range(CLIENTS):
        lines.append(f"qube c{i} {{ template deb; trust low; netvm sys-firewall; ip {client_ip(i)}; }}")
    lines.append("")
    for c, dst, port in flows(count, seed):
        lines.append(f"allow c{c} -> {dst} : tcp/{port};")
    return "\n".join(lines) + "\n"


def naive_ruleset(count, seed=1):
    """One rule per flow in a forward chain hooked like Bulkhead's, in flow order: what a
    tool writing rules one by one loads."""
    rules = [f"        ip saddr {client_ip(c)} ip daddr {dst} tcp dport {port} accept"
             for c, dst, port in flows(count, seed)]
    return ("table inet naive\ndelete table inet naive\ntable inet naive {\n"
            "    chain forward {\n"
            "        type filter hook forward priority filter - 10; policy accept;\n"
            "        ct state established,related accept\n"
            "        iifgroup != 2 accept\n" + "\n".join(rules) + "\n"
            "        reject with icmpx admin-prohibited\n    }\n}\n")


if __name__ == "__main__":
    import sys
    print(policy(int(sys.argv[1])), end="")
