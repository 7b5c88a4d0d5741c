#pragma once
// The analyzer: builds the influence graph of docs/semantics.md over a checked policy and
// Qubes' baseline policy, proves or refutes every assertion and requirement, and reports
// through the diagnostics sink (violations carry their witness as notes, hop by hop).
// No Z3 type appears in this header: Z3 is linked privately.
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

// The prover behind the analyzer, as `bulkhead --version` reports it.
std::string proverVersion();

// One line of Qubes' own policy (policy.d), as the importer read it. Tokens keep Qubes'
// spelling (@anyvm, @tag:x, dom0, *); range points at the line in the source manager.
struct BaselineRule {
    std::string service;                 // "*" or a name
    std::optional<std::string> argument; // empty: any argument
    std::string source;
    std::string target;
    std::string action;                       // allow, deny, ask
    std::optional<std::string> redirect;      // target=
    std::optional<std::string> defaultTarget; // default_target=
    SourceRange range;
};

struct AnalysisOptions {
    std::vector<BaselineRule> baseline; // evaluated after the policy's own rpc rules
    bool haveBaseline = false;          // false: the report says the check ran without one
    std::string baselineDescription;    // where the baseline came from, for the report
    std::uint64_t rlimit = 50'000'000;  // per Z3 check; deterministic, unlike a timeout
    bool repairHints = true;            // each BH1001 carries the smallest repair (or why none)
};

struct AnalysisSummary {
    std::size_t nodes = 0;
    std::size_t edges = 0;
    std::size_t assertionsHeld = 0;
    std::size_t assertionsViolated = 0;
    std::size_t requirementsMet = 0;
    std::size_t requirementsUnmet = 0;
    std::size_t certificatesChecked = 0;  // holding assertions whose Z3 certificate was re-checked
    std::vector<std::string> assumptions; // Qubes design assumptions the graph relied on
};

AnalysisSummary analyze(const model::Policy& policy, const AnalysisOptions& options,
                        DiagnosticSink& sink);

// One qrexec request as Qubes' policy daemon decides it.
struct RpcDecision {
    std::string result;               // "allow", "ask" or "deny"
    std::vector<std::string> targets; // where it may land: qube names, "@dispvm:X" for a new
                                      // disposable of X; sorted
    std::optional<SourceRange> rule;  // the deciding rule; empty when none matched
    std::vector<SourceRange> beaten;  // later rules that match too but never decide
    std::string reason;               // why a deny: "denied by policy", "no matching rule", ...
};

// One packet as the policy's flows decide it: permitted when some allow matches and no
// deny does (a deny wins whatever the order).
struct NetDecision {
    bool permitted = false;
    std::vector<SourceRange> allows; // the allow flows that match the packet
    std::vector<SourceRange> denies; // the deny flows that match it
};

// One hop of a path through the graph.
struct Hop {
    std::string from, to;
    std::string kind;   // edge kind, with ", ask" when it needs a user's yes
    std::string detail; // the call, packet or Qubes fact
    SourceRange origin; // the rule or declaration behind it; invalid for dom0's control
};

// The witness packet of one net edge (docs/semantics.md): the packet that shows some packet
// of the flow's service is permitted there, sent from `sender` to `receiver` (the edge's own
// direction, from -> to, is where data moves: the reverse for a pull service).
struct NetWitness {
    std::string from, to;         // the edge
    std::string sender, receiver; // the packet's ends: graph nodes
    std::string source;           // the sender's address: one an external node's witness
                                  // holds, a qube's `ip`; "" when the policy gives none
    std::string destination;      // the receiver's, likewise
    std::string protocol;         // "tcp", "udp", "icmp" or "ip protocol N"
    unsigned port = 0;            // tcp/udp port or ICMP type; 0 for another protocol
    std::string detail;           // the edge's detail, as path hops show it
    SourceRange origin;           // the allow flow that creates the edge
};

