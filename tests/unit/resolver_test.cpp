// The resolver and the model it builds: names bound, orders computed, Qubes rules applied.
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace bulkhead;
using model::QubeKind;

namespace {

const char* kBase = R"(policy "t";
trust low = red < mid = yellow < high = black;
template deb { trust high; }
netvm sys-net { template deb; trust low; }
firewall sys-firewall { template deb; trust mid; netvm sys-net; }
dispvm-template dvm { template deb; trust low; netvm sys-firewall; }
)";

test::Checked withBase(const std::string& rest) {
    return test::checkText(kBase + rest);
}

model::QubeId id(const model::Policy& p, const std::string& name) {
    auto q = p.findQube(name);
    REQUIRE(q);
    return *q;
}

} // namespace

TEST_CASE("the DESIGN sketch resolves into the model it describes") {
    test::Checked r =
        test::checkFiles({(test::sourceDir() / "tests" / "data" / "design-sketch.bh").string()});
    INFO(r.rendered);
    REQUIRE(r.policy);
    const model::Policy& p = *r.policy;
    // The front end is clean; the analyzer finds the sketch's one real escape: any qube may
    // open files in a networked disposable (@anyvm -> @dispvm:dvm), vault included.
    // Rule analysis adds one note: `rpc qubes.Filecopy work -> @dispvm ask;` changes nothing,
    // since work has no default_dispvm and the ask has no target to offer. The firewall
    // backend needs sys-firewall's address: sys-net sees its clients' traffic under it.
    CHECK(r.frontEndErrors == 0);
    REQUIRE(r.diagnostics.size() == 3);
    CHECK(r.diagnostics[0].code == DiagCode::BackendNeedsAddress);
    CHECK(r.diagnostics[0].range.begin.line == 15);
    CHECK(r.diagnostics[1].code == DiagCode::RuleRedundant);
    CHECK(r.diagnostics[1].range.begin.line == 30);
    CHECK(r.diagnostics[2].code == DiagCode::AssertionViolated);
    CHECK(r.diagnostics[2].range.begin.line == 36);
    CHECK(r.diagnostics[2].message.find("vault => @dispvm:dvm") != std::string::npos);
    CHECK(p.name == "workstation");
    CHECK(p.qubes.size() == 9); // 8 declared + dom0
    CHECK(p.qubes[model::Policy::dom0].name == "dom0");
    CHECK(p.qubes[model::Policy::dom0].kind == QubeKind::AdminVM);

    const model::Qube& work = p.qubes[id(p, "work")];
    CHECK(work.kind == QubeKind::AppVM);
    CHECK(p.qubes[*work.templ].name == "fedora-40");
    CHECK(p.qubes[*work.netvm].name == "sys-firewall");
    REQUIRE(work.addresses.size() == 1);
    CHECK(work.addresses[0].str() == "10.137.0.10");
    CHECK(!p.qubes[id(p, "vault")].netvm);
    CHECK(p.qubes[id(p, "dvm")].kind == QubeKind::DispVMTemplate);

    auto level = [&](const char* n) { return *p.trust.find(n); };
    CHECK(p.trust.less(level("untrusted"), level("vault")));
    CHECK(p.trust.less(level("personal"), level("work")));
    CHECK(!p.trust.less(level("work"), level("personal")));
    CHECK(p.trust.levels()[level("vault")].label == model::Label::Black);

    REQUIRE(p.flows.size() == 3);
    CHECK(p.flows[0].services.size() == 2);
    CHECK(p.flows[0].services[1].matches.size() == 2); // dns = udp/53, tcp/53
    REQUIRE(p.networks.size() == 2);
    CHECK(p.networks[0].prefixes.size() == 2); // 0.0.0.0/0 and ::/0

    REQUIRE(p.rpcRules.size() == 3);
    CHECK(p.rpcRules[1].to[0].kind == model::RpcToken::Kind::DispVM);
    CHECK(p.rpcRules[1].action == model::RpcAction::Ask);
    CHECK(p.rpcRules[2].from[0].kind == model::RpcToken::Kind::AnyVM);
    CHECK(p.rpcRules[2].to[0].kind == model::RpcToken::Kind::DispVMOf);
    CHECK(p.qubes[p.rpcRules[2].to[0].qube].name == "dvm");

    REQUIRE(p.assertions.size() == 4);
    CHECK(p.assertions[0].waivers.size() == 1);
    CHECK(p.assertions[0].waivers[0].service->service == "qubes.Gpg");
    CHECK(p.assertions[2].kind == model::Assertion::Kind::NoNetwork);
    CHECK(p.assertions[3].via.size() == 3);
    // Every element points back at its line.
    CHECK(p.flows[0].range.begin.line == 24);
    CHECK(p.rpcRules[0].range.begin.line == 29);
    CHECK(p.assertions[1].range.begin.line == 36);
}

