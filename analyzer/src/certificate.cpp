#include "certificate.h"

#include <z3++.h>

namespace bulkhead::analyzer {

std::optional<Certificate> certifyIsolation(const Graph& g, const std::vector<NodeId>& sources,
                                            const std::vector<NodeId>& targets,
                                            const std::function<bool(const Edge&)>& usable) {
    try {
        z3::context ctx;
        z3::solver s(ctx, z3::solver::simple());
        std::vector<z3::expr> reach;
        for (NodeId n = 0; n < g.nodes().size(); ++n)
            reach.push_back(ctx.bool_const(("r" + std::to_string(n)).c_str()));
        z3::expr_vector facts(ctx);
        for (NodeId src : sources)
            facts.push_back(reach[src]);
        for (const Edge& e : g.edges())
            if (usable(e))
                facts.push_back(z3::implies(reach[e.from], reach[e.to]));
        for (NodeId t : targets)
            facts.push_back(!reach[t]);
        s.add(z3::mk_and(facts));
        if (s.check() != z3::sat)
            return std::nullopt;
        z3::model m = s.get_model();
        Certificate c;
        for (NodeId n = 0; n < g.nodes().size(); ++n) {
            bool in = m.eval(reach[n], true).is_true();
            c.invariant.push_back(in);
            c.reachable += in ? 1 : 0;
        }
        return c;
    } catch (const z3::exception&) {
        return std::nullopt;
    }
}

bool checkCertificate(const Graph& g, const Certificate& c, const std::vector<NodeId>& sources,
                      const std::vector<NodeId>& targets,
                      const std::function<bool(const Edge&)>& usable) {
    if (c.invariant.size() != g.nodes().size())
        return false;
    for (NodeId s : sources)
        if (!c.invariant[s])
            return false;
    for (NodeId t : targets)
        if (c.invariant[t])
            return false;
    for (const Edge& e : g.edges())
        if (usable(e) && c.invariant[e.from] && !c.invariant[e.to])
            return false;
    return true;
}

} // namespace bulkhead::analyzer
