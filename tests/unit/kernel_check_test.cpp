// The kernel check (backends/kernel_check.h): rulesets loaded into a throw-away network
// namespace and read back. Cases that need a namespace say so and skip when none can be made
// (CI runs as root, so they run there); the host-ruleset case needs root to read the host's.
#include "test_support.h"

#include "bulkhead/backends/kernel_check.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::backends;
using json = nlohmann::json;

namespace {

// Whether this process can make a throw-away namespace at all; says why not, once per case.
bool namespacesAvailable() {
    static const KernelCheckResult probe = checkInThrowAwayNamespace({}, {});
    if (probe.status == KernelCheckResult::Status::NamespaceUnavailable) {
        MESSAGE("SKIPPED: no throw-away network namespace here (needs root, or unprivileged "
                "user namespaces): "
                << probe.reason);
        return false;
    }
    REQUIRE_MESSAGE(probe.loaded(), probe.reason);
    return true;
}

bool isRoot() {
    if (geteuid() == 0)
        return true;
    MESSAGE("SKIPPED: needs root (reads the host's ruleset)");
    return false;
}

// The host's ruleset as `nft -s list ruleset` prints it (root only; -s leaves out counters,
// which host traffic may move).
std::string hostRuleset() {
    std::string out;
    FILE* p = popen("nft -s list ruleset 2>&1", "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    while (std::size_t n = fread(buf.data(), 1, buf.size(), p))
        out.append(buf.data(), n);
    REQUIRE(pclose(p) == 0);
    return out;
}

// Every element of set `name` in table `family table`, as JSON text (order-free).
std::multiset<std::string> setElements(const std::string& rulesetJson, const std::string& family,
                                       const std::string& table, const std::string& name) {
    std::multiset<std::string> out;
    const json doc = json::parse(rulesetJson); // not in the for: the temporary would die first
    for (const json& o : doc.at("nftables")) {
        if (!o.contains("set"))
            continue;
        const json& s = o.at("set");
        if (s.at("family") == family && s.at("table") == table && s.at("name") == name &&
            s.contains("elem"))
            for (const json& e : s.at("elem"))
                out.insert(e.dump());
    }
    return out;
}

bool hasChain(const std::string& rulesetJson, const std::string& family, const std::string& table,
              const std::string& name) {
    const json doc = json::parse(rulesetJson);
    for (const json& o : doc.at("nftables"))
        if (o.contains("chain") && o.at("chain").at("family") == family &&
            o.at("chain").at("table") == table && o.at("chain").at("name") == name)
            return true;
    return false;
}

// The `expr` of every rule in a chain, in order, as compact JSON.
std::vector<std::string> ruleExprs(const std::string& rulesetJson, const std::string& family,
                                   const std::string& table, const std::string& chain) {
    std::vector<std::string> out;
    const json doc = json::parse(rulesetJson);
    for (const json& o : doc.at("nftables"))
        if (o.contains("rule") && o.at("rule").at("family") == family &&
            o.at("rule").at("table") == table && o.at("rule").at("chain") == chain)
            out.push_back(o.at("rule").at("expr").dump());
    return out;
}

// A small ruleset of the emitter's shape: its own table with a set and a jump, and a jump
// from Qubes' reserved custom-forward chain to a chain it adds to `ip qubes`.
const char* goodRuleset = R"(# bulkhead test ruleset
table inet bulkhead {
    set allowed {
        type ipv4_addr . inet_service
        elements = { 10.137.0.12 . 443, 10.137.0.13 . 22 }
    }
    chain forward {
        type filter hook forward priority filter + 10; policy accept;
        jump from-work
    }
    chain from-work {
        ip saddr . tcp dport @allowed accept
        counter drop
    }
}
table ip qubes {
    chain bulkhead-forward {
        ip saddr 10.137.0.12 ip daddr 10.137.0.13 accept
    }
}
add rule ip qubes custom-forward jump bulkhead-forward
)";

// n elements of `ipv4_addr . inet_service` in `add element` batches of `batch`.
std::string bigRuleset(int n, int batch) {
    std::ostringstream out;
    out << "table inet bulkhead {\n"
           "    set big {\n"
           "        type ipv4_addr . inet_service\n"
           "    }\n"
           "    chain forward {\n"
           "        type filter hook forward priority filter + 10; policy drop;\n"
           "        ip saddr . tcp dport @big accept\n"
           "    }\n"
           "}\n";
    for (int i = 0; i < n; ++i) {
        if (i % batch == 0)
            out << (i ? " }\n" : "") << "add element inet bulkhead big {";
        out << (i % batch ? ", " : " ") << "10." << (i >> 16) << "." << ((i >> 8) & 255) << "."
            << (i & 255) << " . " << (1000 + i % 1000);
    }
    out << " }\n";
    return out.str();
}

KernelCheckResult checkOne(const std::string& name, const std::string& text,
                           KernelCheckOptions options = {}) {
    return checkInThrowAwayNamespace(qubesBaseTables(), {{name, text}}, options);
}

} // namespace

