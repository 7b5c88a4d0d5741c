#include "rpc_compare.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::analyzer::rpc {
namespace {

std::string resultName(Decision::Result r) {
    switch (r) {
    case Decision::Result::Allow:
        return "allow";
    case Decision::Result::Ask:
        return "ask";
    case Decision::Result::Deny:
        return "deny";
    }
    return "?";
}

bool sameDecision(const Decision& a, const Decision& b) {
    if ((a.rule == nullptr) != (b.rule == nullptr))
        return false;
    if (!a.rule)
        return true;
    if (a.result != b.result || a.landings.size() != b.landings.size())
        return false;
    // Both evaluators list landings in the universe's order, so equal lists are nearly always
    // equal as written; sorting copies (an ask list is every qube) is for the rest. Without
    // this shortcut the sort was 61 % of compile's read-back at 1,000 qubes.
    if (a.landings == b.landings)
        return true;
    auto sorted = [](std::vector<Landing> v) {
        std::sort(v.begin(), v.end(), [](const Landing& x, const Landing& y) {
            return std::pair(x.disposable, x.qube) < std::pair(y.disposable, y.qube);
        });
        return v;
    };
    return sorted(a.landings) == sorted(b.landings);
}

// Decisions that do not depend on the target (Evaluator::outcome): no rule, or a deny, on
// both sides decide alike for every target; an ask without target= offers the caller's ask
// list whatever the target, so two of them compare alike for every target once they do for
// one. Only the rest needs a decision built per target (an ask list copied into each was
// most of the read-back at 1,000 qubes).
enum class Alike { Always, AsAsks, PerTarget };

Alike alikeAnywhere(const Rule* a, const Rule* b) {
    auto plainAsk = [](const Rule* r) {
        return r && r->action == Rule::Action::Ask && !r->redirect;
    };
    auto deny = [](const Rule* r) { return r && r->action == Rule::Action::Deny; };
    if ((!a && !b) || (deny(a) && deny(b)))
        return Alike::Always;
    if (plainAsk(a) && plainAsk(b))
        return Alike::AsAsks;
    return Alike::PerTarget;
}

} // namespace

std::string callerText(const System& sys, const Caller& c) {
    return (c.disposable ? "@dispvm:" : "") + sys.qubes[c.qube].name;
}

std::string targetText(const System& sys, const Target& t) {
    switch (t.kind) {
    case Target::Kind::Qube:
        return sys.qubes[t.qube].name;
    case Target::Kind::AdminVM:
        return "@adminvm";
    case Target::Kind::Default:
        return "@default";
    case Target::Kind::DispVM:
        return "@dispvm";
    case Target::Kind::DispVMOf:
        return "@dispvm:" + sys.qubes[t.qube].name;
    }
    return "?";
}

std::string decisionText(const System& sys, const Decision& d) {
    if (!d.rule)
        return "no matching line";
    std::string out = resultName(d.result);
    for (const Landing& l : d.landings)
        out += std::string(" ") + (l.disposable ? "@dispvm:" : "") + sys.qubes[l.qube].name;
    return out;
}

std::size_t
walkDifferences(const System& sys, const Evaluator& a, const Evaluator& b,
                const std::function<bool(const std::string&, const std::string&, const Caller&,
                                         const Target&, const Decision&, const Decision&)>& visit) {
    // Every service and argument either side names, plus one that neither names.
    std::map<std::string, std::set<std::string>> services;
    for (const Evaluator* ev : {&a, &b}) {
        Universe u = universeOf(sys, *ev);
        for (const auto& [service, args] : u.services)
            services[service].insert(args.begin(), args.end());
    }
    Universe u = universeOf(sys, a);
    std::size_t compared = 0;
    for (const auto& [service, args] : services)
        for (const std::string& arg : args)
            for (const Caller& c : u.callers) {
                std::vector<const Rule*> ra = a.firstMatches(service, arg, c, u);
                std::vector<const Rule*> rb = b.firstMatches(service, arg, c, u);
                std::optional<std::vector<Landing>> askA, askB;
                std::optional<bool> asksAlike; // two asks without target=: see alikeAnywhere
                for (std::size_t i = 0; i < u.targets.size(); ++i) {
                    ++compared;
                    Alike alike = alikeAnywhere(ra[i], rb[i]);
                    if (alike == Alike::Always || (alike == Alike::AsAsks && asksAlike == true))
                        continue;
                    Decision da = a.outcome(ra[i], service, arg, c, u.targets[i], nullptr, askA);
                    Decision db = b.outcome(rb[i], service, arg, c, u.targets[i], nullptr, askB);
                    bool same = sameDecision(da, db);
                    if (alike == Alike::AsAsks)
                        asksAlike = same;
                    if (!same && !visit(service, arg, c, u.targets[i], da, db))
                        return compared;
                }
            }
    return compared;
}

} // namespace bulkhead::analyzer::rpc
