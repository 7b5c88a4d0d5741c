// bulkhead audit with firewall state: the corpus sys-firewall ruleset read and its findings
// reviewed against qubes-formats.md §3, each firewall finding on a small input that shows it
// and a fixed one that does not, escape paths over the network, drift of the compiled
// workstation's firewall rules, and malformed inputs.
#include "audit_support.h"

#include "bulkhead/backends/kernel_check.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace bulkhead;
using test::Audit;
using test::audit;

namespace {

const char* kInventory = R"(dom0|AdminVM|black|-|-|-|-|-|False|False
fedora|TemplateVM|black|-|-|-|-|-|False|False
sys-net|AppVM|red|fedora|-|10.137.0.5|-|-|False|True
sys-firewall|AppVM|green|fedora|sys-net|10.137.0.6|-|-|False|True
work|AppVM|blue|fedora|sys-firewall|10.137.0.12|work|-|False|False
untrusted|AppVM|red|fedora|sys-firewall|10.137.0.20|-|-|False|False
)";

fs::path corpus() {
    return test::sourceDir() / ".." / "shared" / "corpus";
}

// An audit of an empty policy.d with the inventory above and these firewall options.
Audit auditFirewall(const std::vector<std::pair<std::string, std::string>>& files,
                    const std::vector<std::string>& options, test::TempDir& tmp,
                    const std::string& inventory = kInventory) {
    fs::create_directories(tmp.path() / "policy.d");
    fs::path inv = tmp.write("inventory.txt", inventory);
    for (const auto& [name, text] : files)
        tmp.write(name, text);
    std::vector<std::string> args{"--policy-dir", (tmp.path() / "policy.d").string(),
                                  "--inventory",  inv.string(),
                                  "--legacy-dir", (tmp.path() / "none").string()};
    for (const std::string& o : options)
        args.push_back(o.find('=') != std::string::npos && !o.starts_with("--")
                           ? o.substr(0, o.find('=') + 1) +
                                 (tmp.path() / o.substr(o.find('=') + 1)).string()
                           : o);
    return audit(args);
}

// work's qvm-firewall list alone.
Audit auditList(const std::string& rules) {
    test::TempDir tmp;
    return auditFirewall({{"work.rules", rules}}, {"--qvm-firewall", "work=work.rules"}, tmp);
}

// A minimal libnftables ruleset: one forward base chain (policy drop) in table
// ip qubes-firewall, one jump per qube into its chain qbs-..., the rules given as JSON
// expression lists for work's chain.
std::string ruleset(const std::vector<std::string>& workRules,
                    const std::vector<std::string>& forwardRules = {},
                    const std::vector<std::string>& natRules = {}) {
    nlohmann::json items = nlohmann::json::array();
    auto chain = [&](const std::string& name, bool base) {
        nlohmann::json c = {{"family", "ip"}, {"table", "qubes-firewall"}, {"name", name}};
        if (base)
            c.update({{"type", "filter"}, {"hook", "forward"}, {"prio", 0}, {"policy", "drop"}});
        items.push_back({{"chain", c}});
    };
    int handle = 1;
    auto rule = [&](const std::string& chainName, const std::string& expr) {
        items.push_back({{"rule",
                          {{"family", "ip"},
                           {"table", "qubes-firewall"},
                           {"chain", chainName},
                           {"handle", handle++},
                           {"expr", nlohmann::json::parse(expr)}}}});
    };
    items.push_back({{"table", {{"family", "ip"}, {"name", "qubes-firewall"}}}});
    chain("forward", true);
    chain("qbs-10-137-0-12", false);
    if (!natRules.empty()) // Qubes' DNS DNAT lives in such a chain (dnat-dns, §3.3)
        items.push_back({{"chain",
                          {{"family", "ip"},
                           {"table", "qubes-firewall"},
                           {"name", "dnat-dns"},
                           {"type", "nat"},
                           {"hook", "prerouting"},
                           {"prio", -100},
                           {"policy", "accept"}}}});
    for (const std::string& r : natRules)
        rule("dnat-dns", r);
    for (const std::string& r : forwardRules)
        rule("forward", r);
    rule("forward", R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip",
        "field": "saddr"}}, "right": "10.137.0.12"}}, {"jump": {"target": "qbs-10-137-0-12"}}])");
    for (const std::string& r : workRules)
        rule("qbs-10-137-0-12", r);
    return nlohmann::json{{"nftables", items}}.dump();
}

