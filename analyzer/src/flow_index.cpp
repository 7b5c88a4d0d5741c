#include "flow_index.h"

#include "packet_space.h"

#include <algorithm>
#include <array>

namespace bulkhead::analyzer {
namespace {

// The prefix in the shared 128-bit space: IPv4 under ::ffff:0:0/96.
std::pair<std::array<std::uint8_t, 16>, unsigned> mapped128(const IpPrefix& p) {
    if (p.family != IpPrefix::Family::V4)
        return {p.bytes, p.length};
    std::array<std::uint8_t, 16> b{};
    b[10] = 0xff;
    b[11] = 0xff;
    std::copy_n(p.bytes.begin(), 4, b.begin() + 12);
    return {b, p.length + 96u};
}

bool matchesOverlap(const model::ServiceMatch& a, const model::ServiceMatch& b) {
    using P = model::Protocol;
    if (a.protocol == P::Any || b.protocol == P::Any)
        return true; // `any` takes no ports: every packet
    if (a.protocol != b.protocol)
        return false;
    if (a.ports.empty() || b.ports.empty())
        return true;
    for (const model::PortRange& x : a.ports)
        for (const model::PortRange& y : b.ports)
            if (x.low <= y.high && y.low <= x.high)
                return true;
    return false;
}

void addOnce(std::vector<std::size_t>& v, std::size_t flow) {
    if (v.empty() || v.back() != flow)
        v.push_back(flow);
}

} // namespace

bool prefixesOverlap(const IpPrefix& a, const IpPrefix& b) {
    auto [x, xl] = mapped128(a);
    auto [y, yl] = mapped128(b);
    unsigned len = std::min(xl, yl);
    for (unsigned bit = 0; bit < len; ++bit) {
        unsigned byte = bit / 8, shift = 7 - bit % 8;
        if (((x[byte] >> shift) & 1) != ((y[byte] >> shift) & 1))
            return false;
    }
    return true;
}

bool servicesOverlap(const std::vector<model::ServiceMatch>& a,
                     const std::vector<model::ServiceMatch>& b) {
    for (const model::ServiceMatch& x : a)
        for (const model::ServiceMatch& y : b)
            if (matchesOverlap(x, y))
                return true;
    return false;
}

std::vector<model::ServiceMatch> allMatches(const std::vector<model::ServiceUse>& uses) {
    std::vector<model::ServiceMatch> out;
    for (const model::ServiceUse& u : uses)
        out.insert(out.end(), u.matches.begin(), u.matches.end());
    return out;
}

FlowIndex::FlowIndex(const model::Policy& policy, const Graph& graph)
    : policy_(policy), graph_(graph), source_(graph.nodes().size()),
      destination_(graph.nodes().size()) {
    for (NodeId n = 0; n < graph.nodes().size(); ++n) {
        const Node& node = graph.nodes()[n];
        if (node.kind == Node::Kind::External) {
            externals_.push_back(n);
            continue;
        }
        for (const std::string& tag : policy.qubes[node.qube].tags)
            byTag_[tag].push_back(n);
    }
    // An external node is concerned by every address endpoint that overlaps it (a flow to
    // `internet` reaches the corp node's addresses too); a qube only by its name or tag.
    // Flows name the same few network objects over and over: remember each one's nodes.
    std::map<model::NetworkId, std::vector<NodeId>> byNetwork;
    auto concerned = [&](const model::Endpoint& e) {
        using K = model::Endpoint::Kind;
        if (e.kind == K::Qube || e.kind == K::Tag)
            return covered(e);
        if (e.kind == K::Network)
            if (auto it = byNetwork.find(e.network); it != byNetwork.end())
                return it->second;
        std::vector<NodeId> out;
        const std::vector<IpPrefix> single{e.prefix};
        const std::vector<IpPrefix>& mine =
            e.kind == K::Network ? policy.networks[e.network].prefixes : single;
        for (NodeId n : externals_)
            for (const IpPrefix& p : graph.nodes()[n].prefixes)
                if (std::any_of(mine.begin(), mine.end(),
                                [&](const IpPrefix& q) { return prefixesOverlap(p, q); })) {
                    out.push_back(n);
                    break;
                }
        if (e.kind == K::Network)
            byNetwork.emplace(e.network, out);
        return out;
    };
    for (std::size_t i = 0; i < policy.flows.size(); ++i) {
        for (const model::Endpoint& e : policy.flows[i].from)
            for (NodeId n : concerned(e))
                addOnce(source_[n], i);
        for (const model::Endpoint& e : policy.flows[i].to)
            for (NodeId n : concerned(e))
                addOnce(destination_[n], i);
    }
}

std::vector<std::size_t> FlowIndex::between(NodeId a, NodeId b) const {
    std::vector<std::size_t> out;
    std::set_intersection(source_.at(a).begin(), source_.at(a).end(), destination_.at(b).begin(),
                          destination_.at(b).end(), std::back_inserter(out));
    return out;
}

bool FlowIndex::concerns(std::size_t flow, NodeId a, NodeId b) const {
    return std::binary_search(source_.at(a).begin(), source_.at(a).end(), flow) &&
           std::binary_search(destination_.at(b).begin(), destination_.at(b).end(), flow);
}

std::vector<NodeId> FlowIndex::covered(const model::Endpoint& e) const {
    using K = model::Endpoint::Kind;
    switch (e.kind) {
    case K::Qube: {
        // NodeId == QubeId for qubes. A dispvm-template's name stands for its disposables
        // too (endpointCovers: Qubes copies its firewall rules into each of them).
        std::vector<NodeId> out{static_cast<NodeId>(e.qube)};
        if (auto d = graph_.disposablesOf(e.qube))
            out.push_back(*d);
        return out;
    }
    case K::Tag: {
        auto it = byTag_.find(e.tag);
        return it == byTag_.end() ? std::vector<NodeId>{} : it->second;
    }
    default: {
        std::vector<NodeId> out;
        for (NodeId n : externals_)
            if (endpointCovers(policy_, e, graph_.nodes()[n]))
                out.push_back(n);
        return out;
    }
    }
}

std::vector<NodeId> FlowIndex::nodesOf(const std::vector<model::Endpoint>& list) const {
    std::vector<NodeId> out;
    for (const model::Endpoint& e : list) {
        std::vector<NodeId> part = covered(e);
        out.insert(out.end(), part.begin(), part.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

} // namespace bulkhead::analyzer
