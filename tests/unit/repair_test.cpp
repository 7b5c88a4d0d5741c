// Repair hints (docs/semantics.md, "Repair hints"): every test applies the hint to the policy
// text as a user would (delete the statement, insert the deny) and checks again: the applied
// hint must make every assertion hold and keep every requirement that held.
#include "test_support.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

using namespace bulkhead;

namespace {

// Every body below starts at line 6 (test_support.h). No qube has network, so a qube's
// only outgoing edges are the ones a test adds.
const std::string& kHead = test::kSmallPolicyHead;

std::vector<Diagnostic> violations(const test::Checked& r) {
    std::vector<Diagnostic> out;
    std::copy_if(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(out),
                 [](const Diagnostic& d) { return d.code == DiagCode::AssertionViolated; });
    return out;
}

// The policy's only BH1001, which must come without a repair hint.
Diagnostic soleUnrepaired(const test::Checked& r) {
    std::vector<Diagnostic> v = violations(r);
    REQUIRE(v.size() == 1);
    CHECK(v[0].fixes.empty());
    return v[0];
}

// Byte offset of a 1-based line and column (the test policies are ASCII).
std::size_t offsetOf(const std::string& text, const SourcePos& at) {
    std::size_t off = 0;
    for (std::uint32_t line = 1; line < at.line; ++line)
        off = text.find('\n', off) + 1;
    return off + at.column - 1;
}

// The fix applied to the text: from the last edit back, so earlier positions stay valid; a
// deny goes on a line of its own before its statement, at the statement's indentation.
std::string applyFix(std::string text, const DiagFix& fix) {
    std::vector<DiagEdit> edits = fix.edits;
    std::stable_sort(edits.begin(), edits.end(), [](const DiagEdit& x, const DiagEdit& y) {
        return std::make_tuple(y.range.begin, !y.insert) <
               std::make_tuple(x.range.begin, !x.insert);
    });
    for (const DiagEdit& e : edits) {
        std::size_t begin = offsetOf(text, e.range.begin);
        if (e.insert) {
            text.insert(begin, *e.insert + "\n" + std::string(e.range.begin.column - 1, ' '));
        } else {
            std::size_t end = offsetOf(text, e.range.end) + 1;
            text.erase(begin, end - begin);
        }
    }
    return text;
}

// The policy's one repair (the same on every violation), applied, and the policy checked
// again: nothing violated, every requirement that held holds. Returns the repaired text.
std::string repairAndRecheck(const std::string& body) {
    std::string text = kHead + body;
    test::Checked before = test::checkText(text);
    INFO(before.rendered);
    REQUIRE(before.frontEndErrors == 0);
    std::vector<Diagnostic> v = violations(before);
    REQUIRE_FALSE(v.empty());
    REQUIRE(v.front().fixes.size() == 1);
    for (const Diagnostic& d : v) {
        REQUIRE(d.fixes.size() == 1);
        CHECK(d.fixes.front().edits.size() == v.front().fixes.front().edits.size());
    }
    std::string repaired = applyFix(text, v.front().fixes.front());
    test::Checked after = test::checkText(repaired);
    INFO("repaired:\n" << repaired << after.rendered);
    CHECK(after.frontEndErrors == 0);
    CHECK_FALSE(after.has(DiagCode::AssertionViolated));
    CHECK_FALSE(after.has(DiagCode::RequirementUnmet));
    CHECK(after.analysis.assertionsViolated == 0);
    CHECK(after.analysis.requirementsMet == before.analysis.requirementsMet);
    return repaired;
}

const DiagFix& theFix(const test::Checked& r) {
    std::vector<Diagnostic> v = violations(r);
    REQUIRE(v.size() >= 1);
    REQUIRE(v.front().fixes.size() == 1);
    static DiagFix fix;
    fix = v.front().fixes.front();
    return fix;
}

bool hasNote(const Diagnostic& d, std::uint32_t line, const std::string& text) {
    return std::any_of(d.notes.begin(), d.notes.end(), [&](const DiagNote& n) {
        return n.range.begin.line == line && n.message.find(text) != std::string::npos;
    });
}

} // namespace

