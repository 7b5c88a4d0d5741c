#include "packet_space.h"

#include "flow_index.h"

#include <z3++.h>

#include <algorithm>

namespace bulkhead::analyzer {
namespace {

constexpr unsigned kAddrBits = 128;

// IPv4 lives in ::ffff:0:0/96 so both families share one 128-bit space without overlap.
std::pair<std::string, unsigned> mapped(const IpPrefix& p) {
    std::array<std::uint8_t, 16> b{};
    unsigned len = p.length;
    if (p.family == IpPrefix::Family::V4) {
        b[10] = 0xff;
        b[11] = 0xff;
        std::copy_n(p.bytes.begin(), 4, b.begin() + 12);
        len += 96;
    } else {
        b = p.bytes;
    }
    std::string bits;
    for (std::uint8_t byte : b)
        for (int i = 7; i >= 0; --i)
            bits += ((byte >> i) & 1) ? '1' : '0';
    return {bits, len};
}

std::string protocolText(unsigned proto) {
    switch (proto) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
        return "icmp";
    default:
        return "ip protocol " + std::to_string(proto);
    }
}

// Addresses no packet is sent to: "this network", loopback, multicast and reserved (IPv4);
// the reserved ::/8 (unspecified, loopback, IPv4-mapped) and multicast (IPv6).
const std::vector<IpPrefix>& unsendable(IpPrefix::Family family) {
    auto parse = [](std::initializer_list<const char*> texts) {
        std::vector<IpPrefix> out;
        for (const char* t : texts)
            out.push_back(*parseAddress(t).prefix);
        return out;
    };
    static const std::vector<IpPrefix> v4 = parse({"0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/3"});
    static const std::vector<IpPrefix> v6 = parse({"::/8", "ff00::/8"});
    return family == IpPrefix::Family::V4 ? v4 : v6;
}

bool sendable(const IpPrefix& host) {
    const auto& bad = unsendable(host.family);
    return std::none_of(bad.begin(), bad.end(),
                        [&](const IpPrefix& r) { return r.contains(host); });
}

// The first address of p one could send a packet to; nothing when p holds none.
std::optional<IpPrefix> sendableHost(const IpPrefix& p) {
    IpPrefix host = p.masked();
    host.length = host.maxLength();
    const std::size_t size = host.family == IpPrefix::Family::V4 ? 4 : 16;
    for (const IpPrefix& r : unsendable(host.family)) { // in address order: one pass skips all
        if (!r.contains(host))
            continue;
        for (std::size_t i = 0; i < size; ++i) // the last address of r
            if (i * 8 + 8 > r.length)
                host.bytes[i] |=
                    static_cast<std::uint8_t>(0xff >> (i * 8 >= r.length ? 0 : r.length - i * 8));
        std::size_t i = size; // plus one
        while (i > 0 && ++host.bytes[i - 1] == 0)
            --i;
        if (i == 0)
            return std::nullopt;
    }
    return p.contains(host) && sendable(host) ? std::optional<IpPrefix>(host) : std::nullopt;
}

// Both external sides of a packet hold a sendable IPv4 address (a qube side holds none).
bool preferred(const Packet& pk) {
    for (const auto& a : {pk.source, pk.destination})
        if (a && (a->family != IpPrefix::Family::V4 || !sendable(*a)))
            return false;
    return true;
}

} // namespace

bool endpointCovers(const model::Policy& policy, const model::Endpoint& e, const Node& n) {
    using K = model::Endpoint::Kind;
    switch (n.kind) {
    case Node::Kind::Qube:
    case Node::Kind::Disposables:
        // A disposable carries its dispvm-template's tags and firewall rules (Qubes copies
        // them), so naming the template names its disposables too.
        if (e.kind == K::Qube)
            return e.qube == n.qube;
        if (e.kind == K::Tag) {
            const auto& tags = policy.qubes[n.qube].tags;
            return std::binary_search(tags.begin(), tags.end(), e.tag);
        }
        return false;
    case Node::Kind::External:
        return (e.kind == K::Network && n.network == e.network) ||
               (e.kind == K::Prefix && !n.network && n.prefixes.size() == 1 &&
                n.prefixes[0] == e.prefix);
    }
    return false;
}