Audit auditRuleset(const std::string& json, const std::string& inventory = kInventory) {
    test::TempDir tmp;
    return auditFirewall({{"fw.json", json}}, {"--nft-ruleset", "sys-firewall=fw.json"}, tmp,
                         inventory);
}

const char* kHttpsTo192 = R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip",
    "field": "daddr"}}, "right": {"prefix": {"addr": "192.168.1.0", "len": 24}}}},
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
    "right": 443}}, {"accept": null}])";

} // namespace

TEST_CASE("the corpus sys-firewall ruleset: the reviewed findings") {
    fs::path c = corpus();
    if (!fs::exists(c / "qubes-nft/sys-firewall-live.json")) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    Audit a = audit({"--policy-dir", (c / "qubes-policy/policy.d").string(), "--legacy-dir",
                     (c / "qubes-policy/legacy").string(), "--inventory",
                     (c / "qubes-inventory.txt").string(), "--nft-ruleset",
                     "sys-firewall=" + (c / "qubes-nft/sys-firewall-live.json").string()});
    INFO(a.r.err);
    INFO(a.r.out);
    CHECK(a.r.exitCode == 1);
    CHECK(a.r.out.find("1 firewall inputs") != std::string::npos);
    // Every rule on the path of a client's new packet is read: the base tables' ct state,
    // iifname "vif*", oifgroup and jump rules, work's qbs chain with names for protocols
    // (§3.5, "what an auditor sees").
    CHECK(a.count("BH1307") == 0);
    // work (10.137.0.12) sends ICMP anywhere (handle 14, `ip protocol icmp accept`, from
    // `action=accept proto=icmp`), but tcp only to 192.168.1.0/24 port 443 and DNS only to
    // Qubes' DNS addresses: ICMP goes where nothing else of it may.
    CHECK(a.has("BH1309 sys-firewall-live.json:1"));
    CHECK(a.r.err.find("'work' may send ICMP where nothing else of it may go (icmp type 0 from "
                       "10.137.0.12 to 1.0.0.0 passes)") != std::string::npos);
    // DNS goes only to @dns-addr (10.139.1.1, 10.139.1.2, from specialtarget=dns): Qubes'
    // own addresses, so it is not open.
    CHECK(a.count("BH1308") == 0);
    // `udp dport 1000-2000 reject` (handle 15) decides packets the closing reject would
    // have dropped the same way: it still matches them first, so it is neither shadowed nor
    // dead. No qvm-firewall list is given, so nothing to compare (BH1312).
    CHECK(a.count("BH1310") == 0);
    CHECK(a.count("BH1311") == 0);
    CHECK(a.count("BH1312") == 0);
    // The other clients of sys-firewall (default-dvm, disp1234, sys-whonix, web-dvm) have no
    // qbs chain in this namespace: qubes-firewall's forward chain drops their packets (its
    // policy is drop, §3.3), so they make no flows. work's accepts make six: tcp 443 to
    // 192.168.1.0/24 (handle 11), tcp and udp 53 to the two DNS addresses (handles 12, 13),
    // and ICMP (handle 14) to each of three destination objects (that /24, the DNS pair,
    // every other address outside the qubes).
    CHECK(a.r.out.find("1 firewall inputs, 6 network flows") != std::string::npos);
    // work-email is still straight on sys-net (BH1302), as without firewall state.
    CHECK(a.has("BH1302 qubes-inventory.txt:15"));
}

