#pragma once
// The influence graph of docs/semantics.md: nodes, typed edges with their origin.
#include "bulkhead/compiler/model.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

using NodeId = std::uint32_t;

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

class Graph {
public:
    NodeId add(Node n);
    void addEdge(Edge e);
    const std::vector<Node>& nodes() const { return nodes_; }
    const std::vector<Edge>& edges() const { return edges_; }
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
    // Looked up for every rpc landing and literal: kept as indexes, not scans.
    std::map<model::QubeId, NodeId> disposables_;
    std::map<std::string, NodeId, std::less<>> externals_;
};

// Edge indices of a shortest usable path from any source to any target, in hop order (one
// hop at least). Breadth-first over the sealed edge order, so the answer is deterministic.
std::optional<std::vector<std::size_t>>
shortestPath(const Graph& g, const std::vector<NodeId>& sources, const std::vector<NodeId>& targets,
             const std::function<bool(const Edge&)>& usable);

} // namespace bulkhead::analyzer