TEST_CASE("one escape path: the fewest removals is one line, and applying it clears the check") {
    std::string body = R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy a -> b allow;
rpc qubes.Filecopy b -> c allow;
assert no path from a to c;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    const DiagFix& fix = theFix(r);
    REQUIRE(fix.edits.size() == 1);
    CHECK_FALSE(fix.edits[0].insert);
    // Either line closes the path; ties go to the earliest line.
    CHECK(fix.edits[0].range.begin.line == 7);
    CHECK(r.rendered.find("= repair: remove 1 line") != std::string::npos);
    std::string repaired = repairAndRecheck(body);
    CHECK(repaired.find("rpc qubes.Filecopy a -> b allow;") == std::string::npos);
    CHECK(repaired.find("rpc qubes.Filecopy b -> c allow;") != std::string::npos);
}

TEST_CASE("two escape paths sharing a line: one removal closes both assertions") {
    std::string body = R"(qube c { template tpl; trust high; }
qube d { template tpl; trust high; }
rpc qubes.Filecopy b -> c allow;
rpc qubes.Filecopy a -> b allow;
rpc qubes.Filecopy b -> d allow;
assert no path from a to c;
assert no path from a to d;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    std::vector<Diagnostic> v = violations(r);
    REQUIRE(v.size() == 2);
    for (const Diagnostic& d : v) {
        REQUIRE(d.fixes.size() == 1);
        REQUIRE(d.fixes[0].edits.size() == 1);
        CHECK(d.fixes[0].edits[0].range.begin.line == 9); // the shared a -> b, not an earlier one
        CHECK(d.fixes[0].description.find("all 2 violated assertions") != std::string::npos);
    }
    repairAndRecheck(body);
}

TEST_CASE("the obvious line is required: the repair removes another one") {
    std::string body = R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy a -> b allow;
rpc qubes.Filecopy b -> c allow;
assert no path from a to c;
require rpc qubes.Filecopy a -> b;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    const DiagFix& fix = theFix(r);
    REQUIRE(fix.edits.size() == 1);
    CHECK(fix.edits[0].range.begin.line == 8); // b -> c: a -> b would break the requirement
    CHECK(fix.description.find("keep every requirement") != std::string::npos);
    std::string repaired = repairAndRecheck(body);
    CHECK(repaired.find("rpc qubes.Filecopy a -> b allow;") != std::string::npos);
}

TEST_CASE("a broad line a requirement needs is narrowed by a deny before it") {
    std::string body = R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy @anyvm -> c allow;
assert no path from a to c;
require rpc qubes.Filecopy b -> c;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    const DiagFix& fix = theFix(r);
    REQUIRE(fix.edits.size() == 1);
    REQUIRE(fix.edits[0].insert);
    CHECK(*fix.edits[0].insert == "rpc qubes.Filecopy a -> c deny;");
    CHECK(fix.edits[0].range.begin.line == 7);
    CHECK(r.rendered.find("insert before ") != std::string::npos);
    repairAndRecheck(body);
}

TEST_CASE("a network flow: removal, or a deny when a requirement shares the line") {
    std::string net = R"(netvm sys-net { template tpl; trust low; }
qube w { template tpl; trust mid; netvm sys-net; }
qube u { template tpl; trust mid; netvm sys-net; }
qube v { template tpl; trust high; netvm sys-net; }
)";
    SUBCASE("removal") {
        std::string body = net + "allow w -> v : tcp/22;\nassert no path from w to v via net;\n";
        test::Checked r = test::checkText(kHead + body);
        INFO(r.rendered);
        const DiagFix& fix = theFix(r);
        REQUIRE(fix.edits.size() == 1);
        CHECK_FALSE(fix.edits[0].insert);
        CHECK(fix.edits[0].range.begin.line == 10);
        repairAndRecheck(body);
    }
    SUBCASE("narrowing") {
        std::string body = net + "allow w, u -> v : tcp/22, udp/53;\n"
                                 "assert no path from w to v via net;\n"
                                 "require u -> v : tcp/22;\n";
        test::Checked r = test::checkText(kHead + body);
        INFO(r.rendered);
        const DiagFix& fix = theFix(r);
        REQUIRE(fix.edits.size() == 2); // one deny per service of the line
        for (const DiagEdit& e : fix.edits)
            REQUIRE(e.insert);
        CHECK(*fix.edits[0].insert == "deny w -> v : tcp/22;");
        CHECK(*fix.edits[1].insert == "deny w -> v : udp/53;");
        repairAndRecheck(body);
    }
}

