#pragma once
// A qube's `qvm-firewall QUBE --raw` rule list (qubes-formats.md §3.2), evaluated as the
// qubes-firewall service in its netvm applies it (§3.4): first match wins, `drop` is a reject,
// a port rule without proto is both tcp and udp, `specialtarget=dns` is tcp and udp port 53
// to the DNS addresses, IPv6 rules (dst6) leave IPv4 alone, and what no rule matches is
// dropped. `dsthost=` is resolved by the net qube when the rules are applied, which the
// audit cannot repeat: such a rule is listed as unmodelled and treated as not matching.
#include "audit_fw_state.h"

#include "bulkhead/compiler/diagnostics.h"

#include <optional>

namespace bulkhead::cli::fw {

// The DNS addresses a qube is given (qubes-formats.md §3.7); the net qube DNATs them.
const std::vector<U128>& qubesDnsAddresses();

// Malformed lines are errors (BH0112) with file:line:col; nothing is returned then.
std::optional<FirewallState> evaluateQvmFirewall(FileId file, const SourceManager& sources,
                                                 const std::string& qube, U128 address,
                                                 DiagnosticSink& sink);

} // namespace bulkhead::cli::fw
