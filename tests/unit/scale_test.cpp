// The shortcuts that make the analyzer scale (docs/performance.md) must not change an answer:
// packet questions settled without the solver, flows left out of a question that they cannot
// concern, qubes evaluated once for their whole class of interchangeable callers.
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>

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
