#pragma once
// Isolation certificates: the propositional Horn encoding of reachability, solved by Z3.
// A satisfying model is an inductive invariant that contains every source, excludes every
// target and is closed under every usable edge; it is re-checked here edge by edge.
#include "graph.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

struct Certificate {
    std::vector<bool> invariant; // by node: may be reached
    std::size_t reachable = 0;
};

// Nothing when Z3 finds the encoding unsatisfiable (an escape exists) or gives up. A group
// whose pairs are all usable is one clause between the hub terms of its sides (in: any of
// its sources' R_f, out: all of its landings' R_t; groups with the same sides share them):
// exact, since the only pairs it adds are f -> f, tautologies.
std::optional<Certificate> certifyIsolation(const Graph& g, const std::vector<NodeId>& sources,
                                            const std::vector<NodeId>& targets,
                                            const EdgeFilter& usable);

// The same for every holding assertion of one check, in one Z3 context made on first use:
// a small policy's certificates cost less than making a context each (docs/performance.md,
// pre-commit latency).
class Certifier {
public:
    Certifier();
    ~Certifier();
    // filter: names `usable` (two equal names, the same filter). The encoding of the graph
    // under it is kept, and the next question with the same name asks it again with its own
    // sources and targets; without a name it is built for this question.
    std::optional<Certificate> certify(const Graph& g, const std::vector<NodeId>& sources,
                                       const std::vector<NodeId>& targets, const EdgeFilter& usable,
                                       const std::optional<std::string>& filter = std::nullopt);
    // Frees the kept encoding (the context stays).
    void release();

private:
    struct Context;
    std::unique_ptr<Context> context_;
};

// Independent check of a certificate: closed, contains the sources, avoids the targets. A
// group in O(|from| + |to|): once one of its sources is in, every landing must be.
bool checkCertificate(const Graph& g, const Certificate& c, const std::vector<NodeId>& sources,
                      const std::vector<NodeId>& targets, const EdgeFilter& usable);

// Calls f(pair edge) for every usable pair of a group whose use is Some.
template <class F> void forUsablePairs(const EdgeGroup& grp, const EdgeFilter& usable, F&& f) {
    Edge e = grp.proto;
    for (NodeId a : grp.from)
        for (NodeId b : grp.to) {
            if (a == b)
                continue;
            e.from = a;
            e.to = b;
            e.initiator = grp.initiatorIsFrom ? a : b;
            e.responder = grp.initiatorIsFrom ? b : a;
            if (usable.edge(e))
                f(e);
        }
}

} // namespace bulkhead::analyzer
