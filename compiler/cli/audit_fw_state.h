#pragma once
// Deployed firewall state as regions of packets (docs/audit.md, "Firewall state"): for the
// client qubes of a firewall qube, which new IPv4 packets they send are let through and which
// are not, each piece with the deployed rule (or chain policy) that decides it. Boxes are
// source address x destination address x IP protocol x port (tcp, udp) or ICMP type, the
// same boxes the nftables emitter writes (bulkhead/backends/boxes.h), so set arithmetic on
// them is exact: first match becomes subtraction of what earlier rules decided.
#include "bulkhead/backends/boxes.h"
#include "bulkhead/compiler/source.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::cli::fw {

using backends::Box;
using backends::U128;

// Every IPv4 address: the top of an address axis of the boxes examined here.
constexpr U128 kAllV4 = 0xffffffffu;

// A deployed rule, or the policy at the end of a chain or rule list.
struct Site {
    SourceRange range;
    std::string where; // "ip qubes-firewall qbs-10-137-0-12, rule handle 11", "rule 3"
    std::string text;  // the rule as written (compact)
    bool policy = false;
};

struct Piece {
    Box box;
    std::size_t site = 0;
};

// A partition of the packets examined: each packet in exactly one piece.
struct Decision {
    std::vector<Piece> accepted, dropped;
};

// How each rule met the packets that came to it.
struct RuleUse {
    bool reached = false;       // some packet examined came to it
    bool matched = false;       // some packet that came to it matched it
    bool couldMatch = false;    // some packet entering its chain or list matches it
    std::optional<Box> example; // such a packet
};

struct Unmodelled {
    std::size_t site = 0;
    std::string why;
};

struct FirewallState {
    std::string file;         // the input, as named on the command line
    std::string firewallQube; // nft: the qube running the ruleset; qvm-firewall: the client
    bool qvmFirewall = false;
    std::vector<Site> sites;
    std::vector<RuleUse> uses; // by site
    Decision decision;         // src: a client's address
    std::vector<Unmodelled> unmodelled;
    std::vector<std::size_t> shadowCandidates; // sites whose order matters (rule lists)
};

// The packets a client sends, as boxes: its address as source, every destination, and each
// protocol with its own port space (tcp and udp ports, ICMP types 0..255, none for the rest).
std::vector<Box> clientPackets(U128 address);

// "tcp port 443 from 10.137.0.12 to 192.168.1.5": a packet of a box, for reports: the
// lowest port or type, the lowest destination one could send to.
std::string packetText(const Box& b);

// 10.137.0.12 -> its value in a box's address dimensions (IPv4 in the low 32 bits).
U128 ipv4Value(const std::array<std::uint8_t, 16>& bytes, bool lastFour);

// The piece a report shows first: tcp, then udp, then ICMP, then other protocols (the
// first of its kind); pieces must not be empty.
const Piece& example(const std::vector<Piece>& pieces);

// The packets of both boxes (which overlap).
Box meet(const Box& a, const Box& b);
// Pieces of a inside b (a's sites), and of a outside every box of b.
std::vector<Piece> intersect(const std::vector<Piece>& a, const std::vector<Box>& b);
std::vector<Piece> subtractAll(const std::vector<Piece>& a, const std::vector<Box>& b);
std::vector<Box> boxesOf(const std::vector<Piece>& pieces);

} // namespace bulkhead::cli::fw