TEST_CASE("top-level statements: blocks, batches, comments, strings, continuations") {
    const char* text = "# header\n"
                       "\n"
                       "table ip t {\n"
                       "  chain c { # a { in a comment\n"
                       "    meta comment \"}\" accept\n"
                       "  }\n"
                       "}\n"
                       "add element ip t s { 1.2.3.4,\n"
                       "   5.6.7.8 }\n"
                       "add rule ip t c \\\n"
                       "  accept\n"
                       "flush set ip t s";
    std::vector<NftStatement> s = splitTopLevelStatements(text);
    REQUIRE(s.size() == 4);
    CHECK(s[0].firstLine == 3);
    CHECK(s[0].text.substr(0, 12) == "table ip t {");
    CHECK(s[0].text.back() == '\n');
    CHECK(s[1].firstLine == 8);
    CHECK(s[1].text == "add element ip t s { 1.2.3.4,\n   5.6.7.8 }\n");
    CHECK(s[2].firstLine == 10);
    CHECK(s[3].firstLine == 12);
    CHECK(s[3].text == "flush set ip t s");
}

TEST_CASE("Qubes' base tables are embedded, in boot order, byte for byte") {
    std::vector<NftInput> base = qubesBaseTables();
    REQUIRE(base.size() == 3);
    CHECK(base[0].logicalName == "qubes/qubes-antispoof.nft");
    CHECK(base[1].logicalName == "qubes/qubes-ipv4.nft");
    CHECK(base[2].logicalName == "qubes/qubes-ipv6.nft");
    for (const NftInput& in : base) {
        std::ifstream file(test::sourceDir() / "backends" / "qubes-nft" /
                           in.logicalName.substr(std::string("qubes/").size()));
        std::stringstream text;
        text << file.rdbuf();
        CHECK(in.text == text.str());
    }
}

TEST_CASE("base tables load into a throw-away namespace") {
    if (!namespacesAvailable())
        return;
    KernelCheckResult r = checkInThrowAwayNamespace(qubesBaseTables(), {});
    REQUIRE_MESSAGE(r.loaded(), r.reason << r.errors());
    CHECK((r.mode == KernelCheckMode::RootNetns || r.mode == KernelCheckMode::UserNetns));
    REQUIRE(r.loads.size() == 3);
    CHECK(hasChain(r.rulesetJson, "ip", "qubes", "custom-forward"));
    CHECK(hasChain(r.rulesetJson, "ip6", "qubes", "antispoof"));
    MESSAGE("base tables: " << r.milliseconds << " ms, "
                            << std::string(kernelCheckModeName(r.mode)));
}

