#pragma once
// Isolation certificates: the propositional Horn encoding of reachability, solved by Z3.
// A satisfying model is an inductive invariant that contains every source, excludes every
// target and is closed under every usable edge; it is re-checked here edge by edge.
#include "graph.h"

#include <functional>
#include <optional>
#include <vector>

namespace bulkhead::analyzer {

struct Certificate {
    std::vector<bool> invariant; // by node: may be reached
    std::size_t reachable = 0;
};

// Nothing when Z3 finds the encoding unsatisfiable (an escape exists) or gives up.
std::optional<Certificate> certifyIsolation(const Graph& g, const std::vector<NodeId>& sources,
                                            const std::vector<NodeId>& targets,
                                            const std::function<bool(const Edge&)>& usable);

// Independent check of a certificate: closed, contains the sources, avoids the targets.
bool checkCertificate(const Graph& g, const Certificate& c, const std::vector<NodeId>& sources,
                      const std::vector<NodeId>& targets,
                      const std::function<bool(const Edge&)>& usable);

} // namespace bulkhead::analyzer
