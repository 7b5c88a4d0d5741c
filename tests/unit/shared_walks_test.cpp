// Callers that differ only in default_dispvm share one walk of the rules, one set of landings
// and one rule view (caller_classes.h; analyzer/src/rpc_edges.cpp, rule_analysis.cpp): each
// class adds only what reads its default_dispvm. A policy whose qubes are each named by a
// rule that matches nothing has no such sharing, so every answer must come out the same
// both ways, on random policies built from the rules that read default_dispvm.
#include "test_support.h"

#include <doctest/doctest.h>

#include <random>
#include <set>

using namespace bulkhead;

namespace {

// a1 and a4 share d1; a5 has no default_dispvm; d1 and d2 carry tag g, v tag zz (which no
// dispvm-template has, so @dispvm:@tag:zz matches nothing).
const std::string kHead = R"(policy "t";
trust low = red < high = blue;
template tpl { trust high; }
dispvm-template d1 { template tpl; trust low; tags g; }
dispvm-template d2 { template tpl; trust low; tags g; }
dispvm-template d3 { template tpl; trust high; }
qube a1 { template tpl; trust low; default_dispvm d1; }
qube a2 { template tpl; trust low; default_dispvm d2; }
qube a3 { template tpl; trust low; default_dispvm d3; }
qube a4 { template tpl; trust low; default_dispvm d1; }
qube a5 { template tpl; trust low; default_dispvm none; }
qube v { template tpl; trust high; default_dispvm d2; tags zz; }
)";
const std::vector<std::string> kApps = {"a1", "a2", "a3", "a4", "a5"};

std::string randomRules(std::mt19937& rng) {
    const std::vector<std::string> sources = {"@anyvm", "@anyvm", "@type:AppVM", "@tag:g"};
    const std::vector<std::string> targets = {
        "@dispvm",  "@dispvm", "@dispvm:d1", "@dispvm:d2", "@dispvm:@tag:g", "@anyvm", "@default",
        "@adminvm", "a1",      "a3",         "v"};
    const std::vector<std::string> actions = {"allow",
                                              "deny",
                                              "ask",
                                              "allow target=@dispvm",
                                              "ask target=@dispvm",
                                              "allow target=@dispvm:d2",
                                              "ask default_target=@dispvm",
                                              "allow target=a2"};
    auto pick = [&](const std::vector<std::string>& from) {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
    };
    std::string out;
    std::size_t n = std::uniform_int_distribution<std::size_t>(3, 9)(rng);
    for (std::size_t i = 0; i < n; ++i) {
        std::string target = pick(targets), action = pick(actions);
        // target= and default_target= go with the targets Qubes allows them for.
        if (action.find("target=") != std::string::npos && target == "@adminvm")
            action = "deny";
        if (target == "@default" && action.find(" target=") == std::string::npos)
            action = action == "deny" ? "deny" : "allow target=a2"; // Qubes: nowhere to go
        out += "rpc my.S " + pick(sources) + " -> " + target + " " + action + ";\n";
    }
    return out;
}

// Each qube's own rule, which matches no request: the qube leaves its class.
std::string naming() {
    std::string out;
    for (const std::string& a : kApps)
        out += "rpc my.S " + a + " -> @dispvm:@tag:zz deny;\n";
    return out;
}

// The report lines of the first `lines` policy lines (the shared part of both policies).
std::multiset<std::string> findingsUpTo(const test::Checked& c, std::uint32_t lines) {
    std::multiset<std::string> out;
    for (const Diagnostic& d : c.diagnostics)
        if (d.range.begin.line <= lines) {
            std::string text = std::to_string(d.range.begin.line) + " " + d.message;
            for (const DiagNote& n : d.notes)
                text += " | " + std::to_string(n.range.begin.line) + " " + n.message;
            out.insert(text);
        }
    return out;
}

