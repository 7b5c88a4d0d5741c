#pragma once
// What an Analysis holds: the built graph and the policy it came from. Shared by the files
// that answer questions about it (query.cpp, blockers.cpp).
#include "bulkhead/analyzer/analyzer.h"

#include "build_graph.h"

#include <memory>
#include <optional>
#include <string>

namespace bulkhead::analyzer {

struct Analysis::Impl {
    std::unique_ptr<Built> built;
    const model::Policy* policy = nullptr;

    std::optional<NodeId> node(const std::string& name) const {
        const auto& nodes = built->graph.nodes();
        for (NodeId n = 0; n < nodes.size(); ++n)
            if (nodes[n].name == name)
                return n;
        return std::nullopt;
    }
};

} // namespace bulkhead::analyzer
