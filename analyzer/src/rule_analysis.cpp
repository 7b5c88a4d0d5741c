#include "rule_analysis.h"

#include "flow_index.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::analyzer {
namespace {

std::string callerName(const rpc::System& sys, const rpc::Caller& c) {
    return c.disposable ? "a disposable of " + sys.qubes[c.qube].name : sys.qubes[c.qube].name;
}

std::string targetName(const rpc::System& sys, const rpc::Target& t) {
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

std::string actionText(rpc::Rule::Action a) {
    return a == rpc::Rule::Action::Allow ? "allow" : a == rpc::Rule::Action::Ask ? "ask" : "deny";
}

// What we learn about one line of the policy while walking every request.
struct Facts {
    std::optional<std::string> matchedExample;
    bool exampleIsLoopback = false;
    bool decides = false;
    bool changesSomething = false;
    std::set<SourceRange> coveredBy; // the rules that decide its requests instead
    bool coveredBySameAction = true;
    std::optional<std::pair<std::string, SourceRange>> overridden; // example, earlier rule
};

} // namespace

void analyzeRpcRules(const model::Policy& policy, const Built& built, DiagnosticSink& sink) {
    const rpc::Evaluator& ev = *built.evaluator;
    const rpc::System& sys = built.system;
    std::map<SourceRange, Facts> facts; // the policy's own rules, by line
    std::map<SourceRange, rpc::Rule::Action> actionOf;
    for (const model::RpcRule& r : policy.rpcRules)
        facts.emplace(r.range, Facts{});
    for (const rpc::Rule& r : ev.rules())
        actionOf.emplace(r.range, r.action);

    rpc::Universe u = rpc::universeOf(sys, ev);
    for (const auto& [service, args] : u.services)
        for (const std::string& arg : args)
            for (const rpc::Caller& c : u.callers) {
                std::vector<std::vector<const rpc::Rule*>> all = ev.matchingAll(service, arg, c, u);
                for (std::size_t ti = 0; ti < u.targets.size(); ++ti) {
                    const rpc::Target& t = u.targets[ti];
                    const std::vector<const rpc::Rule*>& matches = all[ti];
                    if (matches.empty())
                        continue;
                    const rpc::Rule& decider = *matches.front();
                    std::string request = (service.empty() ? "any other service" : service) + arg +
                                          " from " + callerName(sys, c) + " to " +
                                          targetName(sys, t);
                    // A call to itself makes a poor example: prefer any other.
                    bool loopback =
                        !c.disposable && t.kind == rpc::Target::Kind::Qube && t.qube == c.qube;
                    std::set<SourceRange> seen;
                    for (const rpc::Rule* m : matches) {
                        auto f = facts.find(m->range);
                        if (f == facts.end() || !seen.insert(m->range).second)
                            continue; // baseline line, or another expansion of the same line
                        Facts& x = f->second;
                        if (!x.matchedExample || (x.exampleIsLoopback && !loopback)) {
                            x.matchedExample = request;
                            x.exampleIsLoopback = loopback;
                        }
                        if (decider.range == m->range) {
                            x.decides = true;
                            if (!x.changesSomething) {
                                rpc::Decision with = ev.evaluate(service, arg, c, t);
                                rpc::Decision without = ev.evaluate(service, arg, c, t, &m->range);
                                x.changesSomething = with.result != without.result ||
                                                     with.landings != without.landings;
                            }
                            continue;
                        }
                        x.coveredBy.insert(decider.range);
                        if (decider.action != m->action) {
                            x.coveredBySameAction = false;
                            if (!x.overridden)
                                x.overridden = std::make_pair(request, decider.range);
                        }
                    }
                }
            }

    for (const model::RpcRule& r : policy.rpcRules) {
        const Facts& x = facts.at(r.range);
        std::string action = actionText(actionOf.at(r.range));
        if (!x.matchedExample) {
            sink.report(DiagCode::RuleNeverMatches, r.range,
                        "this rule matches no request in this system")
                .hint("its sources or targets name nothing that exists (a tag no qube has, a "
                      "@dispvm: source, a caller that is also the only target)");
            continue;
        }
        if (!x.decides) {
            DiagCode code =
                x.coveredBySameAction ? DiagCode::RuleShadowedSame : DiagCode::RuleShadowed;
            auto d = sink.report(
                code, r.range,
                std::string("this rule never decides anything: earlier rules ") +
                    (x.coveredBySameAction ? "with the same action" : "with another action") +
                    " decide every request it matches, for example " + *x.matchedExample);
            std::size_t shown = 0;
            for (const SourceRange& by : x.coveredBy)
                if (shown++ < 3)
                    d.note(by, "decided here (" + actionText(actionOf.at(by)) + ")");
            d.hint(x.coveredBySameAction ? "remove it, or move it above the rules that cover it"
                                         : "move it above the rules that cover it, or remove it");
            continue;
        }
        if (x.overridden)
            sink.report(DiagCode::RulePartlyOverridden, r.range,
                        "an earlier rule with another action decides part of what this " + action +
                            " matches, for example " + x.overridden->first)
                .note(x.overridden->second,
                      "decided here (" + actionText(actionOf.at(x.overridden->second)) + ")");
        if (!x.changesSomething)
            sink.report(DiagCode::RuleRedundant, r.range,
                        "removing this rule changes no decision: the rules after it (Qubes' "
                        "defaults included) decide every request the same, for example " +
                            *x.matchedExample);
    }
}

void analyzeNetFlows(const model::Policy& policy, const Built& built, DiagnosticSink& sink) {
    PacketSpace& packets = *built.packets;
    auto nodesOf = [&](const std::vector<model::Endpoint>& list) {
        return packets.flows().nodesOf(list);
    };
    for (const model::NetFlow& f : policy.flows) {
        std::vector<NodeId> from = nodesOf(f.from), to = nodesOf(f.to);
        bool permits = false, adds = false, removes = false;
        for (NodeId a : from)
            for (NodeId b : to) {
                if (a == b)
                    continue;
                if (f.verdict == model::Verdict::Deny) {
                    removes = removes || packets.removedBy(f, a, b);
                    continue;
                }
                for (const model::ServiceUse& use : f.services)
                    permits = permits || packets.permitted(f, use, a, b);
                adds = adds || packets.permittedOnlyBy(f, a, b);
            }
        if (f.verdict == model::Verdict::Deny) {
            if (!removes)
                sink.report(DiagCode::DenyRemovesNothing, f.range,
                            "this deny removes nothing today: no allow covers a packet it "
                            "matches")
                    .hint("fine as a guard against future allows; otherwise check its "
                          "endpoints and services");
            continue;
        }
        if (!permits) {
            auto d = sink.report(DiagCode::RuleShadowed, f.range,
                                 "this allow permits nothing: deny rules carve out all of it");
            for (const model::NetFlow& deny : policy.flows)
                if (deny.verdict == model::Verdict::Deny)
                    d.note(deny.range, "a deny wins over every allow, whatever the order");
            continue;
        }
        if (!adds)
            sink.report(DiagCode::RuleRedundant, f.range,
                        "removing this allow changes nothing: other allows permit every packet it "
                        "does");
    }
}

} // namespace bulkhead::analyzer
