#include "certificate.h"

#include <z3++.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>

namespace bulkhead::analyzer {

namespace {

// The Horn clauses, asserted one by one into a solver made from Z3's `sat` tactic:
// propositional reachability is unit propagation there; the SMT core given one conjunction
// of every clause took several times the time and memory, and Z3's incremental SAT solver
// (logic QF_FD) more of both (docs/performance.md). The sources and targets of each
// question are assumptions of its check.
class HornEncoding {
public:
    explicit HornEncoding(z3::context& ctx) : ctx_(ctx), s_(z3::tactic(ctx, "sat").mk_solver()) {}

    z3::expr fresh(const std::string& name) { return ctx_.bool_const(name.c_str()); }
    void implies(const z3::expr& a, const z3::expr& b) { s_.add(!a || b); }
    z3::solver& solver() { return s_; }

private:
    z3::context& ctx_;
    z3::solver s_;
};

// One term per distinct side of the groups, made of one term per distinct block of the side
// (nodes [64k, 64k + 64)): in(F) is the disjunction of F's nodes, out(T) the conjunction of
// T's. A block is built on the largest block of its range made before that it contains (a
// mask test), so a family of nested landing sets costs each member's new nodes only. They
// are terms, not variables with a clause per node: Z3 shares a term however often it is
// used, and one n-ary term costs a word per node where a clause costs a term of its own
// (docs/performance.md, Round 8).
class SideHubs {
public:
    SideHubs(z3::context& ctx, const std::vector<z3::expr>& reach, bool in)
        : ctx_(ctx), reach_(reach), in_(in) {}

    // Groups hold interned sides (Graph::addGroup): the same nodes, the same identity().
    z3::expr of(const Side& interned) {
        if (auto it = sides_.find(interned.identity()); it != sides_.end())
            return it->second;
        z3::expr_vector parts(ctx_);
        interned.forEachBlock([&](NodeId range, std::uint64_t mask) {
            if (std::has_single_bit(mask))
                parts.push_back(reach_[range * 64 + static_cast<NodeId>(std::countr_zero(mask))]);
            else
                parts.push_back(block(range, mask));
        });
        return sides_.emplace(interned.identity(), join(parts)).first->second;
    }

private:
    struct Block {
        std::uint64_t mask;
        z3::expr hub;
    };

    // in: any of the parts; out: all of them.
    z3::expr join(const z3::expr_vector& parts) const {
        if (parts.size() == 1)
            return parts[0];
        return in_ ? z3::mk_or(parts) : z3::mk_and(parts);
    }

    z3::expr block(NodeId range, std::uint64_t mask) {
        std::vector<Block>& made = blocks_[range];
        const Block* base = nullptr;
        for (const Block& b : made) {
            if (b.mask == mask)
                return b.hub;
            if ((b.mask & ~mask) == 0 &&
                (!base || std::popcount(b.mask) > std::popcount(base->mask)))
                base = &b;
        }
        z3::expr_vector parts(ctx_);
        std::uint64_t rest = mask;
        if (base) {
            parts.push_back(base->hub);
            rest &= ~base->mask;
        }
        for (NodeId bit = 0; bit < 64; ++bit)
            if (rest >> bit & 1)
                parts.push_back(reach_[range * 64 + bit]);
        made.push_back({mask, join(parts)});
        return made.back().hub;
    }

    z3::context& ctx_;
    const std::vector<z3::expr>& reach_;
    bool in_;
    std::map<const void*, z3::expr> sides_;       // by Side::identity
    std::map<NodeId, std::vector<Block>> blocks_; // by range
};

// The clauses of a graph's usable edges and groups, without sources or targets: every
// assertion with the same edge filter asks the same encoding (a generated policy's five
// vault assertions built it five times).
class GraphEncoding {
public:
    GraphEncoding(z3::context& ctx, const Graph& g, const EdgeFilter& usable) : horn_(ctx) {
        for (NodeId n = 0; n < g.nodes().size(); ++n)
            reach_.push_back(horn_.fresh("r" + std::to_string(n)));
        // A node's concrete edges as one clause to the conjunction of where they lead: the
        // flows of a network are most of them, many between the same two nodes (sorted by
        // node since seal()), and a term per edge was a quarter of Z3's memory.
        for (NodeId n = 0; n < g.nodes().size(); ++n) {
            z3::expr_vector to(ctx);
            NodeId last = n; // never a landing: a concrete edge leaves its node
            for (std::size_t i = g.firstEdge(n); i < g.firstEdge(n + 1); ++i) {
                const Edge& e = g.edges()[i];
                if (e.to != last && usable.edge(e)) {
                    to.push_back(reach_[e.to]);
                    last = e.to;
                }
            }
            if (!to.empty())
                horn_.implies(reach_[n], to.size() == 1 ? to[0] : z3::mk_and(to));
        }
        // A fully usable group goes R_f -> in(F) -> out(T) -> R_t through the hubs of its
        // sides, shared by every group with the same side.
        SideHubs in(ctx, reach_, true), out(ctx, reach_, false);
        for (const EdgeGroup& grp : g.groups()) {
            Use use = usable.group(grp.proto);
            if (use == Use::Some)
                forUsablePairs(grp, usable,
                               [&](const Edge& e) { horn_.implies(reach_[e.from], reach_[e.to]); });
            if (use == Use::All)
                horn_.implies(in.of(grp.from), out.of(grp.to));
        }
    }

    std::optional<Certificate> check(z3::context& ctx, const std::vector<NodeId>& sources,
                                     const std::vector<NodeId>& targets) {
        z3::expr_vector assumed(ctx);
        for (NodeId src : sources)
            assumed.push_back(reach_[src]);
        for (NodeId t : targets)
            assumed.push_back(!reach_[t]);
        if (horn_.solver().check(assumed) != z3::sat)
            return std::nullopt;
        z3::model m = horn_.solver().get_model();
        Certificate c;
        for (const z3::expr& r : reach_) {
            bool reached = m.eval(r, true).is_true();
            c.invariant.push_back(reached);
            c.reachable += reached ? 1 : 0;
        }
        return c;
    }

private:
    HornEncoding horn_;
    std::vector<z3::expr> reach_;
};

} // namespace

struct Certifier::Context {
    z3::context ctx;
    std::unique_ptr<GraphEncoding> encoding; // the last one, kept for its filter
    const Graph* graph = nullptr;
    std::optional<std::string> filter;
};

Certifier::Certifier() = default;
Certifier::~Certifier() = default;

std::optional<Certificate> Certifier::certify(const Graph& g, const std::vector<NodeId>& sources,
                                              const std::vector<NodeId>& targets,
                                              const EdgeFilter& usable,
                                              const std::optional<std::string>& filter) {
    try {
        if (!context_)
            context_ = std::make_unique<Context>();
        Context& c = *context_;
        if (!filter || !c.encoding || c.graph != &g || c.filter != filter) {
            c.encoding.reset(); // freed before the next is built
            c.encoding = std::make_unique<GraphEncoding>(c.ctx, g, usable);
            c.graph = &g;
            c.filter = filter;
        }
        return c.encoding->check(c.ctx, sources, targets);
    } catch (const z3::exception&) {
        return std::nullopt;
    }
}

void Certifier::release() {
    if (context_)
        context_->encoding.reset();
}

std::optional<Certificate> certifyIsolation(const Graph& g, const std::vector<NodeId>& sources,
                                            const std::vector<NodeId>& targets,
                                            const EdgeFilter& usable) {
    return Certifier().certify(g, sources, targets, usable);
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
