#include "address_space.h"

#include <algorithm>

namespace bulkhead::analyzer {
namespace {
constexpr U128 kMappedBase = U128(0xffff) << 32;
} // namespace

U128 mappedFirst(const IpPrefix& p) {
    IpPrefix m = p.masked();
    U128 v = 0;
    if (m.family == IpPrefix::Family::V4) {
        for (unsigned i = 0; i < 4; ++i)
            v = (v << 8) | m.bytes[i];
        return kMappedBase | v;
    }
    for (unsigned i = 0; i < 16; ++i)
        v = (v << 8) | m.bytes[i];
    return v;
}

U128 mappedLast(const IpPrefix& p) {
    unsigned hostBits = p.maxLength() - p.length;
    U128 span = hostBits >= 128 ? ~U128(0) : (U128(1) << hostBits) - 1;
    return mappedFirst(p) | span;
}

IpPrefix hostOfMapped(U128 v) {
    IpPrefix p;
    if ((v >> 32) == 0xffff) {
        for (unsigned i = 0; i < 4; ++i)
            p.bytes[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
        p.length = 32;
        return p;
    }
    p.family = IpPrefix::Family::V6;
    for (unsigned i = 0; i < 16; ++i)
        p.bytes[i] = static_cast<std::uint8_t>(v >> (120 - 8 * i));
    p.length = 128;
    return p;
}

std::optional<IpPrefix> prefixOfRange(U128 first, U128 last) {
    if (first > last)
        return std::nullopt;
    U128 span = last - first; // 2^k - 1 with first aligned to 2^k
    if ((span & (span + 1)) != 0 || (first & span) != 0)
        return std::nullopt;
    unsigned hostBits = 0;
    while (hostBits < 128 && ((span >> hostBits) & 1))
        ++hostBits;
    IpPrefix p = hostOfMapped(first);
    bool v4 = p.family == IpPrefix::Family::V4 && hostBits <= 32;
    if (!v4) {
        p = hostOfMapped(first);
        if (p.family == IpPrefix::Family::V4) { // a v6 prefix that holds the mapped space
            p.family = IpPrefix::Family::V6;
            p.bytes = {};
            for (unsigned i = 0; i < 16; ++i)
                p.bytes[i] = static_cast<std::uint8_t>(first >> (120 - 8 * i));
        }
        p.length = static_cast<std::uint8_t>(128 - hostBits);
        return p;
    }
    p.length = static_cast<std::uint8_t>(32 - hostBits);
    return p;
}

AddressRanges::AddressRanges(std::vector<Range> ranges) {
    std::sort(ranges.begin(), ranges.end());
    for (const Range& r : ranges) {
        // Merge overlapping and adjacent ranges (last + 1 cannot wrap unless last is the end).
        if (!ranges_.empty() &&
            (ranges_.back().second == ~U128(0) || r.first <= ranges_.back().second + 1)) {
            ranges_.back().second = std::max(ranges_.back().second, r.second);
            continue;
        }
        ranges_.push_back(r);
    }
}

AddressRanges::AddressRanges(const std::vector<IpPrefix>& prefixes)
    : AddressRanges([&] {
          std::vector<Range> out;
          for (const IpPrefix& p : prefixes)
              out.emplace_back(mappedFirst(p), mappedLast(p));
          return out;
      }()) {}

AddressRanges AddressRanges::complement() const {
    std::vector<Range> out;
    U128 next = 0; // the first address not yet placed
    bool done = false;
    for (const Range& r : ranges_) {
        if (r.first > next)
            out.emplace_back(next, r.first - 1);
        if (r.second == ~U128(0)) {
            done = true;
            break;
        }
        next = r.second + 1;
    }
    if (!done)
        out.emplace_back(next, ~U128(0));
    return AddressRanges(std::move(out));
}

bool AddressRanges::overlaps(U128 first, U128 last) const {
    // The first range that ends at or after `first`; it overlaps when it starts by `last`.
    auto it = std::lower_bound(ranges_.begin(), ranges_.end(), first,
                               [](const Range& r, U128 v) { return r.second < v; });
    return it != ranges_.end() && it->first <= last;
}

} // namespace bulkhead::analyzer
