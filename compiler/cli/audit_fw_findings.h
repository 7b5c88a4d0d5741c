#pragma once
// Findings on deployed firewall state (docs/audit.md): rules the audit could not read
// exactly (BH1307), DNS (BH1308) and ICMP (BH1309) left open for a qube whose other traffic is
// restricted, rules that earlier ones decide entirely (BH1310) or that no packet of their
// qube can match (BH1311), and qvm-firewall lists that the net qube does not enforce
// (BH1312). Each with a concrete packet.
#include "audit_fw_state.h"

#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <map>

namespace bulkhead::cli {

void reportFirewallFindings(const model::Policy& deployed,
                            const std::vector<fw::FirewallState>& states, DiagnosticSink& sink);

// The accepted and dropped pieces of each client in a state (those whose source range
// starts at its address), indexed in one pass: a net qube's ruleset is asked once for each
// of its clients, a thousand of them at N = 1,000.
class ClientDecisions {
public:
    explicit ClientDecisions(const fw::FirewallState& state);
    const fw::Decision& of(fw::U128 client) const;

private:
    std::map<fw::U128, fw::Decision> byClient_;
    fw::Decision none_;
};

// The client decisions of each state asked about, made on first use.
class DecisionIndex {
public:
    const fw::Decision& of(const fw::FirewallState& state, fw::U128 client);

private:
    std::map<const fw::FirewallState*, ClientDecisions> byState_;
};

} // namespace bulkhead::cli
