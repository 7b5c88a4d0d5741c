// The shortcuts that make the analyzer scale (docs/performance.md) must not change an answer:
// packet questions settled without the solver, flows left out of a question that they cannot
// concern, qubes evaluated once for their whole class of interchangeable callers.
#include "test_support.h"

// White-box: the graph and its certificate (analyzer/src; no Z3 type in these headers).
#include "certificate.h"
#include "graph.h"
#include "rpc_eval.h"
#include "rpc_system_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>

using namespace bulkhead;
namespace fs = std::filesystem;

namespace {

const std::string kHead = R"(policy "t";
trust low = red < high = blue;
template tpl { trust high; }
netvm sys-net { template tpl; trust low; }
qube w { template tpl; trust low; netvm sys-net; tags x; }
qube v { template tpl; trust low; netvm sys-net; }
network internet = 0.0.0.0/0, ::/0;
network lan = 10.0.0.0/24;
)";

struct Built {
    std::unique_ptr<model::Policy> policy; // the analysis points into it
    std::unique_ptr<analyzer::Analysis> analysis;
};

Built build(const std::string& body) {
    test::TempDir dir;
    std::vector<std::string> roots{dir.write("policy.bh", kHead + body).string()};
    SourceManager sources;
    DiagnosticSink sink;
    FrontendResult r = runFrontend(roots, sources, sink);
    REQUIRE(sink.errorCount() == 0);
    REQUIRE(r.policy);
    Built b;
    b.policy = std::make_unique<model::Policy>(std::move(*r.policy));
    b.analysis = analyzer::Analysis::build(*b.policy, {});
    return b;
}

bool hasEdge(const Built& b, const std::string& line) {
    std::vector<std::string> e = b.analysis->edges();
    return std::find(e.begin(), e.end(), line) != e.end();
}

} // namespace

TEST_CASE("a flow that no deny touches gets its edge and a packet without the solver") {
    Built b = build("allow w -> lan : tcp/443, tcp/80;\ndeny w -> lan : udp/53;\n");
    CHECK(hasEdge(b, "w => lan [net]"));
    std::vector<analyzer::Hop> path = b.analysis->path("w", "lan");
    REQUIRE(path.size() == 1);
    CHECK(path.front().detail == "tcp port 443 from w to lan (10.0.0.0)");
}

TEST_CASE("a deny through an overlapping network object or a tag still carves the flow out") {
    // internet covers lan's addresses; the tag covers w.
    CHECK_FALSE(
        hasEdge(build("allow w -> lan : tcp/443;\ndeny w -> internet : tcp;\n"), "w => lan [net]"));
    CHECK_FALSE(hasEdge(build("allow w -> lan : tcp/443;\ndeny @tag:x -> 10.0.0.0/8 : any;\n"),
                        "w => lan [net]"));
    // Part of the addresses carved out: the edge stays, with a packet outside the deny.
    Built part = build("allow w -> lan : tcp/443;\ndeny w -> 10.0.0.0/25 : tcp/443;\n");
    REQUIRE(hasEdge(part, "w => lan [net]"));
    std::vector<analyzer::Hop> path = part.analysis->path("w", "lan");
    REQUIRE(path.size() == 1);
    CHECK(path.front().detail.find("(10.0.0.") != std::string::npos);
    CHECK(path.front().detail.find("(10.0.0.0)") == std::string::npos);
}

TEST_CASE("a deny of another qube or another network does not touch the flow") {
    Built b = build("allow w -> lan : tcp/443;\ndeny v -> lan : any;\n"
                    "deny w -> 192.168.0.0/16 : any;\n");
    CHECK(hasEdge(b, "w => lan [net]"));
    CHECK_FALSE(hasEdge(b, "v => lan [net]"));
}

