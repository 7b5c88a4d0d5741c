#pragma once
// nftables interval sets with concatenated keys refuse overlapping elements ("File exists"),
// so every set is written as disjoint boxes: an address range × a protocol range × a port
// (or ICMP type) range. Subtracting boxes keeps the union exact. The audit reads deployed
// firewall rules into the same boxes.
#include "bulkhead/compiler/address.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bulkhead::backends {

__extension__ using U128 = unsigned __int128;

struct Box {
    U128 srcLo = 0, srcHi = 0; // only pair sets use a source range
    U128 addrLo = 0, addrHi = 0;
    unsigned protoLo = 0, protoHi = 255;
    unsigned portLo = 0, portHi = 65535;
    bool operator==(const Box&) const = default;
};

// The prefix's addresses as a range (IPv4 in the low 32 bits).
std::pair<U128, U128> rangeOf(const IpPrefix& prefix);

bool overlaps(const Box& a, const Box& b);
bool contains(const Box& outer, const Box& inner);
// a minus b, appended to out as at most eight disjoint boxes.
void subtract(Box a, const Box& b, std::vector<Box>& out);

// The same union of packets as disjoint boxes, in a deterministic order.
std::vector<Box> disjoint(std::vector<Box> boxes);

// "10.0.0.0/8", "10.0.0.1", or "10.0.0.1-10.0.0.5" as nft writes addresses.
std::string addressText(U128 lo, U128 hi, IpPrefix::Family family);

} // namespace bulkhead::backends
