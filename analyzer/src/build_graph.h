#pragma once
// Builds the influence graph (docs/semantics.md) from a checked policy and Qubes' baseline.
#include "bulkhead/analyzer/analyzer.h"
#include "graph.h"
#include "packet_space.h"
#include "rpc_eval.h"

#include <memory>
#include <set>

namespace bulkhead::analyzer {

struct Built {
    Graph graph;
    rpc::System system;
    std::unique_ptr<rpc::Evaluator> evaluator;
    std::unique_ptr<PacketSpace> packets;                      // refers to graph: Built never moves
    std::set<std::pair<std::string, SourceRange>> assumptions; // (text, rule) used
};

// The qrexec world of a policy: system info for Qubes' evaluation and the unified rule list
// (the policy's rules, then the baseline's).
rpc::System systemOf(const model::Policy& policy);
std::vector<rpc::Rule> rulesOf(const model::Policy& policy, const AnalysisOptions& options);

// The node standing for an rpc caller or landing.
NodeId nodeOf(const Graph& g, std::size_t qube, bool disposable);

// Throws ProverUnknown when Z3 cannot decide a packet question within its budget.
std::unique_ptr<Built> buildGraph(const model::Policy& policy, const AnalysisOptions& options);
// buildGraph in two steps. After the first, the nodes, the system and the evaluator are
// complete and the second changes none of them (it adds the packet space, the edges and the
// assumptions): the qrexec rule analysis, which reads only the system and the evaluator, can
// run beside it. addEdges throws ProverUnknown as buildGraph does.
std::unique_ptr<Built> prepareGraph(const model::Policy& policy, const AnalysisOptions& options);
void addEdges(const model::Policy& policy, const AnalysisOptions& options, Built& built);

// Graph nodes before any edge: qubes (NodeId == QubeId), disposables, external networks.
Graph nodesOf(const model::Policy& policy);

} // namespace bulkhead::analyzer
