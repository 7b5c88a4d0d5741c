#pragma once
// Findings on deployed firewall state (docs/audit.md): rules the audit could not read
// exactly (BH1307), DNS (BH1308) and ICMP (BH1309) left open for a qube whose other traffic is
// restricted, rules that earlier ones decide entirely (BH1310) or that no packet of their
// qube can match (BH1311), and qvm-firewall lists that the net qube does not enforce
// (BH1312). Each with a concrete packet.
#include "audit_fw_state.h"

#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

namespace bulkhead::cli {

void reportFirewallFindings(const model::Policy& deployed,
                            const std::vector<fw::FirewallState>& states, DiagnosticSink& sink);

// The accepted and dropped pieces of one client in a state.
fw::Decision decisionFor(const fw::FirewallState& state, fw::U128 client);

} // namespace bulkhead::cli