TEST_CASE("the listing is numeric by default, and by name as plain `nft -j` prints it") {
    if (!namespacesAvailable())
        return;
    // qubes-ipv4.nft's input chain: `iifgroup 2 meta l4proto icmp accept`.
    auto icmpRule = [](const KernelCheckResult& r) {
        for (const std::string& e : ruleExprs(r.rulesetJson, "ip", "qubes", "input"))
            if (e.find("l4proto") != std::string::npos)
                return e;
        return std::string();
    };
    KernelCheckResult numeric = checkInThrowAwayNamespace(qubesBaseTables(), {});
    REQUIRE_MESSAGE(numeric.loaded(), numeric.reason << numeric.errors());
    CHECK(icmpRule(numeric).find(R"("right":1})") != std::string::npos);
    KernelCheckOptions named;
    named.numericListing = false;
    KernelCheckResult names = checkInThrowAwayNamespace(qubesBaseTables(), {}, named);
    REQUIRE_MESSAGE(names.loaded(), names.reason << names.errors());
    CHECK(icmpRule(names).find(R"("right":"icmp"})") != std::string::npos);
}

TEST_CASE("a good ruleset loads on top of the base tables and reads back") {
    if (!namespacesAvailable())
        return;
    KernelCheckResult r = checkOne("sys-firewall/bulkhead.nft", goodRuleset);
    REQUIRE_MESSAGE(r.loaded(), r.reason << r.errors());
    REQUIRE(r.loads.size() == 4);
    CHECK(r.loads.back().logicalName == "sys-firewall/bulkhead.nft");
    CHECK(setElements(r.rulesetJson, "inet", "bulkhead", "allowed") ==
          std::multiset<std::string>{R"({"concat":["10.137.0.12",443]})",
                                     R"({"concat":["10.137.0.13",22]})"});
    CHECK(hasChain(r.rulesetJson, "ip", "qubes", "bulkhead-forward"));
    CHECK(ruleExprs(r.rulesetJson, "ip", "qubes", "custom-forward") ==
          std::vector<std::string>{R"([{"jump":{"target":"bulkhead-forward"}}])"});
}

TEST_CASE("a bad ruleset is rejected with the logical file name and the line") {
    if (!namespacesAvailable())
        return;
    SUBCASE("undefined set") {
        std::string bad = goodRuleset;
        bad.replace(bad.find("@allowed"), 8, "@alowed");
        KernelCheckResult r = checkOne("sys-firewall/bulkhead.nft", bad);
        CHECK(r.status == KernelCheckResult::Status::Rejected);
        CHECK_MESSAGE(r.errors().find("sys-firewall/bulkhead.nft:12:30-36: Error:") !=
                          std::string::npos,
                      r.errors());
        CHECK(r.rulesetJson.empty());
    }
    SUBCASE("syntax error") {
        std::string bad = goodRuleset;
        bad.replace(bad.find("counter drop"), 12, "counter drap");
        KernelCheckResult r = checkOne("sys-firewall/bulkhead.nft", bad);
        CHECK(r.status == KernelCheckResult::Status::Rejected);
        CHECK_MESSAGE(r.errors().find("sys-firewall/bulkhead.nft:13:") != std::string::npos,
                      r.errors());
        CHECK(r.errors().find("syntax error") != std::string::npos);
    }
    SUBCASE("jump loop, found only by a real commit") {
        std::string loop = std::string(goodRuleset) +
                           "add chain inet bulkhead back\n"
                           "add rule inet bulkhead back jump from-work\n"
                           "add rule inet bulkhead from-work jump back\n";
        KernelCheckResult r = checkOne("sys-firewall/bulkhead.nft", loop);
        CHECK(r.status == KernelCheckResult::Status::Rejected);
        CHECK_MESSAGE(r.errors().find("sys-firewall/bulkhead.nft:24:") != std::string::npos,
                      r.errors());
        CHECK(r.errors().find("Too many links") != std::string::npos);
    }
    SUBCASE("a later ruleset is not tried after a rejected one") {
        KernelCheckResult r = checkInThrowAwayNamespace(
            qubesBaseTables(), {{"a.nft", "table ip a {\n  chain c {\n    acept\n  }\n}\n"},
                                {"b.nft", "table ip b {}\n"}});
        CHECK(r.status == KernelCheckResult::Status::Rejected);
        REQUIRE(r.loads.size() == 4);
        CHECK(r.loads.back().logicalName == "a.nft");
        CHECK(r.errors().find("a.nft:3:") != std::string::npos);
    }
}

