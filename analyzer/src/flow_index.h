#pragma once
// Which network flows can concern a node, as source or as destination: a qube or disposables
// node when a flow names it or its tag, an external node when one of the flow's addresses
// overlaps its own (docs/semantics.md, "net"). A flow that concerns neither side of a pair
// matches no packet between them, so packet questions leave it out (slicing), and many
// questions are settled without a solver (packet_space.cpp).
#include "graph.h"

#include <map>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

class FlowIndex {
public:
    FlowIndex(const model::Policy& policy, const Graph& graph);

    // Indices into policy.flows, ascending.
    const std::vector<std::size_t>& asSource(NodeId n) const { return source_.at(n); }
    const std::vector<std::size_t>& asDestination(NodeId n) const { return destination_.at(n); }
    // The flows concerning packets from a to b, ascending.
    std::vector<std::size_t> between(NodeId a, NodeId b) const;
    bool concerns(std::size_t flow, NodeId a, NodeId b) const;

    // The nodes an endpoint list stands for (endpointCovers), ascending.
    std::vector<NodeId> nodesOf(const std::vector<model::Endpoint>& list) const;

private:
    std::vector<NodeId> covered(const model::Endpoint& e) const;

    const model::Policy& policy_;
    const Graph& graph_;
    std::vector<std::vector<std::size_t>> source_, destination_; // by node
    std::map<std::string, std::vector<NodeId>, std::less<>> byTag_;
    std::vector<NodeId> externals_;
};

// Do two prefixes share an address, in the one 128-bit space where IPv4 is ::ffff:0:0/96
// (as the solver sees them)?
bool prefixesOverlap(const IpPrefix& a, const IpPrefix& b);

// Can some packet match both service lists (protocols and ports; addresses aside)?
bool servicesOverlap(const std::vector<model::ServiceMatch>& a,
                     const std::vector<model::ServiceMatch>& b);
std::vector<model::ServiceMatch> allMatches(const std::vector<model::ServiceUse>& uses);

} // namespace bulkhead::analyzer
