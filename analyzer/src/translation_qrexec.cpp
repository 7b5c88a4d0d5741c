// Enumeration over the finite universe of request classes is exact here (z3-lab.md: 15-50x
// faster than Z3 for first-match over a finite domain), so it is the proof.
#include "bulkhead/analyzer/translation.h"

#include "build_graph.h"
#include "rpc_eval.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::analyzer {
namespace {

std::string resultName(rpc::Decision::Result r) {
    switch (r) {
    case rpc::Decision::Result::Allow:
        return "allow";
    case rpc::Decision::Result::Ask:
        return "ask";
    case rpc::Decision::Result::Deny:
        return "deny";
    }
    return "?";
}

std::string landingText(const rpc::System& sys, const rpc::Landing& l) {
    return (l.disposable ? "@dispvm:" : "") + sys.qubes[l.qube].name;
}

std::string decisionText(const rpc::System& sys, const rpc::Decision& d) {
    if (!d.rule)
        return "no matching line (left to the files after it)";
    std::string out = resultName(d.result);
    for (const rpc::Landing& l : d.landings)
        out += " " + landingText(sys, l);
    return out;
}

std::string targetText(const rpc::System& sys, const rpc::Target& t) {
    switch (t.kind) {
    case rpc::Target::Kind::Qube:
        return sys.qubes[t.qube].name;
    case rpc::Target::Kind::AdminVM:
        return "@adminvm";
    case rpc::Target::Kind::Default:
        return "@default";
    case rpc::Target::Kind::DispVM:
        return "@dispvm";
    case rpc::Target::Kind::DispVMOf:
        return "@dispvm:" + sys.qubes[t.qube].name;
    }
    return "?";
}

bool sameDecision(const rpc::Decision& a, const rpc::Decision& b) {
    if ((a.rule == nullptr) != (b.rule == nullptr))
        return false;
    if (!a.rule)
        return true;
    auto sorted = [](std::vector<rpc::Landing> v) {
        std::sort(v.begin(), v.end(), [](const rpc::Landing& x, const rpc::Landing& y) {
            return std::pair(x.disposable, x.qube) < std::pair(y.disposable, y.qube);
        });
        return v;
    };
    return a.result == b.result && sorted(a.landings) == sorted(b.landings);
}

} // namespace

TranslationCheck checkQrexecTranslation(const model::Policy& policy,
                                        const std::vector<BaselineRule>& emitted) {
    rpc::System sys = systemOf(policy);
    rpc::Evaluator model(sys, rulesOf(policy, AnalysisOptions{}));
    AnalysisOptions asBaseline;
    asBaseline.baseline = emitted;
    model::Policy noRules = policy;
    noRules.rpcRules.clear();
    rpc::Evaluator written(sys, rulesOf(noRules, asBaseline));

    // Every service and argument either side names, plus one that neither names.
    std::map<std::string, std::set<std::string>> services;
    for (const rpc::Evaluator* ev : {&model, &written}) {
        rpc::Universe u = rpc::universeOf(sys, *ev);
        for (const auto& [service, args] : u.services)
            services[service].insert(args.begin(), args.end());
    }
    rpc::Universe u = rpc::universeOf(sys, model);
    TranslationCheck out;
    for (const auto& [service, args] : services)
        for (const std::string& arg : args)
            for (const rpc::Caller& c : u.callers) {
                std::vector<const rpc::Rule*> ra = model.firstMatches(service, arg, c, u);
                std::vector<const rpc::Rule*> rb = written.firstMatches(service, arg, c, u);
                std::optional<std::vector<rpc::Landing>> askA, askB;
                for (std::size_t i = 0; i < u.targets.size(); ++i) {
                    ++out.compared;
                    rpc::Decision a =
                        model.outcome(ra[i], service, arg, c, u.targets[i], nullptr, askA);
                    rpc::Decision b =
                        written.outcome(rb[i], service, arg, c, u.targets[i], nullptr, askB);
                    if (sameDecision(a, b))
                        continue;
                    std::string caller = (c.disposable ? "@dispvm:" : "") + sys.qubes[c.qube].name;
                    out.differ = (service.empty() ? std::string("an unnamed service") : service) +
                                 (arg.empty() ? "" : arg) + " from " + caller + " to " +
                                 targetText(sys, u.targets[i]) + ": the policy says " +
                                 decisionText(sys, a) + ", the emitted file says " +
                                 decisionText(sys, b);
                    return out;
                }
            }
    return out;
}

} // namespace bulkhead::analyzer
