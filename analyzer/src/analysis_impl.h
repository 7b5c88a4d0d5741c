#pragma once
// What an Analysis holds: the built graph and the policy it came from. Shared by the files
// that answer questions about it (query.cpp, blockers.cpp).
#include "bulkhead/analyzer/analyzer.h"

#include "build_graph.h"

#include "bulkhead/compiler/net_addressing.h"

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

    // The qube whose `ip` this is, else the disposables whose range holds it.
    std::optional<NodeId> ownerOf(const IpPrefix& address) const {
        model::NetAddressing addressing(*policy);
        for (model::QubeId q = 0; q < policy->qubes.size(); ++q)
            for (const IpPrefix& x : addressing.addressesOf({q, false}))
                if (x.contains(address))
                    return node(policy->qubes[q].name);
        if (auto owner = addressing.disposablesOwner())
            for (const IpPrefix& x : addressing.addressesOf({*owner, true}))
                if (x.contains(address))
                    return node("@dispvm:" + policy->qubes[*owner].name);
        return std::nullopt;
    }
};

} // namespace bulkhead::analyzer