std::uint32_t lineCount(const std::string& text) {
    return static_cast<std::uint32_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST_CASE("classes that differ only in default_dispvm get what each caller gets alone") {
    const std::vector<std::string> nodes = {"a1", "a2",   "a3",         "a4",         "a5",
                                            "v",  "dom0", "@dispvm:d1", "@dispvm:d2", "@dispvm:d3"};
    for (std::uint32_t seed = 1; seed <= 40; ++seed) {
        std::mt19937 rng(seed);
        std::string rules = randomRules(rng);
        std::string shared = kHead + rules, alone = shared + naming();
        INFO("seed " << seed << "\n" << rules);
        test::Checked s = test::checkText(shared);
        test::Checked a = test::checkText(alone);
        REQUIRE(s.frontEndErrors == 0);
        REQUIRE(a.frontEndErrors == 0);
        CHECK(s.analysis.edges == a.analysis.edges);
        // Every rule line's findings, and every escape path's hops with their rules.
        CHECK(findingsUpTo(s, lineCount(shared)) == findingsUpTo(a, lineCount(shared)));

        auto sb = analyzer::Analysis::build(*s.policy, {});
        auto ab = analyzer::Analysis::build(*a.policy, {});
        CHECK(sb->edges() == ab->edges());
        for (const std::string& from : nodes)
            for (const std::string& to : nodes) {
                if (from == to)
                    continue;
                std::vector<analyzer::Hop> p = sb->path(from, to), q = ab->path(from, to);
                REQUIRE(p.size() == q.size());
                for (std::size_t i = 0; i < p.size(); ++i) {
                    CHECK(p[i].detail == q[i].detail);
                    CHECK(p[i].origin.begin.line == q[i].origin.begin.line);
                }
            }
        // And every landing Qubes' own evaluation gives an app qube's call is an edge.
        std::vector<std::string> edges = sb->edges();
        for (const std::string& caller : kApps)
            for (const char* target : {"@dispvm", "a1", "a3", "v", "@default"}) {
                analyzer::RpcDecision d = sb->decide("my.S", "", caller, target);
                if (d.result == "deny")
                    continue;
                for (const std::string& l : d.targets) {
                    std::string edge =
                        caller + " => " + l + (d.result == "ask" ? " [rpc, ask]" : " [rpc]");
                    CHECK_MESSAGE(std::find(edges.begin(), edges.end(), edge) != edges.end(),
                                  edge << " from " << target);
                }
            }
    }
}

TEST_CASE("a line whose requests land only on each caller's own disposable still changes "
          "something") {
    // Line 13 decides a1's, a2's ... calls to v, and sends each to a new disposable of its own
    // default_dispvm: a decision the classes' shared walk leaves to each class. Without the
    // line, nothing would allow them.
    std::string text = kHead + "rpc my.S @anyvm -> v allow target=@dispvm;\n";
    REQUIRE(lineCount(kHead) == 12);
    test::Checked c = test::checkText(text);
    REQUIRE(c.frontEndErrors == 0);
    INFO(c.rendered);
    CHECK_FALSE(c.has(DiagCode::RuleRedundant));
    CHECK_FALSE(c.has(DiagCode::RuleNeverMatches));
    auto a = analyzer::Analysis::build(*c.policy, {});
    std::vector<std::string> edges = a->edges();
    auto has = [&](const std::string& e) {
        return std::find(edges.begin(), edges.end(), e) != edges.end();
    };
    CHECK(has("a1 => @dispvm:d1 [rpc]"));
    CHECK(has("a2 => @dispvm:d2 [rpc]"));
    CHECK(has("a3 => @dispvm:d3 [rpc]"));
    CHECK_FALSE(has("a1 => @dispvm:d2 [rpc]"));
    CHECK_FALSE(has("a5 => @dispvm:d1 [rpc]"));
}

TEST_CASE("a line that changes nothing for one caller of a key still counts for the next") {
    // a and b have the same key, and their own rules decide only @default, before @dispvm:
    // past it their walks are their key's (rule_analysis.cpp, SharedWalk). Line 7 lets a call
    // only itself, which changes nothing, and b call a: without it b's call is denied (no
    // other caller has tag t). a is walked first, so the line must still be asked about in
    // b's walk.
    std::string text = R"(policy "t";
trust low = red < high = blue;
template tpl { trust high; }
qube a { template tpl; trust low; tags t; }
qube b { template tpl; trust low; tags t; }
rpc my.S a -> @default allow target=b;
rpc my.S @tag:t -> a allow;
rpc my.S b -> @default allow target=a;
)";
    test::Checked c = test::checkText(text);
    REQUIRE(c.frontEndErrors == 0);
    INFO(c.rendered);
    for (const Diagnostic& d : c.diagnostics)
        CHECK_FALSE((d.code == DiagCode::RuleRedundant && d.range.begin.line == 7));
    auto a = analyzer::Analysis::build(*c.policy, {});
    std::vector<std::string> edges = a->edges();
    CHECK(std::find(edges.begin(), edges.end(), "b => a [rpc]") != edges.end());
}