TEST_CASE("DNS left open beside restricted traffic") {
    Audit bad = auditList("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                          "action=accept proto=udp dstports=53-53\n");
    INFO(bad.r.err);
    CHECK(bad.has("BH1308 work.rules:2"));
    CHECK(bad.r.err.find("udp port 53 from 10.137.0.12 to 1.0.0.0 passes") != std::string::npos);
    Audit good = auditList("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                           "action=accept specialtarget=dns\n");
    INFO(good.r.err);
    CHECK(good.count("BH1308") == 0);
    // Everything allowed: nothing is restricted, so DNS is not singled out.
    CHECK(auditList("action=accept\n").count("BH1308") == 0);
}

TEST_CASE("ICMP left open beside restricted traffic") {
    Audit bad = auditList("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                          "action=accept proto=icmp\n");
    CHECK(bad.has("BH1309 work.rules:2"));
    Audit good = auditList("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                           "action=accept proto=icmp dst4=192.168.1.0/24\n");
    INFO(good.r.err);
    CHECK(good.count("BH1309") == 0);
}

TEST_CASE("a firewall rule that earlier rules decide, and one that cannot match") {
    Audit shadowed = auditList("action=accept proto=tcp\n"
                               "action=drop proto=tcp dstports=22-22\n");
    INFO(shadowed.r.err);
    CHECK(shadowed.has("BH1310 work.rules:2"));
    CHECK(shadowed.r.err.find("tcp port 22 from 10.137.0.12 to 1.0.0.0 is accepted before it") !=
          std::string::npos);
    Audit ordered = auditList("action=drop proto=tcp dstports=22-22\n"
                              "action=accept proto=tcp\n");
    CHECK(ordered.count("BH1310") == 0);
    // Qubes skips a dns rule with a port other than 53 (qubes-formats.md §3.4).
    Audit dead = auditList("action=accept specialtarget=dns dstports=80-80\n");
    CHECK(dead.has("BH1311 work.rules:1"));
    CHECK(auditList("action=accept specialtarget=dns dstports=53-53\n").count("BH1311") == 0);
    // An IPv6 rule is not dead: it is for the other family.
    CHECK(auditList("action=accept dst6=::/0\n").count("BH1311") == 0);

    // The same in a net qube's per-qube chain: an accept repeated, and a match on icmp and
    // a tcp port at once.
    const char* never = R"([{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}},
        "right": "icmp"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp",
        "field": "dport"}}, "right": 22}}, {"accept": null}])";
    Audit chain = auditRuleset(ruleset({kHttpsTo192, kHttpsTo192, never}));
    INFO(chain.r.err);
    CHECK(chain.count("BH1310") == 1);
    CHECK(chain.count("BH1311") == 1);
    CHECK(chain.r.err.find("ip qubes-firewall qbs-10-137-0-12, rule handle 3: earlier rules") !=
          std::string::npos);
    CHECK(chain.r.err.find("ip qubes-firewall qbs-10-137-0-12, rule handle 4: no packet") !=
          std::string::npos);
    CHECK(auditRuleset(ruleset({kHttpsTo192})).count("BH1310") == 0);
}

TEST_CASE("a rule the audit cannot read exactly is reported, not guessed") {
    const char* oneVif = R"([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
        "right": "vif12.0"}}, {"accept": null}])";
    Audit a = auditRuleset(ruleset({oneVif, kHttpsTo192}));
    INFO(a.r.err);
    CHECK(a.has("BH1307 fw.json:1"));
    CHECK(a.r.err.find("rule handle 2: interface vif12.0 (which vif is whose)") !=
          std::string::npos);
    CHECK(auditRuleset(ruleset({kHttpsTo192})).count("BH1307") == 0);
    Audit host = auditList("action=accept dsthost=example.com\n");
    CHECK(host.has("BH1307 work.rules:1"));
}

TEST_CASE("qvm-firewall rules that the net qube does not enforce") {
    fs::path live = corpus() / "qubes-nft/sys-firewall-live.json";
    if (!fs::exists(live)) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    std::string json = test::readFile(live);
    auto run = [&](const std::string& rules) {
        test::TempDir tmp;
        return auditFirewall(
            {{"fw.json", json}, {"work.rules", rules}},
            {"--nft-ruleset", "sys-firewall=fw.json", "--qvm-firewall", "work=work.rules"}, tmp);
    };
    // The list of qubes-formats.md §3.5, which Qubes' worker turned into this ruleset.
    Audit same = run("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                     "action=accept specialtarget=dns\n"
                     "action=accept proto=icmp\n"
                     "action=drop proto=udp dstports=1000-2000\n");
    INFO(same.r.err);
    CHECK(same.count("BH1312") == 0);
    // dom0 now says accept everything, the kernel still holds the old rules.
    Audit stale = run("action=accept\n");
    INFO(stale.r.err);
    CHECK(stale.count("BH1312") == 1);
    CHECK(stale.r.err.find("'sys-firewall' drops tcp port 1 from 10.137.0.12 to 1.0.0.0 of "
                           "'work'") != std::string::npos);
}

