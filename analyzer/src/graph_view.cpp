// The influence graph as plain data (analyzer.h: GraphView), for `bulkhead graph`.
#include "bulkhead/analyzer/analyzer.h"

#include "analysis_impl.h"
#include "assertions.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace bulkhead::analyzer {

GraphView Analysis::graphView() const {
    Built& b = *impl_->built;
    const Graph& g = b.graph;
    const model::Policy& policy = *impl_->policy;
    GraphView view;

    for (const Node& n : g.nodes()) {
        GraphNode out;
        out.name = n.name;
        if (n.kind == Node::Kind::External) {
            out.kind = "external";
        } else {
            const model::Qube& q = policy.qubes[n.qube];
            out.kind = n.kind == Node::Kind::Qube ? "qube" : "disposables";
            out.cls = n.kind == Node::Kind::Qube ? std::string(model::qubesClassOf(policy, n.qube))
                                                 : "DispVM";
            if (q.netvm)
                out.netvm = policy.qubes[*q.netvm].name;
            out.providesNetwork = n.kind == Node::Kind::Qube && model::providesNetwork(q.kind);
        }
        if (n.trust) {
            const model::TrustLevel& level = policy.trust.levels()[*n.trust];
            out.trust = level.name;
            if (level.label)
                out.label = std::string(model::labelName(*level.label));
        }
        view.nodes.push_back(std::move(out));
    }
    std::sort(view.nodes.begin(), view.nodes.end(),
              [](const GraphNode& x, const GraphNode& y) { return x.name < y.name; });

    // Edges collapsed by (from, to, kind, ask); a collapsed edge is a fact only when all are.
    using Key = std::tuple<std::string, std::string, std::string, bool>;
    std::map<Key, GraphEdge> merged;
    std::map<Key, std::set<std::string>> services;
    auto add = [&](NodeId from, NodeId to, const Edge& e, std::size_t count) {
        std::string kind(model::edgeKindName(e.kind));
        Key key{g.nodes()[from].name, g.nodes()[to].name, kind, e.needsAsk};
        auto [it, fresh] = merged.try_emplace(key);
        GraphEdge& m = it->second;
        if (fresh) {
            m.from = std::get<0>(key);
            m.to = std::get<1>(key);
            m.kind = kind;
            m.ask = e.needsAsk;
            m.fact = true;
        }
        m.fact = m.fact && !e.originText.empty();
        m.count += count;
        bool named = e.kind == model::EdgeKind::Net || e.kind == model::EdgeKind::Rpc ||
                     e.kind == model::EdgeKind::Admin || e.kind == model::EdgeKind::Device;
        if (named && e.originText.empty())
            services[key].insert(e.service.empty() ? "*" : e.service);
    };
    for (const Edge& e : g.edges())
        add(e.from, e.to, e, 1);
    for (const EdgeGroup& grp : g.groups())
        for (NodeId f : grp.from)
            for (NodeId t : grp.to)
                if (f != t)
                    add(f, t, grp.proto, 1);
    for (auto& [key, e] : merged) {
        auto s = services.find(key);
        if (s != services.end())
            e.services.assign(s->second.begin(), s->second.end());
        view.edges.push_back(std::move(e));
    }

    DiagnosticSink quiet;
    AnalysisSummary unused;
    Checker checker(policy, b, quiet, unused, false);
    for (const model::Assertion& a : policy.assertions) {
        if (a.kind != model::Assertion::Kind::NoPath)
            continue;
        std::optional<std::vector<Edge>> path = checker.witness(a);
        if (!path)
            continue;
        GraphWitness w;
        w.assertion = a.range;
        for (const Edge& e : *path) {
            GraphEdge hop;
            hop.from = g.nodes()[e.from].name;
            hop.to = g.nodes()[e.to].name;
            hop.kind = std::string(model::edgeKindName(e.kind));
            hop.ask = e.needsAsk;
            hop.fact = !e.originText.empty();
            hop.count = 1;
            if (!e.service.empty())
                hop.services.push_back(e.service);
            w.hops.push_back(std::move(hop));
        }
        view.witnesses.push_back(std::move(w));
    }
    return view;
}

} // namespace bulkhead::analyzer