struct PacketSpace::Impl {
    const model::Policy& policy;
    const Graph& graph;
    FlowIndex index;
    z3::context ctx;
    z3::solver solver;
    z3::expr src, dst, proto, port;

    Impl(const model::Policy& p, const Graph& g, std::uint64_t rlimit)
        : policy(p), graph(g), index(p, g), solver(ctx, z3::solver::simple()),
          src(ctx.bv_const("src", kAddrBits)), dst(ctx.bv_const("dst", kAddrBits)),
          proto(ctx.bv_const("proto", 8)), port(ctx.bv_const("port", 16)) {
        z3::params params(ctx);
        params.set("rlimit", static_cast<unsigned>(std::min<std::uint64_t>(rlimit, UINT32_MAX)));
        solver.set(params);
    }

    z3::expr in(const z3::expr& var, const IpPrefix& p) {
        auto [bits, len] = mapped(p);
        if (len == 0)
            return ctx.bool_val(true);
        z3::expr slice = var.extract(kAddrBits - 1, kAddrBits - len);
        return slice == bitsValue(bits.substr(0, len));
    }

    // A bit-vector numeral from a string of '0'/'1' of any length.
    z3::expr bitsValue(const std::string& bits) {
        // z3++ has no bool-array constructor for bv values in 4.8.12; build from 64-bit chunks.
        z3::expr_vector parts(ctx);
        for (std::size_t i = 0; i < bits.size(); i += 64) {
            std::size_t n = std::min<std::size_t>(64, bits.size() - i);
            std::uint64_t chunk = 0;
            for (std::size_t k = 0; k < n; ++k)
                chunk = (chunk << 1) | (bits[i + k] == '1' ? 1u : 0u);
            parts.push_back(ctx.bv_val(chunk, static_cast<unsigned>(n)));
        }
        z3::expr out = parts[0];
        for (int i = 1; i < static_cast<int>(parts.size()); ++i)
            out = z3::concat(out, parts[i]);
        return out;
    }

    z3::expr inAny(const z3::expr& var, const std::vector<IpPrefix>& ps) {
        z3::expr_vector v(ctx);
        for (const IpPrefix& p : ps)
            v.push_back(in(var, p));
        return z3::mk_or(v);
    }

    z3::expr service(const std::vector<model::ServiceMatch>& matches) {
        z3::expr_vector any(ctx);
        for (const model::ServiceMatch& m : matches) {
            using P = model::Protocol;
            if (m.protocol == P::Any) {
                any.push_back(ctx.bool_val(true));
                continue;
            }
            unsigned number = m.protocol == P::Tcp ? 6 : m.protocol == P::Udp ? 17 : 1;
            z3::expr_vector ports(ctx);
            for (const model::PortRange& r : m.ports)
                ports.push_back(z3::uge(port, ctx.bv_val(r.low, 16)) &&
                                z3::ule(port, ctx.bv_val(r.high, 16)));
            z3::expr p = proto == ctx.bv_val(number, 8);
            any.push_back(m.ports.empty() ? p : p && z3::mk_or(ports));
        }
        return z3::mk_or(any);
    }

    z3::expr services(const std::vector<model::ServiceUse>& uses) {
        z3::expr_vector v(ctx);
        for (const model::ServiceUse& u : uses)
            v.push_back(service(u.matches));
        return z3::mk_or(v);
    }

    // The node itself as one side of a packet: external nodes constrain the address.
    z3::expr nodeSide(NodeId n, const z3::expr& var) {
        const Node& node = graph.nodes()[n];
        return node.kind == Node::Kind::External ? inAny(var, node.prefixes) : ctx.bool_val(true);
    }

