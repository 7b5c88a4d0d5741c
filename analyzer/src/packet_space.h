#pragma once
// Packet questions over network flows, decided by Z3 bit-vectors: is some packet of a flow
// permitted from one node to another (deny carve-outs included), and is every packet of a
// required service permitted? Witnesses are concrete packets.
#include "graph.h"

#include <memory>
#include <optional>
#include <string>

namespace bulkhead::analyzer {

// Z3 ran out of its budget (or failed): the question is unanswered, never silently "no".
struct ProverUnknown {
    std::string reason;
};

class FlowIndex;

// A witness: the packet, and its description for a report ("udp port 53 from work to
// internet (1.0.0.0)").
struct Witness {
    Packet packet;
    std::string text;
};

class PacketSpace {
public:
    PacketSpace(const model::Policy& policy, const Graph& graph, std::uint64_t rlimit);
    ~PacketSpace();
    PacketSpace(const PacketSpace&) = delete;
    PacketSpace& operator=(const PacketSpace&) = delete;

    // A packet of `use` from a to b that flow f permits and no deny removes; nothing when
    // there is none. Throws ProverUnknown. Every witness below prefers a packet one could
    // send: an IPv4 unicast address on an external side when there is one, else IPv6 unicast.
    std::optional<Witness> permitted(const model::NetFlow& f, const model::ServiceUse& use,
                                     NodeId a, NodeId b);

    // A packet that allow f alone permits from a to b (no other allow does, no deny removes
    // it); nothing when f adds nothing there.
    std::optional<std::string> permittedOnlyBy(const model::NetFlow& f, NodeId a, NodeId b);

    // A packet from a to b that deny d takes away from some allow; nothing when d removes
    // nothing there.
    std::optional<std::string> removedBy(const model::NetFlow& d, NodeId a, NodeId b);

    // A packet of `uses` from a to b that the policy does not permit; nothing when all are.
    std::optional<std::string> unpermitted(const std::vector<model::ServiceUse>& uses, NodeId a,
                                           NodeId b);

    // Which flows concern which nodes.
    const FlowIndex& flows() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Addresses no packet is sent to (loopback, multicast, reserved): witnesses avoid them.
const std::vector<IpPrefix>& unsendableAddresses(IpPrefix::Family family);

// Does a flow endpoint stand for this qube or disposables node (by name or tag)?
bool endpointCovers(const model::Policy& policy, const model::Endpoint& e, const Node& n);

} // namespace bulkhead::analyzer
