#pragma once
// An nftables ruleset as `nft -j list ruleset` (libnftables JSON, numeric with -n or with
// names for protocols, ct states and ICMP types) shows it, read into plain data: tables' sets
// and maps with their elements, chains with their rules. Only
// the expressions whose meaning is modelled are read; any other rule is kept as
// `unsupported` with the reason, so a reader that must be exact can refuse it instead of
// guessing. Shared by translation validation (compile) and the audit of deployed rulesets.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::nft {

// A key value: an address (16 bytes, IPv4 in the last 4), a number, big-endian, or an
// interface name (its bytes from the first, zero-padded; IFNAMSIZ is 16).
struct Value {
    std::array<std::uint8_t, 16> bytes{};
    auto operator<=>(const Value&) const = default;
};
Value numberValue(std::uint64_t n);
Value nameValue(std::string_view name);
std::string nameOf(const Value& v); // the interface name nameValue() stored

struct Interval {
    Value lo, hi;
};

// A packet field a match or a set key reads.
enum class Field : std::uint8_t {
    IpSaddr,
    IpDaddr,
    Ip6Saddr,
    Ip6Daddr,
    L4Proto,    // meta l4proto
    ThDport,    // th dport (transport header, destination port)
    TcpDport,   // tcp dport
    UdpDport,   // udp dport
    IcmpType,   // icmp type
    Icmpv6Type, // icmpv6 type
    IifGroup,   // meta iifgroup
    OifGroup,   // meta oifgroup
    CtState,    // ct state
    IpProtocol, // ip protocol
    Ip6Nexthdr, // ip6 nexthdr
    IifName,    // meta iifname (a name; "vif*" matches by prefix)
    OifName,    // meta oifname
    Iif,        // meta iif (an interface, by name here)
    Oif,        // meta oif
};
std::string_view fieldName(Field f);

struct Verdict {
    enum class Kind : std::uint8_t { Accept, Drop, Reject, Return, Jump, Goto, Continue };
    Kind kind = Kind::Continue;
    std::string target; // Jump, Goto
};

struct Element {
    std::vector<Interval> key;   // one interval per concatenated field
    std::optional<Verdict> data; // maps: the element's verdict
};

struct Set {
    std::string family, table, name;
    bool map = false;
    std::vector<Element> elements;
};

// One comparison: fields (one, or a concatenation) against a set or literal intervals.
struct Match {
    std::vector<Field> fields;
    bool negated = false;                // op "!="
    std::optional<std::string> set;      // "@name" without the @
    std::vector<Element> literal;        // anonymous values (each an interval per field)
    std::vector<std::uint32_t> ctStates; // ct state bits (new = 8, established = 2, ...)
    // An interface name with a trailing '*' matches every name with that prefix.
    std::vector<std::string> names; // IifName, OifName, Iif, Oif literals
};

// `dnat to ADDR[:PORT]` (ip family): the destination the later hooks see.
struct Dnat {
    Value address;
    std::optional<std::uint16_t> port;
};

struct Rule {
    std::vector<Match> matches;
    std::optional<Verdict> verdict;
    // `FIELDS vmap @map`: the map decides the verdict by key.
    std::optional<Match> vmap;
    std::optional<Dnat> dnat;
    std::string unsupported; // non-empty: an expression this reader does not model
    std::int64_t handle = 0; // the kernel's handle (0 when the input has none)
    std::size_t offset = 0;  // byte offset of the rule's object in the JSON text
    std::string text;        // the rule's expressions, compact, for reports
};

struct Chain {
    std::string family, table, name;
    std::optional<std::string> hook; // base chains
    std::string type = "filter";     // base chains: filter, nat, route
    std::int64_t priority = 0;
    std::string policy = "accept";
    std::vector<Rule> rules;
    std::size_t offset = 0; // byte offset of the chain's object in the JSON text
};

struct Ruleset {
    std::vector<Chain> chains;
    std::vector<Set> sets;
    const Chain* findChain(std::string_view family, std::string_view table,
                           std::string_view name) const;
    const Set* findSet(std::string_view family, std::string_view table,
                       std::string_view name) const;
};

struct RulesetParse {
    std::optional<Ruleset> ruleset;
    std::string error;       // when the text is not libnftables JSON
    std::size_t errorAt = 0; // byte offset of the error in the text
};

RulesetParse parseRulesetJson(std::string_view json);

} // namespace bulkhead::nft
