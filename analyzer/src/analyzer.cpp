#include "bulkhead/analyzer/analyzer.h"

#include "assertions.h"
#include "build_graph.h"
#include "repair.h"
#include "rule_analysis.h"

#include <future>
#include <utility>

namespace bulkhead::analyzer {

AnalysisSummary analyze(const model::Policy& policy, const AnalysisOptions& options,
                        DiagnosticSink& sink) {
    AnalysisSummary summary;
    std::unique_ptr<Built> built = prepareGraph(policy, options);
    // The qrexec rule analysis reads only what prepareGraph made, so it runs on a second
    // core while the edges are added and the assertions proved; its findings join the
    // others where it used to run, so the output is the same (docs/performance.md, Round 8).
    DiagnosticSink rpcFindings = sink.emptyCopy();
    std::future<void> rpcRules = std::async(
        std::launch::async, [&] { analyzeRpcRules(policy, std::as_const(*built), rpcFindings); });
    try {
        addEdges(policy, options, *built);
        summary.nodes = built->graph.nodes().size();
        summary.edges = built->graph.edgeCount();
        Checker checker(policy, *built, sink, summary, options.haveBaseline);
        checker.run();
        if (options.repairHints && !checker.violations().empty())
            reportRepair(policy, options, *built, checker.violations());
        rpcRules.get();
        sink.absorb(std::move(rpcFindings));
        analyzeNetFlows(policy, *built, sink);
    } catch (const ProverUnknown& e) {
        if (rpcRules.valid())
            rpcRules.wait(); // it reads `built`: done before it goes
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