    // Does a rule's endpoint list cover this side of the packet?
    z3::expr listSide(const std::vector<model::Endpoint>& list, NodeId n, const z3::expr& var) {
        const Node& node = graph.nodes()[n];
        z3::expr_vector v(ctx);
        for (const model::Endpoint& e : list) {
            if (node.kind != Node::Kind::External) {
                if (endpointCovers(policy, e, node))
                    v.push_back(ctx.bool_val(true));
                continue;
            }
            if (e.kind == model::Endpoint::Kind::Network)
                v.push_back(inAny(var, policy.networks[e.network].prefixes));
            else if (e.kind == model::Endpoint::Kind::Prefix)
                v.push_back(in(var, e.prefix));
        }
        return z3::mk_or(v);
    }

    // Packets from a to b that some flow with this verdict matches. Only the flows that
    // concern the pair can match one (flow_index.h): the others are left out of the term.
    z3::expr matching(model::Verdict verdict, NodeId a, NodeId b,
                      const model::NetFlow* except = nullptr) {
        z3::expr_vector v(ctx);
        for (std::size_t i : index.between(a, b)) {
            const model::NetFlow& f = policy.flows[i];
            if (f.verdict == verdict && &f != except)
                v.push_back(services(f.services) && listSide(f.from, a, src) &&
                            listSide(f.to, b, dst));
        }
        return z3::mk_or(v);
    }

    // Is there a flow of this verdict concerning a -> b whose services meet `matches`?
    // When there is none, no packet of `matches` is touched by one: exact, and no solver.
    bool anyOverlap(model::Verdict verdict, NodeId a, NodeId b,
                    const std::vector<model::ServiceMatch>& matches,
                    const model::NetFlow* except = nullptr) {
        for (std::size_t i : index.between(a, b)) {
            const model::NetFlow& f = policy.flows[i];
            if (f.verdict == verdict && &f != except &&
                servicesOverlap(allMatches(f.services), matches))
                return true;
        }
        return false;
    }

    bool concerns(const model::NetFlow& f, NodeId a, NodeId b) {
        return index.concerns(static_cast<std::size_t>(&f - policy.flows.data()), a, b);
    }

    // A packet of `m` from a to b inside flow f's addresses, without a solver: the lowest
    // port or type of the first match, and for an external node the first sendable address
    // both it and the flow's endpoints hold (IPv4 first). f must concern a -> b.
    Witness packetOf(const model::ServiceMatch& m, const model::NetFlow& f, NodeId a, NodeId b) {
        using P = model::Protocol;
        unsigned number = m.protocol == P::Tcp    ? 6
                          : m.protocol == P::Udp  ? 17
                          : m.protocol == P::Icmp ? 1
                                                  : 0;
        unsigned low = m.ports.empty() ? 0 : m.ports.front().low;
        Packet pk;
        pk.protocol = number;
        pk.port = number == 1 ? low & 0xff : low;
        auto addr = [&](NodeId n,
                        const std::vector<model::Endpoint>& list) -> std::optional<IpPrefix> {
            const Node& node = graph.nodes()[n];
            if (node.kind != Node::Kind::External)
                return std::nullopt;
            std::optional<IpPrefix> first; // when no shared address is sendable
            for (auto family : {IpPrefix::Family::V4, IpPrefix::Family::V6})
                for (const IpPrefix& mine : node.prefixes) {
                    if (mine.family != family)
                        continue;
                    for (const model::Endpoint& e : list) {
                        const std::vector<IpPrefix> single{e.prefix};
                        const std::vector<IpPrefix>* theirs =
                            e.kind == model::Endpoint::Kind::Network
                                ? &policy.networks[e.network].prefixes
                            : e.kind == model::Endpoint::Kind::Prefix ? &single
                                                                      : nullptr;
                        if (!theirs)
                            continue;
                        for (const IpPrefix& p : *theirs) {
                            if (!prefixesOverlap(mine, p))
                                continue;
                            if (auto host = sendableHost(longer(mine, p)))
                                return host;
                            if (!first)
                                first = hostOf(longer(mine, p));
                        }
                    }
                }
            return first; // empty: unreachable while f concerns the pair
        };
        pk.source = addr(a, f.from);
        pk.destination = addr(b, f.to);
        return {pk, text(pk, a, b)};
    }

