#pragma once
// Translation validation: what the backends wrote, read back, must decide exactly as the
// model does. A difference is a compiler bug, reported with a concrete request or packet.
#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/nft_ruleset.h"

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

struct TranslationCheck {
    std::size_t compared = 0;          // request classes (qrexec) or firewall qubes (nft)
    std::optional<std::string> differ; // the first difference, as a concrete example
    bool undecided = false;            // differ says the prover gave up: nothing is claimed
};

// The emitted policy.d lines (as Qubes' parser read them back) against the policy's own rpc
// rules, over every request class of the system: the same decision, the same landings, and
// the same requests left to the files after it (so Qubes' own policy decides those alike).
TranslationCheck checkQrexecTranslation(const model::Policy& policy,
                                        const std::vector<BaselineRule>& emitted);

// Drift: the same system under two complete rule lists (what is deployed, and what the
// policy compiles to in its place), grouped by the pair of deciding lines.
struct RpcDrift {
    std::optional<SourceRange> deployedRule, intendedRule; // empty: no line matched
    std::string deployed, intended;                        // the two decisions, as text
    std::string example;                                   // one request that differs
    std::size_t requests = 0;                              // request classes that differ so
    // The example's caller, and where each side lets it land ("@dispvm:X" for a new
    // disposable); empty when that side denies or no line matches.
    std::string caller;
    std::vector<std::string> deployedLandings, intendedLandings;
};
std::vector<RpcDrift> compareRpcRuleLists(const model::Policy& system,
                                          const std::vector<BaselineRule>& deployed,
                                          const std::vector<BaselineRule>& intended);

// The ruleset a firewall qube runs (read back from the kernel: `nft -j -n list ruleset`)
// against the flows, proven with Z3 over every new packet its clients can send (source,
// destination, protocol, port or ICMP type; IPv4 and IPv6): the `inet bulkhead` table must
// accept exactly the packets the policy permits from them (docs/deploy.md: each client's own
// flows; a forwarding client's clients' flows to outside the system). A rule the reader
// cannot interpret is a difference too: nothing is assumed about it. One query per client's
// addresses and one for every other source; rlimit bounds each query, and a query that hits
// it sets `undecided` (the ruleset is then neither proven nor refuted).
TranslationCheck checkNftTranslation(const model::Policy& policy, const std::string& firewallQube,
                                     const nft::Ruleset& ruleset,
                                     std::uint64_t rlimit = 50'000'000);

} // namespace bulkhead::analyzer
