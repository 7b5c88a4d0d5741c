// Seeded violations in the real examples: one bad line must show up as an escape path whose
// witness names exactly that line. And every example is clean as written.
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

// The example with one line inserted before its first rpc rule (so first match sees it);
// returns the text and the inserted line's number.
std::pair<std::string, std::uint32_t> seeded(const std::string& example, const std::string& line) {
    std::string text = test::readFile(test::sourceDir() / "policies" / example);
    std::size_t at = text.find("\nrpc ");
    REQUIRE(at != std::string::npos);
    auto lineNo = static_cast<std::uint32_t>(
        std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at) + 1, '\n') + 1);
    text.insert(at + 1, line + "\n");
    return {text, lineNo};
}

bool witnessNames(const test::Checked& r, std::uint32_t line) {
    for (const Diagnostic& d : r.diagnostics)
        if (d.code == DiagCode::AssertionViolated)
            for (const DiagNote& n : d.notes)
                if (n.range.begin.line == line)
                    return true;
    return false;
}

} // namespace

TEST_CASE("every example policy is clean") {
    for (const fs::path& f : test::examplePolicies()) {
        CAPTURE(f.string());
        test::Checked r = test::checkFiles({f.string()});
        INFO(r.rendered);
        for (const Diagnostic& d : r.diagnostics)
            CHECK(d.severity == Severity::Note); // rule-analysis notes only
        REQUIRE(r.policy);
        CHECK(r.analysis.assertionsViolated == 0);
        CHECK(r.analysis.assertionsHeld == r.policy->assertions.size());
    }
}

TEST_CASE("workstation + a shell from personal into vault: the path names that line") {
    auto [text, line] = seeded("workstation.bh", "rpc qubes.VMShell personal -> vault allow;");
    test::Checked r = test::checkText(text);
    INFO(r.rendered);
    CHECK(r.has(DiagCode::AssertionViolated));
    CHECK(witnessNames(r, line));
    CHECK(r.rendered.find("personal => vault [admin] qubes.VMShell") != std::string::npos);
}

TEST_CASE("workstation + an @anyvm allow redirected to vault: the bypass is reported") {
    // A redirect is never re-checked against the deny rules that protect vault.
    auto [text, line] =
        seeded("workstation.bh", "rpc qubes.OpenInVM @anyvm -> @default allow target=vault;");
    test::Checked r = test::checkText(text);
    INFO(r.rendered);
    CHECK(r.has(DiagCode::AssertionViolated));
    CHECK(witnessNames(r, line));
}

TEST_CASE("k8s-lab + a worker reaching the admin qube: the path names that line") {
    auto [text, line] = seeded("k8s-lab.bh", "rpc qubes.Filecopy k8s-w1 -> k8s-admin allow;");
    test::Checked r = test::checkText(text);
    INFO(r.rendered);
    CHECK(r.has(DiagCode::AssertionViolated));
    CHECK(witnessNames(r, line));
}

TEST_CASE("malware-lab + a network flow from the analysis qube: has-no-network fails") {
    std::string text = test::readFile(test::sourceDir() / "policies" / "malware-lab.bh");
    REQUIRE(text.find("qube analysis") != std::string::npos);
    std::string bad = text;
    std::size_t at = bad.find("netvm none", bad.find("qube analysis"));
    REQUIRE(at != std::string::npos);
    bad.replace(at, 10, "netvm sys-firewall");
    test::Checked r = test::checkText(bad);
    INFO(r.rendered);
    CHECK((r.has(DiagCode::HasNetwork) || r.has(DiagCode::AssertionViolated)));
}
