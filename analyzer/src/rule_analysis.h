#pragma once
// First-match analysis of the policy's own rpc rules over every request class of the system:
// rules that never match, that never decide (shadowed by the union of earlier rules), that
// are partly overridden by an earlier rule with another action, or that change nothing.
#include "build_graph.h"

namespace bulkhead::analyzer {

void analyzeRpcRules(const model::Policy& policy, const Built& built, DiagnosticSink& sink);

// Network flows, with Z3: an allow that permits nothing (denies carve out all of it), an allow
// that adds nothing to the other allows, a deny that removes nothing. Throws ProverUnknown.
void analyzeNetFlows(const model::Policy& policy, const Built& built, DiagnosticSink& sink);

} // namespace bulkhead::analyzer