TEST_CASE("the host's ruleset is unchanged by a check") {
    if (!isRoot() || !namespacesAvailable())
        return;
    std::string before = hostRuleset();
    KernelCheckResult good = checkOne("host-test/good.nft", goodRuleset);
    CHECK(good.loaded());
    KernelCheckResult bad = checkOne("host-test/bad.nft", "table inet bulkhead {\n  oops\n}\n");
    CHECK(bad.status == KernelCheckResult::Status::Rejected);
    KernelCheckOptions user;
    user.forceUserNamespace = true;
    CHECK(checkOne("host-test/user.nft", goodRuleset, user).loaded());
    CHECK(hostRuleset() == before);
}

TEST_CASE("the unprivileged path: a user namespace, chunked when the batch is too big") {
    if (!namespacesAvailable())
        return;
    KernelCheckOptions user;
    user.forceUserNamespace = true;
    KernelCheckResult small = checkOne("sys-firewall/bulkhead.nft", goodRuleset, user);
    if (small.status == KernelCheckResult::Status::NamespaceUnavailable) {
        MESSAGE("SKIPPED: no unprivileged user namespaces here: " << small.reason);
        return;
    }
    REQUIRE_MESSAGE(small.loaded(), small.reason << small.errors());
    CHECK(small.mode == KernelCheckMode::UserNetns);
    CHECK(small.loads.back().chunks == 1);

    std::string big = bigRuleset(20000, 1000);
    KernelCheckResult r = checkOne("sys-firewall/big.nft", big, user);
    REQUIRE_MESSAGE(r.loaded(), r.reason << r.errors());
    CHECK(r.mode == KernelCheckMode::UserNetnsChunked);
    CHECK(r.loads.back().chunks > 1);
    CHECK(setElements(r.rulesetJson, "inet", "bulkhead", "big").size() == 20000);
    MESSAGE("base tables + 20000 elements, "
            << std::string(kernelCheckModeName(r.mode)) << ": " << r.milliseconds << " ms (load "
            << r.loads.back().milliseconds << " ms in " << r.loads.back().chunks << " chunks)");

    SUBCASE("errors in a chunk keep the file's line numbers") {
        std::string bad = big + "add element inet bulkhead big { 10.0.0.1 . 70000 }\n";
        KernelCheckResult b = checkOne("sys-firewall/big.nft", bad, user);
        CHECK(b.status == KernelCheckResult::Status::Rejected);
        CHECK_MESSAGE(b.errors().find("sys-firewall/big.nft:30:") != std::string::npos, b.errors());
    }
    SUBCASE("a single statement too big for the socket is reported, with a hint") {
        KernelCheckResult b = checkOne("sys-firewall/one.nft", bigRuleset(20000, 20000), user);
        CHECK(b.status == KernelCheckResult::Status::Rejected);
        CHECK_MESSAGE(b.errors().find("sys-firewall/one.nft:10: note:") != std::string::npos,
                      b.errors());
    }
}

TEST_CASE("a big ruleset loads as root in one batch") {
    if (!namespacesAvailable())
        return;
    KernelCheckResult r = checkOne("sys-firewall/big.nft", bigRuleset(20000, 1000));
    REQUIRE_MESSAGE(r.loaded(), r.reason << r.errors());
    if (r.mode == KernelCheckMode::RootNetns)
        CHECK(r.loads.back().chunks == 1);
    CHECK(setElements(r.rulesetJson, "inet", "bulkhead", "big").size() == 20000);
    MESSAGE("base tables + 20000 elements, " << std::string(kernelCheckModeName(r.mode)) << ": "
                                             << r.milliseconds << " ms (load "
                                             << r.loads.back().milliseconds << " ms)");
}

TEST_CASE("a check that takes too long is stopped") {
    if (!namespacesAvailable())
        return;
    KernelCheckOptions quick;
    quick.timeout = std::chrono::milliseconds(1);
    KernelCheckResult r = checkOne("sys-firewall/big.nft", bigRuleset(20000, 1000), quick);
    CHECK(r.status == KernelCheckResult::Status::Failed);
    CHECK(r.reason.find("longer than 1 ms") != std::string::npos);
}
