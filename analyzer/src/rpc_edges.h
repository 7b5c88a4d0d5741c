#pragma once
// The rpc edges of the influence graph (docs/semantics.md): for every service and argument,
// where each caller's calls land under Qubes' evaluation, as edge groups.
#include "build_graph.h"

namespace bulkhead::analyzer {

// Adds the groups to b.graph and the assumptions they rest on to b.assumptions.
void addRpcEdges(const model::Policy& policy, Built& b);

} // namespace bulkhead::analyzer