TEST_CASE("an ask list offered for many targets is one set of edges: the first offer is the "
          "origin, and every rule that offers dom0 is a recorded assumption") {
    // Line numbers matter: the rules are lines 7-10.
    test::Checked r = test::checkText(R"(policy "t";
trust low = red < high = blue;
template tpl { trust high; }
qube a { template tpl; trust low; }
qube b { template tpl; trust low; }
qube c { template tpl; trust high; }
rpc my.S a -> b ask target=c;
rpc my.S a -> @anyvm ask;
rpc qubes.FeaturesRequest a -> b ask;
rpc qubes.FeaturesRequest a -> @adminvm ask;
assert no path from a to c via rpc;
)");
    INFO(r.rendered);
    // @default comes before b among the targets: the ask list of line 8 offers c first.
    bool hop = false;
    for (const Diagnostic& d : r.diagnostics)
        for (const DiagNote& n : d.notes)
            hop = hop || (n.message.starts_with("hop 1: a => c") && n.range.begin.line == 8);
    CHECK(hop);
    std::set<std::uint32_t> assumed;
    for (const Diagnostic& d : r.diagnostics)
        if (d.code == DiagCode::DesignAssumption)
            assumed.insert(d.range.begin.line);
    CHECK(assumed == std::set<std::uint32_t>{9, 10});
}

TEST_CASE("callers that differ only in default_dispvm share a walk but not their @dispvm") {
    // a and b are one class but for default_dispvm: every target but @dispvm is decided for
    // both by one walk (a's), and @dispvm by each alone. a's @dispvm is d1's: the first line
    // denies it. b's is d2's: the second line lets it land on a new disposable of d2. With
    // a's walk for b as well, b would be denied too.
    Built b = build(R"(dispvm-template d1 { template tpl; trust low; }
dispvm-template d2 { template tpl; trust low; }
qube a { template tpl; trust low; default_dispvm d1; }
qube b { template tpl; trust low; default_dispvm d2; }
qube c { template tpl; trust high; }
rpc my.S @anyvm -> @dispvm:d1 deny;
rpc my.S @anyvm -> @dispvm allow;
rpc my.S @anyvm -> c allow;
)");
    CHECK(hasEdge(b, "b => @dispvm:d2 [rpc]"));
    CHECK_FALSE(hasEdge(b, "a => @dispvm:d1 [rpc]"));
    CHECK_FALSE(hasEdge(b, "a => @dispvm:d2 [rpc]"));
    CHECK(hasEdge(b, "a => c [rpc]"));
    CHECK(hasEdge(b, "b => c [rpc]"));
    CHECK(b.analysis->decide("my.S", "", "a", "@dispvm").result == "deny");
    analyzer::RpcDecision viaB = b.analysis->decide("my.S", "", "b", "@dispvm");
    CHECK(viaB.result == "allow");
    CHECK(viaB.targets == std::vector<std::string>{"@dispvm:d2"});
}

// ---------------------------------------------------------------- class edges

namespace {

// a1, a2, a3 cannot be told apart by any rule below unless a rule names one of them.
const std::string kClassHead = R"(policy "t";
trust low = red < high = blue;
template tpl { trust high; }
qube a1 { template tpl; trust low; tags x; }
qube a2 { template tpl; trust low; tags x; }
qube a3 { template tpl; trust low; tags x; }
qube vault { template tpl; trust high; }
)";

struct ClassBuilt {
    test::TempDir dir;
    SourceManager sources;
    std::unique_ptr<model::Policy> policy;
    std::unique_ptr<analyzer::Analysis> analysis;
};

std::unique_ptr<ClassBuilt> buildClasses(const std::string& body) {
    auto b = std::make_unique<ClassBuilt>();
    std::vector<std::string> roots{b->dir.write("policy.bh", kClassHead + body).string()};
    DiagnosticSink sink;
    FrontendResult r = runFrontend(roots, b->sources, sink);
    REQUIRE(sink.errorCount() == 0);
    REQUIRE(r.policy);
    b->policy = std::make_unique<model::Policy>(std::move(*r.policy));
    b->analysis = analyzer::Analysis::build(*b->policy, {});
    return b;
}

bool has(const std::vector<std::string>& edges, const std::string& line) {
    return std::find(edges.begin(), edges.end(), line) != edges.end();
}

} // namespace

