#pragma once
// The kernel check's inputs: nftables files, and Qubes' base tables that go under them.
#include <string>
#include <vector>

namespace bulkhead::backends {

// One nftables file. logicalName is what errors show (`sys-firewall/bulkhead.nft:12:5: ...`).
struct NftInput {
    std::string logicalName;
    std::string text;
};

// Qubes' base tables (qubes-antispoof.nft, qubes-ipv4.nft, qubes-ipv6.nft from R4.2's
// qubes-core-agent-linux, see backends/qubes-nft/README.md), embedded at build time, in the
// order a net qube loads them at boot. Logical names are "qubes/<file>".
std::vector<NftInput> qubesBaseTables();

} // namespace bulkhead::backends
