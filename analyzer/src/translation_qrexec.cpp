// Enumeration over the finite universe of request classes is exact here (z3-lab.md: 15-50x
// faster than Z3 for first-match over a finite domain), so it is the proof.
#include "bulkhead/analyzer/translation.h"

#include "build_graph.h"
#include "rpc_compare.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::analyzer {

TranslationCheck checkQrexecTranslation(const model::Policy& policy,
                                        const std::vector<BaselineRule>& emitted) {
    rpc::System sys = systemOf(policy);
    rpc::Evaluator model(sys, rulesOf(policy, AnalysisOptions{}));
    AnalysisOptions asBaseline;
    asBaseline.baseline = emitted;
    model::Policy noRules = policy;
    noRules.rpcRules.clear();
    rpc::Evaluator written(sys, rulesOf(noRules, asBaseline));

    TranslationCheck out;
    out.compared = rpc::walkDifferences(
        sys, model, written,
        [&](const std::string& service, const std::string& arg, const rpc::Caller& c,
            const rpc::Target& t, const rpc::Decision& a, const rpc::Decision& b) {
            out.differ = (service.empty() ? std::string("an unnamed service") : service) + arg +
                         " from " + rpc::callerText(sys, c) + " to " + rpc::targetText(sys, t) +
                         ": the policy says " + rpc::decisionText(sys, a) +
                         ", the emitted file says " + rpc::decisionText(sys, b);
            return false;
        });
    return out;
}

} // namespace bulkhead::analyzer
