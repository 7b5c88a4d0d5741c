#include "bulkhead/analyzer/translation.h"

#include "build_graph.h"
#include "rpc_compare.h"

#include <map>

namespace bulkhead::analyzer {

std::vector<RpcDrift> compareRpcRuleLists(const model::Policy& system,
                                          const std::vector<BaselineRule>& deployed,
                                          const std::vector<BaselineRule>& intended) {
    rpc::System sys = systemOf(system);
    model::Policy noRules = system;
    noRules.rpcRules.clear();
    auto evaluator = [&](const std::vector<BaselineRule>& rules) {
        AnalysisOptions o;
        o.baseline = rules;
        return rpc::Evaluator(sys, rulesOf(noRules, o));
    };
    rpc::Evaluator a = evaluator(deployed), b = evaluator(intended);
    std::map<std::pair<std::optional<SourceRange>, std::optional<SourceRange>>, RpcDrift> groups;
    std::vector<std::pair<std::optional<SourceRange>, std::optional<SourceRange>>> order;
    rpc::walkDifferences(
        sys, a, b,
        [&](const std::string& service, const std::string& arg, const rpc::Caller& c,
            const rpc::Target& t, const rpc::Decision& da, const rpc::Decision& db) {
            std::optional<SourceRange> ra, rb;
            if (da.rule)
                ra = da.rule->range;
            if (db.rule)
                rb = db.rule->range;
            auto [it, fresh] = groups.try_emplace({ra, rb});
            RpcDrift& d = it->second;
            if (fresh) {
                order.push_back({ra, rb});
                d.deployedRule = ra;
                d.intendedRule = rb;
                d.deployed = rpc::decisionText(sys, da);
                d.intended = rpc::decisionText(sys, db);
                auto landings = [&](const rpc::Decision& x) {
                    std::vector<std::string> out;
                    if (x.result != rpc::Decision::Result::Deny)
                        for (const rpc::Landing& l : x.landings)
                            out.push_back((l.disposable ? "@dispvm:" : "") +
                                          sys.qubes[l.qube].name);
                    return out;
                };
                d.caller = rpc::callerText(sys, c);
                d.deployedLandings = landings(da);
                d.intendedLandings = landings(db);
                d.example = (service.empty() ? std::string("an unnamed service") : service) + arg +
                            " from " + rpc::callerText(sys, c) + " to " + rpc::targetText(sys, t);
            }
            ++d.requests;
            return true;
        });
    std::vector<RpcDrift> out;
    for (const auto& key : order)
        out.push_back(groups.at(key));
    return out;
}

} // namespace bulkhead::analyzer
