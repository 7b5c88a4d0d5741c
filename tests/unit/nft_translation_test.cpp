// The nftables read-back: libnftables JSON into plain data, and the Z3 proof that a ruleset
// accepts exactly what the flows permit. Hand-written rulesets, each one a way to get it
// wrong (or right).
#include "test_support.h"

#include "bulkhead/analyzer/translation.h"
#include "bulkhead/compiler/nft_ruleset.h"

#include <doctest/doctest.h>

using namespace bulkhead;

namespace {

const char* kPolicy = R"(policy "lab";
trust low = red < high = black;
template deb { trust high; }
netvm sys-net { template deb; trust low; }
qube a { template deb; trust low; netvm sys-net; ip 10.137.0.2; }
network internet = 0.0.0.0/0;
allow a -> internet : tcp/443;
)";

// The base chain as the emitter writes it: the source map sends each client to its chain.
const char* kForwardChain =
    R"( {"chain": {"family": "inet", "table": "bulkhead", "name": "forward", "type": "filter",
            "hook": "forward", "prio": -10, "policy": "accept"}},
)";
const char* kForwardRules =
    R"( {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": [2, 4]}},
   {"accept": null}]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"match": {"op": "!=", "left": {"meta": {"key": "iifgroup"}}, "right": 2}},
   {"accept": null}]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"vmap": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "data": "@src4"}}]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"reject": {"type": "icmpx", "expr": 3}}]}}
]})";

// The shape the emitter writes for kPolicy, with the pieces a test changes.
std::string ruleset(const std::string& verdict = "jump", const std::string& port = "443",
                    bool internalReturn = true) {
    std::string rs = std::string(R"({"nftables": [
)") + kForwardChain + R"( {"chain": {"family": "inet", "table": "bulkhead", "name": "src-a"}},
 {"set": {"family": "inet", "table": "bulkhead", "name": "internal4", "type": "ipv4_addr",
          "elem": ["10.137.0.2"]}},
 {"set": {"family": "inet", "table": "bulkhead", "name": "web",
          "type": ["ipv4_addr", "inet_proto", "inet_service"], "flags": ["interval"],
          "elem": [{"concat": [{"prefix": {"addr": "0.0.0.0", "len": 0}}, 6, PORT]}]}},
 {"map": {"family": "inet", "table": "bulkhead", "name": "src4", "type": "ipv4_addr",
          "map": "verdict", "elem": [["10.137.0.2", {"VERDICT": {"target": "src-a"}}]]}},
 INTERNAL
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "src-a", "expr": [
   {"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "daddr"}},
     {"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]},
     "right": "@web"}}, {"accept": null}]}},
)" + kForwardRules;
    auto replace = [&](const std::string& what, const std::string& with) {
        rs.replace(rs.find(what), what.size(), with);
    };
    replace("VERDICT", verdict);
    replace("PORT", port);
    replace("INTERNAL",
            internalReturn
                ? R"({"rule": {"family": "inet", "table": "bulkhead", "chain": "src-a", "expr": [
   {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
    "right": "@internal4"}}, {"return": null}]}},)"
                : "");
    return rs;
}

analyzer::TranslationCheck verifyFor(const std::string& policy, const std::string& json,
                                     std::uint64_t rlimit = 50'000'000) {
    test::Checked c = test::checkText(policy);
    REQUIRE(c.policy);
    nft::RulesetParse parsed = nft::parseRulesetJson(json);
    INFO(parsed.error);
    REQUIRE(parsed.ruleset);
    return analyzer::checkNftTranslation(*c.policy, "sys-net", *parsed.ruleset, rlimit);
}

analyzer::TranslationCheck verify(const std::string& json) {
    return verifyFor(kPolicy, json);
}

} // namespace

