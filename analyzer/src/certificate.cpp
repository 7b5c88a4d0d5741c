#include "certificate.h"

#include <z3++.h>

#include <algorithm>

namespace bulkhead::analyzer {

std::optional<Certificate> certifyIsolation(const Graph& g, const std::vector<NodeId>& sources,
                                            const std::vector<NodeId>& targets,
                                            const EdgeFilter& usable) {
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
            if (usable.edge(e))
                facts.push_back(z3::implies(reach[e.from], reach[e.to]));
        for (std::size_t gi = 0; gi < g.groups().size(); ++gi) {
            const EdgeGroup& grp = g.groups()[gi];
            Use use = usable.group(grp.proto);
            if (use == Use::Some)
                forUsablePairs(grp, usable, [&](const Edge& e) {
                    facts.push_back(z3::implies(reach[e.from], reach[e.to]));
                });
            if (use != Use::All)
                continue;
            z3::expr hub = ctx.bool_const(("h" + std::to_string(gi)).c_str());
            for (NodeId f : grp.from)
                facts.push_back(z3::implies(reach[f], hub));
            for (NodeId t : grp.to)
                facts.push_back(z3::implies(hub, reach[t]));
        }
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
                      const std::vector<NodeId>& targets, const EdgeFilter& usable) {
    if (c.invariant.size() != g.nodes().size())
        return false;
    for (NodeId s : sources)
        if (!c.invariant[s])
            return false;
    for (NodeId t : targets)
        if (c.invariant[t])
            return false;
    for (const Edge& e : g.edges())
        if (usable.edge(e) && c.invariant[e.from] && !c.invariant[e.to])
            return false;
    auto in = [&](NodeId n) { return static_cast<bool>(c.invariant[n]); };
    for (const EdgeGroup& grp : g.groups()) {
        Use use = usable.group(grp.proto);
        bool closed = true;
        if (use == Use::Some)
            forUsablePairs(grp, usable,
                           [&](const Edge& e) { closed = closed && (!in(e.from) || in(e.to)); });
        // Every pair f -> t with f != t: when some f is in, a landing left out is another
        // node than f, so the pair leaves the invariant.
        if (use == Use::All && std::any_of(grp.from.begin(), grp.from.end(), in))
            closed = std::all_of(grp.to.begin(), grp.to.end(), in);
        if (!closed)
            return false;
    }
    return true;
}

} // namespace bulkhead::analyzer
