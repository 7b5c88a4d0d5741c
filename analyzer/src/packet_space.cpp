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

} // namespace

bool endpointCovers(const model::Policy& policy, const model::Endpoint& e, const Node& n) {
    using K = model::Endpoint::Kind;
    switch (n.kind) {
    case Node::Kind::Qube:
        if (e.kind == K::Qube)
            return e.qube == n.qube;
        if (e.kind == K::Tag) {
            const auto& tags = policy.qubes[n.qube].tags;
            return std::binary_search(tags.begin(), tags.end(), e.tag);
        }
        return false;
    case Node::Kind::Disposables:
        // Qubes copies a dispvm-template's firewall rules into each of its disposables.
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

    // A packet of `m` from a to b inside flow f's addresses, described as describe() does,
    // without a solver: the lowest port or type of the first match, and for an external node
    // the first address both it and the flow's endpoints hold. f must concern a -> b.
    std::string packetOf(const model::ServiceMatch& m, const model::NetFlow& f, NodeId a,
                         NodeId b) {
        using P = model::Protocol;
        unsigned number = m.protocol == P::Tcp    ? 6
                          : m.protocol == P::Udp  ? 17
                          : m.protocol == P::Icmp ? 1
                                                  : 0;
        unsigned low = m.ports.empty() ? 0 : m.ports.front().low;
        std::string out = protocolText(number);
        if (number == 6 || number == 17)
            out += " port " + std::to_string(low);
        else if (number == 1)
            out += " type " + std::to_string(low & 0xff);
        auto addr = [&](NodeId n, const std::vector<model::Endpoint>& list) {
            const Node& node = graph.nodes()[n];
            if (node.kind != Node::Kind::External)
                return node.name;
            for (const IpPrefix& mine : node.prefixes)
                for (const model::Endpoint& e : list) {
                    const std::vector<IpPrefix> single{e.prefix};
                    const std::vector<IpPrefix>* theirs = e.kind == model::Endpoint::Kind::Network
                                                              ? &policy.networks[e.network].prefixes
                                                          : e.kind == model::Endpoint::Kind::Prefix
                                                              ? &single
                                                              : nullptr;
                    if (!theirs)
                        continue;
                    for (const IpPrefix& p : *theirs)
                        if (prefixesOverlap(mine, p))
                            return node.name + " (" + hostOf(longer(mine, p)) + ")";
                }
            return node.name; // unreachable while f concerns the pair
        };
        return out + " from " + addr(a, f.from) + " to " + addr(b, f.to);
    }

    // Of two overlapping prefixes, the one inside the other (in the shared 128-bit space).
    static const IpPrefix& longer(const IpPrefix& x, const IpPrefix& y) {
        auto bits = [](const IpPrefix& p) {
            return p.length + (p.family == IpPrefix::Family::V4 ? 96u : 0u);
        };
        return bits(x) >= bits(y) ? x : y;
    }

    // The first address of a prefix, as addressText() prints one.
    static std::string hostOf(const IpPrefix& p) {
        IpPrefix host = p.masked();
        host.length = host.maxLength();
        return host.str();
    }

    z3::expr denied(NodeId a, NodeId b) { return matching(model::Verdict::Deny, a, b); }

    // A deny wins over every allow, whatever the order (docs/semantics.md).
    z3::expr allowed(NodeId a, NodeId b) {
        return matching(model::Verdict::Allow, a, b) && !denied(a, b);
    }

    std::string describe(const z3::model& m, NodeId a, NodeId b) {
        auto value = [&](const z3::expr& e) {
            return static_cast<unsigned>(m.eval(e, true).get_numeral_uint64());
        };
        unsigned pr = value(proto);
        std::string out = protocolText(pr);
        if (pr == 6 || pr == 17)
            out += " port " + std::to_string(value(port));
        else if (pr == 1)
            out += " type " + std::to_string(value(port) & 0xff);
        auto addr = [&](NodeId n, const z3::expr& var) {
            const Node& node = graph.nodes()[n];
            if (node.kind != Node::Kind::External)
                return node.name;
            return node.name + " (" + addressText(m, var) + ")";
        };
        return out + " from " + addr(a, src) + " to " + addr(b, dst);
    }

    std::string addressText(const z3::model& m, const z3::expr& var) {
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
        return p.str();
    }

    std::optional<std::string> solve(const z3::expr& query, NodeId a, NodeId b) {
        try {
            solver.push();
            solver.add(query);
            z3::check_result r = solver.check();
            std::optional<std::string> out;
            if (r == z3::sat)
                out = describe(solver.get_model(), a, b);
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

PacketSpace::PacketSpace(const model::Policy& policy, const Graph& graph, std::uint64_t rlimit)
    : impl_(std::make_unique<Impl>(policy, graph, rlimit)) {}

PacketSpace::~PacketSpace() = default;

const FlowIndex& PacketSpace::flows() const {
    return impl_->index;
}

std::optional<std::string>
PacketSpace::permitted(const model::NetFlow& f, const model::ServiceUse& use, NodeId a, NodeId b) {
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
        return m.packetOf(mine.front(), f, a, b); // nothing else touches it
    z3::expr q = m.services(f.services) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) &&
                 m.listSide(f.from, a, m.src) && m.listSide(f.to, b, m.dst) && !m.denied(a, b) &&
                 !m.matching(model::Verdict::Allow, a, b, &f);
    return m.solve(q, a, b);
}

std::optional<std::string> PacketSpace::removedBy(const model::NetFlow& d, NodeId a, NodeId b) {
    Impl& m = *impl_;
    if (!m.concerns(d, a, b) || !m.anyOverlap(model::Verdict::Allow, a, b, allMatches(d.services)))
        return std::nullopt; // no allow it could take anything from
    z3::expr q = m.services(d.services) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) &&
                 m.listSide(d.from, a, m.src) && m.listSide(d.to, b, m.dst) &&
                 m.matching(model::Verdict::Allow, a, b);
    return m.solve(q, a, b);
}

std::optional<std::string> PacketSpace::unpermitted(const std::vector<model::ServiceUse>& uses,
                                                    NodeId a, NodeId b) {
    Impl& m = *impl_;
    z3::expr q =
        m.services(uses) && m.nodeSide(a, m.src) && m.nodeSide(b, m.dst) && !m.allowed(a, b);
    return m.solve(q, a, b);
}

} // namespace bulkhead::analyzer
