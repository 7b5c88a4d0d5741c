#include "bulkhead/backends/boxes.h"

#include <arpa/inet.h>

#include <algorithm>
#include <tuple>

namespace bulkhead::backends {
namespace {

// Cuts off the parts of a below and above b along one dimension, then narrows a to b there.
template <class T> void split(Box& a, const Box& b, T Box::*lo, T Box::*hi, std::vector<Box>& out) {
    if (a.*lo < b.*lo) {
        Box below = a;
        below.*hi = b.*lo - 1;
        out.push_back(below);
        a.*lo = b.*lo;
    }
    if (a.*hi > b.*hi) {
        Box above = a;
        above.*lo = b.*hi + 1;
        out.push_back(above);
        a.*hi = b.*hi;
    }
}

auto key(const Box& b) {
    return std::tie(b.srcLo, b.srcHi, b.addrLo, b.addrHi, b.protoLo, b.protoHi, b.portLo, b.portHi);
}

} // namespace

bool overlaps(const Box& a, const Box& b) {
    return a.srcLo <= b.srcHi && b.srcLo <= a.srcHi && a.addrLo <= b.addrHi &&
           b.addrLo <= a.addrHi && a.protoLo <= b.protoHi && b.protoLo <= a.protoHi &&
           a.portLo <= b.portHi && b.portLo <= a.portHi;
}

bool contains(const Box& outer, const Box& inner) {
    return outer.srcLo <= inner.srcLo && inner.srcHi <= outer.srcHi &&
           outer.addrLo <= inner.addrLo && inner.addrHi <= outer.addrHi &&
           outer.protoLo <= inner.protoLo && inner.protoHi <= outer.protoHi &&
           outer.portLo <= inner.portLo && inner.portHi <= outer.portHi;
}

// a minus b, as at most eight boxes: split a along each dimension in turn; what is left of
// a is inside b.
void subtract(Box a, const Box& b, std::vector<Box>& out) {
    if (!overlaps(a, b)) {
        out.push_back(a);
        return;
    }
    split(a, b, &Box::srcLo, &Box::srcHi, out);
    split(a, b, &Box::addrLo, &Box::addrHi, out);
    split(a, b, &Box::protoLo, &Box::protoHi, out);
    split(a, b, &Box::portLo, &Box::portHi, out);
}

std::pair<U128, U128> rangeOf(const IpPrefix& p) {
    unsigned bytes = p.family == IpPrefix::Family::V4 ? 4 : 16;
    U128 value = 0;
    for (unsigned i = 0; i < bytes; ++i)
        value = (value << 8) | p.bytes[i];
    unsigned hostBits = p.maxLength() - p.length;
    U128 span = hostBits >= 128 ? ~U128(0) : (U128(1) << hostBits) - 1;
    U128 lo = value & ~span;
    return {lo, lo | span};
}

std::vector<Box> disjoint(std::vector<Box> boxes) {
    // Largest first, so boxes inside an earlier one vanish without splitting anything.
    std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
        U128 sa = a.addrHi - a.addrLo, sb = b.addrHi - b.addrLo;
        if (sa != sb)
            return sa > sb;
        return key(a) < key(b);
    });
    std::vector<Box> out;
    for (const Box& candidate : boxes) {
        std::vector<Box> pieces{candidate};
        for (const Box& kept : out) {
            // Most kept boxes touch no piece: subtracting would only copy them.
            if (std::none_of(pieces.begin(), pieces.end(),
                             [&](const Box& piece) { return overlaps(kept, piece); }))
                continue;
            std::vector<Box> next;
            for (const Box& piece : pieces) {
                if (contains(kept, piece))
                    continue;
                subtract(piece, kept, next);
            }
            pieces = std::move(next);
            if (pieces.empty())
                break;
        }
        out.insert(out.end(), pieces.begin(), pieces.end());
    }
    std::sort(out.begin(), out.end(), [](const Box& a, const Box& b) { return key(a) < key(b); });
    return out;
}

std::string addressText(U128 lo, U128 hi, IpPrefix::Family family) {
    bool v4 = family == IpPrefix::Family::V4;
    auto text = [&](U128 v) {
        std::uint8_t bytes[16] = {};
        unsigned n = v4 ? 4 : 16;
        for (unsigned i = 0; i < n; ++i)
            bytes[n - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(v4 ? AF_INET : AF_INET6, bytes, buf, sizeof buf);
        return std::string(buf);
    };
    if (lo == hi)
        return text(lo);
    // A prefix when the range is aligned and its size a power of two.
    U128 size = hi - lo + 1;
    unsigned width = v4 ? 32 : 128;
    if (hi - lo == (v4 ? U128(0xffffffffu) : ~U128(0)))
        return text(lo) + "/0";
    if ((size & (size - 1)) == 0 && (lo & (size - 1)) == 0) {
        unsigned hostBits = 0;
        while ((U128(1) << hostBits) < size)
            ++hostBits;
        return text(lo) + "/" + std::to_string(width - hostBits);
    }
    return text(lo) + "-" + text(hi);
}

} // namespace bulkhead::backends