TEST_CASE("interchangeable callers give the same edges as callers evaluated one by one") {
    const std::string rules = "rpc qubes.Filecopy @anyvm -> @anyvm ask;\n"
                              "rpc my.Get @anyvm -> vault allow;\n"
                              "rpc my.Svc @anyvm -> @anyvm allow target=a1;\n";
    // Rules that decide nothing but name a1, a2 and a3: each is then a class of its own.
    const std::string naming = "rpc qubes.Filecopy a1 -> a2 deny;\n"
                               "rpc qubes.Filecopy a2 -> a3 deny;\n"
                               "rpc qubes.Filecopy a3 -> a1 deny;\n"
                               "rpc my.Get a1 -> a2 deny;\nrpc my.Get a2 -> a3 deny;\n"
                               "rpc my.Get a3 -> a1 deny;\nrpc my.Svc a1 -> a2 deny;\n"
                               "rpc my.Svc a2 -> a3 deny;\nrpc my.Svc a3 -> a1 deny;\n";
    auto grouped = buildClasses(rules);
    auto alone = buildClasses(rules + naming);
    std::vector<std::string> edges = grouped->analysis->edges();
    CHECK(edges == alone->analysis->edges());
    CHECK(has(edges, "a1 => a2 [rpc, ask]"));
    CHECK(has(edges, "a2 => a1 [rpc, ask]"));
    CHECK(has(edges, "a3 => vault [rpc]"));
    CHECK(has(edges, "a2 => a1 [rpc]")); // my.Svc redirected to a1, data both ways
    CHECK(has(edges, "a1 => a2 [rpc]"));
    for (const std::string& e : edges)
        CHECK(e.substr(0, e.find(" => ")) !=
              e.substr(e.find(" => ") + 4, e.find(" [") - e.find(" => ") - 4));
    // Witnesses name the real caller and landing of the pair.
    std::vector<analyzer::Hop> path = grouped->analysis->path("a2", "a1");
    REQUIRE(path.size() == 1);
    CHECK(path.front().detail == "my.Svc from a2 to a1");
    CHECK(path.front().detail == alone->analysis->path("a2", "a1").front().detail);
    // a3's call redirected to a1 brings a1's data back to a3: named by its caller.
    path = grouped->analysis->path("a1", "a3");
    REQUIRE(path.size() == 1);
    CHECK(path.front().detail == "my.Svc from a3 to a1");
    CHECK(path.front().detail == alone->analysis->path("a1", "a3").front().detail);

    // Edge counts too: a group counts its pairs, not its members.
    test::Checked g = test::checkText(kClassHead + rules);
    test::Checked a = test::checkText(kClassHead + rules + naming);
    CHECK(g.analysis.edges == a.analysis.edges);
}

TEST_CASE("a qube named by a rule leaves its class") {
    auto b = buildClasses("rpc my.Svc a1 -> vault allow;\n"
                          "rpc my.Svc @anyvm -> @anyvm deny;\n");
    std::vector<std::string> edges = b->analysis->edges();
    CHECK(has(edges, "a1 => vault [rpc]"));
    CHECK_FALSE(has(edges, "a2 => vault [rpc]"));
    CHECK_FALSE(has(edges, "a3 => vault [rpc]"));
}

TEST_CASE("a waiver that names one member of a group removes that member's edges only") {
    const std::string rules = "rpc qubes.Filecopy @tag:x -> @anyvm allow;\n";
    // a1's own call to vault is waived; through a2 the path stays.
    test::Checked r = test::checkText(kClassHead + rules +
                                      "assert no path from a1 to vault via rpc except rpc "
                                      "qubes.Filecopy a1 -> vault because \"r\";\n");
    INFO(r.rendered);
    CHECK(r.analysis.assertionsViolated == 1);
    CHECK(r.rendered.find("a1 => a2 => vault") != std::string::npos);
    // a2's call is not waived.
    r = test::checkText(kClassHead + rules +
                        "assert no path from a2 to vault via rpc except rpc qubes.Filecopy a1 "
                        "-> vault because \"r\";\n");
    CHECK(r.analysis.assertionsViolated == 1);
    CHECK(r.rendered.find("a2 => vault (") != std::string::npos);
    // Waiving every member's call closes it, with a certificate.
    r = test::checkText(kClassHead + rules +
                        "assert no path from a2 to vault via rpc except rpc qubes.Filecopy @tag:x "
                        "-> vault because \"r\";\n");
    CHECK(r.analysis.assertionsHeld == 1);
    CHECK(r.analysis.certificatesChecked == 1);

    // BH0906 (with a baseline): a waiver of one member's pair matches; one of a pair that no
    // group holds (a member to itself) matches nothing.
    test::TempDir dir;
    fs::create_directories(dir.path() / "policy.d");
    auto waiverCheck = [&](const std::string& waiver) {
        fs::path p = dir.write("p.bh", kClassHead + rules + "assert no path from vault to a1 " +
                                           waiver + " because \"r\";\n");
        return test::runCli(
            {"check", "--baseline", (dir.path() / "policy.d").string(), p.string()});
    };
    test::CliResult used = waiverCheck("except rpc qubes.Filecopy a1 -> vault");
    CHECK(used.out.find("BH0906") == std::string::npos);
    CHECK(used.err.find("BH0906") == std::string::npos);
    test::CliResult self = waiverCheck("except rpc qubes.Filecopy a1 -> a1");
    CHECK((self.out + self.err).find("BH0906") != std::string::npos);
}