TEST_CASE("the forward chains see the destination after dnat") {
    // Qubes' virtual DNS address is translated to the real server before forwarding; the
    // per-qube chain names the real server only.
    const char* dnat = R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip",
        "field": "daddr"}}, "right": "10.139.1.1"}}, {"match": {"op": "==", "left":
        {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}},
        {"dnat": {"addr": "9.9.9.9"}}])";
    const char* toServer = R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip",
        "field": "daddr"}}, "right": "9.9.9.9"}}, {"match": {"op": "==", "left": {"payload":
        {"protocol": "udp", "field": "dport"}}, "right": 53}}, {"accept": null}])";
    auto run = [&](const std::vector<std::string>& nat) {
        test::TempDir tmp;
        return auditFirewall(
            {{"fw.json", ruleset({toServer}, {}, nat)},
             {"work.rules", "action=accept proto=udp dst4=10.139.1.1 "
                            "dstports=53-53\n"}},
            {"--nft-ruleset", "sys-firewall=fw.json", "--qvm-firewall", "work=work.rules"}, tmp);
    };
    Audit translated = run({dnat});
    INFO(translated.r.err);
    // udp 53 to 10.139.1.1 passes as the list says; the direct way to 9.9.9.9 is extra.
    CHECK(translated.r.err.find("drops udp port 53 from 10.137.0.12 to 10.139.1.1") ==
          std::string::npos);
    CHECK(translated.r.err.find("lets through udp port 53 from 10.137.0.12 to 9.9.9.9") !=
          std::string::npos);
    // Without the translation the same packet is dropped.
    Audit plain = run({});
    CHECK(plain.r.err.find("drops udp port 53 from 10.137.0.12 to 10.139.1.1") !=
          std::string::npos);
}

TEST_CASE("a Whonix gateway does not enforce its clients' qvm-firewall rules") {
    fs::path c = corpus();
    if (!fs::exists(c / "qubes-inventory.txt")) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    test::TempDir tmp;
    fs::path rules = tmp.write("anon.rules", "action=accept proto=tcp dstports=443-443\n");
    fs::path work = tmp.write("work.rules", "action=accept proto=tcp dstports=443-443\n");
    auto run = [&](const std::string& qube, const fs::path& f) {
        return audit({"--policy-dir", (c / "qubes-policy/policy.d").string(), "--legacy-dir",
                      (c / "qubes-policy/legacy").string(), "--inventory",
                      (c / "qubes-inventory.txt").string(), "--qvm-firewall",
                      qube + "=" + f.string()});
    };
    // anon-whonix's netvm is sys-whonix, tagged anon-gateway in the corpus inventory.
    Audit anon = run("anon-whonix", rules);
    INFO(anon.r.err);
    CHECK(anon.has("BH1312 anon.rules:1"));
    CHECK(anon.r.err.find("a Whonix gateway") != std::string::npos);
    CHECK(run("work", work).count("BH1312") == 0); // sys-firewall runs qubes-firewall
}

TEST_CASE("escape paths over the network point at the deployed rule") {
    // sys-firewall lets untrusted (red) open connections to work (blue) directly; no
    // Qubes base table drops them here. sys-firewall is purple here, above work, so the
    // shortest way from below blue into work is not through it as netvm.
    std::string inv = kInventory;
    inv.replace(inv.find("sys-firewall|AppVM|green"), 24, "sys-firewall|AppVM|purple");
    const char* toWork = R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip",
        "field": "saddr"}}, "right": "10.137.0.20"}}, {"match": {"op": "==", "left":
        {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.137.0.12"}},
        {"accept": null}])";
    Audit open = auditRuleset(ruleset({}, {toWork}), inv);
    INFO(open.r.err);
    CHECK(open.r.err.find("assertion violated: untrusted => work") != std::string::npos);
    CHECK(open.r.err.find("fw.json:1:") != std::string::npos);
    CHECK(open.r.err.find("hop 1: untrusted => work [net") != std::string::npos);
    Audit closed = auditRuleset(ruleset({}, {}), inv);
    INFO(closed.r.err);
    CHECK(closed.r.err.find("untrusted => work [net") == std::string::npos);
    CHECK(closed.r.err.find("hop 2: sys-firewall => work [netvm]") != std::string::npos);
}

