#include "graph.h"

#include <algorithm>
#include <bit>
#include <deque>
#include <tuple>
#include <unordered_map>

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

// Nodes of one side in one 64-node block from which the block's entry (16 bytes) is
// smaller than an entry per node (4 bytes each).
constexpr int kDenseBlock = 4;

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
    // Grown by doubling and never added to after: up to half of each was spare capacity
    // held through the proofs.
    edges_.shrink_to_fit();
    groups_.shrink_to_fit();
    firstEdge_.assign(nodes_.size() + 1, edges_.size());
    for (std::size_t k = edges_.size(); k-- > 0;)
        firstEdge_[edges_[k].from] = k;
    for (std::size_t n = nodes_.size(); n-- > 0;)
        firstEdge_[n] = std::min(firstEdge_[n], firstEdge_[n + 1]);
    fromSidesOf_.assign(nodes_.size(), {});
    denseFromSides_.clear();
    groupsOfFromSide_.clear();
    std::unordered_map<const void*, std::uint32_t> sideIds; // by Side::identity (interned)
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
        const Side& from = groups_[gi].from;
        auto [it, fresh] =
            sideIds.emplace(from.identity(), static_cast<std::uint32_t>(groupsOfFromSide_.size()));
        // A copy, not the binding: clang 14 does not let a lambda capture a structured binding.
        std::uint32_t side = it->second;
        if (fresh) {
            groupsOfFromSide_.emplace_back();
            from.forEachBlock([&](NodeId k, std::uint64_t mask) {
                if (std::popcount(mask) >= kDenseBlock) {
                    if (denseFromSides_.size() <= k)
                        denseFromSides_.resize(k + 1);
                    denseFromSides_[k].push_back({mask, side});
                    return;
                }
                for (std::uint64_t bits = mask; bits; bits &= bits - 1)
                    fromSidesOf_[k * 64 + static_cast<NodeId>(std::countr_zero(bits))].push_back(
                        side);
            });
        }
        groupsOfFromSide_[side].push_back(static_cast<std::uint32_t>(gi));
    }
}

std::size_t EdgeGroup::pairs() const {
    // The nodes in both sides, 64 at a time: most sides are bitmaps or long lists.
    std::vector<std::pair<NodeId, std::uint64_t>> blocks;
    from.forEachBlock([&](NodeId k, std::uint64_t mask) { blocks.emplace_back(k, mask); });
    std::size_t both = 0;
    auto next = blocks.begin();
    to.forEachBlock([&](NodeId k, std::uint64_t mask) {
        while (next != blocks.end() && next->first < k)
            ++next;
        if (next != blocks.end() && next->first == k)
            both += static_cast<std::size_t>(std::popcount(next->second & mask));
    });
    return from.size() * to.size() - both;
}

EdgeFilter EdgeFilter::all() {
    return {[](const Edge&) { return true; }, [](const Edge&) { return Use::All; }};
}

std::size_t Graph::SideHash::operator()(const Side& s) const {
    return s.hash();
}

void Graph::addGroup(EdgeGroup g) {
    g.from = *sides_.insert(std::move(g.from)).first;
    g.to = *sides_.insert(std::move(g.to)).first;
    groups_.push_back(std::move(g));
}

Edge Graph::pairEdge(const EdgeGroup& g, NodeId from, NodeId to) const {
    Edge e = g.proto;
    e.from = from;
    e.to = to;
    e.initiator = g.initiatorIsFrom ? from : to;
    e.responder = g.initiatorIsFrom ? to : from;
    e.detail += " from " + nodes_[e.initiator].name + " to " + nodes_[e.responder].name;
    return e;
}

std::size_t Graph::edgeCount() const {
    std::size_t n = edges_.size();
    for (const EdgeGroup& g : groups_)
        n += g.pairs();
    return n;
}

namespace {

// An edge of the search: a concrete edge, or one pair of a group.
struct Ref {
    static constexpr std::size_t kGroup = SIZE_MAX;
    std::size_t concrete = kGroup;
    std::uint32_t group = 0;
    NodeId from = 0, to = 0;
};

class Search {
public:
    Search(const Graph& g, const EdgeFilter& usable) : g_(g), usable_(usable) {
        std::size_t n = g.nodes().size();
        isTarget_.assign(n, false);
        seen_.assign(n, false);
        offered_.assign(n, false);
        best_.resize(n);
        parent_.resize(n);
        use_.assign(g.groups().size(), kUnknown);
        done_.assign(g.groups().size(), false);
    }

    // Breadth-first from the sources; stops at the first target (returned), else nothing.
    std::optional<NodeId> run(const std::vector<NodeId>& sources,
                              const std::vector<NodeId>& targets) {
        for (NodeId t : targets)
            isTarget_[t] = true;
        std::deque<NodeId> queue;
        for (NodeId s : sources) {
            if (!seen_[s])
                order_.push_back(s);
            seen_[s] = true;
            queue.push_back(s);
        }
        while (!queue.empty()) {
            NodeId u = queue.front();
            queue.pop_front();
            expand(u);
            std::sort(offers_.begin(), offers_.end());
            for (NodeId v : offers_)
                if (isTarget_[v]) {
                    hit_ = best_[v];
                    return v;
                }
            for (NodeId v : offers_) {
                offered_[v] = false;
                seen_[v] = true;
                parent_[v] = best_[v];
                order_.push_back(v);
                queue.push_back(v);
            }
            offers_.clear();
        }
        return std::nullopt;
    }

