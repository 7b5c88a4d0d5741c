#pragma once
// The analyzer: builds the influence graph of docs/semantics.md over a checked policy and
// Qubes' baseline policy, proves or refutes every assertion and requirement, and reports
// through the diagnostics sink (violations carry their witness as notes, hop by hop).
// No Z3 type appears in this header: Z3 is linked privately.
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <cstdint>
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

} // namespace bulkhead::analyzer