namespace {

fs::path workstation() {
    return test::sourceDir() / "policies" / "workstation.bh";
}

// The policy checked, and compiled into TMP/out (no baseline, no kernel check): what the
// drift tests deploy.
test::Checked compileInto(const fs::path& policy, const test::TempDir& tmp) {
    test::Checked model = test::checkFiles({policy.string()});
    REQUIRE(model.policy);
    REQUIRE(test::runCli({"compile", "--no-baseline", "--no-kernel-check", policy.string(), "-o",
                          (tmp.path() / "out").string()})
                .exitCode == 0);
    return model;
}

} // namespace

TEST_CASE("firewall drift: the compiled workstation's rules deployed, one edited") {
    fs::path ws = workstation();
    test::TempDir tmp;
    test::Checked model = compileInto(ws, tmp);
    fs::path rules = tmp.path() / "out/dom0/qvm-firewall";
    fs::copy(tmp.path() / "out/dom0/etc/qubes/policy.d", tmp.path() / "policy.d");
    fs::path inv = tmp.write("qubes.txt", test::inventoryOf(*model.policy));
    std::vector<std::string> args{"--policy-dir", (tmp.path() / "policy.d").string(),
                                  "--legacy-dir", (tmp.path() / "none").string(),
                                  "--inventory",  inv.string(),
                                  "--intent",     ws.string()};
    for (const auto& e : fs::directory_iterator(rules))
        args.insert(args.end(),
                    {"--qvm-firewall", e.path().stem().string() + "=" + e.path().string()});
    auto firewallDrift = [](const Audit& a) {
        std::size_t n = 0;
        for (std::size_t at = 0; (at = a.r.err.find("firewall drift:", at)) != std::string::npos;
             ++at)
            ++n;
        return n;
    };
    Audit same = audit(args);
    INFO(same.r.err);
    CHECK(same.r.exitCode != 2);
    CHECK(firewallDrift(same) == 0);

    // work may now ssh to all of 198.51.0.0/16, not only the corp network 198.51.100.0/24.
    std::string text = test::readFile(rules / "work.rules");
    std::string from = "dst4=198.51.100.0/24 dstports=22-22";
    std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    auto line = std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1;
    text.replace(at, from.size(), "dst4=198.51.0.0/16 dstports=22-22");
    fs::remove(rules / "work.rules");
    tmp.write("out/dom0/qvm-firewall/work.rules", text);
    Audit wider = audit(args);
    INFO(wider.r.err);
    CHECK(firewallDrift(wider) == 1);
    CHECK(wider.has("BH1306 work.rules:" + std::to_string(line)));
    CHECK(wider.r.err.find("lets through tcp port 22 from 10.137.0.10 to 198.51.0.0 of 'work', "
                           "which the policy does not permit") != std::string::npos);

    // The line removed: what it allowed is now dropped at the end of the list.
    std::string cut = test::readFile(rules / "work.rules");
    std::size_t begin = cut.rfind('\n', cut.find(from.substr(0, 5) + "198.51.0.0/16")) + 1;
    cut.erase(begin, cut.find('\n', begin) - begin + 1);
    fs::remove(rules / "work.rules");
    tmp.write("out/dom0/qvm-firewall/work.rules", cut);
    Audit narrower = audit(args);
    INFO(narrower.r.err);
    CHECK(firewallDrift(narrower) == 1);
    CHECK(narrower.r.err.find("drops tcp port 22 from 10.137.0.10 to 198.51.100.0 of 'work', "
                              "which the policy permits") != std::string::npos);
    CHECK(narrower.r.err.find("policies/workstation.bh:") != std::string::npos);
}

