#pragma once
// Addresses as the solver sees them: one 128-bit number, IPv4 mapped into ::ffff:0:0/96 so
// both families share one space without overlap (packet_space.cpp, translation_nft.cpp).
#include "bulkhead/compiler/address.h"

#include <optional>
#include <utility>
#include <vector>

namespace bulkhead::analyzer {

__extension__ using U128 = unsigned __int128;

// The first and the last address of a prefix.
U128 mappedFirst(const IpPrefix& p);
U128 mappedLast(const IpPrefix& p);

// One address back: IPv4 when it lies in ::ffff:0:0/96.
IpPrefix hostOfMapped(U128 v);

// Does [first, last] hold exactly one prefix? Then which.
std::optional<IpPrefix> prefixOfRange(U128 first, U128 last);

// A set of addresses as sorted, disjoint, non-adjacent ranges of the mapped space: what a
// query restricts the source address to, so set elements outside it can be left out.
class AddressRanges {
public:
    using Range = std::pair<U128, U128>; // first, last
    AddressRanges() = default;
    explicit AddressRanges(const std::vector<IpPrefix>& prefixes);
    // Any ranges (of any width up to 128 bits), merged.
    explicit AddressRanges(std::vector<Range> ranges);
    // Every address not in this set.
    AddressRanges complement() const;
    bool overlaps(U128 first, U128 last) const;
    const std::vector<Range>& ranges() const { return ranges_; }
    bool operator==(const AddressRanges&) const = default;

private:
    std::vector<Range> ranges_;
};

} // namespace bulkhead::analyzer
