#pragma once
// The influence graph of docs/semantics.md: nodes, typed edges with their origin.
#include "bulkhead/compiler/model.h"
#include "side.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace bulkhead::analyzer {

struct Node {
    enum class Kind : std::uint8_t { Qube, Disposables, External };
    Kind kind = Kind::Qube;
    std::string name;                        // qube name, "@dispvm:X", network object or literal
    model::QubeId qube = 0;                  // Qube; for Disposables: the dispvm-template X
    std::optional<model::NetworkId> network; // External from a network object
    std::vector<IpPrefix> prefixes;          // External
    std::optional<model::LevelId> trust;     // empty: dom0 (top) or external (bottom)
};

// A concrete packet: IP protocol number, tcp/udp port or ICMP type, and the address chosen on
// each external side (a qube side is the qube itself, whatever its address).
struct Packet {
    unsigned protocol = 0;
    unsigned port = 0;
    std::optional<IpPrefix> source, destination; // one host each; external sides only
};

struct Edge {
    NodeId from = 0;
    NodeId to = 0;
    model::EdgeKind kind = model::EdgeKind::Net;
    bool needsAsk = false;
    std::string service;  // rpc: service name ("" for other services); net: service name or spec
    std::string argument; // rpc: argument class ("" for any other argument)
    std::optional<model::ServiceId> netService; // net edges from a declared service
    std::string netMatches;       // net edges: the service's protocols and ports, canonical text
    std::string detail;           // a concrete request or packet, or the Qubes fact
    std::optional<Packet> packet; // net edges: the witness packet detail describes, sent from
                                  // initiator to responder (whichever way data moves)
    SourceRange origin;     // the rule or declaration that creates it (may be invalid for facts)
    std::string originText; // when there is no range: what creates it
    // Who started the call or connection (rpc, net) or holds the role (template, netvm):
    // waivers name edges this way round, whichever way the data moves.
    NodeId initiator = 0;
    NodeId responder = 0;
};

// Canonical text of a service's protocols and ports ("tcp/22,80-90 udp/53").
std::string matchesKey(const std::vector<model::ServiceMatch>& matches);

// A block of rpc edges with one label (docs/performance.md, "class edges"): every f => t with
// f in `from`, t in `to` and f != t. The label is `proto` (kind, needs-ask, service, argument,
// origin; its nodes are unset and its detail is the call's "service+argument" text). The
// initiator (the caller) is f when the data moves with the call, t when it comes back.
struct EdgeGroup {
    Side from, to; // sorted, distinct
    Edge proto;
    bool initiatorIsFrom = true;
    std::size_t pairs() const; // |from| x |to| minus the nodes in both
};

// Which edges a question may use. edge: a concrete edge, or one pair of a group. group: the
// answer for all pairs of a group at once from its label, or Some when edge() must decide per
// pair (a waiver that names a source or target).
enum class Use : std::uint8_t { None, All, Some };
struct EdgeFilter {
    std::function<bool(const Edge&)> edge;
    std::function<Use(const Edge& proto)> group;
    static EdgeFilter all();
};

class Graph {
public:
    NodeId add(Node n);
    void addEdge(Edge e);
    const std::vector<Node>& nodes() const { return nodes_; }
    // The concrete edges (facts, flows); rpc edges are in groups().
    const std::vector<Edge>& edges() const { return edges_; }
    void addGroup(EdgeGroup g);
    const std::vector<EdgeGroup>& groups() const { return groups_; }
    // After seal(): f(group index) for every group with node n in its `from` side, in no
    // fixed order.
    template <class F> void forGroupsFrom(NodeId n, F&& f) const {
        for (std::uint32_t side : fromSidesOf_.at(n))
            for (std::uint32_t gi : groupsOfFromSide_[side])
                f(gi);
        if (n / 64 < denseFromSides_.size())
            for (const DenseBlock& d : denseFromSides_[n / 64])
                if (d.mask >> (n % 64) & 1)
                    for (std::uint32_t gi : groupsOfFromSide_[d.side])
                        f(gi);
    } // One pair of a group as a concrete edge (with its detail text).
    Edge pairEdge(const EdgeGroup& g, NodeId from, NodeId to) const;
    // Concrete edges plus every pair of every group.
    std::size_t edgeCount() const;
    std::optional<NodeId> disposablesOf(model::QubeId dvm) const;
    std::optional<NodeId> externalNode(const std::string& name) const;
    // Edges sorted (from, to, kind, service) and duplicates of the same fact dropped, so every
    // search visits them in one fixed order.
    void seal();
    // After seal(): edges leaving node n are [firstEdge(n), firstEdge(n + 1)).
    std::size_t firstEdge(NodeId n) const { return firstEdge_.at(n); }

private:
    std::vector<Node> nodes_;
    std::vector<Edge> edges_;
    std::vector<std::size_t> firstEdge_; // by node, plus one past the last
    std::vector<EdgeGroup> groups_;
    // The groups by node of their `from` side, in two steps: the distinct `from` sides
    // holding the node, then the groups of each side. A list of groups per node held each
    // group once per node of its side: 665 of 1,930 MB at N = 5,000 (docs/performance.md).
    // A side's nodes in a 64-node block where it holds several are one entry of the block
    // (the rest, one entry per node): a list per node was 332 of 1,300 MB at N = 5,000.
    struct DenseBlock {
        std::uint64_t mask; // bit i: node 64k + i of block k
        std::uint32_t side;
    };
    std::vector<std::vector<std::uint32_t>> fromSidesOf_;      // by node
    std::vector<std::vector<DenseBlock>> denseFromSides_;      // by block of 64 nodes
    std::vector<std::vector<std::uint32_t>> groupsOfFromSide_; // by distinct `from` side
    // Looked up for every rpc landing and literal: kept as indexes, not scans.
    std::map<model::QubeId, NodeId> disposables_;
    std::map<std::string, NodeId, std::less<>> externals_;
    struct SideHash {
        std::size_t operator()(const Side& s) const;
    };
    std::unordered_set<Side, SideHash> sides_; // every group side, once
};

// The edges of a shortest usable path from any source to any target, in hop order (one hop
// at least). Breadth-first; a node's neighbours are taken in ascending order, each through
// its least usable edge by (kind, service, argument, needs-ask, initiator), which is the
// order seal() gives concrete edges: the answer is deterministic. Groups are expanded only
// when one of their members is dequeued, and dropped once all their landings are seen.
std::optional<std::vector<Edge>> shortestPath(const Graph& g, const std::vector<NodeId>& sources,
                                              const std::vector<NodeId>& targets,
                                              const EdgeFilter& usable);

// Every node reached from start over any edge, in breadth-first discovery order.
std::vector<NodeId> reachOrder(const Graph& g, NodeId start);

} // namespace bulkhead::analyzer
