#pragma once
// Addresses as the solver sees them: one 128-bit number, IPv4 mapped into ::ffff:0:0/96 so
// both families share one space without overlap (packet_space.cpp, translation_nft.cpp).
#include "bulkhead/compiler/address.h"

#include <optional>

namespace bulkhead::analyzer {

__extension__ using U128 = unsigned __int128;

// The first and the last address of a prefix.
U128 mappedFirst(const IpPrefix& p);
U128 mappedLast(const IpPrefix& p);

// One address back: IPv4 when it lies in ::ffff:0:0/96.
IpPrefix hostOfMapped(U128 v);

// Does [first, last] hold exactly one prefix? Then which.
std::optional<IpPrefix> prefixOfRange(U128 first, U128 last);

} // namespace bulkhead::analyzer
