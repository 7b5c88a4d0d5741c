#include "graph.h"

#include <algorithm>
#include <deque>
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
    auto id = static_cast<NodeId>(nodes_.size());
    if (n.kind == Node::Kind::Disposables)
        disposables_.emplace(n.qube, id);
    else if (n.kind == Node::Kind::External)
        externals_.emplace(n.name, id);
    nodes_.push_back(std::move(n));
    return id;
}

void Graph::addEdge(Edge e) {
    edges_.push_back(std::move(e));
}

std::optional<NodeId> Graph::disposablesOf(model::QubeId dvm) const {
    auto it = disposables_.find(dvm);
    return it == disposables_.end() ? std::nullopt : std::optional<NodeId>(it->second);
}

std::optional<NodeId> Graph::externalNode(const std::string& name) const {
    auto it = externals_.find(name);
    return it == externals_.end() ? std::nullopt : std::optional<NodeId>(it->second);
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
    firstEdge_.assign(nodes_.size() + 1, edges_.size());
    for (std::size_t k = edges_.size(); k-- > 0;)
        firstEdge_[edges_[k].from] = k;
    for (std::size_t n = nodes_.size(); n-- > 0;)
        firstEdge_[n] = std::min(firstEdge_[n], firstEdge_[n + 1]);
}

std::optional<std::vector<std::size_t>>
shortestPath(const Graph& g, const std::vector<NodeId>& sources, const std::vector<NodeId>& targets,
             const std::function<bool(const Edge&)>& usable) {
    std::vector<bool> isTarget(g.nodes().size(), false);
    for (NodeId t : targets)
        isTarget[t] = true;
    std::vector<std::optional<std::size_t>> parent(g.nodes().size());
    std::vector<bool> seen(g.nodes().size(), false);
    std::deque<NodeId> queue;
    for (NodeId s : sources) {
        seen[s] = true;
        queue.push_back(s);
    }
    while (!queue.empty()) {
        NodeId u = queue.front();
        queue.pop_front();
        for (std::size_t i = g.firstEdge(u); i < g.firstEdge(u + 1); ++i) {
            const Edge& e = g.edges()[i];
            if (!usable(e))
                continue;
            if (isTarget[e.to]) {
                std::vector<std::size_t> path{i};
                for (NodeId at = u; parent[at]; at = g.edges()[*parent[at]].from)
                    path.push_back(*parent[at]);
                std::reverse(path.begin(), path.end());
                return path;
            }
            if (seen[e.to])
                continue;
            seen[e.to] = true;
            parent[e.to] = i;
            queue.push_back(e.to);
        }
    }
    return std::nullopt;
}

} // namespace bulkhead::analyzer