TEST_CASE("firewall drift: the compiled workstation's nftables ruleset as the kernel holds it") {
    // sys-firewall's bulkhead.nft loaded after Qubes' base tables into a throw-away network
    // namespace, read back as `nft -j -n list ruleset`: what the audit reads from a real
    // sys-firewall running the compiled policy (no qubes-firewall table: every client's
    // packets are judged by table inet bulkhead alone).
    fs::path ws = workstation();
    test::TempDir tmp;
    test::Checked model = compileInto(ws, tmp);
    std::string nft = test::readFile(tmp.path() / "out/sys-firewall/bulkhead.nft");
    auto kernel = [&](const std::string& text) {
        return backends::checkInThrowAwayNamespace(backends::qubesBaseTables(),
                                                   {{"bulkhead.nft", text}});
    };
    backends::KernelCheckResult loaded = kernel(nft);
    if (loaded.status == backends::KernelCheckResult::Status::NamespaceUnavailable) {
        MESSAGE("SKIPPED: no network namespace: " << loaded.reason);
        return;
    }
    REQUIRE(loaded.loaded());
    fs::copy(tmp.path() / "out/dom0/etc/qubes/policy.d", tmp.path() / "policy.d");
    fs::path inv = tmp.write("qubes.txt", test::inventoryOf(*model.policy));
    auto run = [&](const std::string& json) {
        fs::path f = tmp.write("sys-firewall.json", json);
        return audit({"--policy-dir", (tmp.path() / "policy.d").string(), "--legacy-dir",
                      (tmp.path() / "none").string(), "--inventory", inv.string(), "--intent",
                      ws.string(), "--nft-ruleset", "sys-firewall=" + f.string()});
    };
    Audit same = run(loaded.rulesetJson);
    INFO(same.r.err);
    CHECK(same.r.exitCode != 2);
    CHECK(same.count("BH1307") == 0); // every rule of table inet bulkhead is read
    CHECK(same.r.err.find("firewall drift:") == std::string::npos);

    // One element widened: work may ssh to all of 198.51.0.0/16.
    std::string from = "198.51.100.0/24 . 6 . 22";
    REQUIRE(nft.find(from) != std::string::npos);
    nft.replace(nft.find(from), from.size(), "198.51.0.0/16 . 6 . 22");
    backends::KernelCheckResult edited = kernel(nft);
    REQUIRE(edited.loaded());
    Audit wider = run(edited.rulesetJson);
    INFO(wider.r.err);
    CHECK(wider.count("BH1306") == 1);
    CHECK(wider.r.err.find("firewall drift: inet bulkhead ext-q-work, rule handle") !=
          std::string::npos);
    CHECK(wider.r.err.find("lets through tcp port 22 from 10.137.0.10 to 198.51.0.0 of 'work', "
                           "which the policy does not permit") != std::string::npos);
}

TEST_CASE("malformed firewall inputs are bad input with file:line:col") {
    Audit json = auditRuleset("{\"nftables\": [ {\"table\": ");
    CHECK(json.r.exitCode == 2);
    CHECK(json.has("BH0112 fw.json:1"));
    Audit lines = auditList("action=accept proto=tcp\n"
                            "action=accept proto=sctp\n"
                            "action=accept proto=tcp dstports=443-80\n"
                            "proto=tcp\n");
    CHECK(lines.r.exitCode == 2);
    CHECK(lines.has("BH0112 work.rules:2")); // every bad line, not only the first
    CHECK(lines.has("BH0112 work.rules:3"));
    CHECK(lines.has("BH0112 work.rules:4"));
    CHECK(lines.count("BH0112") == 3);
    CHECK(lines.r.err.find("work.rules:2:15: error[BH0112]") != std::string::npos);
    test::TempDir tmp;
    Audit noEquals = auditFirewall({}, {"--qvm-firewall", "work"}, tmp);
    CHECK(noEquals.r.exitCode == 2);
    CHECK(noEquals.r.err.find("--qvm-firewall takes QUBE=FILE") != std::string::npos);
}
