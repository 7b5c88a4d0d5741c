#include "build_graph.h"

#include "flow_index.h"
#include "rpc_edges.h"

#include <algorithm>

namespace bulkhead::analyzer {
namespace {

using model::EdgeKind;
using model::QubeKind;

rpc::Rule::Action actionOf(const std::string& a) {
    return a == "allow" ? rpc::Rule::Action::Allow
           : a == "ask" ? rpc::Rule::Action::Ask
                        : rpc::Rule::Action::Deny;
}

void addFactEdges(const model::Policy& p, Graph& g) {
    // The role holder (template, netvm) is the initiator in both directions.
    auto fact = [&](NodeId from, NodeId to, EdgeKind kind, SourceRange origin, std::string text,
                    bool reversed = false) {
        Edge e;
        e.from = from;
        e.to = to;
        e.initiator = reversed ? to : from;
        e.responder = reversed ? from : to;
        e.kind = kind;
        e.origin = origin;
        e.originText = text;
        e.detail = std::move(text);
        g.addEdge(std::move(e));
    };
    for (model::QubeId q = 1; q < p.qubes.size(); ++q) {
        const model::Qube& qube = p.qubes[q];
        if (qube.templ) {
            const model::Qube& t = p.qubes[*qube.templ];
            bool dvm = t.kind == QubeKind::DispVMTemplate;
            fact(*qube.templ, q, dvm ? EdgeKind::DispvmTemplate : EdgeKind::Template, qube.range,
                 qube.name + " is based on " + (dvm ? "dispvm-template " : "template ") + t.name);
        }
        if (qube.netvm) {
            std::string text = p.qubes[*qube.netvm].name + " is the netvm of " + qube.name;
            fact(*qube.netvm, q, EdgeKind::Netvm, qube.range, text);
            fact(q, *qube.netvm, EdgeKind::Netvm, qube.range, text, true);
        }
        fact(model::Policy::dom0, q, EdgeKind::Admin, {}, "dom0 administers every qube");
    }
    for (NodeId n = 0; n < g.nodes().size(); ++n) {
        const Node& node = g.nodes()[n];
        if (node.kind == Node::Kind::Disposables) {
            const model::Qube& dvm = p.qubes[node.qube];
            fact(node.qube, n, EdgeKind::DispvmTemplate, dvm.range,
                 "disposables start from " + dvm.name);
            if (dvm.templ)
                fact(*dvm.templ, n, EdgeKind::Template, dvm.range,
                     "disposables of " + dvm.name + " run on template " + p.qubes[*dvm.templ].name);
            if (dvm.netvm) {
                std::string text =
                    p.qubes[*dvm.netvm].name + " is the netvm of disposables of " + dvm.name;
                fact(*dvm.netvm, n, EdgeKind::Netvm, dvm.range, text);
                fact(n, *dvm.netvm, EdgeKind::Netvm, dvm.range, text, true);
            }
            fact(model::Policy::dom0, n, EdgeKind::Admin, {}, "dom0 administers every qube");
        }
    }
    // A netvm without a netvm holds the uplink: it and the outside reach each other.
    for (model::QubeId q = 1; q < p.qubes.size(); ++q) {
        if (!model::providesNetwork(p.qubes[q].kind) || p.qubes[q].netvm)
            continue;
        for (NodeId n = 0; n < g.nodes().size(); ++n) {
            if (g.nodes()[n].kind != Node::Kind::External)
                continue;
            std::string text = p.qubes[q].name + " holds the uplink to " + g.nodes()[n].name;
            fact(q, n, EdgeKind::Netvm, p.qubes[q].range, text);
            fact(n, q, EdgeKind::Netvm, p.qubes[q].range, text, true);
        }
    }
}

void addDirected(Graph& g, Edge e, model::DataDirection dir) {
    using D = model::DataDirection;
    if (dir != D::Pull)
        g.addEdge(e);
    if (dir != D::Push) {
        std::swap(e.from, e.to);
        g.addEdge(std::move(e));
    }
}

void addNetEdges(const model::Policy& p, Graph& g, PacketSpace& packets) {
    for (const model::NetFlow& f : p.flows) {
        if (f.verdict != model::Verdict::Allow)
            continue;
        std::vector<NodeId> from = packets.flows().nodesOf(f.from);
        std::vector<NodeId> to = packets.flows().nodesOf(f.to);
        for (const model::ServiceUse& use : f.services) {
            model::DataDirection dir =
                use.service ? p.services[*use.service].direction : model::DataDirection::Both;
            for (NodeId a : from)
                for (NodeId b : to) {
                    if (a == b)
                        continue;
                    std::optional<Witness> packet = packets.permitted(f, use, a, b);
                    if (!packet)
                        continue;
                    Edge e;
                    e.from = a;
                    e.to = b;
                    e.kind = EdgeKind::Net;
                    e.service = use.service ? p.services[*use.service].name : "";
                    e.netService = use.service;
                    e.netMatches = matchesKey(use.matches);
                    e.detail = packet->text;
                    e.packet = packet->packet;
                    e.origin = f.range;
                    e.initiator = a;
                    e.responder = b;
                    addDirected(g, std::move(e), dir);
                }
        }
    }
}

} // namespace

rpc::System systemOf(const model::Policy& p) {
    rpc::System sys;
    for (model::QubeId id = 0; id < p.qubes.size(); ++id) {
        const model::Qube& q = p.qubes[id];
        rpc::SystemQube s;
        s.name = q.name;
        s.type = std::string(model::qubesClassOf(p, id));
        s.tags = q.tags;
        s.dispvmTemplate = q.kind == QubeKind::DispVMTemplate;
        if (q.defaultDispvm)
            s.defaultDispvm = *q.defaultDispvm;
        // A qube started from a dispvm-template is a DispVM: unless set, its default_dispvm
        // is its template's, or the template itself (qubes/vm/dispvm.py).
        if (!q.defaultDispvm && q.templ && p.qubes[*q.templ].kind == QubeKind::DispVMTemplate)
            s.defaultDispvm = p.qubes[*q.templ].defaultDispvm.value_or(*q.templ);
        sys.qubes.push_back(std::move(s));
    }
    return sys;
}

std::vector<rpc::Rule> rulesOf(const model::Policy& p, const AnalysisOptions& options) {
    std::vector<rpc::Rule> rules;
    for (const model::RpcRule& r : p.rpcRules) {
        // A rule with several sources or targets is one Qubes line per pair, in order.
        for (const model::RpcToken& from : r.from)
            for (const model::RpcToken& to : r.to) {
                rpc::Rule u;
                u.service = r.spec.service;
                u.argument = r.spec.argument;
                u.source = rpc::parseToken(model::tokenText(p, from));
                u.target = rpc::parseToken(model::tokenText(p, to));
                u.action = r.action == model::RpcAction::Allow ? rpc::Rule::Action::Allow
                           : r.action == model::RpcAction::Ask ? rpc::Rule::Action::Ask
                                                               : rpc::Rule::Action::Deny;
                if (r.target)
                    u.redirect = rpc::parseToken(model::tokenText(p, *r.target));
                if (r.defaultTarget)
                    u.defaultTarget = rpc::parseToken(model::tokenText(p, *r.defaultTarget));
                u.range = r.range;
                rules.push_back(std::move(u));
            }
    }
    for (const BaselineRule& b : options.baseline) {
        rpc::Rule u;
        u.service = b.service;
        u.argument = b.argument;
        u.source = rpc::parseToken(b.source);
        u.target = rpc::parseToken(b.target);
        u.action = actionOf(b.action);
        if (b.redirect)
            u.redirect = rpc::parseToken(*b.redirect);
        if (b.defaultTarget)
            u.defaultTarget = rpc::parseToken(*b.defaultTarget);
        u.range = b.range;
        rules.push_back(std::move(u));
    }
    return rules;
}

Graph nodesOf(const model::Policy& p) {
    Graph g;
    for (model::QubeId q = 0; q < p.qubes.size(); ++q) {
        Node n;
        n.kind = Node::Kind::Qube;
        n.name = p.qubes[q].name;
        n.qube = q;
        n.trust = p.qubes[q].trust;
        g.add(std::move(n));
    }
    for (model::QubeId q = 0; q < p.qubes.size(); ++q) {
        if (p.qubes[q].kind != QubeKind::DispVMTemplate)
            continue;
        Node n;
        n.kind = Node::Kind::Disposables;
        n.name = "@dispvm:" + p.qubes[q].name;
        n.qube = q;
        n.trust = p.qubes[q].trust;
        g.add(std::move(n));
    }
    for (model::NetworkId id = 0; id < p.networks.size(); ++id) {
        Node n;
        n.kind = Node::Kind::External;
        n.name = p.networks[id].name;
        n.network = id;
        n.prefixes = p.networks[id].prefixes;
        g.add(std::move(n));
    }
    auto literal = [&](const model::Endpoint& e) {
        if (e.kind != model::Endpoint::Kind::Prefix || g.externalNode(e.prefix.str()))
            return;
        Node n;
        n.kind = Node::Kind::External;
        n.name = e.prefix.str();
        n.prefixes = {e.prefix};
        g.add(std::move(n));
    };
    for (const model::NetFlow& f : p.flows) {
        std::for_each(f.from.begin(), f.from.end(), literal);
        std::for_each(f.to.begin(), f.to.end(), literal);
    }
    for (const model::Requirement& r : p.requirements) {
        std::for_each(r.from.begin(), r.from.end(), literal);
        std::for_each(r.to.begin(), r.to.end(), literal);
    }
    return g;
}

NodeId nodeOf(const Graph& g, std::size_t qube, bool disposable) {
    if (!disposable)
        return static_cast<NodeId>(qube);
    return g.disposablesOf(static_cast<model::QubeId>(qube)).value();
}

std::unique_ptr<Built> prepareGraph(const model::Policy& p, const AnalysisOptions& options) {
    auto b = std::make_unique<Built>();
    b->graph = nodesOf(p);
    b->system = systemOf(p);
    b->evaluator = std::make_unique<rpc::Evaluator>(b->system, rulesOf(p, options));
    return b;
}

void addEdges(const model::Policy& p, const AnalysisOptions& options, Built& b) {
    b.packets = std::make_unique<PacketSpace>(p, b.graph, options.rlimit);
    addFactEdges(p, b.graph);
    addRpcEdges(p, b);
    addNetEdges(p, b.graph, *b.packets);
    b.graph.seal();
}

std::unique_ptr<Built> buildGraph(const model::Policy& p, const AnalysisOptions& options) {
    std::unique_ptr<Built> b = prepareGraph(p, options);
    addEdges(p, options, *b);
    return b;
}

} // namespace bulkhead::analyzer
