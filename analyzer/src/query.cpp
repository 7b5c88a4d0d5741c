// The question-answering face of the analyzer (analyzer.h: Analysis).
#include "bulkhead/analyzer/analyzer.h"

#include "analysis_impl.h"
#include "build_graph.h"
#include "packet_space.h"

#include "bulkhead/compiler/net_addressing.h"

#include <algorithm>
#include <stdexcept>

namespace bulkhead::analyzer {

Analysis::Analysis() : impl_(std::make_unique<Impl>()) {}
Analysis::~Analysis() = default;

std::unique_ptr<Analysis> Analysis::build(const model::Policy& policy,
                                          const AnalysisOptions& options) {
    std::unique_ptr<Analysis> a(new Analysis());
    try {
        a->impl_->built = buildGraph(policy, options);
        a->impl_->policy = &policy;
    } catch (const ProverUnknown& e) {
        throw std::runtime_error("could not prove: " + e.reason);
    }
    return a;
}

RpcDecision Analysis::decide(const std::string& service, const std::string& argument,
                             const std::string& caller, const std::string& target) const {
    const Built& b = *impl_->built;
    const rpc::System& sys = b.system;
    auto fail = [](const std::string& why) { return std::invalid_argument(why); };

    rpc::Caller c;
    if (caller.starts_with("@dispvm:")) {
        auto q = sys.find(caller.substr(8));
        if (!q || !sys.qubes[*q].dispvmTemplate)
            throw fail("no disposables of " + caller);
        c = {*q, true};
    } else {
        auto q = sys.find(caller);
        if (!q)
            throw fail("unknown caller " + caller);
        c = {*q, false};
    }
    rpc::Target t;
    if (target == "@adminvm")
        t = {rpc::Target::Kind::AdminVM, 0};
    else if (target == "@default")
        t = {rpc::Target::Kind::Default, 0};
    else if (target == "@dispvm")
        t = {rpc::Target::Kind::DispVM, 0};
    else if (target.starts_with("@dispvm:")) {
        auto q = sys.find(target.substr(8));
        if (!q || !sys.qubes[*q].dispvmTemplate)
            throw fail("not a template for dispvm: " + target);
        t = {rpc::Target::Kind::DispVMOf, *q};
    } else if (auto q = sys.find(target); q && target != "@adminvm") {
        t = {rpc::Target::Kind::Qube, *q};
    } else {
        t = {rpc::Target::Kind::Default, 0}; // Qubes turns unknown names into @default
    }

    rpc::Decision d = b.evaluator->evaluate(service, argument, c, t);
    RpcDecision out;
    out.result = d.result == rpc::Decision::Result::Allow ? "allow"
                 : d.result == rpc::Decision::Result::Ask ? "ask"
                                                          : "deny";
    for (const rpc::Landing& l : d.landings)
        out.targets.push_back(l.disposable ? "@dispvm:" + sys.qubes[l.qube].name
                                           : sys.qubes[l.qube].name);
    std::sort(out.targets.begin(), out.targets.end());
    if (d.rule)
        out.rule = d.rule->range;
    std::vector<const rpc::Rule*> all = b.evaluator->matching(service, argument, c, t);
    for (std::size_t i = 1; i < all.size(); ++i)
        out.beaten.push_back(all[i]->range);
    out.reason = d.reason;
    return out;
}

NetDecision Analysis::decideNet(const std::string& from, const std::string& to,
                                const std::string& protocol, std::uint16_t port) const {
    const model::Policy& p = *impl_->policy;
    const Graph& g = impl_->built->graph;
    auto a = impl_->node(from), b = impl_->node(to);
    // A destination address (not a node's name) stands for the qube or disposables it
    // belongs to (docs/deploy.md); any other address of the system is no flow's; an address
    // outside the system is covered by the networks and prefixes that contain it.
    std::optional<IpPrefix> address;
    if (a && !b) {
        AddressParse parsed = parseAddress(to);
        if (parsed.prefix && parsed.prefix->isHost()) {
            address = parsed.prefix;
            b = impl_->ownerOf(*address);
        }
    }
    if (!a || (!b && !address))
        throw std::invalid_argument("unknown node " + (a ? to : from));
    std::optional<model::Protocol> proto;
    for (auto candidate : {model::Protocol::Tcp, model::Protocol::Udp, model::Protocol::Icmp})
        if (model::protocolName(candidate) == protocol)
            proto = candidate;
    if (!proto)
        throw std::invalid_argument("protocol must be tcp, udp or icmp, not " + protocol);
    auto serviceMatches = [&](const model::NetFlow& f) {
        for (const model::ServiceUse& u : f.services)
            for (const model::ServiceMatch& m : u.matches) {
                if (m.protocol != model::Protocol::Any && m.protocol != *proto)
                    continue;
                if (m.ports.empty() || std::any_of(m.ports.begin(), m.ports.end(), [&](auto r) {
                        return r.low <= port && port <= r.high;
                    }))
                    return true;
            }
        return false;
    };
    // An endpoint list stands for a node when it names it, or for an external node when one
    // of its networks overlaps the node's addresses.
    model::NetAddressing addressing(p);
    bool internal =
        address && std::any_of(addressing.internal().begin(), addressing.internal().end(),
                               [&](const IpPrefix& x) { return x.contains(*address); });
    auto coversAddress = [&](const std::vector<model::Endpoint>& list) {
        if (internal)
            return false; // a network never stands for a qube's address
        for (const model::Endpoint& e : list) {
            std::vector<IpPrefix> prefixes;
            if (e.kind == model::Endpoint::Kind::Network)
                prefixes = p.networks[e.network].prefixes;
            else if (e.kind == model::Endpoint::Kind::Prefix)
                prefixes = {e.prefix};
            if (std::any_of(prefixes.begin(), prefixes.end(),
                            [&](const IpPrefix& x) { return x.contains(*address); }))
                return true;
        }
        return false;
    };
    auto covers = [&](const std::vector<model::Endpoint>& list, NodeId n) {
        const Node& node = g.nodes()[n];
        for (const model::Endpoint& e : list) {
            if (endpointCovers(p, e, node))
                return true;
            if (node.kind != Node::Kind::External)
                continue;
            std::vector<IpPrefix> prefixes;
            if (e.kind == model::Endpoint::Kind::Network)
                prefixes = p.networks[e.network].prefixes;
            else if (e.kind == model::Endpoint::Kind::Prefix)
                prefixes = {e.prefix};
            for (const IpPrefix& x : prefixes)
                for (const IpPrefix& y : node.prefixes)
                    if (x.contains(y) || y.contains(x))
                        return true;
        }
        return false;
    };
    NetDecision out;
    for (const model::NetFlow& f : p.flows) {
        if (!serviceMatches(f) || !covers(f.from, *a) ||
            !(b ? covers(f.to, *b) : coversAddress(f.to)))
            continue;
        (f.verdict == model::Verdict::Allow ? out.allows : out.denies).push_back(f.range);
    }
    out.permitted = !out.allows.empty() && out.denies.empty();
    return out;
}

std::vector<std::string> Analysis::nodes() const {
    std::vector<std::string> out;
    for (const Node& n : impl_->built->graph.nodes())
        out.push_back(n.name);
    return out;
}

bool Analysis::reaches(const std::string& from, const std::string& to) const {
    return !path(from, to).empty();
}

std::vector<Hop> Analysis::path(const std::string& from, const std::string& to) const {
    const Graph& g = impl_->built->graph;
    auto a = impl_->node(from), b = impl_->node(to);
    if (!a || !b)
        throw std::invalid_argument("unknown node " + (a ? to : from));
    std::vector<Hop> hops;
    if (*a == *b)
        return hops;
    auto found = shortestPath(g, {*a}, {*b}, EdgeFilter::all());
    for (const Edge& e : found.value_or(std::vector<Edge>{})) {
        hops.push_back({g.nodes()[e.from].name, g.nodes()[e.to].name,
                        std::string(model::edgeKindName(e.kind)) + (e.needsAsk ? ", ask" : ""),
                        e.detail, e.origin});
    }
    return hops;
}

std::vector<NetWitness> Analysis::netWitnesses() const {
    const Graph& g = impl_->built->graph;
    const model::Policy& p = *impl_->policy;
    model::NetAddressing addressing(p);
    // An external side's address is the witness's; a qube's is its `ip` (IPv4 first).
    auto address = [&](NodeId n, const std::optional<IpPrefix>& chosen) -> std::string {
        if (chosen)
            return chosen->str();
        const Node& node = g.nodes()[n];
        if (node.kind != Node::Kind::Qube)
            return "";
        std::string v6;
        for (const IpPrefix& own : addressing.addressesOf({node.qube, false})) {
            if (own.isHost() && own.family == IpPrefix::Family::V4)
                return own.str();
            if (own.isHost() && v6.empty())
                v6 = own.str();
        }
        return v6;
    };
    std::vector<NetWitness> out;
    for (const Edge& e : g.edges()) {
        if (e.kind != model::EdgeKind::Net || !e.packet)
            continue;
        const Packet& pk = *e.packet;
        NetWitness w;
        w.from = g.nodes()[e.from].name;
        w.to = g.nodes()[e.to].name;
        w.sender = g.nodes()[e.initiator].name;
        w.receiver = g.nodes()[e.responder].name;
        w.source = address(e.initiator, pk.source);
        w.destination = address(e.responder, pk.destination);
        w.protocol = pk.protocol == 6    ? "tcp"
                     : pk.protocol == 17 ? "udp"
                     : pk.protocol == 1  ? "icmp"
                                         : "ip protocol " + std::to_string(pk.protocol);
        w.port = pk.protocol == 6 || pk.protocol == 17 || pk.protocol == 1 ? pk.port : 0;
        w.detail = e.detail;
        w.origin = e.origin;
        out.push_back(std::move(w));
    }
    return out;
}

std::vector<std::string> Analysis::edges() const {
    const Graph& g = impl_->built->graph;
    std::vector<std::string> out;
    auto line = [&](NodeId from, NodeId to, const Edge& e) {
        out.push_back(g.nodes()[from].name + " => " + g.nodes()[to].name + " [" +
                      std::string(model::edgeKindName(e.kind)) + (e.needsAsk ? ", ask" : "") + "]");
    };
    for (const Edge& e : g.edges())
        line(e.from, e.to, e);
    for (const EdgeGroup& grp : g.groups())
        for (NodeId f : grp.from)
            for (NodeId t : grp.to)
                if (f != t)
                    line(f, t, grp.proto);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

} // namespace bulkhead::analyzer
