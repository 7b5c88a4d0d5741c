#include "certificate.h"

#include <z3++.h>

#include <algorithm>
#include <map>

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
        // Groups share their sides (the same callers, the same landings): one hub per
        // distinct side, R_f -> in(F) and out(T) -> R_t, and in(F) -> out(T) per usable group.
        std::map<std::vector<NodeId>, z3::expr> ins, outs;
        auto hub = [&](std::map<std::vector<NodeId>, z3::expr>& hubs,
                       const std::vector<NodeId>& side, bool in) {
            auto it = hubs.find(side);
            if (it != hubs.end())
                return it->second;
            z3::expr h = ctx.bool_const(((in ? "i" : "o") + std::to_string(hubs.size())).c_str());
            for (NodeId n : side)
                facts.push_back(in ? z3::implies(reach[n], h) : z3::implies(h, reach[n]));
            return hubs.emplace(side, h).first->second;
        };
        for (const EdgeGroup& grp : g.groups()) {
            Use use = usable.group(grp.proto);
            if (use == Use::Some)
                forUsablePairs(grp, usable, [&](const Edge& e) {
                    facts.push_back(z3::implies(reach[e.from], reach[e.to]));
                });
            if (use == Use::All)
                facts.push_back(z3::implies(hub(ins, grp.from, true), hub(outs, grp.to, false)));
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
