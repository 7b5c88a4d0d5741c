// Assertions (with their waivers) and requirements.
#include "resolve/resolver.h"

#include <algorithm>

namespace bulkhead::resolver {
namespace {

std::optional<model::Comparator> comparatorFrom(std::string_view text) {
    if (text.empty())
        return model::Comparator::Equal;
    if (text == "<")
        return model::Comparator::Less;
    if (text == "<=")
        return model::Comparator::LessEqual;
    if (text == ">")
        return model::Comparator::Greater;
    if (text == ">=")
        return model::Comparator::GreaterEqual;
    return std::nullopt;
}

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

} // namespace

std::optional<model::Selector> Resolver::selector(const ast::Selector& sel, bool qubesOnly) {
    model::Selector out;
    out.range = sel.range;
    switch (sel.kind) {
    case ast::Selector::Kind::Trust: {
        auto level = lookupLevel(ast::Ident{sel.ref.text, sel.ref.range});
        if (!level)
            return std::nullopt;
        out.kind = model::Selector::Kind::Trust;
        out.comparator = comparatorFrom(sel.comparator).value_or(model::Comparator::Equal);
        out.level = *level;
        break;
    }
    case ast::Selector::Kind::Name: {
        if (auto n = networkIndex_.find(sel.ref.text); n != networkIndex_.end()) {
            if (qubesOnly) {
                sink_
                    .report(DiagCode::SelectorNotAQube, sel.range,
                            "'" + sel.ref.text +
                                "' is a network object; only qubes have or "
                                "lack network")
                    .note(policy_.networks[n->second].range, "declared here");
                return std::nullopt;
            }
            out.kind = model::Selector::Kind::Network;
            out.network = n->second;
            return out;
        }
        auto q = lookupQube(sel.ref, "qube or network object");
        if (!q)
            return std::nullopt;
        out.kind = model::Selector::Kind::Qube;
        out.qube = *q;
        return out;
    }
    case ast::Selector::Kind::Token: {
        auto token = rpcToken(sel.ref, RpcColumn::Target);
        if (!token)
            return std::nullopt;
        using K = model::RpcToken::Kind;
        switch (token->kind) {
        case K::AdminVM:
            out.kind = model::Selector::Kind::Qube;
            out.qube = model::Policy::dom0;
            return out;
        case K::AnyVM:
            out.kind = model::Selector::Kind::AnyVM;
            break;
        case K::Tag:
            out.kind = model::Selector::Kind::Tag;
            out.value = token->value;
            break;
        case K::Type:
            out.kind = model::Selector::Kind::Type;
            out.value = token->value;
            break;
        case K::DispVMOf:
            out.kind = model::Selector::Kind::DispVMOf;
            out.qube = token->qube;
            return out; // disposables exist at run time even when none is named
        default:
            sink_
                .report(DiagCode::TokenNotAllowedHere, sel.range,
                        "'" + sel.ref.text + "' does not select qubes")
                .hint("select qubes by name, trust level, @anyvm, @tag:, @type: or @dispvm:NAME");
            return std::nullopt;
        }
        break;
    }
    }
    if (selectQubes(policy_, out).empty())
        sink_.report(DiagCode::EmptySelector, sel.range,
                     "no qube matches this selector, so the assertion says nothing about it");
    return out;
}

std::vector<model::Selector> Resolver::selectors(const std::vector<ast::Selector>& sels,
                                                 bool qubesOnly) {
    std::vector<model::Selector> out;
    for (const ast::Selector& s : sels)
        if (auto m = selector(s, qubesOnly))
            out.push_back(std::move(*m));
    return out;
}

std::optional<model::EdgeKind> Resolver::edgeKind(const ast::Ident& name) {
    if (auto kind = model::edgeKindFromName(name.text))
        return kind;
    std::vector<std::string> names;
    for (int i = 0; i <= static_cast<int>(model::EdgeKind::Admin); ++i)
        names.emplace_back(model::edgeKindName(static_cast<model::EdgeKind>(i)));
    auto d = sink_.report(DiagCode::UnknownEdgeKind, name.range,
                          "'" + name.text + "' is not an edge kind");
    if (auto near = closestName(name.text, names))
        d.hint("did you mean '" + *near + "'?");
    else
        d.hint("edge kinds are net, rpc, template, dispvm-template, netvm, device and admin");
    return std::nullopt;
}

std::optional<model::Waiver> Resolver::waiver(const ast::Waiver& w) {
    model::Waiver out;
    out.range = w.range;
    if (w.kind == ast::Waiver::Kind::Rpc) {
        out.kind = model::EdgeKind::Rpc;
        auto spec = rpcService(*w.service);
        if (!spec)
            return std::nullopt;
        out.service = std::move(spec);
        out.rpcFrom = rpcTokens(w.rpcFrom, RpcColumn::Source);
        out.rpcTo = rpcTokens(w.rpcTo, RpcColumn::Target);
        return out;
    }
    auto kind = edgeKind(w.edgeKind);
    if (!kind)
        return std::nullopt;
    out.kind = *kind;
    if (w.from)
        out.from = selector(*w.from, false);
    if (w.to)
        out.to = selector(*w.to, false);
    if (!w.services.empty()) {
        if (out.kind != model::EdgeKind::Net) {
            sink_
                .report(DiagCode::PortsNotAllowed, w.services.front().range,
                        "only net waivers name services")
                .hint("drop ': ...' or waive 'net A -> B : SERVICES'");
            return std::nullopt;
        }
        out.services = serviceUses(w.services);
    }
    return out;
}

void Resolver::resolveAssertions() {
    forEach<ast::NoPathAssertion>([&](const ast::NoPathAssertion& a, const ast::Statement& s) {
        model::Assertion out;
        out.kind = model::Assertion::Kind::NoPath;
        out.range = s.range;
        out.from = selectors(a.from, false);
        out.to = selectors(a.to, false);
        for (const ast::Ident& v : a.via) {
            auto kind = edgeKind(v);
            if (!kind)
                continue;
            if (std::find(out.via.begin(), out.via.end(), *kind) == out.via.end())
                out.via.push_back(*kind);
        }
        std::sort(out.via.begin(), out.via.end());
        for (const ast::ExceptClause& clause : a.excepts) {
            std::string reason;
            if (!clause.because) {
                sink_
                    .report(DiagCode::ExceptWithoutBecause, clause.range,
                            "a waiver must say why: 'except ...' without 'because'")
                    .hint("add: because \"the reason a reviewer should accept\"");
            } else if (blank(clause.because->value)) {
                sink_
                    .report(DiagCode::EmptyReason, clause.because->range,
                            "the reason for this waiver is empty")
                    .hint("say why the path is acceptable; reviewers read it in every report");
            } else {
                reason = clause.because->value;
            }
            for (const ast::Waiver& w : clause.waivers)
                if (auto m = waiver(w)) {
                    m->reason = reason;
                    out.waivers.push_back(std::move(*m));
                }
        }
        policy_.assertions.push_back(std::move(out));
    });
    forEach<ast::NoNetworkAssertion>(
        [&](const ast::NoNetworkAssertion& a, const ast::Statement& s) {
            model::Assertion out;
            out.kind = model::Assertion::Kind::NoNetwork;
            out.range = s.range;
            out.from = selectors(a.subjects, true);
            policy_.assertions.push_back(std::move(out));
        });
    // Statement order, whatever their kind: reports list assertions as written.
    std::stable_sort(
        policy_.assertions.begin(), policy_.assertions.end(),
        [](const model::Assertion& x, const model::Assertion& y) { return x.range < y.range; });
}

void Resolver::resolveRequirements() {
    forEach<ast::NetRequirement>([&](const ast::NetRequirement& r, const ast::Statement& s) {
        model::Requirement out;
        out.kind = model::Requirement::Kind::Net;
        out.range = s.range;
        out.from = endpoints(r.from);
        out.to = endpoints(r.to);
        out.services = serviceUses(r.services);
        policy_.requirements.push_back(std::move(out));
    });
    forEach<ast::RpcRequirement>([&](const ast::RpcRequirement& r, const ast::Statement& s) {
        model::Requirement out;
        out.kind = model::Requirement::Kind::Rpc;
        out.range = s.range;
        out.spec = rpcService(r.service);
        out.rpcFrom = rpcTokens(r.from, RpcColumn::Source);
        out.rpcTo = rpcTokens(r.to, RpcColumn::Target);
        policy_.requirements.push_back(std::move(out));
    });
    std::stable_sort(
        policy_.requirements.begin(), policy_.requirements.end(),
        [](const model::Requirement& x, const model::Requirement& y) { return x.range < y.range; });
}

} // namespace bulkhead::resolver
