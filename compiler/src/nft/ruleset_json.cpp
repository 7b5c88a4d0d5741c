// Reads libnftables' JSON (`nft -j list ruleset`; schema version 1, nftables 1.0.6).
// Protocols, ICMP types and ct states come as numbers with -n and as names without it; both
// are read. Addresses come as strings, prefixes as {"prefix": {...}}, ranges as
// {"range": [lo, hi]}, interface names as strings.
#include "bulkhead/compiler/nft_ruleset.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <map>
#include <tuple>
#include <utility>

namespace bulkhead::nft {
namespace {

using json = nlohmann::json;

struct Unsupported {
    std::string why;
};

// Not the shape libnftables writes (reported as malformed, not as unsupported).
struct Malformed {
    std::string why;
};

// nlohmann's get<T>() casts a float or an out-of-range integer to T unchecked: undefined for
// a float past T's range (fuzz_nft_json found it), a silently wrong value otherwise.
template <typename T> std::optional<T> integerOf(const json& j) {
    if (j.is_number_unsigned()) {
        std::uint64_t v = j.get<std::uint64_t>();
        if (std::in_range<T>(v))
            return static_cast<T>(v);
    } else if (j.is_number_integer()) {
        std::int64_t v = j.get<std::int64_t>();
        if (std::in_range<T>(v))
            return static_cast<T>(v);
    }
    return std::nullopt;
}

// An optional integer member of an object: absent is the fallback.
std::int64_t integerMember(const json& object, const char* key, std::int64_t fallback) {
    auto it = object.find(key);
    if (it == object.end())
        return fallback;
    if (auto v = integerOf<std::int64_t>(*it))
        return *v;
    throw Malformed{std::string("\"") + key + "\" is not an integer: " + it->dump()};
}

Value addressValue(const std::string& text) {
    Value v;
    if (text.find(':') != std::string::npos) {
        if (inet_pton(AF_INET6, text.c_str(), v.bytes.data()) != 1)
            throw Unsupported{"not an address: " + text};
        return v;
    }
    if (inet_pton(AF_INET, text.c_str(), v.bytes.data() + 12) != 1)
        throw Unsupported{"not an address: " + text};
    return v;
}

Interval prefixInterval(const std::string& addr, unsigned len) {
    Value lo = addressValue(addr);
    bool v6 = addr.find(':') != std::string::npos;
    unsigned bits = v6 ? 128 : 32, start = v6 ? 0 : 96;
    if (len > bits)
        throw Unsupported{"prefix length " + std::to_string(len)};
    Value hi = lo;
    for (unsigned bit = start + len; bit < 128; ++bit) {
        lo.bytes[bit / 8] = static_cast<std::uint8_t>(lo.bytes[bit / 8] & ~(1u << (7 - bit % 8)));
        hi.bytes[bit / 8] = static_cast<std::uint8_t>(hi.bytes[bit / 8] | (1u << (7 - bit % 8)));
    }
    return {lo, hi};
}

// The numbers nft prints by name without -n (nft(8), "DATA TYPES").
std::optional<std::uint64_t> symbolic(std::optional<Field> f, const std::string& name) {
    static const std::map<std::string, std::uint64_t, std::less<>> protocols{
        {"icmp", 1}, {"igmp", 2},    {"tcp", 6},        {"udp", 17},   {"gre", 47},     {"esp", 50},
        {"ah", 51},  {"icmpv6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}, {"udplite", 136}};
    static const std::map<std::string, std::uint64_t, std::less<>> icmp{
        {"echo-reply", 0},           {"destination-unreachable", 3},
        {"source-quench", 4},        {"redirect", 5},
        {"echo-request", 8},         {"router-advertisement", 9},
        {"router-solicitation", 10}, {"time-exceeded", 11},
        {"parameter-problem", 12},   {"timestamp-request", 13},
        {"timestamp-reply", 14},     {"info-request", 15},
        {"info-reply", 16},          {"address-mask-request", 17},
        {"address-mask-reply", 18}};
    static const std::map<std::string, std::uint64_t, std::less<>> icmpv6{
        {"destination-unreachable", 1}, {"packet-too-big", 2},
        {"time-exceeded", 3},           {"parameter-problem", 4},
        {"echo-request", 128},          {"echo-reply", 129},
        {"mld-listener-query", 130},    {"mld-listener-report", 131},
        {"mld-listener-done", 132},     {"nd-router-solicit", 133},
        {"nd-router-advert", 134},      {"nd-neighbor-solicit", 135},
        {"nd-neighbor-advert", 136},    {"nd-redirect", 137},
        {"router-renumbering", 138},    {"ind-neighbor-solicit", 141},
        {"ind-neighbor-advert", 142},   {"mld2-listener-report", 143}};
    const std::map<std::string, std::uint64_t, std::less<>>* table = nullptr;
    if (f == Field::L4Proto || f == Field::IpProtocol || f == Field::Ip6Nexthdr)
        table = &protocols;
    else if (f == Field::IcmpType)
        table = &icmp;
    else if (f == Field::Icmpv6Type)
        table = &icmpv6;
    if (!table)
        return std::nullopt;
    auto it = table->find(name);
    return it == table->end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
}

bool isName(std::optional<Field> f) {
    return f == Field::IifName || f == Field::OifName || f == Field::Iif || f == Field::Oif;
}

Value scalar(const json& j, std::optional<Field> f) {
    if (j.is_number_unsigned())
        return numberValue(j.get<std::uint64_t>());
    if (!j.is_string())
        throw Unsupported{"value " + j.dump()};
    const std::string& text = j.get_ref<const std::string&>();
    if (isName(f)) {
        if (text.size() > 16)
            throw Unsupported{"interface name " + text};
        return nameValue(text);
    }
    if (auto n = symbolic(f, text))
        return numberValue(*n);
    return addressValue(text);
}

Interval interval(const json& j, std::optional<Field> f) {
    if (j.is_object() && j.contains("prefix")) {
        const json& len = j["prefix"].at("len");
        if (auto bits = integerOf<unsigned>(len))
            return prefixInterval(j["prefix"].at("addr").get<std::string>(), *bits);
        throw Unsupported{"prefix length " + len.dump()};
    }
    if (j.is_object() && j.contains("range"))
        return {scalar(j["range"].at(0), f), scalar(j["range"].at(1), f)};
    Value v = scalar(j, f);
    return {v, v};
}

// fields: what each part of the key reads (empty when unknown: numbers and addresses only).
std::vector<Interval> key(const json& j, const std::vector<Field>& fields) {
    auto part = [&](std::size_t i) {
        return i < fields.size() ? std::optional<Field>(fields[i]) : std::nullopt;
    };
    std::vector<Interval> out;
    if (j.is_object() && j.contains("concat")) {
        for (const json& p : j["concat"])
            out.push_back(interval(p, part(out.size())));
        return out;
    }
    if (j.is_object() && j.contains("elem")) { // {"elem": {"val": ..., counters...}}
        const json& val = j["elem"].at("val");
        if (val.is_object() && val.contains("elem"))
            throw Unsupported{"an element inside an element"};
        return key(val, fields);
    }
    out.push_back(interval(j, part(0)));
    return out;
}

// A set's declared key type, as the fields its parts stand for (for names and symbols).
std::vector<Field> typeFields(const json& type) {
    std::vector<Field> out;
    for (const json& t : type.is_array() ? type : json::array({type})) {
        std::string name = t.is_string() ? t.get<std::string>() : "";
        out.push_back(name == "ifname"        ? Field::IifName
                      : name == "inet_proto"  ? Field::L4Proto
                      : name == "icmp_type"   ? Field::IcmpType
                      : name == "icmpv6_type" ? Field::Icmpv6Type
                      : name == "ipv6_addr"   ? Field::Ip6Daddr
                      : name == "ipv4_addr"   ? Field::IpDaddr
                                              : Field::ThDport);
    }
    return out;
}

std::uint32_t ctStateBit(const json& s) {
    if (auto bits = integerOf<std::uint32_t>(s))
        return *bits;
    static const std::map<std::string, std::uint32_t, std::less<>> bits{
        {"invalid", 1}, {"established", 2}, {"related", 4}, {"new", 8}, {"untracked", 64}};
    if (s.is_string())
        if (auto it = bits.find(s.get<std::string>()); it != bits.end())
            return it->second;
    throw Unsupported{"ct state " + s.dump()};
}

std::optional<Verdict> verdictOf(const json& j) {
    if (!j.is_object() || j.size() != 1)
        return std::nullopt;
    const std::string& k = j.begin().key();
    using K = Verdict::Kind;
    if (k == "accept")
        return Verdict{K::Accept, {}};
    if (k == "drop")
        return Verdict{K::Drop, {}};
    if (k == "reject")
        return Verdict{K::Reject, {}};
    if (k == "return")
        return Verdict{K::Return, {}};
    if (k == "continue")
        return Verdict{K::Continue, {}};
    if (k == "jump")
        return Verdict{K::Jump, j[k].at("target").get<std::string>()};
    if (k == "goto")
        return Verdict{K::Goto, j[k].at("target").get<std::string>()};
    return std::nullopt;
}

Field field(const json& j) {
    if (j.contains("payload")) {
        std::string proto = j["payload"].at("protocol"), f = j["payload"].at("field");
        if (proto == "ip" && f == "saddr")
            return Field::IpSaddr;
        if (proto == "ip" && f == "daddr")
            return Field::IpDaddr;
        if (proto == "ip6" && f == "saddr")
            return Field::Ip6Saddr;
        if (proto == "ip6" && f == "daddr")
            return Field::Ip6Daddr;
        if (proto == "th" && f == "dport")
            return Field::ThDport;
        if (proto == "tcp" && f == "dport")
            return Field::TcpDport;
        if (proto == "udp" && f == "dport")
            return Field::UdpDport;
        if (proto == "icmp" && f == "type")
            return Field::IcmpType;
        if (proto == "icmpv6" && f == "type")
            return Field::Icmpv6Type;
        if (proto == "ip" && f == "protocol")
            return Field::IpProtocol;
        if (proto == "ip6" && f == "nexthdr")
            return Field::Ip6Nexthdr;
        throw Unsupported{"payload " + proto + " " + f};
    }
    if (j.contains("meta")) {
        std::string k = j["meta"].at("key");
        if (k == "l4proto")
            return Field::L4Proto;
        if (k == "iifgroup")
            return Field::IifGroup;
        if (k == "oifgroup")
            return Field::OifGroup;
        if (k == "iifname")
            return Field::IifName;
        if (k == "oifname")
            return Field::OifName;
        if (k == "iif")
            return Field::Iif;
        if (k == "oif")
            return Field::Oif;
        throw Unsupported{"meta " + k};
    }
    if (j.contains("ct") && j["ct"].at("key") == "state")
        return Field::CtState;
    throw Unsupported{"expression " + j.dump()};
}

std::vector<Field> fields(const json& left) {
    std::vector<Field> out;
    if (left.contains("concat")) {
        for (const json& part : left["concat"])
            out.push_back(field(part));
        return out;
    }
    out.push_back(field(left));
    return out;
}

Match match(const json& m) {
    Match out;
    std::string op = m.at("op");
    if (op == "!=")
        out.negated = true;
    else if (op != "==" && op != "in")
        throw Unsupported{"operator " + op};
    out.fields = fields(m.at("left"));
    const json& right = m.at("right");
    if (out.fields.size() == 1 && out.fields[0] == Field::CtState) {
        const json& list = right.is_object() && right.contains("set") ? right["set"] : right;
        for (const json& s : list.is_array() ? list : json::array({list}))
            out.ctStates.push_back(ctStateBit(s));
        return out;
    }
    if (out.fields.size() == 1 && isName(out.fields[0]) && !right.is_object()) {
        const json& list = right;
        for (const json& s : list.is_array() ? list : json::array({list}))
            out.names.push_back(s.get<std::string>());
        return out;
    }
    if (right.is_string() && right.get<std::string>().starts_with("@")) {
        out.set = right.get<std::string>().substr(1);
        return out;
    }
    if (right.is_object() && right.contains("set")) {
        for (const json& e : right["set"])
            out.literal.push_back({key(e, out.fields), std::nullopt});
        return out;
    }
    out.literal.push_back({key(right, out.fields), std::nullopt});
    if (out.literal.back().key.size() != out.fields.size())
        throw Unsupported{"value does not fit " + m.dump()};
    return out;
}

Rule rule(const json& exprs) {
    Rule r;
    try {
        for (const json& e : exprs) {
            if (e.contains("match")) {
                r.matches.push_back(match(e["match"]));
            } else if (e.contains("vmap")) {
                Match m;
                m.fields = fields(e["vmap"].at("key"));
                const json& data = e["vmap"].at("data");
                if (!data.is_string() || !data.get<std::string>().starts_with("@"))
                    throw Unsupported{"anonymous verdict map"};
                m.set = data.get<std::string>().substr(1);
                r.vmap = m;
            } else if (e.contains("counter") || e.contains("comment") || e.contains("log") ||
                       e.contains("masquerade") || e.contains("snat")) {
                continue; // no effect on the verdict (source NAT comes after filtering)
            } else if (e.contains("dnat")) {
                const json& d = e["dnat"];
                if (!d.is_object() || !d.contains("addr") || !d["addr"].is_string() ||
                    d.contains("family"))
                    throw Unsupported{"statement " + e.dump()};
                Dnat dnat{addressValue(d["addr"].get<std::string>()), std::nullopt};
                if (d.contains("port")) {
                    dnat.port = integerOf<std::uint16_t>(d["port"]);
                    if (!dnat.port)
                        throw Unsupported{"statement " + e.dump()};
                }
                r.dnat = dnat;
            } else if (auto v = verdictOf(e)) {
                r.verdict = v;
            } else {
                throw Unsupported{"statement " + e.dump()};
            }
        }
    } catch (const Unsupported& u) {
        r.unsupported = u.why;
    } catch (const json::exception& e) {
        r.unsupported = e.what();
    }
    return r;
}

} // namespace

Value nameValue(std::string_view name) {
    Value v;
    for (std::size_t i = 0; i < name.size() && i < v.bytes.size(); ++i)
        v.bytes[i] = static_cast<std::uint8_t>(name[i]);
    return v;
}

std::string nameOf(const Value& v) {
    std::string out;
    for (std::uint8_t b : v.bytes) {
        if (b == 0)
            break;
        out += static_cast<char>(b);
    }
    return out;
}

Value numberValue(std::uint64_t n) {
    Value v;
    for (int i = 15; i >= 8; --i) {
        v.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n & 0xff);
        n >>= 8;
    }
    return v;
}

std::string_view fieldName(Field f) {
    switch (f) {
    case Field::IpSaddr:
        return "ip saddr";
    case Field::IpDaddr:
        return "ip daddr";
    case Field::Ip6Saddr:
        return "ip6 saddr";
    case Field::Ip6Daddr:
        return "ip6 daddr";
    case Field::L4Proto:
        return "meta l4proto";
    case Field::ThDport:
        return "th dport";
    case Field::TcpDport:
        return "tcp dport";
    case Field::UdpDport:
        return "udp dport";
    case Field::IcmpType:
        return "icmp type";
    case Field::Icmpv6Type:
        return "icmpv6 type";
    case Field::IifGroup:
        return "meta iifgroup";
    case Field::OifGroup:
        return "meta oifgroup";
    case Field::CtState:
        return "ct state";
    case Field::IpProtocol:
        return "ip protocol";
    case Field::Ip6Nexthdr:
        return "ip6 nexthdr";
    case Field::IifName:
        return "meta iifname";
    case Field::OifName:
        return "meta oifname";
    case Field::Iif:
        return "meta iif";
    case Field::Oif:
        return "meta oif";
    }
    return "?";
}

const Chain* Ruleset::findChain(std::string_view family, std::string_view table,
                                std::string_view name) const {
    for (const Chain& c : chains)
        if (c.family == family && c.table == table && c.name == name)
            return &c;
    return nullptr;
}

const Set* Ruleset::findSet(std::string_view family, std::string_view table,
                            std::string_view name) const {
    for (const Set& s : sets)
        if (s.family == family && s.table == table && s.name == name)
            return &s;
    return nullptr;
}

namespace {

// Where each item of the top-level "nftables" array starts (the objects two levels deep),
// so each rule can point back into the text, and the deepest nesting with where it is.
struct Layout {
    std::vector<std::size_t> items;
    int depth = 0;
    std::size_t deepest = 0;
};

Layout layoutOf(std::string_view text) {
    Layout out;
    int depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (c == '{' && depth == 2)
                out.items.push_back(i);
            if (++depth > out.depth) {
                out.depth = depth;
                out.deepest = i;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return out;
}

// libnftables nests a few levels (a rule's expressions, a concatenation in a set element);
// anything far deeper is not a ruleset, and would only cost stack in what reads it.
constexpr int kMaxDepth = 64;

} // namespace

RulesetParse parseRulesetJson(std::string_view text) {
    RulesetParse out;
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        out.error = std::string("not JSON: ") + e.what();
        out.errorAt = e.byte > 0 ? e.byte - 1 : 0;
        return out;
    } catch (const json::exception& e) {
        // A number past double's range is out_of_range, not parse_error (fuzz_nft_json found
        // it uncaught); nlohmann does not say where, so the whole file is the position.
        out.error = std::string("not JSON: ") + e.what();
        return out;
    }
    if (!doc.is_object() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
        out.error = "not libnftables JSON (expected {\"nftables\": [...]})";
        return out;
    }
    Layout layout = layoutOf(text);
    if (layout.depth > kMaxDepth) {
        out.error = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
        out.errorAt = layout.deepest;
        return out;
    }
    std::vector<std::size_t> offsets = layout.items;
    if (offsets.size() != doc["nftables"].size())
        offsets.assign(doc["nftables"].size(), 0);
    Ruleset rs;
    std::size_t index = 0;
    // Rules name their chain: looked up here, not by scanning every chain (a listing of
    // 15,000 chains and rules took 1.8 s). A chain listed twice: the later one, as before.
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> chainIndex;
    try {
        for (const json& item : doc["nftables"]) {
            out.errorAt = offsets[index++];
            if (!item.is_object()) {
                out.error = "an item of \"nftables\" is not an object";
                return out;
            }
            if (item.contains("chain")) {
                const json& c = item["chain"];
                Chain chain;
                chain.family = c.at("family");
                chain.table = c.at("table");
                chain.name = c.at("name");
                chain.offset = out.errorAt;
                if (c.contains("hook")) {
                    chain.hook = c["hook"].get<std::string>();
                    chain.type = c.value("type", std::string("filter"));
                    chain.priority = integerMember(c, "prio", 0);
                    chain.policy = c.value("policy", std::string("accept"));
                }
                chainIndex[{chain.family, chain.table, chain.name}] = rs.chains.size();
                rs.chains.push_back(std::move(chain));
            } else if (item.contains("set") || item.contains("map")) {
                bool isMap = item.contains("map");
                const json& s = isMap ? item["map"] : item["set"];
                Set set;
                set.family = s.at("family");
                set.table = s.at("table");
                set.name = s.at("name");
                set.map = isMap;
                std::vector<Field> types = typeFields(s.value("type", json()));
                if (s.contains("elem"))
                    for (const json& e : s["elem"]) {
                        Element el;
                        if (isMap) {
                            el.key = key(e.at(0), types);
                            el.data = verdictOf(e.at(1));
                        } else {
                            el.key = key(e, types);
                        }
                        set.elements.push_back(std::move(el));
                    }
                rs.sets.push_back(std::move(set));
            } else if (item.contains("rule")) {
                const json& r = item["rule"];
                std::string family = r.at("family"), table = r.at("table"), name = r.at("chain");
                auto found = chainIndex.find({family, table, name});
                Chain* chain = found == chainIndex.end() ? nullptr : &rs.chains[found->second];
                if (!chain) {
                    out.error = "a rule of chain " + name + " comes before the chain";
                    return out;
                }
                Rule parsed = rule(r.at("expr"));
                parsed.handle = integerMember(r, "handle", 0);
                parsed.offset = out.errorAt;
                parsed.text = r.at("expr").dump();
                chain->rules.push_back(std::move(parsed));
            }
        }
    } catch (const json::exception& e) {
        out.error = std::string("malformed libnftables JSON: ") + e.what();
        return out;
    } catch (const Unsupported& u) {
        out.error = "unsupported set element: " + u.why;
        return out;
    } catch (const Malformed& m) {
        out.error = "malformed libnftables JSON: " + m.why;
        return out;
    }
    out.errorAt = 0;
    out.ruleset = std::move(rs);
    return out;
}

} // namespace bulkhead::nft
