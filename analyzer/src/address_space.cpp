#include "address_space.h"

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

} // namespace bulkhead::analyzer
