#include "audit_gaps.h"

#include "bulkhead/compiler/qubes_facts.h"

#include <algorithm>

namespace bulkhead::cli {
namespace {

using K = model::RpcToken::Kind;

bool broad(const model::RpcToken& t) {
    return t.kind == K::AnyVM || t.kind == K::Wildcard;
}

// Could this target token stand for qube q? (Qubes' matching, qubes-formats.md §1.5.)
bool targetCovers(const model::Policy& p, const model::RpcToken& t, model::QubeId q) {
    switch (t.kind) {
    case K::Qube:
        return t.qube == q;
    case K::AdminVM:
        return q == model::Policy::dom0;
    case K::AnyVM:
        return q != model::Policy::dom0;
    case K::Wildcard:
        return true;
    case K::Tag:
        return std::binary_search(p.qubes[q].tags.begin(), p.qubes[q].tags.end(), t.value);
    case K::Type:
        return model::qubesClassOf(p, q) == t.value;
    default:
        return false;
    }
}

bool sameService(const model::RpcRule& a, const model::RpcRule& b) {
    if (b.spec.service != "*" && a.spec.service != b.spec.service)
        return false;
    return !b.spec.argument || !a.spec.argument || *a.spec.argument == *b.spec.argument;
}

bool sourcesMeet(const model::RpcToken& a, const model::RpcToken& b) {
    if (broad(a) || broad(b))
        return true;
    return a.kind == b.kind && a.qube == b.qube && a.value == b.value;
}

void unknownNames(const deployed::PolicyBuild& build, DiagnosticSink& sink) {
    for (const auto& [at, name] : build.unknownNames) {
        std::optional<std::string> why =
            name.starts_with("uuid:") ? std::nullopt : qubes::invalidQubeNameReason(name);
        sink.report(DiagCode::UnknownQubeInRule, at,
                    "this rule names '" + name + "', which " +
                        (why ? "cannot exist (" + *why + ")" : "this system does not have") +
                        ": Qubes never matches it, so the rule does nothing")
            .hint(why ? "a typo in a qube name is a rule that silently never applies"
                      : "remove the rule, or fix the name if the qube was renamed");
    }
}

// A qube whose netvm holds the uplink: its qvm-firewall rules run in the qube that faces
// the network, with no firewall qube in between.
void onUplink(const model::Policy& p, DiagnosticSink& sink) {
    for (model::QubeId q = 1; q < p.qubes.size(); ++q) {
        const model::Qube& qube = p.qubes[q];
        if (!qube.netvm || model::providesNetwork(qube.kind))
            continue;
        const model::Qube& net = p.qubes[*qube.netvm];
        if (net.netvm)
            continue;
        sink.report(DiagCode::QubeOnUplinkNetvm, qube.range,
                    "'" + qube.name + "' sends straight through '" + net.name +
                        "', which holds the uplink: its firewall rules are enforced inside the "
                        "qube exposed to the network, with no firewall qube in between")
            .hint("qvm-prefs " + qube.name + " netvm sys-firewall");
    }
}

void ruleGaps(const model::Policy& p, DiagnosticSink& sink) {
    for (const model::RpcRule& r : p.rpcRules) {
        // Disposables call under their own name, never as @dispvm:X (qubes-formats.md §1.5).
        K source = r.from.front().kind;
        if (source == K::DispVMOf || source == K::DispVMTag)
            sink.report(DiagCode::SourceNeverMatches, r.range,
                        "'" + model::tokenText(p, r.from.front()) +
                            "' as a source never matches: disposables call under their own "
                            "name, so this line does nothing")
                .hint("use @tag: on the dispvm-template (disposables inherit its tags), or "
                      "@type:DispVM");
        if (r.action == model::RpcAction::Deny)
            continue;
        const model::RpcToken& from = r.from.front();
        const model::RpcToken& to = r.to.front();
        if (r.action == model::RpcAction::Allow && broad(from) && !r.target &&
            (broad(to) || to.kind == K::Tag || to.kind == K::Type))
            sink.report(DiagCode::BroadAllow, r.range,
                        "allows " + r.spec.service + " from any qube to " +
                            model::tokenText(p, to) + " without asking and without a fixed target")
                .hint("name the callers, ask, or pin the target with target=");
        if (!r.target && (to.kind == K::Wildcard || to.kind == K::Tag || to.kind == K::Type) &&
            targetCovers(p, to, model::Policy::dom0))
            sink.report(DiagCode::RuleReachesDom0, r.range,
                        "'" + model::tokenText(p, to) + "' includes dom0, so this " +
                            std::string(model::actionName(r.action)) + " reaches dom0 (" +
                            (to.kind == K::Wildcard ? "* matches dom0, unlike @anyvm"
                                                    : "dom0 carries it") +
                            ")")
                .hint("use @anyvm to leave dom0 out, or name dom0 / @adminvm if meant");
        if (r.target && r.target->kind == K::Qube)
            for (const model::RpcRule& d : p.rpcRules)
                // A catch-all deny (@anyvm, *) closes what is left; one that names the
                // target (by name, tag or type) is meant to protect it, and does not.
                if (d.action == model::RpcAction::Deny && sameService(r, d) &&
                    sourcesMeet(from, d.from.front()) && !broad(d.to.front()) &&
                    targetCovers(p, d.to.front(), r.target->qube)) {
                    sink.report(DiagCode::RedirectBypassesDeny, r.range,
                                "redirects to '" + p.qubes[r.target->qube].name +
                                    "', which another line refuses for direct calls: Qubes "
                                    "does not check a target= against deny rules")
                        .note(d.range, "refused here")
                        .hint("if the deny is meant to hold, drop or change the redirect");
                    break;
                }
    }
}

} // namespace

void reportSilentGaps(const model::Policy& policy, const deployed::PolicyBuild& build,
                      DiagnosticSink& sink) {
    unknownNames(build, sink);
    onUplink(policy, sink);
    ruleGaps(policy, sink);
}

} // namespace bulkhead::cli
