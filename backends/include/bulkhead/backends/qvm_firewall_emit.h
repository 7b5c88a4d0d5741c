#pragma once
// Each networked qube's outbound rules in Qubes' own firewall format (`qvm-firewall --raw`
// lines, first match wins, implicit final drop), for users who keep Qubes' mechanism or
// want both layers. Qubes copies a dispvm-template's rules into its disposables.
#include "bulkhead/backends/emitted.h"
#include "bulkhead/backends/net_plan.h"

#include <string>
#include <vector>

namespace bulkhead::backends {

struct QvmFirewallRules {
    std::string qube;
    std::vector<std::string> lines; // "action=accept proto=tcp dst4=10.0.0.0/8 dstports=443-443"
};

std::vector<QvmFirewallRules> emitQvmFirewall(const model::Policy& policy, const NetPlan& plan);

} // namespace bulkhead::backends
