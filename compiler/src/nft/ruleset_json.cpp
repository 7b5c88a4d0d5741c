// Reads libnftables' JSON (`nft -j -n list ruleset`; schema version 1, nftables 1.0.6).
// Numeric output is expected: protocols, ICMP types and ct states as numbers. Addresses
// come as strings, prefixes as {"prefix": {...}}, ranges as {"range": [lo, hi]}.
#include "bulkhead/compiler/nft_ruleset.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

namespace bulkhead::nft {
namespace {

using json = nlohmann::json;

struct Unsupported {
    std::string why;
};

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

Value scalar(const json& j) {
    if (j.is_number_unsigned())
        return numberValue(j.get<std::uint64_t>());
    if (j.is_string())
        return addressValue(j.get<std::string>());
    throw Unsupported{"value " + j.dump()};
}

Interval interval(const json& j) {
    if (j.is_object() && j.contains("prefix"))
        return prefixInterval(j["prefix"].at("addr").get<std::string>(),
                              j["prefix"].at("len").get<unsigned>());
    if (j.is_object() && j.contains("range"))
        return {scalar(j["range"].at(0)), scalar(j["range"].at(1))};
    Value v = scalar(j);
    return {v, v};
}

std::vector<Interval> key(const json& j) {
    std::vector<Interval> out;
    if (j.is_object() && j.contains("concat")) {
        for (const json& part : j["concat"])
            out.push_back(interval(part));
        return out;
    }
    if (j.is_object() && j.contains("elem")) // {"elem": {"val": ..., counters...}}
        return key(j["elem"].at("val"));
    out.push_back(interval(j));
    return out;
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
        for (const json& s : right.is_array() ? right : json::array({right})) {
            if (!s.is_number_unsigned())
                throw Unsupported{"ct state " + s.dump()};
            out.ctStates.push_back(s.get<std::uint32_t>());
        }
        return out;
    }
    if (right.is_string() && right.get<std::string>().starts_with("@")) {
        out.set = right.get<std::string>().substr(1);
        return out;
    }
    if (right.is_object() && right.contains("set")) {
        for (const json& e : right["set"])
            out.literal.push_back({key(e), std::nullopt});
        return out;
    }
    out.literal.push_back({key(right), std::nullopt});
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
            } else if (e.contains("counter") || e.contains("comment")) {
                continue; // no effect on the verdict
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

RulesetParse parseRulesetJson(std::string_view text) {
    RulesetParse out;
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
        !doc["nftables"].is_array()) {
        out.error = "not libnftables JSON (expected {\"nftables\": [...]})";
        return out;
    }
    Ruleset rs;
    try {
        for (const json& item : doc["nftables"]) {
            if (item.contains("chain")) {
                const json& c = item["chain"];
                Chain chain;
                chain.family = c.at("family");
                chain.table = c.at("table");
                chain.name = c.at("name");
                if (c.contains("hook")) {
                    chain.hook = c["hook"].get<std::string>();
                    chain.priority = c.value("prio", std::int64_t{0});
                    chain.policy = c.value("policy", std::string("accept"));
                }
                rs.chains.push_back(std::move(chain));
            } else if (item.contains("set") || item.contains("map")) {
                bool isMap = item.contains("map");
                const json& s = isMap ? item["map"] : item["set"];
                Set set;
                set.family = s.at("family");
                set.table = s.at("table");
                set.name = s.at("name");
                set.map = isMap;
                if (s.contains("elem"))
                    for (const json& e : s["elem"]) {
                        Element el;
                        if (isMap) {
                            el.key = key(e.at(0));
                            el.data = verdictOf(e.at(1));
                        } else {
                            el.key = key(e);
                        }
                        set.elements.push_back(std::move(el));
                    }
                rs.sets.push_back(std::move(set));
            } else if (item.contains("rule")) {
                const json& r = item["rule"];
                std::string family = r.at("family"), table = r.at("table"), name = r.at("chain");
                Chain* chain = nullptr;
                for (Chain& c : rs.chains)
                    if (c.family == family && c.table == table && c.name == name)
                        chain = &c;
                if (!chain) {
                    out.error = "a rule of chain " + name + " comes before the chain";
                    return out;
                }
                chain->rules.push_back(rule(r.at("expr")));
            }
        }
    } catch (const json::exception& e) {
        out.error = std::string("malformed libnftables JSON: ") + e.what();
        return out;
    } catch (const Unsupported& u) {
        out.error = "unsupported set element: " + u.why;
        return out;
    }
    out.ruleset = std::move(rs);
    return out;
}

} // namespace bulkhead::nft
