// Assertions and requirements over the built graph: shortest witnesses by breadth-first
// search, Z3-certified isolation, waivers applied edge by edge.
#include "assertions.h"

#include "certificate.h"

#include <algorithm>

namespace bulkhead::analyzer {
namespace {

using model::EdgeKind;

bool hasTag(const model::Qube& q, const std::string& tag) {
    return std::binary_search(q.tags.begin(), q.tags.end(), tag);
}

std::string kindLabel(const Edge& e) {
    std::string out(model::edgeKindName(e.kind));
    if (e.needsAsk)
        out += ", ask: needs a user's yes";
    return out;
}

} // namespace

Checker::Checker(const model::Policy& policy, Built& built, DiagnosticSink& sink,
                 AnalysisSummary& summary, bool checkWaivers)
    : policy_(policy), built_(built), g_(built.graph), sink_(sink), summary_(summary),
      checkWaivers_(checkWaivers) {}

std::vector<NodeId> Checker::select(const model::Selector& s) const {
    using K = model::Selector::Kind;
    std::vector<NodeId> out;
    std::optional<std::vector<model::QubeId>> chosen; // sorted: selectQubes walks ids in order
    for (NodeId n = 0; n < g_.nodes().size(); ++n) {
        const Node& node = g_.nodes()[n];
        bool in = false;
        switch (s.kind) {
        case K::Network:
            in = node.kind == Node::Kind::External && node.network == s.network;
            break;
        case K::DispVMOf:
            in = node.kind == Node::Kind::Disposables && node.qube == s.qube;
            in = in || (node.kind == Node::Kind::Qube &&
                        policy_.qubes[node.qube].kind == model::QubeKind::DispVM &&
                        policy_.qubes[node.qube].templ == s.qube);
            break;
        case K::Type:
            in = node.kind == Node::Kind::Disposables
                     ? s.value == "DispVM"
                     : node.kind == Node::Kind::Qube &&
                           model::qubesClassOf(policy_, node.qube) == s.value;
            break;
        default: {
            // Qube, Trust, Tag, AnyVM: disposables count as their dispvm-template.
            if (node.kind == Node::Kind::External)
                break;
            if (!chosen)
                chosen = model::selectQubes(policy_, s); // once per selector, not per node
            bool member = std::binary_search(chosen->begin(), chosen->end(), node.qube);
            in = node.kind == Node::Kind::Qube ? member : (member && s.kind != K::Qube);
            break;
        }
        }
        if (in)
            out.push_back(n);
    }
    return out;
}

std::vector<NodeId> Checker::selectAll(const std::vector<model::Selector>& ss) const {
    std::vector<NodeId> out;
    for (const model::Selector& s : ss) {
        std::vector<NodeId> part = select(s);
        out.insert(out.end(), part.begin(), part.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool Checker::tokenCovers(const model::RpcToken& t, NodeId n) const {
    using K = model::RpcToken::Kind;
    const Node& node = g_.nodes()[n];
    if (node.kind == Node::Kind::External)
        return false;
    bool disposable = node.kind == Node::Kind::Disposables;
    const model::Qube& q = policy_.qubes[node.qube];
    switch (t.kind) {
    case K::Qube:
        return !disposable && node.qube == t.qube;
    case K::AdminVM:
        return !disposable && node.qube == model::Policy::dom0;
    case K::AnyVM:
        return disposable || node.qube != model::Policy::dom0;
    case K::Wildcard:
        return true;
    case K::Default:
        return false;
    case K::DispVM:
        return disposable;
    case K::DispVMOf:
        return disposable && node.qube == t.qube;
    case K::DispVMTag:
        return disposable && hasTag(q, t.value);
    case K::Tag:
        return hasTag(q, t.value);
    case K::Type:
        return disposable ? t.value == "DispVM"
                          : model::qubesClassOf(policy_, node.qube) == t.value;
    }
    return false;
}

bool Checker::selectorCovers(const model::Selector& s, NodeId n) const {
    // Waivers ask this for every edge: remember each selector's nodes.
    auto it = selected_.find(&s);
    if (it == selected_.end())
        it = selected_.emplace(&s, select(s)).first;
    return std::binary_search(it->second.begin(), it->second.end(), n);
}

bool Checker::waivesLabel(const model::Waiver& w, const Edge& e) const {
    if (w.kind == EdgeKind::Rpc) {
        bool rpcEdge =
            e.kind == EdgeKind::Rpc || e.kind == EdgeKind::Admin || e.kind == EdgeKind::Device;
        if (!rpcEdge || !w.service || !e.originText.empty()) // facts are not calls
            return false;
        if (w.service->service != "*" && w.service->service != e.service)
            return false;
        return !w.service->argument || *w.service->argument == e.argument;
    }
    if (w.kind != e.kind)
        return false;
    return w.services.empty() ||
           std::any_of(w.services.begin(), w.services.end(), [&](const model::ServiceUse& u) {
               return u.service ? e.netService == u.service
                                : e.kind == EdgeKind::Net && e.netMatches == matchesKey(u.matches);
           });
}

bool Checker::coversInitiator(const model::Waiver& w, NodeId n) const {
    if (w.kind == EdgeKind::Rpc)
        return w.rpcFrom.empty() || std::any_of(w.rpcFrom.begin(), w.rpcFrom.end(),
                                                [&](const auto& t) { return tokenCovers(t, n); });
    return !w.from || selectorCovers(*w.from, n);
}

bool Checker::coversResponder(const model::Waiver& w, NodeId n) const {
    if (w.kind == EdgeKind::Rpc)
        return w.rpcTo.empty() || std::any_of(w.rpcTo.begin(), w.rpcTo.end(),
                                              [&](const auto& t) { return tokenCovers(t, n); });
    return !w.to || selectorCovers(*w.to, n);
}

bool Checker::waives(const model::Waiver& w, const Edge& e) const {
    return waivesLabel(w, e) && coversInitiator(w, e.initiator) && coversResponder(w, e.responder);
}

const model::Waiver* Checker::waiverFor(const model::Assertion& a, const Edge& e) const {
    for (const model::Waiver& w : a.waivers)
        if (waives(w, e))
            return &w;
    return nullptr;
}

EdgeFilter Checker::usableFor(const model::Assertion& a) const {
    auto kindCounts = [&a](const Edge& e) {
        return a.via.empty() || std::find(a.via.begin(), a.via.end(), e.kind) != a.via.end();
    };
    EdgeFilter f;
    f.edge = [this, &a, kindCounts](const Edge& e) {
        return kindCounts(e) && waiverFor(a, e) == nullptr;
    };
    // A group: a waiver of its label without sources or targets takes every pair; one that
    // names sources or targets takes some, decided pair by pair.
    f.group = [this, &a, kindCounts](const Edge& proto) {
        if (!kindCounts(proto))
            return Use::None;
        Use use = Use::All;
        for (const model::Waiver& w : a.waivers) {
            if (!waivesLabel(w, proto))
                continue;
            bool ends =
                w.kind == EdgeKind::Rpc ? !w.rpcFrom.empty() || !w.rpcTo.empty() : w.from || w.to;
            if (!ends)
                return Use::None;
            use = Use::Some;
        }
        return use;
    };
    return f;
}

bool Checker::waiverUsed(const model::Assertion& a, const model::Waiver& w) const {
    auto kindCounts = [&](const Edge& e) {
        return a.via.empty() || std::find(a.via.begin(), a.via.end(), e.kind) != a.via.end();
    };
    if (std::any_of(g_.edges().begin(), g_.edges().end(),
                    [&](const Edge& e) { return kindCounts(e) && waives(w, e); }))
        return true;
    // A group has a waived pair when some initiator and some responder are covered and are
    // not one and the same node (a group has no pair from a node to itself).
    for (const EdgeGroup& grp : g_.groups()) {
        if (!kindCounts(grp.proto) || !waivesLabel(w, grp.proto))
            continue;
        const Side& initiators = grp.initiatorIsFrom ? grp.from : grp.to;
        const Side& responders = grp.initiatorIsFrom ? grp.to : grp.from;
        std::vector<NodeId> ins, outs;
        for (NodeId n : initiators)
            if (coversInitiator(w, n) && ins.size() < 2)
                ins.push_back(n);
        for (NodeId n : responders)
            if (coversResponder(w, n) && outs.size() < 2)
                outs.push_back(n);
        if (!ins.empty() && !outs.empty() &&
            (ins.size() > 1 || outs.size() > 1 || ins.front() != outs.front()))
            return true;
    }
    return false;
}

void Checker::reportUnusedWaivers(const model::Assertion& a) {
    for (const model::Waiver& w : a.waivers) {
        if (!waiverUsed(a, w))
            sink_
                .report(DiagCode::UnusedWaiver, w.range,
                        "this waiver matches no edge of the graph: it waives nothing")
                .hint(w.kind == EdgeKind::Rpc
                          ? "'except rpc NAME' names a service (qubes.Filecopy), not a qube; "
                            "remove the waiver or fix its name"
                          : "remove it, or name the edge's kind, source and target as the "
                            "witness shows them");
    }
}

std::string Checker::direction(NodeId from, NodeId to) const {
    const auto& a = g_.nodes()[from].trust;
    const auto& b = g_.nodes()[to].trust;
    auto rank = [&](const Node& n) { return n.kind == Node::Kind::Qube && n.qube == 0; };
    bool fromTop = rank(g_.nodes()[from]), toTop = rank(g_.nodes()[to]);
    bool up = (toTop && !fromTop) || (a && b && policy_.trust.less(*a, *b)) ||
              (!a && !fromTop && (b || toTop)); // external data climbing in
    bool down =
        (fromTop && !toTop) || (a && b && policy_.trust.less(*b, *a)) || (a && !b && !toTop);
    if (up)
        return "integrity: lower trust reaches higher";
    if (down)
        return "confidentiality: data of higher trust reaches lower";
    if (a && b && *a == *b)
        return "within one trust level";
    return "between levels that are not ordered";
}

void Checker::reportPath(const model::Assertion& a, const std::vector<Edge>& path) {
    const Edge& first = path.front();
    const Edge& last = path.back();
    std::string hops = g_.nodes()[first.from].name;
    for (const Edge& e : path)
        hops += " => " + g_.nodes()[e.to].name;
    auto d =
        sink_.report(DiagCode::AssertionViolated, a.range,
                     "assertion violated: " + hops + " (" + direction(first.from, last.to) + ")");
    std::optional<std::string> suggestion;
    for (std::size_t k = 0; k < path.size(); ++k) {
        const Edge& e = path[k];
        d.hop(e.origin, "hop " + std::to_string(k + 1) + ": " + g_.nodes()[e.from].name + " => " +
                            g_.nodes()[e.to].name + " [" + kindLabel(e) + "] " + e.detail);
        if (suggestion || (e.kind == EdgeKind::Admin && !e.originText.empty()))
            continue; // dom0's own control is not something to waive
        if (e.kind == EdgeKind::Net)
            suggestion = "except net " + g_.nodes()[e.initiator].name + " -> " +
                         g_.nodes()[e.responder].name;
        else if (e.originText.empty())
            suggestion = "except rpc " + (e.service.empty() ? std::string("*") : e.service);
        else
            suggestion = "except " + std::string(model::edgeKindName(e.kind)) + " " +
                         g_.nodes()[e.initiator].name;
    }
    d.hint("close a hop by removing or narrowing its rule; or accept the risk in the assertion "
           "with " +
           suggestion.value_or("except KIND FROM -> TO") + " because \"...\"" +
           " (waivers show in every report)");
    violations_.push_back({static_cast<std::size_t>(&a - policy_.assertions.data()), d});
}

std::optional<std::vector<Edge>> Checker::witness(const model::Assertion& a) const {
    return shortestPath(g_, selectAll(a.from), selectAll(a.to), usableFor(a));
}

void Checker::noPath(const model::Assertion& a) {
    std::vector<NodeId> sources = selectAll(a.from), targets = selectAll(a.to);
    EdgeFilter usable = usableFor(a);
    std::optional<std::string> filter = filterName(a);
    // The certifier keeps an encoding only while a later assertion can ask it again.
    bool lastOfFilter = !filter || --certificatesLeft_[*filter] == 0;
    if (checkWaivers_)
        reportUnusedWaivers(a);
    if (auto path = shortestPath(g_, sources, targets, usable)) {
        ++summary_.assertionsViolated;
        reportPath(a, *path);
        if (lastOfFilter)
            certifier_.release();
        return;
    }
    std::optional<Certificate> cert = certifier_.certify(g_, sources, targets, usable, filter);
    if (lastOfFilter)
        certifier_.release();
    if (!cert || !checkCertificate(g_, *cert, sources, targets, usable)) {
        sink_
            .report(DiagCode::CouldNotProve, a.range,
                    "search found no path, but Z3's isolation certificate did not check out")
            .hint("this is a bug in Bulkhead; please report it with the policy");
        return;
    }
    ++summary_.assertionsHeld;
    ++summary_.certificatesChecked;
}

void Checker::noNetwork(const model::Assertion& a) {
    for (NodeId n : selectAll(a.from)) {
        const Node& node = g_.nodes()[n];
        if (node.kind == Node::Kind::External)
            continue;
        const model::Qube& q = policy_.qubes[node.qube];
        if (node.kind == Node::Kind::Disposables && q.netvm) {
            ++summary_.assertionsViolated;
            sink_
                .report(DiagCode::HasNetwork, a.range,
                        "assertion violated: disposables of " + q.name +
                            " have network through netvm " + policy_.qubes[*q.netvm].name)
                .note(q.range, "a disposable takes the netvm of its dispvm-template")
                .hint("give " + q.name + " 'netvm none;'");
            return;
        }
        if (node.kind == Node::Kind::Disposables)
            continue;
        if (q.netvm) {
            ++summary_.assertionsViolated;
            sink_
                .report(DiagCode::HasNetwork, a.range,
                        "assertion violated: " + q.name + " has network through netvm " +
                            policy_.qubes[*q.netvm].name)
                .note(q.range, q.name + " is declared with netvm " + policy_.qubes[*q.netvm].name)
                .hint("give it 'netvm none;'");
            return;
        }
        if (model::providesNetwork(q.kind)) {
            ++summary_.assertionsViolated;
            sink_
                .report(DiagCode::HasNetwork, a.range,
                        "assertion violated: " + q.name + " provides network")
                .note(q.range, "declared here");
            return;
        }
        for (const Edge& e : g_.edges())
            if (e.kind == EdgeKind::Net && (e.from == n || e.to == n)) {
                ++summary_.assertionsViolated;
                sink_
                    .report(DiagCode::HasNetwork, a.range,
                            "assertion violated: a network flow reaches " + q.name)
                    .note(e.origin, e.detail);
                return;
            }
    }
    ++summary_.assertionsHeld;
}

void Checker::requirement(const model::Requirement& r) {
    if (r.kind == model::Requirement::Kind::Net) {
        for (NodeId a = 0; a < g_.nodes().size(); ++a) {
            if (!std::any_of(r.from.begin(), r.from.end(), [&](const model::Endpoint& e) {
                    return endpointCovers(policy_, e, g_.nodes()[a]);
                }))
                continue;
            for (NodeId b = 0; b < g_.nodes().size(); ++b) {
                if (a == b || !std::any_of(r.to.begin(), r.to.end(), [&](const auto& e) {
                        return endpointCovers(policy_, e, g_.nodes()[b]);
                    }))
                    continue;
                if (auto packet = built_.packets->unpermitted(r.services, a, b)) {
                    ++summary_.requirementsUnmet;
                    sink_
                        .report(DiagCode::RequirementUnmet, r.range,
                                "required flow is not permitted: " + *packet)
                        .hint("allow it, or remove the deny that carves it out");
                    return;
                }
            }
        }
        ++summary_.requirementsMet;
        return;
    }
    // rpc: every caller the sources name, to every target the targets name.
    const rpc::Evaluator& ev = *built_.evaluator;
    for (NodeId a = 0; a < g_.nodes().size(); ++a) {
        const Node& caller = g_.nodes()[a];
        if (caller.kind == Node::Kind::External || a == model::Policy::dom0 ||
            std::none_of(r.rpcFrom.begin(), r.rpcFrom.end(),
                         [&](const auto& t) { return tokenCovers(t, a); }))
            continue;
        for (const model::RpcToken& t : r.rpcTo) {
            rpc::Target target;
            using K = model::RpcToken::Kind;
            switch (t.kind) {
            case K::Qube:
                target = {rpc::Target::Kind::Qube, t.qube};
                break;
            case K::AdminVM:
                target = {rpc::Target::Kind::AdminVM, 0};
                break;
            case K::DispVM:
                target = {rpc::Target::Kind::DispVM, 0};
                break;
            case K::DispVMOf:
                target = {rpc::Target::Kind::DispVMOf, t.qube};
                break;
            case K::Default:
                target = {rpc::Target::Kind::Default, 0};
                break;
            default:
                continue; // patterns are not requests
            }
            rpc::Caller c{caller.qube, caller.kind == Node::Kind::Disposables};
            rpc::Decision d =
                ev.evaluate(r.spec->service, r.spec->argument.value_or(""), c, target);
            if (d.result != rpc::Decision::Result::Deny)
                continue;
            ++summary_.requirementsUnmet;
            auto diag = sink_.report(DiagCode::RequirementUnmet, r.range,
                                     "required call is denied: " + r.spec->service + " from " +
                                         caller.name + ": " + d.reason);
            if (d.rule)
                diag.note(d.rule->range, "decided by this rule");
            return;
        }
    }
    ++summary_.requirementsMet;
}

bool Checker::requirementHolds(const model::Requirement& r) {
    std::size_t unmet = summary_.requirementsUnmet;
    requirement(r);
    return summary_.requirementsUnmet == unmet;
}

// Assertions without waivers that count the same kinds of edge use the same edges (usableFor):
// they share one encoding of the graph in the certifier.
std::optional<std::string> Checker::filterName(const model::Assertion& a) {
    if (!a.waivers.empty())
        return std::nullopt;
    std::vector<int> kinds;
    for (EdgeKind k : a.via)
        kinds.push_back(static_cast<int>(k));
    std::sort(kinds.begin(), kinds.end());
    kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
    std::string name = "via";
    for (int k : kinds)
        name += " " + std::to_string(k);
    return name;
}

void Checker::run() {
    for (const model::Assertion& a : policy_.assertions)
        if (a.kind == model::Assertion::Kind::NoPath)
            if (std::optional<std::string> filter = filterName(a))
                ++certificatesLeft_[*filter];
    for (const model::Assertion& a : policy_.assertions) {
        if (a.kind == model::Assertion::Kind::NoPath)
            noPath(a);
        else
            noNetwork(a);
    }
    for (const model::Requirement& r : policy_.requirements)
        requirement(r);
}

} // namespace bulkhead::analyzer