TEST_CASE("trust selectors follow the order, with dom0 above every level") {
    test::Checked r = withBase("qube a { template deb; trust mid; }\n");
    REQUIRE(r.policy);
    const model::Policy& p = *r.policy;
    model::Selector below{
        model::Selector::Kind::Trust, model::Comparator::Less, *p.trust.find("mid"), 0, 0, {}, {}};
    std::vector<model::QubeId> low = model::selectQubes(p, below);
    std::vector<std::string> names;
    for (auto q : low)
        names.push_back(p.qubes[q].name);
    CHECK(names == std::vector<std::string>{"sys-net", "dvm"});
    model::Selector atLeast = below;
    atLeast.comparator = model::Comparator::GreaterEqual;
    std::vector<model::QubeId> high = model::selectQubes(p, atLeast);
    CHECK(std::find(high.begin(), high.end(), model::Policy::dom0) != high.end());
    CHECK(std::find(high.begin(), high.end(), id(p, "a")) != high.end());
    CHECK(std::find(high.begin(), high.end(), id(p, "sys-net")) == high.end());
}

TEST_CASE("trust chains combine into a partial order") {
    test::Checked r = test::checkText(R"(policy "t";
trust a < b < d;
trust a < c < d;
)");
    REQUIRE(r.policy);
    const model::TrustOrder& t = r.policy->trust;
    CHECK(t.less(*t.find("a"), *t.find("d")));
    CHECK(!t.lessOrEqual(*t.find("b"), *t.find("c")));
    CHECK(!t.lessOrEqual(*t.find("c"), *t.find("b")));
}

TEST_CASE("a trust cycle is refused") {
    test::Checked r = test::checkText("policy \"t\";\ntrust a < b;\ntrust b < a;\n");
    CHECK(r.has(DiagCode::TrustCycle));
    CHECK(!r.policy);
}

TEST_CASE("unknown names get a did-you-mean hint") {
    test::Checked r = withBase("qube work { template deb; trust mid; netvm sys-firewal; }\n");
    REQUIRE(r.has(DiagCode::UnknownName));
    CHECK(r.rendered.find("did you mean 'sys-firewall'?") != std::string::npos);
}

TEST_CASE("Qubes' qube name rules are enforced") {
    for (const char* bad :
         {"web-dm", "none", "default", "Domain-0", "a234567890123456789012345678901x"}) {
        CAPTURE(bad);
        test::Checked r = withBase(std::string("qube ") + bad + " { template deb; trust mid; }\n");
        CHECK(r.has(DiagCode::InvalidQubeName));
    }
    test::Checked ok =
        withBase("qube a234567890123456789012345678901 { template deb; trust mid; }\n");
    CHECK(ok.policy);
}

TEST_CASE("netvm cycles and non-providers are refused") {
    test::Checked cycle = test::checkText(R"(policy "t";
trust low < high;
template deb { trust high; }
firewall fw1 { template deb; trust low; netvm fw2; }
firewall fw2 { template deb; trust low; netvm fw1; }
)");
    CHECK(cycle.has(DiagCode::NetvmCycle));
    test::Checked notProvider = withBase(R"(qube a { template deb; trust mid; netvm sys-firewall; }
qube b { template deb; trust mid; netvm a; }
)");
    CHECK(notProvider.has(DiagCode::NetvmNotProvider));
}