TEST_CASE("no repair when every way to close the path breaks a requirement: it is named") {
    std::string body = R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy a -> c allow;
assert no path from a to c;
require rpc qubes.Filecopy a -> c;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    Diagnostic v = soleUnrepaired(r);
    CHECK(hasNote(v, 9, "breaks this requirement"));
    CHECK(r.rendered.find("no repair hint") != std::string::npos);
}

TEST_CASE("no repair when only a set of changes breaks requirements: both are named") {
    // b -> c is opened by two lines: removing the first alone leaves the path (through the
    // second), removing both breaks the requirement on b -> c; a -> b is required itself.
    std::string body = R"(qube c { template tpl; trust high; tags x; }
qube d { template tpl; trust mid; tags x; }
rpc qubes.Filecopy b -> c allow;
rpc qubes.Filecopy b, d -> c allow;
rpc qubes.Filecopy a -> b allow;
assert no path from a to c;
require rpc qubes.Filecopy a -> b;
require rpc qubes.Filecopy b -> c;
)";
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    Diagnostic v = soleUnrepaired(r);
    CHECK(hasNote(v, 12, "breaks this requirement"));
    CHECK(hasNote(v, 13, "breaks this requirement"));
}

TEST_CASE("a requirement broken by a pair among many changes: the pair is excluded at once") {
    // Seven routes a -> mI -> c. Route 1's first hop has two lines (the second takes over when
    // the first is removed) and the requirement on it breaks only when both go; its second
    // hop is required. Every smallest set takes both of route 1's lines plus one line of each
    // other route: 64 such sets, each breaking the requirement. A no-good of the whole set
    // excluded one of them per round (40 rounds, then no hint); the pair alone excludes all.
    std::string body = R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy a -> m1 allow;
rpc qubes.Filecopy a, b -> m1 allow;
rpc qubes.Filecopy m1 -> c allow;
require rpc qubes.Filecopy a -> m1;
require rpc qubes.Filecopy m1 -> c;
assert no path from a to c;
)";
    for (int i = 1; i <= 7; ++i) {
        std::string m = "m" + std::to_string(i);
        body = "qube " + m + " { template tpl; trust mid; }\n" + body;
        if (i > 1)
            body += "rpc qubes.Filecopy a -> " + m + " allow;\nrpc qubes.Filecopy " + m +
                    " -> c allow;\n";
    }
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    Diagnostic v = soleUnrepaired(r);
    CHECK(hasNote(v, 17, "breaks this requirement")); // a -> m1
    CHECK(hasNote(v, 18, "breaks this requirement")); // m1 -> c
    CHECK(r.rendered.find("stopped after") == std::string::npos);
}

TEST_CASE("no repair when the path is a Qubes fact: the template is not a rule") {
    test::Checked r = test::checkText(kHead + "assert no path from tpl to a;\n");
    INFO(r.rendered);
    Diagnostic v = soleUnrepaired(r);
    CHECK(hasNote(v, 6, "Qubes fact"));
}

