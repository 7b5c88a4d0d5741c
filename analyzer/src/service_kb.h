#pragma once
// What Bulkhead knows about qrexec services: which way data moves, and which edge kind a call
// makes (docs/semantics.md, "rpc, admin, device").
#include "bulkhead/compiler/model.h"

#include <string>

namespace bulkhead::analyzer {

struct ServiceNature {
    model::EdgeKind kind = model::EdgeKind::Rpc;
    model::DataDirection direction = model::DataDirection::Both;
    // dom0 parses this service's data defensively by Qubes' design: an edge into dom0 is an
    // assumption, reported, not a path.
    bool dom0Hardened = false;
};

// Declared rpc-services in the policy override the built-in knowledge.
ServiceNature serviceNature(const model::Policy& policy, const std::string& service);

} // namespace bulkhead::analyzer