TEST_CASE("token columns follow Qubes' parser") {
    // @default is not a source; @anyvm is not a redirect; @dispvm is a redirect.
    CHECK(
        withBase("rpc qubes.Filecopy @default -> dvm allow;\n").has(DiagCode::TokenNotAllowedHere));
    CHECK(withBase("rpc qubes.Filecopy sys-net -> dvm allow target=@anyvm;\n")
              .has(DiagCode::TokenNotAllowedHere));
    test::Checked ok = withBase("rpc qubes.Filecopy sys-net -> @default allow target=@dispvm;\n");
    CHECK(ok.policy);
    CHECK(withBase("rpc qubes.Filecopy sys-net -> @default allow;\n")
              .has(DiagCode::AllowDefaultNeedsTarget));
    CHECK(withBase("rpc * +foo sys-net -> dvm allow;\n").has(DiagCode::InvalidRpcService));
    test::Checked dispSource = withBase("rpc qubes.Filecopy @dispvm:dvm -> sys-net allow;\n");
    CHECK(dispSource.has(DiagCode::SourceNeverMatches));
    CHECK(dispSource.policy); // a warning, not an error
}

TEST_CASE("rpc parameters are checked per action") {
    test::Checked r = withBase("rpc qubes.Filecopy sys-net -> dvm ask default_target=dvm "
                               "notify=yes autostart=no user=root;\n");
    INFO(r.rendered);
    REQUIRE(r.policy);
    const model::RpcRule& rule = r.policy->rpcRules.at(0);
    CHECK(rule.defaultTarget->kind == model::RpcToken::Kind::Qube);
    CHECK(rule.notify == true);
    CHECK(rule.autostart == false);
    CHECK(rule.user == "root");
    CHECK(withBase("rpc qubes.Filecopy sys-net -> dvm deny target=dvm;\n")
              .has(DiagCode::UnknownRpcParam));
    CHECK(withBase("rpc qubes.Filecopy sys-net -> dvm allow default_target=dvm;\n")
              .has(DiagCode::UnknownRpcParam));
    CHECK(withBase("rpc qubes.Filecopy sys-net -> dvm allow notify=maybe;\n")
              .has(DiagCode::BadRpcParamValue));
    CHECK(withBase("rpc qubes.Filecopy sys-net -> dvm allow notify=yes notify=no;\n")
              .has(DiagCode::DuplicateRpcParam));
}

TEST_CASE("ports, ranges and protocols") {
    test::Checked r = withBase(R"(qube a { template deb; trust mid; netvm sys-firewall; }
service web = tcp/443,80,8000-8080;
allow a -> 192.0.2.0/24 : web, icmp/8, udp/53, any;
)");
    INFO(r.rendered);
    REQUIRE(r.policy);
    const model::Service& web = r.policy->services.at(0);
    REQUIRE(web.matches.size() == 1);
    CHECK(web.matches[0].ports ==
          std::vector<model::PortRange>{{80, 80}, {443, 443}, {8000, 8080}});
    CHECK(withBase("service s = tcp/65536;\n").has(DiagCode::InvalidPort));
    CHECK(withBase("service s = tcp/99999999999999999999999;\n").has(DiagCode::InvalidPort));
    CHECK(withBase("service s = tcp/90-80;\n").has(DiagCode::InvalidPort));
    CHECK(withBase("service s = icmp/256;\n").has(DiagCode::InvalidPort));
    CHECK(withBase("service s = any/1;\n").has(DiagCode::PortsNotAllowed));
    CHECK(withBase("service s = tpc/1;\n").has(DiagCode::UnknownProtocol));
    CHECK(withBase("service s = s;\n").has(DiagCode::ServiceCycle));
}