TEST_CASE("a repair in JSON and SARIF, and applied through the command line") {
    test::TempDir dir;
    std::string text = kHead + R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy @anyvm -> c allow;
rpc qubes.Filecopy b -> a allow;
assert no path from a to c;
require rpc qubes.Filecopy b -> c;
)";
    std::string path = dir.write("p.bh", text).string();
    test::CliResult json = test::runCli({"check", "--no-baseline", path, "--format", "json"});
    CHECK(json.exitCode == 1);
    // The same repair every run (Z3's answer depends only on its input).
    CHECK(test::runCli({"check", "--no-baseline", path, "--format", "json"}).out == json.out);
    CHECK(json.out.find("\"fixes\"") != std::string::npos);
    CHECK(json.out.find("\"action\": \"insert\"") != std::string::npos);
    CHECK(json.out.find("\"text\": \"rpc qubes.Filecopy a -> c deny;\"") != std::string::npos);
    test::CliResult sarif = test::runCli({"check", "--no-baseline", path, "--format", "sarif"});
    CHECK(sarif.out.find("\"insertedContent\"") != std::string::npos);
    CHECK(sarif.out.find("\"artifactChanges\"") != std::string::npos);
    test::CliResult plain = test::runCli({"check", "--no-baseline", path});
    INFO(plain.err);
    CHECK(plain.exitCode == 1);
    std::string repaired = text;
    repaired.insert(offsetOf(repaired, {7, 1}), "rpc qubes.Filecopy a -> c deny;\n");
    CHECK(plain.err.find("insert before " + path + ":7:1: rpc qubes.Filecopy a -> c deny;") !=
          std::string::npos);
    std::string fixed = dir.write("fixed.bh", repaired).string();
    test::CliResult after = test::runCli({"check", "--no-baseline", fixed});
    INFO(after.err);
    CHECK(after.exitCode == 0);
}

TEST_CASE("Qubes' shipped policy opens the path: denies before it close it, applied and checked") {
    std::filesystem::path corpus = test::sourceDir() / ".." / "shared" / "corpus" / "qubes-policy";
    if (!std::filesystem::exists(corpus / "policy.d")) {
        MESSAGE("shared corpus not found: skipped");
        return;
    }
    std::vector<std::string> baseline = {"--baseline", (corpus / "policy.d").string(),
                                         "--baseline-legacy", (corpus / "legacy").string()};
    test::TempDir dir;
    std::string text = kHead + R"(qube c { template tpl; trust high; }
rpc qubes.Filecopy b -> c allow;
assert no path from a to c via rpc;
require rpc qubes.Filecopy b -> c;
)";
    std::string path = dir.write("p.bh", text).string();
    std::vector<std::string> args = {"check", path, "--format", "json"};
    args.insert(args.begin() + 1, baseline.begin(), baseline.end());
    test::CliResult r = test::runCli(args);
    INFO(r.out);
    REQUIRE(r.exitCode == 1);
    // Apply every edit of the JSON report's fix (they are inserts: the baseline's lines cannot
    // be removed) and check again with the same baseline.
    nlohmann::json doc = nlohmann::json::parse(r.out);
    DiagFix fix;
    for (const auto& d : doc["diagnostics"])
        if (d["code"] == "BH1001" && d.contains("fixes") && fix.edits.empty())
            for (const auto& e : d["fixes"][0]["edits"]) {
                CHECK(e["action"] == "insert");
                DiagEdit edit;
                edit.range.begin = {e["location"]["line"].get<std::uint32_t>(),
                                    e["location"]["column"].get<std::uint32_t>()};
                edit.insert = e["text"].get<std::string>();
                fix.edits.push_back(edit);
            }
    REQUIRE_FALSE(fix.edits.empty());
    std::string repaired = applyFix(text, fix);
    std::string fixed = dir.write("fixed.bh", repaired).string();
    args = {"check", fixed};
    args.insert(args.begin() + 1, baseline.begin(), baseline.end());
    test::CliResult after = test::runCli(args);
    INFO(repaired);
    INFO(after.err);
    CHECK(after.exitCode == 0);
}

TEST_CASE("the example policies are sound: no repair hint anywhere") {
    for (const auto& p : test::examplePolicies()) {
        test::Checked r = test::checkFiles({p.string()});
        INFO(p.string() << "\n" << r.rendered);
        CHECK_FALSE(r.has(DiagCode::AssertionViolated));
        CHECK(std::none_of(r.diagnostics.begin(), r.diagnostics.end(),
                           [](const Diagnostic& d) { return !d.fixes.empty(); }));
        CHECK(r.rendered.find("= repair:") == std::string::npos);
        CHECK(r.rendered.find("no repair hint") == std::string::npos);
    }
}
