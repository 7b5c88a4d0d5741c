#include "audit_fw_state.h"

#include <algorithm>

namespace bulkhead::cli::fw {
namespace {

std::string ipv4Text(U128 v) {
    auto n = static_cast<std::uint32_t>(v);
    return std::to_string(n >> 24) + "." + std::to_string((n >> 16) & 0xff) + "." +
           std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
}

} // namespace

Box meet(const Box& a, const Box& b) {
    Box m;
    m.srcLo = std::max(a.srcLo, b.srcLo);
    m.srcHi = std::min(a.srcHi, b.srcHi);
    m.addrLo = std::max(a.addrLo, b.addrLo);
    m.addrHi = std::min(a.addrHi, b.addrHi);
    m.protoLo = std::max(a.protoLo, b.protoLo);
    m.protoHi = std::min(a.protoHi, b.protoHi);
    m.portLo = std::max(a.portLo, b.portLo);
    m.portHi = std::min(a.portHi, b.portHi);
    return m;
}

std::vector<Box> clientPackets(U128 address) {
    std::vector<Box> out;
    auto add = [&](unsigned protoLo, unsigned protoHi, unsigned portHi) {
        Box b;
        b.srcLo = b.srcHi = address;
        b.addrLo = 0;
        b.addrHi = 0xffffffffu;
        b.protoLo = protoLo;
        b.protoHi = protoHi;
        b.portLo = 0;
        b.portHi = portHi;
        out.push_back(b);
    };
    // Protocols without ports keep the whole port dimension, so a port match (which
    // depends on tcp or udp) never splits them.
    add(0, 0, 65535);
    add(1, 1, 255); // ICMP types
    add(2, 5, 65535);
    add(6, 6, 65535);
    add(7, 16, 65535);
    add(17, 17, 65535);
    add(18, 255, 65535);
    return out;
}

// The lowest address of [lo, hi] one could send a packet to: past "this network" (0/8),
// loopback (127/8) and multicast and reserved (224/3) when the range allows.
U128 sendable(U128 lo, U128 hi) {
    const std::pair<U128, U128> bad[] = {
        {0, 0x00ffffffu}, {0x7f000000u, 0x7fffffffu}, {0xe0000000u, 0xffffffffu}};
    U128 a = lo;
    for (const auto& [blo, bhi] : bad)
        if (blo <= a && a <= bhi && bhi < hi)
            a = bhi + 1;
    return a <= hi ? a : lo;
}

std::string packetText(const Box& b) {
    // Port 0 is no service anyone reaches: the next one when the box has it.
    unsigned port = b.portLo == 0 && b.portHi > 0 ? 1 : b.portLo;
    std::string what = b.protoLo == 6    ? "tcp port " + std::to_string(port)
                       : b.protoLo == 17 ? "udp port " + std::to_string(port)
                       : b.protoLo == 1  ? "icmp type " + std::to_string(b.portLo)
                                         : "ip protocol " + std::to_string(b.protoLo);
    return what + " from " + ipv4Text(b.srcLo) + " to " + ipv4Text(sendable(b.addrLo, b.addrHi));
}

U128 ipv4Value(const std::array<std::uint8_t, 16>& bytes, bool lastFour) {
    U128 v = 0;
    for (std::size_t i = lastFour ? 12 : 0, n = lastFour ? 16 : 4; i < n; ++i)
        v = (v << 8) | bytes[i];
    return v;
}

std::size_t protoRank(const Box& b) {
    return b.protoLo == 6 ? 0 : b.protoLo == 17 ? 1 : b.protoLo == 1 ? 2 : 3;
}

const Piece& example(const std::vector<Piece>& pieces) {
    return *std::min_element(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
        return protoRank(a.box) < protoRank(b.box);
    });
}

std::vector<Piece> intersect(const std::vector<Piece>& a, const std::vector<Box>& b) {
    std::vector<Piece> out;
    for (const Piece& p : a)
        for (const Box& x : b)
            if (backends::overlaps(p.box, x))
                out.push_back({meet(p.box, x), p.site});
    return out;
}

std::vector<Piece> subtractAll(const std::vector<Piece>& a, const std::vector<Box>& b) {
    std::vector<Piece> out;
    for (const Piece& p : a) {
        std::vector<Box> pieces{p.box};
        for (const Box& x : b) {
            // A box that touches no piece leaves them as they are: no copy.
            if (std::none_of(pieces.begin(), pieces.end(),
                             [&](const Box& piece) { return backends::overlaps(x, piece); }))
                continue;
            std::vector<Box> next;
            for (const Box& piece : pieces)
                if (!backends::contains(x, piece))
                    backends::subtract(piece, x, next);
            pieces = std::move(next);
        }
        for (const Box& piece : pieces)
            out.push_back({piece, p.site});
    }
    return out;
}

std::vector<Box> boxesOf(const std::vector<Piece>& pieces) {
    std::vector<Box> out;
    out.reserve(pieces.size());
    for (const Piece& p : pieces)
        out.push_back(p.box);
    return out;
}

} // namespace bulkhead::cli::fw