TEST_CASE("addresses: invalid, prefixes as qube ips, duplicates, host bits") {
    CHECK(withBase("network n = 10.0.0.256;\n").has(DiagCode::InvalidAddress));
    CHECK(withBase("network n = 10.0.0.0/33;\n").has(DiagCode::InvalidAddress));
    CHECK(withBase("network n = 2001:db8::/129;\n").has(DiagCode::InvalidAddress));
    CHECK(withBase("network n = 10.1.0.0/8;\n").has(DiagCode::HostBitsSet));
    CHECK(withBase("qube a { template deb; trust mid; ip 10.0.0.0/8; }\n")
              .has(DiagCode::QubeAddressIsPrefix));
    CHECK(withBase("qube a { template deb; trust mid; ip 10.137.0.5; }\n"
                   "qube b { template deb; trust mid; ip 10.137.0.5; }\n")
              .has(DiagCode::DuplicateAddress));
    test::Checked v6 = withBase("network n = 2001:DB8:0::1/128, n2;\nnetwork n2 = 10.0.0.0/8;\n");
    REQUIRE(v6.policy);
    CHECK(v6.policy->networks[0].prefixes.size() == 2);
    CHECK(withBase("network a = b;\nnetwork b = a;\n").has(DiagCode::NetworkCycle));
}

TEST_CASE("assertions: waivers need reasons; edge kinds are checked") {
    CHECK(withBase("assert no path from sys-net to dvm except rpc qubes.Gpg;\n")
              .has(DiagCode::ExceptWithoutBecause));
    CHECK(withBase("assert no path from sys-net to dvm except rpc qubes.Gpg because \"  \";\n")
              .has(DiagCode::EmptyReason));
    CHECK(withBase("assert no path from sys-net to dvm via rcp;\n").has(DiagCode::UnknownEdgeKind));
    CHECK(withBase("assert no path from trust < low to dvm;\n").has(DiagCode::EmptySelector));
    test::Checked r = withBase("assert no path from sys-net to dvm except template deb -> dvm, "
                               "netvm sys-net because \"x\";\n");
    INFO(r.rendered);
    REQUIRE(r.policy);
    const model::Assertion& a = r.policy->assertions.at(0);
    REQUIRE(a.waivers.size() == 2);
    CHECK(a.waivers[0].kind == model::EdgeKind::Template);
    CHECK(a.waivers[1].kind == model::EdgeKind::Netvm);
    CHECK(a.waivers[1].reason == "x");
}

TEST_CASE("describe is independent of declaration order and layout") {
    test::Checked a = test::checkText(R"(policy "t";
trust low < high;
template deb { trust high; }
qube x { template deb; trust low; tags b, a; }
network n = 10.0.0.0/8;
)");
    test::Checked b = test::checkText(R"(policy "t";   # same meaning
network n = 10.0.0.0/8;
trust low < high;
qube x {
    tags a, b;
    trust low;
    template deb;
}
template deb { trust high; }
)");
    REQUIRE(a.policy);
    REQUIRE(b.policy);
    CHECK(model::describe(*a.policy) == model::describe(*b.policy));
    test::Checked c = test::checkText(R"(policy "t";
trust low < high;
template deb { trust high; }
qube x { template deb; trust high; tags b, a; }
network n = 10.0.0.0/8;
)");
    REQUIRE(c.policy);
    CHECK(model::describe(*a.policy) != model::describe(*c.policy));
}

TEST_CASE("imports load each file once, before the importer, and refuse cycles") {
    test::TempDir dir;
    dir.write("lib/levels.bh", "trust low < high;\n");
    dir.write("lib/templates.bh", "import \"levels.bh\";\ntemplate deb { trust high; }\n");
    auto main =
        dir.write("main.bh", "policy \"m\";\nimport \"lib/levels.bh\";\n"
                             "import \"lib/templates.bh\";\nqube a { template deb; trust low; }\n");
    test::Checked r = test::checkFiles({main.string()});
    INFO(r.rendered);
    REQUIRE(r.policy);
    CHECK(r.policy->files.size() == 3);
    CHECK(r.policy->files.back() == main.string());

    dir.write("c1.bh", "import \"c2.bh\";\n");
    dir.write("c2.bh", "import \"c1.bh\";\n");
    auto cyc = dir.write("cyc.bh", "policy \"c\";\nimport \"c1.bh\";\n");
    CHECK(test::checkFiles({cyc.string()}).has(DiagCode::ImportCycle));
    auto missing = dir.write("missing.bh", "policy \"c\";\nimport \"nope.bh\";\n");
    CHECK(test::checkFiles({missing.string()}).has(DiagCode::CannotReadFile));
    auto asDir = dir.write("asdir.bh", "policy \"c\";\nimport \"lib\";\n");
    CHECK(test::checkFiles({asDir.string()}).has(DiagCode::CannotReadFile));
}