namespace {

// Plain nodes with these names, numbered from 0 in order.
void addNodes(analyzer::Graph& g, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        analyzer::Node n;
        n.name = name;
        g.add(std::move(n));
    }
}

} // namespace

TEST_CASE("a certificate with group hubs still certifies, and refuses what is not closed") {
    using namespace analyzer;
    Graph g;
    addNodes(g, {"n0", "n1", "n2", "n3"});
    EdgeGroup grp;
    grp.from = {1, 2};
    grp.to = {1, 2, 3};
    grp.proto.kind = model::EdgeKind::Rpc;
    grp.proto.service = "my.Svc";
    grp.proto.detail = "my.Svc";
    g.addGroup(grp);
    g.seal();
    CHECK(g.edgeCount() == 4); // 1->2, 1->3, 2->1, 2->3
    EdgeFilter all = EdgeFilter::all();

    // Isolated: n1 reaches n2 and n3, never n0.
    std::optional<Certificate> c = certifyIsolation(g, {1}, {0}, all);
    REQUIRE(c);
    CHECK(checkCertificate(g, *c, {1}, {0}, all));
    CHECK_FALSE(shortestPath(g, {1}, {0}, all));
    // Violated: n1 reaches n3, so no certificate, and the path is one hop.
    CHECK_FALSE(certifyIsolation(g, {1}, {3}, all));
    std::optional<std::vector<Edge>> path = shortestPath(g, {1}, {3}, all);
    REQUIRE(path);
    REQUIRE(path->size() == 1);
    CHECK(path->front().detail == "my.Svc from n1 to n3");
    // A forged invariant that leaves a landing out is refused, one with everything is not.
    Certificate forged;
    forged.invariant = {false, true, true, false};
    CHECK_FALSE(checkCertificate(g, forged, {1}, {0}, all));
    forged.invariant = {false, true, true, true};
    CHECK(checkCertificate(g, forged, {1}, {0}, all));
    // n3 is in no `from`: alone it reaches nothing, and the hub adds no pair n3 -> n3.
    c = certifyIsolation(g, {3}, {0, 1, 2}, all);
    REQUIRE(c);
    CHECK(checkCertificate(g, *c, {3}, {0, 1, 2}, all));
    // A group of one node to itself has no pair: nothing is reached.
    Graph h;
    addNodes(h, {"m0", "m1"});
    EdgeGroup self;
    self.from = {1};
    self.to = {1};
    h.addGroup(self);
    h.seal();
    CHECK(h.edgeCount() == 0);
    Certificate only;
    only.invariant = {false, true};
    CHECK(checkCertificate(h, only, {1}, {0}, all));
}

TEST_CASE("the search names the lowest group among equal labels, whatever order it meets them") {
    // Groups are found through their distinct `from` sides: n0's are {n0, n1} (groups 0 and
    // 2) before {n0} (group 1), so group 2 is met before group 1. All three give n0 => n2
    // with one label; the witness must name group 1's rule, the first of the two that can.
    using namespace analyzer;
    Graph g;
    addNodes(g, {"n0", "n1", "n2", "n3"});
    auto group = [&](Side from, Side to, unsigned line) {
        EdgeGroup grp;
        grp.from = std::move(from);
        grp.to = std::move(to);
        grp.proto.kind = model::EdgeKind::Rpc;
        grp.proto.service = "my.Svc";
        grp.proto.detail = "my.Svc";
        grp.proto.origin.begin.line = line;
        g.addGroup(grp);
    };
    group({0, 1}, {3}, 10);
    group({0}, {2}, 20);
    group({0, 1}, {2}, 30);
    g.seal();
    std::optional<std::vector<Edge>> path = shortestPath(g, {0}, {2}, EdgeFilter::all());
    REQUIRE(path);
    REQUIRE(path->size() == 1);
    CHECK(path->front().origin.begin.line == 20);
}

