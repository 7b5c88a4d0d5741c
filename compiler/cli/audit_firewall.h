#pragma once
// The firewall side of `bulkhead audit` (docs/audit.md): `--nft-ruleset QUBE=FILE` (what a
// firewall qube's kernel holds) and `--qvm-firewall QUBE=FILE` (what dom0 keeps for a qube)
// read into regions of packets, turned into the model's network flows so that escape paths
// over the network come out as check reports them, and checked for open DNS and ICMP,
// dead rules, rules not applied, and drift from a policy.
#include "audit_fw_state.h"
#include "check_run.h"

#include "bulkhead/compiler/model.h"

namespace bulkhead::cli {

// Reads every firewall input against the deployed qubes (names, netvms, addresses).
// Malformed input is reported (BH0112, file:line:col) and nothing is returned.
std::optional<std::vector<fw::FirewallState>>
readFirewallState(const AuditOptions& options, CheckRun& run, const model::Policy& deployed);

// The state that decides what a client sends: its netvm's ruleset when given, else its own
// qvm-firewall list; nothing when neither was given.
const fw::FirewallState* decidingState(const model::Policy& deployed,
                                       const std::vector<fw::FirewallState>& states,
                                       model::QubeId client);

// A Whonix gateway (Qubes tags it anon-gateway) does not run qubes-firewall: the
// qvm-firewall rules of its clients are not enforced (qubes-formats.md §3.1).
bool ignoresQvmFirewall(const model::Policy& deployed, model::QubeId netvm);

// The client's IPv4 address in box form, when it has one.
std::optional<fw::U128> clientAddress(const model::Policy& deployed, model::QubeId client);

// Adds one allow flow per (client, destination object, deciding rule), with deny carve-outs
// where a rule lets every protocol through but some tcp, udp or ICMP, so that the flows
// permit exactly the accepted packets (deny wins in the model, first match in Qubes).
void addFirewallFlows(model::Policy& deployed, std::vector<fw::FirewallState>& states);

} // namespace bulkhead::cli