    std::vector<Edge> path() const {
        std::vector<Edge> out{edgeOf(hit_)};
        for (NodeId at = hit_.from; parent_[at]; at = parent_[at]->from)
            out.push_back(edgeOf(*parent_[at]));
        std::reverse(out.begin(), out.end());
        return out;
    }
    const std::vector<NodeId>& order() const { return order_; }

private:
    static constexpr std::uint8_t kUnknown = 255;

    Edge edgeOf(const Ref& r) const {
        return r.concrete != Ref::kGroup ? g_.edges()[r.concrete]
                                         : g_.pairEdge(g_.groups()[r.group], r.from, r.to);
    }
    const Edge& label(const Ref& r) const {
        return r.concrete != Ref::kGroup ? g_.edges()[r.concrete] : g_.groups()[r.group].proto;
    }
    NodeId initiator(const Ref& r) const {
        if (r.concrete != Ref::kGroup)
            return g_.edges()[r.concrete].initiator;
        return g_.groups()[r.group].initiatorIsFrom ? r.from : r.to;
    }
    // seal()'s order among the edges of one (from, to) pair.
    bool less(const Ref& a, const Ref& b) const {
        const Edge& x = label(a);
        const Edge& y = label(b);
        NodeId ia = initiator(a), ib = initiator(b);
        // Among equal labels the concrete edge first, then the lowest group: the answer does
        // not depend on the order expand() meets them in.
        return std::tie(x.kind, x.service, x.argument, x.needsAsk, ia, a.concrete, a.group) <
               std::tie(y.kind, y.service, y.argument, y.needsAsk, ib, b.concrete, b.group);
    }
    bool wanted(NodeId v) const { return isTarget_[v] || !seen_[v]; }
    void offer(NodeId v, const Ref& r) {
        if (!offered_[v]) {
            offered_[v] = true;
            best_[v] = r;
            offers_.push_back(v);
        } else if (less(r, best_[v])) {
            best_[v] = r;
        }
    }

    void expand(NodeId u) {
        for (std::size_t i = g_.firstEdge(u); i < g_.firstEdge(u + 1); ++i) {
            const Edge& e = g_.edges()[i];
            if (wanted(e.to) && usable_.edge(e))
                offer(e.to, Ref{i, 0, u, e.to});
        }
        g_.forGroupsFrom(u, [&](std::uint32_t gi) { expandGroup(u, gi); });
    }

    void expandGroup(NodeId u, std::uint32_t gi) {
        if (done_[gi])
            return;
        const EdgeGroup& grp = g_.groups()[gi];
        if (use_[gi] == kUnknown)
            use_[gi] = static_cast<std::uint8_t>(usable_.group(grp.proto));
        auto use = static_cast<Use>(use_[gi]);
        // Once every landing is seen and none is a target, no member gains anything.
        if (use == Use::None ||
            std::none_of(grp.to.begin(), grp.to.end(), [&](NodeId v) { return wanted(v); })) {
            done_[gi] = true;
            return;
        }
        std::optional<Edge> scratch;
        for (NodeId v : grp.to) {
            if (v == u || !wanted(v))
                continue;
            if (use == Use::Some) {
                if (!scratch)
                    scratch = grp.proto;
                scratch->from = u;
                scratch->to = v;
                scratch->initiator = grp.initiatorIsFrom ? u : v;
                scratch->responder = grp.initiatorIsFrom ? v : u;
                if (!usable_.edge(*scratch))
                    continue;
            }
            offer(v, Ref{Ref::kGroup, gi, u, v});
        }
    }

    const Graph& g_;
    const EdgeFilter& usable_;
    std::vector<bool> isTarget_, seen_, offered_;
    std::vector<Ref> best_;
    std::vector<std::optional<Ref>> parent_;
    std::vector<std::uint8_t> use_; // by group: a Use, or kUnknown
    std::vector<bool> done_;
    std::vector<NodeId> offers_, order_;
    Ref hit_;
};

} // namespace

std::optional<std::vector<Edge>> shortestPath(const Graph& g, const std::vector<NodeId>& sources,
                                              const std::vector<NodeId>& targets,
                                              const EdgeFilter& usable) {
    Search s(g, usable);
    if (!s.run(sources, targets))
        return std::nullopt;
    return s.path();
}

std::vector<NodeId> reachOrder(const Graph& g, NodeId start) {
    EdgeFilter all = EdgeFilter::all();
    Search s(g, all);
    s.run({start}, {});
    return s.order();
}

} // namespace bulkhead::analyzer