    // Of two overlapping prefixes, the one inside the other (in the shared 128-bit space).
    static const IpPrefix& longer(const IpPrefix& x, const IpPrefix& y) {
        auto bits = [](const IpPrefix& p) {
            return p.length + (p.family == IpPrefix::Family::V4 ? 96u : 0u);
        };
        return bits(x) >= bits(y) ? x : y;
    }

    // The first address of a prefix.
    static IpPrefix hostOf(const IpPrefix& p) {
        IpPrefix host = p.masked();
        host.length = host.maxLength();
        return host;
    }

    z3::expr denied(NodeId a, NodeId b) { return matching(model::Verdict::Deny, a, b); }

    // A deny wins over every allow, whatever the order (docs/semantics.md).
    z3::expr allowed(NodeId a, NodeId b) {
        return matching(model::Verdict::Allow, a, b) && !denied(a, b);
    }

    // "udp port 53 from work to internet (1.0.0.0)": the report's words for a packet.
    std::string text(const Packet& pk, NodeId a, NodeId b) const {
        std::string out = protocolText(pk.protocol);
        if (pk.protocol == 6 || pk.protocol == 17)
            out += " port " + std::to_string(pk.port);
        else if (pk.protocol == 1)
            out += " type " + std::to_string(pk.port);
        auto side = [&](NodeId n, const std::optional<IpPrefix>& address) {
            return graph.nodes()[n].name + (address ? " (" + address->str() + ")" : "");
        };
        return out + " from " + side(a, pk.source) + " to " + side(b, pk.destination);
    }

    Witness describe(const z3::model& m, NodeId a, NodeId b) {
        auto value = [&](const z3::expr& e) {
            return static_cast<unsigned>(m.eval(e, true).get_numeral_uint64());
        };
        Packet pk;
        pk.protocol = value(proto);
        pk.port = pk.protocol == 1 ? value(port) & 0xff : value(port);
        auto addr = [&](NodeId n, const z3::expr& var) -> std::optional<IpPrefix> {
            if (graph.nodes()[n].kind != Node::Kind::External)
                return std::nullopt;
            return addressOf(m, var);
        };
        pk.source = addr(a, src);
        pk.destination = addr(b, dst);
        return {pk, text(pk, a, b)};
    }

    // The address side `var` holds a sendable one: IPv4 first when `v4`.
    z3::expr sendableSide(const z3::expr& var, bool v4) {
        static const IpPrefix mapped = *parseAddress("::ffff:0:0/96").prefix;
        z3::expr isV4 = in(var, mapped);
        z3::expr ok = (isV4 && !inAny(var, unsendable(IpPrefix::Family::V4))) ||
                      (!isV4 && !inAny(var, unsendable(IpPrefix::Family::V6)));
        return v4 ? isV4 && ok : ok;
    }

    IpPrefix addressOf(const z3::model& m, const z3::expr& var) {
        z3::expr v = m.eval(var, true);
        IpPrefix p;
        std::array<std::uint8_t, 16> bytes{};
        for (unsigned i = 0; i < 16; ++i) {
            z3::expr byte = v.extract(kAddrBits - 1 - 8 * i, kAddrBits - 8 - 8 * i).simplify();
            bytes[i] = static_cast<std::uint8_t>(byte.get_numeral_uint());
        }
        bool v4 = std::all_of(bytes.begin(), bytes.begin() + 10, [](auto x) { return x == 0; }) &&
                  bytes[10] == 0xff && bytes[11] == 0xff;
        if (v4) {
            p.family = IpPrefix::Family::V4;
            std::copy_n(bytes.begin() + 12, 4, p.bytes.begin());
            p.length = 32;
        } else {
            p.family = IpPrefix::Family::V6;
            p.bytes = bytes;
            p.length = 128;
        }
        return p;
    }

