#include "graph.h"

#include <algorithm>
#include <tuple>

namespace bulkhead::analyzer {

std::string matchesKey(const std::vector<model::ServiceMatch>& matches) {
    std::vector<std::string> parts;
    for (const model::ServiceMatch& m : matches) {
        std::string part(model::protocolName(m.protocol));
        for (std::size_t i = 0; i < m.ports.size(); ++i)
            part +=
                (i ? "," : "/") + std::to_string(m.ports[i].low) +
                (m.ports[i].high != m.ports[i].low ? "-" + std::to_string(m.ports[i].high) : "");
        parts.push_back(std::move(part));
    }
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const std::string& p : parts)
        out += (out.empty() ? "" : " ") + p;
    return out;
}

NodeId Graph::add(Node n) {
    nodes_.push_back(std::move(n));
    return static_cast<NodeId>(nodes_.size() - 1);
}

void Graph::addEdge(Edge e) {
    edges_.push_back(std::move(e));
}

std::optional<NodeId> Graph::qubeNode(model::QubeId q) const {
    for (NodeId i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].kind == Node::Kind::Qube && nodes_[i].qube == q)
            return i;
    return std::nullopt;
}

std::optional<NodeId> Graph::disposablesOf(model::QubeId dvm) const {
    for (NodeId i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].kind == Node::Kind::Disposables && nodes_[i].qube == dvm)
            return i;
    return std::nullopt;
}

std::optional<NodeId> Graph::externalNode(const std::string& name) const {
    for (NodeId i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].kind == Node::Kind::External && nodes_[i].name == name)
            return i;
    return std::nullopt;
}

void Graph::seal() {
    auto key = [](const Edge& e) {
        return std::tie(e.from, e.to, e.kind, e.service, e.argument, e.needsAsk, e.initiator);
    };
    // Stable: among equal facts the first created (the earliest rule) is kept.
    std::stable_sort(edges_.begin(), edges_.end(),
                     [&](const Edge& a, const Edge& b) { return key(a) < key(b); });
    edges_.erase(std::unique(edges_.begin(), edges_.end(),
                             [&](const Edge& a, const Edge& b) { return key(a) == key(b); }),
                 edges_.end());
}

} // namespace bulkhead::analyzer
