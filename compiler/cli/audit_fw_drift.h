#pragma once
// Firewall drift (docs/audit.md): for each qube of the policy that the deployed firewall
// state decides (its net qube's ruleset, or its own qvm-firewall list), the packets the
// deployed state lets through that the policy does not permit, and the reverse, as BH1306
// at the deployed rule with one concrete packet and a note at the policy's flow. The
// policy's side is its compiled qvm-firewall list, read by the same reader as a deployed one.
#include "audit_fw_state.h"

#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

namespace bulkhead::cli {

void reportFirewallDrift(const model::Policy& intent, const model::Policy& deployed,
                         const std::vector<fw::FirewallState>& states, SourceManager& sources,
                         DiagnosticSink& sink);

} // namespace bulkhead::cli