    // A packet of `query`. When the first model holds an address no one sends to (::,
    // 0.0.0.0, multicast) or IPv6 where IPv4 would do, it asks again for a sendable IPv4,
    // then any sendable, address: a witness one can replay. Unsat costs one check.
    std::optional<Witness> solve(const z3::expr& query, NodeId a, NodeId b) {
        try {
            solver.push();
            solver.add(query);
            z3::check_result r = solver.check();
            std::optional<Witness> out;
            if (r == z3::sat)
                out = describe(solver.get_model(), a, b);
            for (bool v4 : {true, false}) {
                if (!out || preferred(out->packet))
                    break;
                solver.push();
                solver.add(sendableSide(src, v4) && sendableSide(dst, v4));
                if (solver.check() == z3::sat) {
                    out = describe(solver.get_model(), a, b);
                    solver.pop();
                    break;
                }
                solver.pop();
            }
            std::string why = r == z3::unknown ? solver.reason_unknown() : "";
            solver.pop();
            if (r == z3::unknown)
                throw ProverUnknown{why};
            return out;
        } catch (const z3::exception& e) {
            throw ProverUnknown{e.msg()};
        }
    }
};

namespace {
std::optional<std::string> textOf(const std::optional<Witness>& w) {
    return w ? std::optional<std::string>(w->text) : std::nullopt;
}
} // namespace

PacketSpace::PacketSpace(const model::Policy& policy, const Graph& graph, std::uint64_t rlimit)
    : impl_(std::make_unique<Impl>(policy, graph, rlimit)) {}

PacketSpace::~PacketSpace() = default;

const FlowIndex& PacketSpace::flows() const {
    return impl_->index;
}

std::optional<Witness> PacketSpace::permitted(const model::NetFlow& f, const model::ServiceUse& use,
                                              NodeId a, NodeId b) {
    Impl& m = *impl_;
    if (use.matches.empty() || !m.concerns(f, a, b))
        return std::nullopt;
    if (!m.anyOverlap(model::Verdict::Deny, a, b, use.matches))
        return m.packetOf(use.matches.front(), f, a, b); // no deny touches it
    z3::expr q = m.service(use.matches) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) &&
                 m.listSide(f.from, a, m.src) && m.listSide(f.to, b, m.dst) && !m.denied(a, b);
    return m.solve(q, a, b);
}

std::optional<std::string> PacketSpace::permittedOnlyBy(const model::NetFlow& f, NodeId a,
                                                        NodeId b) {
    Impl& m = *impl_;
    std::vector<model::ServiceMatch> mine = allMatches(f.services);
    if (mine.empty() || !m.concerns(f, a, b))
        return std::nullopt;
    if (!m.anyOverlap(model::Verdict::Deny, a, b, mine) &&
        !m.anyOverlap(model::Verdict::Allow, a, b, mine, &f))
        return m.packetOf(mine.front(), f, a, b).text; // nothing else touches it
    z3::expr q = m.services(f.services) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) &&
                 m.listSide(f.from, a, m.src) && m.listSide(f.to, b, m.dst) && !m.denied(a, b) &&
                 !m.matching(model::Verdict::Allow, a, b, &f);
    return textOf(m.solve(q, a, b));
}

std::optional<std::string> PacketSpace::removedBy(const model::NetFlow& d, NodeId a, NodeId b) {
    Impl& m = *impl_;
    if (!m.concerns(d, a, b) || !m.anyOverlap(model::Verdict::Allow, a, b, allMatches(d.services)))
        return std::nullopt; // no allow it could take anything from
    z3::expr q = m.services(d.services) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) &&
                 m.listSide(d.from, a, m.src) && m.listSide(d.to, b, m.dst) &&
                 m.matching(model::Verdict::Allow, a, b);
    return textOf(m.solve(q, a, b));
}

std::optional<std::string> PacketSpace::unpermitted(const std::vector<model::ServiceUse>& uses,
                                                    NodeId a, NodeId b) {
    Impl& m = *impl_;
    z3::expr q =
        m.services(uses) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) && !m.allowed(a, b);
    return textOf(m.solve(q, a, b));
}

const std::vector<IpPrefix>& unsendableAddresses(IpPrefix::Family family) {
    return unsendable(family);
}

} // namespace bulkhead::analyzer