TEST_CASE("libnftables JSON is read into sets, maps and rules") {
    nft::RulesetParse p = nft::parseRulesetJson(ruleset());
    REQUIRE(p.ruleset);
    const nft::Set* web = p.ruleset->findSet("inet", "bulkhead", "web");
    REQUIRE(web);
    REQUIRE(web->elements.size() == 1);
    REQUIRE(web->elements[0].key.size() == 3);
    CHECK(web->elements[0].key[0].hi.bytes[15] == 255); // 0.0.0.0/0 ends at 255.255.255.255
    CHECK(web->elements[0].key[2].lo == nft::numberValue(443));
    const nft::Set* map = p.ruleset->findSet("inet", "bulkhead", "src4");
    REQUIRE(map);
    CHECK(map->map);
    REQUIRE(map->elements[0].data);
    CHECK(map->elements[0].data->kind == nft::Verdict::Kind::Jump);
    const nft::Chain* fwd = p.ruleset->findChain("inet", "bulkhead", "forward");
    REQUIRE(fwd);
    CHECK(fwd->hook == "forward");
    CHECK(fwd->rules.size() == 4);
    CHECK(fwd->rules[0].matches[0].ctStates == std::vector<std::uint32_t>{2, 4});

    nft::RulesetParse odd = nft::parseRulesetJson(R"({"nftables": [
      {"chain": {"family": "inet", "table": "t", "name": "c"}},
      {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 1}},
        {"accept": null}]}}]})");
    REQUIRE(odd.ruleset);
    CHECK(odd.ruleset->chains[0].rules[0].unsupported.find("meta mark") != std::string::npos);
    CHECK_FALSE(nft::parseRulesetJson("[1, 2]").ruleset);
    CHECK_FALSE(nft::parseRulesetJson("{\"nftables\": [").ruleset);
}

TEST_CASE("a ruleset that matches the flows is proven equal") {
    analyzer::TranslationCheck t = verify(ruleset());
    INFO(t.differ.value_or(""));
    CHECK_FALSE(t.differ);
}

TEST_CASE("goto from the base chain falls through to its policy, and that is caught") {
    // A sender's packets that no allow matches return from a goto'd chain to the base
    // chain's policy (accept), never reaching the final reject.
    analyzer::TranslationCheck t = verify(ruleset("goto"));
    REQUIRE(t.differ);
    CHECK(t.differ->find("does not permit it, the ruleset accepts it") != std::string::npos);
    CHECK(t.differ->find("10.137.0.2 -> ") != std::string::npos);
}

TEST_CASE("a missing allow and a network that covers a qube are caught with a packet") {
    // The allow's only element gone: the one direction of difference left is a drop.
    std::string empty = ruleset();
    std::string element = R"({"concat": [{"prefix": {"addr": "0.0.0.0", "len": 0}}, 6, 443]})";
    empty.erase(empty.find(element), element.size());
    analyzer::TranslationCheck missing = verify(empty);
    REQUIRE(missing.differ);
    CHECK(missing.differ->find("the policy permits it, the ruleset drops it") != std::string::npos);
    CHECK(missing.differ->find("tcp port 443") != std::string::npos);
    // Another port: a difference either way, on 443 or 444.
    analyzer::TranslationCheck port = verify(ruleset("jump", "444"));
    REQUIRE(port.differ);
    CHECK(port.differ->find("tcp port 44") != std::string::npos);

    // Without the internal return, 0.0.0.0/0 reaches the qube's own address, which the
    // network object `internet` never stands for.
    analyzer::TranslationCheck internal = verify(ruleset("jump", "443", false));
    REQUIRE(internal.differ);
    CHECK(internal.differ->find("-> 10.137.0.2 tcp port 443") != std::string::npos);
}