// Why one node does not reach another: what the first node reaches, and the rules that
// decide the direct requests from there to the target (denies, and calls no rule matches).
struct Blocker {
    std::optional<SourceRange> rule; // empty: no rule matched, which Qubes denies
    std::size_t requests = 0;        // request classes it decides
    std::string example;             // one of them: "qubes.Filecopy from personal to vault"
};
struct BlockReport {
    std::vector<std::string> reached; // nodes the source reaches, itself included; sorted
    std::vector<Blocker> blockers;    // most requests first
};

// The influence graph as plain data, for drawing it (bulkhead graph).
struct GraphNode {
    std::string name;  // qube name, "@dispvm:X", network object or address literal
    std::string kind;  // "qube", "disposables" or "external"
    std::string cls;   // Qubes' class ("AdminVM", "AppVM", "TemplateVM", ...); "" external
    std::string trust; // trust level name; "" for dom0 and external nodes
    std::string label; // Qubes label of the trust level ("red", ...); "" when it has none
    std::string netvm; // the node's netvm (a disposable: its dispvm-template's); "" none
    bool providesNetwork = false;
};
// All direct edges between two nodes with one kind and one ask flag, as one.
struct GraphEdge {
    std::string from, to;
    std::string kind;                  // net, rpc, template, dispvm-template, netvm, device, admin
    bool ask = false;                  // needs a user's yes
    bool fact = false;                 // a Qubes fact (dom0's control, template, netvm), no rule
    std::size_t count = 0;             // edges collapsed into this one
    std::vector<std::string> services; // rpc/admin/device: services ("*" for any other); net:
                                       // the flow's service; sorted, distinct
};
// The shortest escape path of one violated `assert no path`.
struct GraphWitness {
    SourceRange assertion;
    std::vector<GraphEdge> hops; // in order; each with count 1 and its one service
};
struct GraphView {
    std::vector<GraphNode> nodes;        // sorted by name
    std::vector<GraphEdge> edges;        // sorted by (from, to, kind, ask)
    std::vector<GraphWitness> witnesses; // in assertion order
};

// The built graph, open to questions: what explain and the differential tests ask.
class Analysis {
public:
    // Throws std::runtime_error when Z3 gives up on a packet question.
    static std::unique_ptr<Analysis> build(const model::Policy& policy,
                                           const AnalysisOptions& options);
    ~Analysis();
    Analysis(const Analysis&) = delete;
    Analysis& operator=(const Analysis&) = delete;

    // caller: a qube name, or "@dispvm:X" for a disposable of X. target: what the caller
    // asks for, in Qubes' spelling: a qube name, "@adminvm", "@default", "@dispvm",
    // "@dispvm:X". argument: "" for one that no rule names, else "+arg".
    RpcDecision decide(const std::string& service, const std::string& argument,
                       const std::string& caller, const std::string& target) const;
    // A packet of protocol "tcp", "udp" or "icmp" to a port (or ICMP type) from one node to
    // another; for a network object, any of its addresses. `to` may also be one address
    // (10.137.0.10, 8.8.8.8): a qube's address stands for that qube (a disposables range for
    // its disposables), another address of the system for no flow's destination, and any
    // other address for the networks and prefixes that contain it, as the firewalls see it.
    NetDecision decideNet(const std::string& from, const std::string& to,
                          const std::string& protocol, std::uint16_t port) const;
    // Graph nodes by name (qubes, "@dispvm:X", network objects, address literals).
    std::vector<std::string> nodes() const;
    // Is there a path from one node to another over edges of any kind (no waivers)?
    bool reaches(const std::string& from, const std::string& to) const;
    // A shortest path over edges of any kind (no waivers); empty when there is none.
    std::vector<Hop> path(const std::string& from, const std::string& to) const;
    // Why `from` does not reach `to` (call only when it does not).
    BlockReport blockers(const std::string& from, const std::string& to) const;
    // Every net edge with its witness packet, in the graph's sealed edge order.
    std::vector<NetWitness> netWitnesses() const;
    // The whole graph and the witnesses of violated assertions (waivers applied).
    GraphView graphView() const;
    // Direct edges as "from => to [kind]" lines, sorted: for tests and debugging.
    std::vector<std::string> edges() const;

private:
    Analysis();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace bulkhead::analyzer
