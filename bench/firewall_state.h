// The generated system's firewall state as a deployed Qubes holds it, for `bulkhead audit`
// (docs/audit.md "Firewall state"): what `bulkhead compile` makes of the policy's flows,
// as the kernel of each net qube lists it and as dom0 keeps each qube's list.
#pragma once

#include <string>

namespace bench {

struct FirewallStateResult {
    std::string error;  // non-empty: nothing more can be trusted
    std::string notice; // non-empty: a part was skipped, and why (the rest was written)
};

// Reads the policy at policyPath (the root .bh just written) through the front end and the
// network backends, and writes:
//  - DIR/firewall/QUBE.rules: `qvm-firewall QUBE --raw` of each networked qube (the list
//    compile writes as dom0/qvm-firewall/QUBE.rules);
//  - DIR/nft/NETQUBE.json: `nft -j list ruleset` of each qube that provides network, once
//    Qubes' base tables, the qube's bulkhead.nft and its loader's hook are loaded into a
//    throw-away network namespace. That needs root: otherwise, or when no namespace can be
//    made, DIR/nft/ is skipped with a notice.
FirewallStateResult writeFirewallState(const std::string& policyPath, const std::string& dir);

} // namespace bench
