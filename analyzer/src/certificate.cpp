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
        // Groups share their sides (the same callers, the same landings), and sides share
        // most of their members: one hub per distinct side, made of one hub per distinct
        // block of it (nodes [64k, 64k + 64)), each block hub shared by every side that holds
        // the same block. R_f -> blockIn -> in(F), out(T) -> blockOut -> R_t, and
        // in(F) -> out(T) for each usable group.
        std::map<std::vector<NodeId>, z3::expr> sideHubs[2], blockHubs[2];
        auto hub = [&](const std::vector<NodeId>& side, bool in) {
            auto& sides = sideHubs[in ? 1 : 0];
            if (auto it = sides.find(side); it != sides.end())
                return it->second;
            auto& blocks = blockHubs[in ? 1 : 0];
            std::string prefix = in ? "i" : "o";
            z3::expr h = ctx.bool_const((prefix + std::to_string(sides.size())).c_str());
            auto link = [&](const z3::expr& a, const z3::expr& b) {
                facts.push_back(in ? z3::implies(a, b) : z3::implies(b, a)); // a feeds b
            };
            for (std::size_t i = 0; i < side.size();) {
                std::size_t j = i;
                while (j < side.size() && side[j] / 64 == side[i] / 64)
                    ++j;
                std::vector<NodeId> block(side.begin() + static_cast<std::ptrdiff_t>(i),
                                          side.begin() + static_cast<std::ptrdiff_t>(j));
                i = j;
                if (block.size() == 1) {
                    link(reach[block.front()], h);
                    continue;
                }
                auto it = blocks.find(block);
                if (it == blocks.end()) {
                    z3::expr b =
                        ctx.bool_const((prefix + "b" + std::to_string(blocks.size())).c_str());
                    for (NodeId n : block)
                        link(reach[n], b);
                    it = blocks.emplace(std::move(block), b).first;
                }
                link(it->second, h);
            }
            return sides.emplace(side, h).first->second;
        };
        for (const EdgeGroup& grp : g.groups()) {
            Use use = usable.group(grp.proto);
            if (use == Use::Some)
                forUsablePairs(grp, usable, [&](const Edge& e) {
                    facts.push_back(z3::implies(reach[e.from], reach[e.to]));
                });
            if (use == Use::All)
                facts.push_back(z3::implies(hub(grp.from, true), hub(grp.to, false)));
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