TEST_CASE("rule analysis per class: a rule that only lands a caller on itself changes nothing") {
    // a1 alone (named): every call it allows is a loopback, denied as without the rule.
    test::Checked alone = test::checkText(kClassHead + "rpc my.Svc a1 -> @anyvm ask target=a1;\n");
    INFO(alone.rendered);
    CHECK(alone.has(DiagCode::RuleRedundant));
    // The class of a1, a2, a3: a2 and a3 are asked to call a1, so the rule changes something.
    test::Checked cls =
        test::checkText(kClassHead + "rpc my.Svc @tag:x -> @anyvm ask target=a1;\n");
    INFO(cls.rendered);
    CHECK_FALSE(cls.has(DiagCode::RuleRedundant));
    // An allow to a qube of the class is a loopback for that qube only.
    test::Checked to = test::checkText(kClassHead + "rpc my.Svc @tag:x -> a2 allow;\n");
    INFO(to.rendered);
    CHECK_FALSE(to.has(DiagCode::RuleRedundant));
}

TEST_CASE("rule analysis: a @tag: or @type: target learns from every qube it names, the first "
          "one too") {
    // The lines naming one tag or type share one summary of their deciding rules per walk;
    // a1 is the first qube of both tokens, and only there does another action decide.
    for (const std::string& token : {std::string("@tag:x"), std::string("@type:AppVM")}) {
        test::Checked c = test::checkText(kClassHead + "rpc my.Svc @anyvm -> a1 deny;\n" +
                                          "rpc my.Svc vault -> " + token + " allow;\n" +
                                          "rpc my.Svc vault -> " + token + " ask;\n");
        INFO(c.rendered);
        std::vector<std::string> overridden, shadowed;
        for (const Diagnostic& d : c.diagnostics) {
            if (d.code == DiagCode::RulePartlyOverridden)
                overridden.push_back(std::to_string(d.range.begin.line) + " " + d.message);
            if (d.code == DiagCode::RuleShadowedSame || d.code == DiagCode::RuleShadowed)
                shadowed.push_back(std::to_string(d.range.begin.line) + " " + d.message);
        }
        REQUIRE(overridden.size() == 1);
        CHECK(overridden[0].starts_with("9 "));
        CHECK(overridden[0].ends_with("for example my.Svc from vault to a1"));
        // The ask decides nothing: the allow before it takes a2 and a3, the deny a1.
        REQUIRE(shadowed.size() == 1);
        CHECK(shadowed[0].starts_with("10 "));
        CHECK(c.has(DiagCode::RuleShadowed)); // another action (the deny) covers part of it
    }
}

// The hubs share blocks of 64 nodes and build a block on a smaller one it contains; both
// directions of that chain must give Z3 exactly the reachability the search finds. Sparse
// groups with nested sides across three blocks; from each member of a group to each of its
// landings and between random nodes, each answer is compared with the breadth-first search
// and each certificate re-checked.
TEST_CASE("certificates over nested group sides agree with the search") {
    using namespace analyzer;
    constexpr NodeId kNodes = 180;
    std::uint32_t seed = 7;
    auto below = [&](std::uint32_t n) {
        seed = seed * 1103515245U + 12345U;
        return (seed >> 8) % n;
    };
    Graph g;
    for (NodeId i = 0; i < kNodes; ++i) {
        Node n;
        n.name = "n" + std::to_string(i);
        g.add(std::move(n));
    }
    // Sides are prefixes of a few fixed orders, so one block often contains another. Sources
    // come from the first half of the nodes and landings from the second: every path is one
    // hop, and each link of the hubs decides some answer.
    auto shuffled = [&](NodeId first, NodeId count) {
        std::vector<NodeId> order;
        for (NodeId i = 0; i < count; ++i)
            order.push_back(first + i);
        for (NodeId i = count - 1; i > 0; --i)
            std::swap(order[i], order[below(i + 1)]);
        return order;
    };
    std::vector<std::vector<NodeId>> fromOrders, toOrders;
    for (int k = 0; k < 3; ++k) {
        fromOrders.push_back(shuffled(0, kNodes / 2));
        toOrders.push_back(shuffled(kNodes / 2, kNodes / 2));
    }
    auto side = [&](const std::vector<std::vector<NodeId>>& orders) {
        const std::vector<NodeId>& order = orders[below(3)];
        std::vector<NodeId> s(order.begin(), order.begin() + 2 + below(8));
        std::sort(s.begin(), s.end());
        return s;
    };
    std::vector<std::pair<NodeId, NodeId>> queries;
    for (int k = 0; k < 30; ++k) {
        EdgeGroup grp;
        grp.from = side(fromOrders);
        grp.to = side(toOrders);
        grp.proto.kind = model::EdgeKind::Rpc;
        grp.proto.service = "my.Svc";
        for (NodeId f : grp.from)
            for (NodeId t : grp.to)
                if (f != t)
                    queries.emplace_back(f, t);
        g.addGroup(std::move(grp));
    }
    for (int k = 0; k < 100; ++k)
        queries.emplace_back(below(kNodes / 2), kNodes / 2 + below(kNodes / 2));
    g.seal();
    EdgeFilter all = EdgeFilter::all();
    int held = 0, violated = 0;
    for (const auto& [from, to] : queries) {
        if (from == to)
            continue;
        bool path = shortestPath(g, {from}, {to}, all).has_value();
        std::optional<Certificate> c = certifyIsolation(g, {from}, {to}, all);
        CHECK(c.has_value() == !path);
        if (c)
            CHECK(checkCertificate(g, *c, {from}, {to}, all));
        ++(path ? violated : held);
    }
    // Both answers occur, or the comparison proves little.
    CHECK(held > 20);
    CHECK(violated > 20);
}

