#include "bulkhead/analyzer/analyzer.h"

#include "assertions.h"
#include "build_graph.h"
#include "repair.h"
#include "rule_analysis.h"

namespace bulkhead::analyzer {

AnalysisSummary analyze(const model::Policy& policy, const AnalysisOptions& options,
                        DiagnosticSink& sink) {
    AnalysisSummary summary;
    std::unique_ptr<Built> built;
    try {
        built = buildGraph(policy, options);
        summary.nodes = built->graph.nodes().size();
        summary.edges = built->graph.edgeCount();
        Checker checker(policy, *built, sink, summary, options.haveBaseline);
        checker.run();
        if (options.repairHints && !checker.violations().empty())
            reportRepair(policy, options, *built, checker.violations());
        analyzeRpcRules(policy, *built, sink);
        analyzeNetFlows(policy, *built, sink);
    } catch (const ProverUnknown& e) {
        sink.report(DiagCode::CouldNotProve, policy.nameRange,
                    "could not prove: Z3 gave up (" + e.reason + "); nothing is claimed")
            .hint("the policy is too large for the prover's budget; report it with the policy");
        return summary;
    }
    for (const auto& [text, range] : built->assumptions) {
        summary.assumptions.push_back(text);
        sink.report(DiagCode::DesignAssumption, range, "assumed by Qubes' design: " + text);
    }
    return summary;
}

} // namespace bulkhead::analyzer
