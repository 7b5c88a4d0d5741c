// The shortcuts that make the analyzer scale (docs/performance.md) must not change an answer:
// packet questions settled without the solver, flows left out of a question that they cannot
// concern, qubes evaluated once for their whole class of interchangeable callers.
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>

using namespace bulkhead;

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