// The target index spares targetMatches() where it is certain; for every token kind, every
// caller and every target it offers, "certain" must imply a match, and every match must be
// offered (or the token be broad).
TEST_CASE("the target index is certain only of targets that match") {
    using namespace analyzer::rpc;
    System sys;
    test::addQube(sys, "dom0", "AdminVM", {});
    test::addQube(sys, "dvm-a", "AppVM", {"g"}, {}, true);           // 1
    test::addQube(sys, "dvm-b", "AppVM", {}, std::size_t{1}, true);  // 2
    test::addQube(sys, "work", "AppVM", {"g", "x"}, std::size_t{1}); // 3
    test::addQube(sys, "mail", "AppVM", {"x"}, std::size_t{2});      // 4
    test::addQube(sys, "disp7", "DispVM", {"g"}, std::size_t{2});    // 5
    test::addQube(sys, "tpl", "TemplateVM", {});                     // 6
    std::vector<Rule> rules;
    for (const char* t : {"*",
                          "@anyvm",
                          "@adminvm",
                          "dom0",
                          "@default",
                          "@dispvm",
                          "@dispvm:dvm-a",
                          "@dispvm:dvm-b",
                          "@dispvm:work",
                          "@dispvm:@tag:g",
                          "@dispvm:@tag:x",
                          "@tag:g",
                          "@tag:x",
                          "@tag:none",
                          "@type:AppVM",
                          "@type:DispVM",
                          "@type:TemplateVM",
                          "@type:AdminVM",
                          "work",
                          "nobody"}) {
        Rule r;
        r.service = "my.Svc";
        r.source = parseToken("@anyvm");
        r.target = parseToken(t);
        rules.push_back(std::move(r));
    }
    Evaluator ev(sys, std::move(rules));
    Universe u = universeOf(sys, ev);
    std::size_t certainMatches = 0;
    for (const Rule& r : ev.rules())
        for (const Caller& c : u.callers) {
            std::set<std::size_t> offered;
            if (TargetIndex::broad(r.target))
                for (std::size_t i = 0; i < u.targets.size(); ++i)
                    offered.insert(i);
            else
                u.index.visit(r.target, [&](std::size_t i) { offered.insert(i); });
            for (std::size_t i = 0; i < u.targets.size(); ++i) {
                bool match = ev.targetMatches(r.target, c, u.targets[i]);
                CAPTURE(r.target.value);
                CAPTURE(i);
                if (match)
                    CHECK(offered.count(i) == 1);
                if (offered.count(i) && u.index.certain(r.target, i)) {
                    CHECK(match);
                    ++certainMatches;
                }
                if (offered.count(i))
                    CHECK(ev.matches(r.target, c, u, i) == match);
            }
        }
    CHECK(certainMatches > 100);
}
