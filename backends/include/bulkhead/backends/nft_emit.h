#pragma once
// One nftables ruleset per qube that provides network, and the script that loads it there.
// The ruleset lives in its own table (`inet bulkhead`) beside Qubes' tables, plus one chain
// and one set of its own inside Qubes' `ip qubes` table for traffic between two clients;
// docs/deploy.md explains where it hooks in and why.
#include "bulkhead/backends/emitted.h"
#include "bulkhead/backends/net_plan.h"

#include <string>
#include <vector>

namespace bulkhead::backends {

// Where the loading script expects the ruleset inside the firewall qube.
inline constexpr std::string_view kNftInstallPath = "/rw/config/bulkhead.nft";
// Qubes' firewall service runs the executables here at start (qubes-formats.md §3.6).
inline constexpr std::string_view kNftLoaderInstallPath = "/rw/config/qubes-firewall.d/50-bulkhead";
// What the loader adds after the ruleset, once: Qubes' custom-forward chain consults
// bulkhead-q2q (a chain of Qubes' table, so not part of the ruleset's own transaction).
inline constexpr std::string_view kNftQ2qHook =
    "add rule ip qubes custom-forward jump bulkhead-q2q";

struct NftRuleset {
    std::string qube;   // the firewall qube
    std::string text;   // bulkhead.nft: one transaction for `nft -f`
    std::string loader; // the shell script that loads it
};

struct NftEmitOptions {
    std::string version;
    std::vector<SourceDigest> sources;
    // Test-only: leave out one allow element so translation validation has something to
    // catch. Never set by the command line.
    bool breakOneAllowForTesting = false;
};

// Throws UnsafeValue when a value from the policy could inject syntax.
std::vector<NftRuleset> emitNftables(const model::Policy& policy, const NetPlan& plan,
                                     const NftEmitOptions& options);

} // namespace bulkhead::backends
