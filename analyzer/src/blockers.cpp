// "Why can't A reach B?": every node A reaches is a caller whose direct requests to B are
// all refused; the rules that refuse them are the answer (closing or opening any of them is
// what would change it).
#include "analysis_impl.h"
#include "rpc_eval.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace bulkhead::analyzer {

BlockReport Analysis::blockers(const std::string& from, const std::string& to) const {
    const Built& b = *impl_->built;
    const Graph& g = b.graph;
    auto a = impl_->node(from), t = impl_->node(to);
    if (!a || !t)
        throw std::invalid_argument("unknown node " + (a ? to : from));
    BlockReport out;
    std::vector<NodeId> reached = reachOrder(g, *a);
    for (NodeId n : reached)
        out.reached.push_back(g.nodes()[n].name);
    std::sort(out.reached.begin(), out.reached.end());

    // The request that would land on the target: a qube by name, disposables by @dispvm:X.
    const Node& target = g.nodes()[*t];
    rpc::Target want;
    if (target.kind == Node::Kind::Qube)
        want = {target.qube == 0 ? rpc::Target::Kind::AdminVM : rpc::Target::Kind::Qube,
                target.qube};
    else if (target.kind == Node::Kind::Disposables)
        want = {rpc::Target::Kind::DispVMOf, target.qube};
    else
        return out; // an external network is reached by flows only (explain PROTO/PORT)

    std::map<std::optional<SourceRange>, Blocker> byRule;
    rpc::Universe u = rpc::universeOf(b.system, *b.evaluator);
    for (NodeId n : reached) {
        const Node& node = g.nodes()[n];
        if (node.kind == Node::Kind::External || (node.kind == Node::Kind::Qube && node.qube == 0))
            continue; // networks call nothing; dom0 is not judged by policy
        rpc::Caller c{node.qube, node.kind == Node::Kind::Disposables};
        for (const auto& [service, args] : u.services)
            for (const std::string& arg : args) {
                rpc::Decision d = b.evaluator->evaluate(service, arg, c, want);
                if (d.result != rpc::Decision::Result::Deny)
                    continue;
                std::optional<SourceRange> key;
                if (d.rule)
                    key = d.rule->range;
                Blocker& bl = byRule[key];
                bl.rule = key;
                if (bl.requests++ == 0)
                    bl.example = (service.empty() ? std::string("any other service") : service) +
                                 arg + " from " + node.name + " to " + to;
            }
    }
    for (auto& [key, bl] : byRule)
        out.blockers.push_back(std::move(bl));
    std::stable_sort(out.blockers.begin(), out.blockers.end(),
                     [](const Blocker& x, const Blocker& y) { return x.requests > y.requests; });
    return out;
}

} // namespace bulkhead::analyzer
