#pragma once
// What each firewall qube must let through, worked out from the flows once for every
// network backend (nftables, qvm-firewall rules): per sending node, the destinations,
// protocols and ports its allows and denies name, split between destinations inside the
// system (qube addresses) and outside it (network objects, address literals).
// The meaning it encodes (docs/deploy.md, docs/semantics.md): a packet from a node is
// permitted when some allow matches it and no deny does; a network object never covers a
// qube's address; each firewall qube judges what its own clients send, and what a client
// that is itself a firewall or net qube forwards for its clients (masqueraded to its
// address) to destinations outside the system. A VPN qube's clients ride inside its tunnel,
// so its netvm judges the VPN qube's own flows only.
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"
#include "bulkhead/compiler/net_addressing.h"

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bulkhead::backends {

// One destination class of packets: an address prefix with a protocol and port (or ICMP
// type) range. Port: tcp/udp ports; Proto: whole protocols protoLow..protoHigh; Icmp: ICMP
// types low..high (protocol 1, or 58 for IPv6).
struct NetElement {
    enum class Match : std::uint8_t { Port, Proto, Icmp };
    IpPrefix dst;
    Match match = Match::Proto;
    std::uint8_t protoLow = 0, protoHigh = 0;
    std::uint16_t low = 0, high = 0;
    auto operator<=>(const NetElement&) const = default;
};

// What one node may send. A packet is permitted when an allow element covers it and no
// deny element does, within its class (internal: to qube addresses; external: elsewhere).
struct NodeRules {
    std::vector<NetElement> allowInternal, denyInternal, allowExternal, denyExternal;
    bool empty() const {
        return allowInternal.empty() && denyInternal.empty() && allowExternal.empty() &&
               denyExternal.empty();
    }
};

// A source address seen by one firewall qube, and whose rules judge it.
struct PlannedSource {
    model::NetNode node; // the client
    std::vector<IpPrefix> addresses;
    // Nodes further down whose external traffic this client forwards under its own
    // address (it masquerades): their external rules apply to it too.
    std::vector<model::NetNode> transit;
};

struct ProviderPlan {
    model::QubeId provider = 0;
    std::vector<PlannedSource> sources; // sorted by node
};

// Something the backends cannot express; check reports each as an error.
struct PlanProblem {
    SourceRange range; // the flow endpoint or qube that needs it
    std::string message;
    std::string hint;
};

struct NetPlan {
    std::map<model::NetNode, NodeRules> rules; // every node that sends something
    std::vector<ProviderPlan> providers;       // every qube that provides network
    std::vector<IpPrefix> internal;            // addresses that denote nodes
    std::vector<PlanProblem> problems;
};

NetPlan planNetwork(const model::Policy& policy);

// The plan's problems as BH1201 errors: what check reports so that a checked policy compiles.
void reportNetPlanProblems(const model::Policy& policy, DiagnosticSink& sink);

// "work", "@dispvm:dvm": how reports and generated comments name a node.
std::string netNodeName(const model::Policy& policy, const model::NetNode& node);

} // namespace bulkhead::backends