TEST_CASE("addresses print canonically") {
    CHECK(parseAddress("10.137.0.10").prefix->str() == "10.137.0.10");
    CHECK(parseAddress("10.0.0.0/8").prefix->str() == "10.0.0.0/8");
    CHECK(parseAddress("2001:DB8:0:0::/32").prefix->str() == "2001:db8::/32");
    CHECK(parseAddress("::/0").prefix->str() == "::/0");
    CHECK(!parseAddress("010.0.0.1").prefix);
    CHECK(parseAddress("10.0.0.0/8").prefix->contains(*parseAddress("10.9.9.9").prefix));
    CHECK(!parseAddress("10.0.0.0/8").prefix->contains(*parseAddress("11.0.0.1").prefix));
}

TEST_CASE("closestName suggests likely typos only") {
    std::vector<std::string> names = {"sys-firewall", "sys-net", "work", "vault"};
    CHECK(closestName("sys-firewal", names) == "sys-firewall");
    CHECK(closestName("wrok", names) == "work"); // transposition
    CHECK(closestName("Vault", names) == "vault");
    CHECK(!closestName("banana", names));
}

TEST_CASE("likely-misspelled service warnings only for one or two typos") {
    CHECK(withBase("rpc qubes.FileCopy sys-net -> dvm ask;\n")
              .has(DiagCode::LikelyMisspelledService));
    CHECK(!withBase("rpc qubes.Foo sys-net -> dvm ask;\n").has(DiagCode::LikelyMisspelledService));
    CHECK(!withBase("rpc qubes.Clipboard sys-net -> dvm ask;\n")
               .has(DiagCode::LikelyMisspelledService));
    CHECK(!withBase("rpc qubes.Filecopy sys-net -> dvm ask;\n")
               .has(DiagCode::LikelyMisspelledService));
    // A declared service of one's own is never a typo.
    CHECK(
        !withBase("rpc-service qubes.FileCopy data push;\nrpc qubes.FileCopy sys-net -> dvm ask;\n")
             .has(DiagCode::LikelyMisspelledService));
}

TEST_CASE("network objects cannot take names that mean 'no qube'") {
    CHECK(withBase("network none = 10.0.0.0/8;\n").has(DiagCode::ReservedName));
    CHECK(withBase("network default = 10.0.0.0/8;\n").has(DiagCode::ReservedName));
}

TEST_CASE("a named disposable carries its dispvm-template's tags, as Qubes copies them") {
    test::Checked r = test::checkText(R"(policy "t";
trust low < high;
template deb { trust high; }
dispvm-template dvm { template deb; trust low; tags web, fetch; }
disposable d1 { template dvm; trust low; tags own; }
)");
    INFO(r.rendered);
    REQUIRE(r.policy);
    const model::Qube& d1 = r.policy->qubes[id(*r.policy, "d1")];
    CHECK(d1.tags == std::vector<std::string>{"fetch", "own", "web"});
}

TEST_CASE("a service qube based on a dispvm-template is a DispVM to @type:") {
    test::Checked r = test::checkText(R"(policy "t";
trust low < high;
template deb { trust high; }
dispvm-template dvm { template deb; trust low; }
netvm sys-net { template dvm; trust low; }
assert no path from @type:DispVM to deb via rpc;
)");
    INFO(r.rendered);
    REQUIRE(r.policy);
    CHECK(!r.has(DiagCode::EmptySelector));
    CHECK(model::qubesClassOf(*r.policy, id(*r.policy, "sys-net")) == "DispVM");
    CHECK(model::qubesClassOf(*r.policy, id(*r.policy, "dvm")) == "AppVM");
}