TEST_CASE("a rule the reader cannot interpret is never assumed harmless") {
    std::string rs = ruleset();
    std::string extra =
        R"({"rule": {"family": "inet", "table": "bulkhead", "chain": "src-a", "expr": [
   {"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 1}}, {"accept": null}]}},)";
    rs.insert(rs.find(R"({"rule": {"family": "inet", "table": "bulkhead", "chain": "forward")"),
              extra);
    analyzer::TranslationCheck t = verify(rs);
    REQUIRE(t.differ);
    CHECK(t.differ->find("cannot interpret") != std::string::npos);
}

namespace {

// Two clients, each with its own chain behind the source map, as the emitter lays them out:
// the read-back asks about each client's packets apart, and about packets from no client.
const std::string kTwoClients = std::string(kPolicy) + R"(
qube b { template deb; trust low; netvm sys-net; ip 10.137.0.3; }
allow b -> internet : tcp/80;
)";

std::string clientChain(const std::string& client, const std::string& ports) {
    std::string elements;
    for (std::size_t at = 0; at < ports.size();) {
        std::size_t end = ports.find(',', at);
        std::string port = ports.substr(at, end == std::string::npos ? end : end - at);
        elements += std::string(elements.empty() ? "" : ", ") +
                    R"({"concat": [{"prefix": {"addr": "0.0.0.0", "len": 0}}, 6, )" + port + "]}";
        at = end == std::string::npos ? ports.size() : end + 1;
    }
    return R"({"chain": {"family": "inet", "table": "bulkhead", "name": "src-)" + client +
           R"("}},
 {"set": {"family": "inet", "table": "bulkhead", "name": "web-)" +
           client + R"(",
          "type": ["ipv4_addr", "inet_proto", "inet_service"], "flags": ["interval"],
          "elem": [)" +
           elements + R"(]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "src-)" +
           client + R"(", "expr": [
   {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
    "right": "@internal4"}}, {"return": null}]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "src-)" +
           client + R"(", "expr": [
   {"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "daddr"}},
     {"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]},
     "right": "@web-)" +
           client + R"("}}, {"accept": null}]}},
)";
}

// `sourceMap` is the src4 map's elements; `bPorts` the ports b's chain accepts.
std::string twoClients(const std::string& bPorts = "80",
                       const std::string& sourceMap =
                           R"(["10.137.0.2", {"jump": {"target": "src-a"}}],
                              ["10.137.0.3", {"jump": {"target": "src-b"}}])") {
    return std::string(R"({"nftables": [
)") + kForwardChain +
           R"( {"set": {"family": "inet", "table": "bulkhead", "name": "internal4", "type": "ipv4_addr",
          "flags": ["interval"], "elem": ["10.137.0.2", "10.137.0.3"]}},
 {"map": {"family": "inet", "table": "bulkhead", "name": "src4", "type": "ipv4_addr",
          "map": "verdict", "flags": ["interval"], "elem": [)" +
           sourceMap + "]}},\n" + clientChain("a", "443") + clientChain("b", bPorts) +
           kForwardRules;
}

analyzer::TranslationCheck verifyTwo(const std::string& json, std::uint64_t rlimit = 50'000'000) {
    return verifyFor(kTwoClients, json, rlimit);
}

} // namespace

TEST_CASE("each client's chain is proven apart, and one extra port in one chain is found") {
    analyzer::TranslationCheck same = verifyTwo(twoClients());
    INFO(same.differ.value_or(""));
    CHECK_FALSE(same.differ);

    // b's chain accepts one port more than b's flows: only b's packets show it.
    analyzer::TranslationCheck extra = verifyTwo(twoClients("80,8080"));
    REQUIRE(extra.differ);
    CHECK_FALSE(extra.undecided);
    CHECK(extra.differ->find("packet 10.137.0.3 -> ") == 0);
    CHECK(extra.differ->find(" tcp port 8080: the policy does not permit it, the ruleset "
                             "accepts it") != std::string::npos);

    // b's chain lacks b's port: a drop, found with b's address.
    analyzer::TranslationCheck missing = verifyTwo(twoClients("8080"));
    REQUIRE(missing.differ);
    CHECK(missing.differ->find("packet 10.137.0.3 -> ") == 0);
}

