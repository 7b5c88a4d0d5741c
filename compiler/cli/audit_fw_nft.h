#pragma once
// A firewall qube's `nft -j list ruleset`, evaluated for the new IPv4 connections its clients
// open (docs/audit.md, "Firewall state"): every filter chain on the forward hook in priority
// order, each first match with jump, goto and return, a packet forwarded only when every
// one of them accepts it (an accept ends one base chain, a drop is final; nft(8)); before
// them the nat prerouting chains' `dnat to`, so the forward hook sees the translated
// destination (Qubes' DNS DNAT, qubes-formats.md §3.3).
//
// The packet's context is fixed: it comes in on a client's vif (iifname "vif*", iifgroup
// 2), conntrack state new, from the client's own address (Qubes' antispoofing in prerouting
// passes exactly that), and leaves on a vif (oifgroup 2) when its destination is another
// client of this firewall qube, else on the uplink (oifgroup 1; eth0 when the qube has a
// netvm). A rule whose match depends on something else (one vif by name, a mark, a rate)
// is not guessed: it is listed as unmodelled and treated as not matching.
#include "audit_fw_state.h"

#include "bulkhead/compiler/nft_ruleset.h"

#include <optional>

namespace bulkhead::cli::fw {

struct NftContext {
    std::vector<U128> clients;         // the firewall qube's clients' addresses (IPv4)
    std::optional<std::string> uplink; // the uplink interface's name, when known
};

FirewallState evaluateNft(const nft::Ruleset& ruleset, FileId file, const SourceManager& sources,
                          const std::string& firewallQube, const NftContext& context);

// The position of a byte offset in a file, as a one-character range.
SourceRange rangeAt(FileId file, const SourceManager& sources, std::size_t offset);

} // namespace bulkhead::cli::fw
