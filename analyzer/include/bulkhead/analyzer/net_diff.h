#pragma once
// What a change to a policy does to its network flows, proven with Z3: for each pair of
// sides (a qube, a dispvm-template's disposables, or addresses outside the system), the
// packets the new policy permits and the old one does not, and the reverse. Each difference
// is a union of classes (a protocol range, a port or ICMP type range, an address range on an
// outside side), found by solving, growing the packet found into the largest class inside the
// difference, blocking it and solving again until nothing is left: the classes cover the
// difference exactly and do not overlap. No pair listed means the two policies permit exactly
// the same packets between them.
#include "bulkhead/compiler/model.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

struct PacketClass {
    std::string text;    // "tcp ports 1024-65535 from work to 0.0.0.0/0 (internet)"
    std::string example; // one packet of it: "tcp port 1024 from work to 1.0.0.0 (internet)"
    // The lines that decide the example on each side: the allows that permit it where it is
    // permitted; the denies that take it away (none: no allow matches) where it is not.
    std::vector<SourceRange> oldLines, newLines;
};

struct NetDifference {
    std::string from, to; // qube or "@dispvm:X"; "outside" when *Outside
    bool fromOutside = false, toOutside = false;
    bool opened = false;              // permitted by the new policy, not by the old one
    std::vector<PacketClass> classes; // in the order found; sorted by the caller if needed
    bool truncated = false;           // more classes than asked for: the rest are not listed
};

struct NetComparison {
    std::vector<NetDifference> differences; // by (from, to), opened before closed
    std::size_t pairs = 0;                  // pairs of sides some flow of either policy names
    std::size_t queries = 0;                // Z3 checks made
    std::optional<std::string> unknown;     // Z3 could not decide: the comparison is incomplete
};

NetComparison compareNetFlows(const model::Policy& older, const model::Policy& newer,
                              std::uint64_t rlimit = 50'000'000, std::size_t maxClasses = 32);

} // namespace bulkhead::analyzer