TEST_CASE("packets from an address that is no client are compared too") {
    // A source map entry for an address no qube has leads it into a's chain: the policy
    // permits nothing from there, the ruleset accepts a's port.
    analyzer::TranslationCheck stray = verifyTwo(twoClients("80", R"(
        ["10.137.0.2", {"jump": {"target": "src-a"}}],
        ["10.137.0.3", {"jump": {"target": "src-b"}}],
        ["10.137.0.9", {"jump": {"target": "src-a"}}])"));
    REQUIRE(stray.differ);
    CHECK(stray.differ->find("packet 10.137.0.9 -> ") == 0);
    CHECK(stray.differ->find("tcp port 443: the policy does not permit it, the ruleset "
                             "accepts it") != std::string::npos);

    // One range over both clients and their neighbours, all into b's chain: a's own packets
    // differ (a's query), and so would the neighbours'.
    analyzer::TranslationCheck range = verifyTwo(twoClients("80", R"(
        [{"range": ["10.137.0.0", "10.137.0.15"]}, {"jump": {"target": "src-b"}}])"));
    REQUIRE(range.differ);
    CHECK(range.differ->find("packet 10.137.0.2 -> ") == 0);
}

TEST_CASE("a query that hits the resource limit is undecided, never a pass") {
    analyzer::TranslationCheck t = verifyTwo(twoClients(), 1);
    REQUIRE(t.differ);
    CHECK(t.undecided);
    CHECK(t.differ->find("Z3 could not decide") == 0);
    CHECK(t.differ->find("for packets from a") != std::string::npos);
}

TEST_CASE("a client's IPv6 packets are a query of their own, and a difference there is found") {
    // a has an IPv6 address too; the policy permits it nothing over IPv6 (internet is IPv4).
    std::string policy = kPolicy;
    policy.replace(policy.find("ip 10.137.0.2;"), 14, "ip 10.137.0.2, fd09:24ef:4179::a89:2;");
    auto rulesetWith = [](const std::string& v6Rule) {
        std::string rs = ruleset();
        std::string v6 =
            R"( {"map": {"family": "inet", "table": "bulkhead", "name": "src6", "type": "ipv6_addr",
          "map": "verdict", "elem": [["fd09:24ef:4179::a89:2", {"jump": {"target": "src-a"}}]]}},
 {"set": {"family": "inet", "table": "bulkhead", "name": "web6",
          "type": ["ipv6_addr", "inet_proto", "inet_service"], "flags": ["interval"],
          "elem": [{"concat": [{"prefix": {"addr": "::", "len": 0}}, 6, 443]}]}},
 {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"vmap": {"key": {"payload": {"protocol": "ip6", "field": "saddr"}}, "data": "@src6"}}]}},
)" + v6Rule;
        // Before the final reject, which is the last rule of the forward chain.
        std::string reject =
            R"( {"rule": {"family": "inet", "table": "bulkhead", "chain": "forward", "expr": [
   {"reject")";
        rs.insert(rs.find(reject), v6);
        return rs;
    };
    analyzer::TranslationCheck same = verifyFor(policy, rulesetWith(""));
    INFO(same.differ.value_or(""));
    CHECK_FALSE(same.differ);

    analyzer::TranslationCheck extra = verifyFor(
        policy,
        rulesetWith(R"( {"rule": {"family": "inet", "table": "bulkhead", "chain": "src-a", "expr": [
   {"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip6", "field": "daddr"}},
     {"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]},
     "right": "@web6"}}, {"accept": null}]}},
)"));
    REQUIRE(extra.differ);
    CHECK(extra.differ->find("packet fd09:24ef:4179::a89:2 -> ") == 0);
    CHECK(extra.differ->find("tcp port 443: the policy does not permit it, the ruleset accepts "
                             "it") != std::string::npos);
}
