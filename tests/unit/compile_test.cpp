// bulkhead compile as a user runs it: golden outputs per example, all-or-nothing writes,
// validation that catches a broken emitter, and values that cannot inject syntax.
#include "test_support.h"

#include "bulkhead/backends/nft_emit.h"
#include "bulkhead/backends/qrexec_emit.h"
#include "bulkhead/backends/qvm_firewall_emit.h"
#include "bulkhead/compiler/qrexec_policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

test::CliResult compile(const fs::path& policy, const fs::path& out,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"compile", "--no-baseline", policy.string(), "-o", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::runCli(args);
}

} // namespace

TEST_CASE("every example compiles to its golden outputs, byte for byte, twice") {
    for (const fs::path& f : test::examplePolicies()) {
        CAPTURE(f.string());
        test::TempDir tmp;
        test::CliResult first = compile(f, tmp.path() / "a");
        INFO(first.err);
        REQUIRE(first.exitCode == 0);
        test::CliResult second = compile(f, tmp.path() / "b");
        REQUIRE(second.exitCode == 0);
        std::map<std::string, std::string> a = test::readTree(tmp.path() / "a");
        CHECK(a == test::readTree(tmp.path() / "b"));
        CHECK(a.count("dom0/etc/qubes/policy.d/30-bulkhead.policy") == 1);
        CHECK(a.at("manifest.json").find("\"nft-kernel\"") != std::string::npos);
        CHECK(a.at("manifest.json").find("\"nft-readback\",\n      \"result\": \"passed\"") !=
              std::string::npos);

        // BULKHEAD_UPDATE_GOLDEN=1 rewrites it. The manifest names the namespace mode the
        // kernel check ran in (root or not).
        test::matchGolden(test::sourceDir() / "tests/golden/compile" / f.stem(), a,
                          {"manifest.json"});
    }
}

TEST_CASE("the emitted policy.d file decides every request as the policy does") {
    test::TempDir tmp;
    fs::path policy = test::sourceDir() / "policies/workstation.bh";
    REQUIRE(compile(policy, tmp.path() / "out").exitCode == 0);
    std::string manifest = test::readFile(tmp.path() / "out/manifest.json");
    CHECK(manifest.find("\"name\": \"qrexec-readback\",\n      \"result\": \"passed\"") !=
          std::string::npos);
    // Qubes' parser takes it without a single error.
    QrexecTextOptions opts;
    opts.file = "30-bulkhead.policy";
    QrexecPolicyLoad load = parseQrexecPolicyText(
        test::readFile(tmp.path() / "out/dom0/etc/qubes/policy.d/30-bulkhead.policy"), opts);
    CHECK(load.errors.empty());
    CHECK(load.rules.size() > 40);
}

TEST_CASE("nothing is written when check fails") {
    test::TempDir tmp;
    fs::path bad =
        tmp.write("bad.bh", test::readFile(test::sourceDir() / "policies/workstation.bh") +
                                "rpc qubes.VMShell personal -> vault allow;\n");
    test::CliResult r = compile(bad, tmp.path() / "out");
    CHECK(r.exitCode == 1);
    CHECK(r.err.find("nothing was written") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path() / "out"));
}

TEST_CASE("a broken emitter is caught, and the previous output stays as it was") {
    test::TempDir tmp;
    fs::path policy = test::sourceDir() / "policies/workstation.bh";
    REQUIRE(compile(policy, tmp.path() / "out").exitCode == 0);
    std::map<std::string, std::string> before = test::readTree(tmp.path() / "out");

    test::CliResult r = compile(policy, tmp.path() / "out", {"--test-break-emitter", "qrexec"});
    CHECK(r.exitCode == 3);
    // The difference comes as a concrete request with both decisions.
    CHECK(r.err.find("qrexec-readback failed") != std::string::npos);
    CHECK(r.err.find("the policy says") != std::string::npos);
    CHECK(r.err.find("the emitted file says") != std::string::npos);
    CHECK(test::readTree(tmp.path() / "out") == before);
    // No staging directory is left beside it.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path()))
        ++entries;
    CHECK(entries == 1);
}

TEST_CASE("a ruleset that drops a permitted packet is caught with that packet") {
    test::TempDir tmp;
    fs::path policy = test::sourceDir() / "policies/workstation.bh";
    // The emitter leaves out one allow element; the kernel loads the ruleset happily, the
    // read-back proof does not.
    test::CliResult r = compile(policy, tmp.path() / "out", {"--test-break-emitter", "nft"});
    CHECK(r.exitCode == 3);
    CHECK(r.err.find("nft-readback failed") != std::string::npos);
    CHECK(r.err.find("the policy permits it, the ruleset drops it") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path() / "out"));
}

TEST_CASE("--no-kernel-check loads nothing, even where a namespace can be made") {
    test::TempDir tmp;
    fs::path policy = test::sourceDir() / "policies/workstation.bh";
    test::CliResult r = compile(policy, tmp.path() / "out", {"--no-kernel-check"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(r.out.find("nft-kernel skipped; nft-readback skipped;") != std::string::npos);
    std::string manifest = test::readFile(tmp.path() / "out/manifest.json");
    CHECK(manifest.find("\"name\": \"nft-kernel\",\n      \"result\": \"skipped\",\n      "
                        "\"detail\": \"--no-kernel-check: the rulesets were not loaded") !=
          std::string::npos);
    CHECK(manifest.find("\"name\": \"nft-readback\",\n      \"result\": \"skipped\"") !=
          std::string::npos);
    // The emitted files are the same as with the check.
    REQUIRE(compile(policy, tmp.path() / "checked").exitCode == 0);
    std::map<std::string, std::string> skipped = test::readTree(tmp.path() / "out");
    std::map<std::string, std::string> checked = test::readTree(tmp.path() / "checked");
    skipped.erase("manifest.json");
    checked.erase("manifest.json");
    CHECK(skipped == checked);
}

TEST_CASE("compile never replaces a directory it did not write") {
    test::TempDir tmp;
    tmp.write("mine/notes.txt", "precious\n");
    test::CliResult r = compile(test::sourceDir() / "policies/workstation.bh", tmp.path() / "mine");
    CHECK(r.exitCode == 2);
    CHECK(test::readFile(tmp.path() / "mine/notes.txt") == "precious\n");
}

TEST_CASE("a policy.d file name Qubes would not read is refused") {
    CHECK(backends::isQubesPolicyFileName("30-bulkhead.policy"));
    CHECK_FALSE(backends::isQubesPolicyFileName("30-Bulkhead.policy"));
    CHECK_FALSE(backends::isQubesPolicyFileName("30-bulkhead.conf"));
    CHECK_FALSE(backends::isQubesPolicyFileName("../30.policy"));
    test::TempDir tmp;
    test::CliResult r = compile(test::sourceDir() / "policies/workstation.bh", tmp.path() / "o",
                                {"--qrexec-file", "Bad Name.policy"});
    CHECK(r.exitCode == 2);
    CHECK_FALSE(fs::exists(tmp.path() / "o"));
}

TEST_CASE("values that would inject qrexec syntax are refused by the emitter") {
    test::Checked c = test::checkFiles({(test::sourceDir() / "policies/workstation.bh").string()});
    REQUIRE(c.policy);
    model::Policy p = *c.policy;
    REQUIRE(!p.rpcRules.empty());
    backends::QrexecEmitOptions opts;
    opts.version = "test";
    // A newline in user= would start a new rule line in dom0's policy.
    p.rpcRules[0].user = "root\nqubes.VMShell * @anyvm dom0 allow";
    CHECK_THROWS_AS(backends::emitQrexecPolicy(p, opts), backends::UnsafeValue);
    p.rpcRules[0].user.reset();
    p.rpcRules[0].spec.service = "qubes.Gpg allow";
    CHECK_THROWS_AS(backends::emitQrexecPolicy(p, opts), backends::UnsafeValue);
    p.rpcRules[0].spec.service = "qubes.Gpg";
    // Comments stay comments: a newline in a file name is printed as '?'.
    opts.sources.push_back({"evil\nqubes.VMShell * @anyvm dom0 allow", "00"});
    std::string text = backends::emitQrexecPolicy(p, opts);
    CHECK(text.find("evil?qubes.VMShell") != std::string::npos);
    CHECK(parseQrexecPolicyText(text).errors.empty());
}

TEST_CASE("names that would inject nftables or qvm-firewall syntax are refused") {
    test::Checked c = test::checkFiles({(test::sourceDir() / "policies/workstation.bh").string()});
    REQUIRE(c.policy);
    model::Policy p = *c.policy;
    std::optional<model::QubeId> fw = p.findQube("sys-firewall");
    std::optional<model::QubeId> work = p.findQube("work");
    REQUIRE(fw);
    REQUIRE(work);
    // The grammar never lets these through; the emitters check again all the same.
    p.qubes[*fw].name = "sys-firewall { }; flush ruleset";
    backends::NetPlan plan = backends::planNetwork(p);
    CHECK_THROWS_AS(backends::emitNftables(p, plan, {}), backends::UnsafeValue);
    p.qubes[*fw].name = "sys-firewall";
    p.qubes[*work].name = "work\"; accept";
    plan = backends::planNetwork(p);
    CHECK_THROWS_AS(backends::emitNftables(p, plan, {}), backends::UnsafeValue);
    CHECK_THROWS_AS(backends::emitQvmFirewall(p, plan), backends::UnsafeValue);
}

namespace {

// The tree without what names the source text itself (its path, hash and the file:line
// comments above each rule group).
std::map<std::string, std::string> meaningOf(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (auto& [rel, text] : test::readTree(dir)) {
        if (rel == "manifest.json")
            continue; // it lists the hashes of the files below and of the source
        std::string kept;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
            if (line.find("# source: ") == std::string::npos &&
                !std::regex_match(line, std::regex("# .*\\.bh:[0-9]+"))) // where a rule is written
                kept += line + "\n";
        out[rel] = kept;
    }
    return out;
}

// text is the workstation rewritten without changing its meaning: it must compile to the
// same rules (all but the source's own path, hash and line comments).
void checkCompilesLikeWorkstation(const std::string& text) {
    test::TempDir tmp;
    fs::path moved = tmp.write("workstation.bh", text);
    REQUIRE(compile(test::sourceDir() / "policies" / "workstation.bh", tmp.path() / "a").exitCode ==
            0);
    REQUIRE(compile(moved, tmp.path() / "b").exitCode == 0);
    std::map<std::string, std::string> a = meaningOf(tmp.path() / "a");
    std::map<std::string, std::string> b = meaningOf(tmp.path() / "b");
    REQUIRE(a.size() == b.size());
    for (const auto& [rel, content] : a) {
        CAPTURE(rel);
        CHECK(b.at(rel) == content);
    }
}

} // namespace

TEST_CASE("determinism: ten compiles per example give the same bytes") {
    for (const fs::path& f : test::examplePolicies()) {
        CAPTURE(f.string());
        test::TempDir tmp;
        REQUIRE(compile(f, tmp.path() / "first").exitCode == 0);
        std::map<std::string, std::string> first = test::readTree(tmp.path() / "first");
        for (int i = 0; i < 9; ++i) {
            fs::path out = tmp.path() / ("run" + std::to_string(i));
            REQUIRE(compile(f, out).exitCode == 0);
            CHECK(test::readTree(out) == first);
        }
    }
}

TEST_CASE("determinism: declarations in another order compile to the same rules") {
    // Two qube blocks of the same height swapped: qube ids change, rule lines do not.
    std::string text = test::readFile(test::sourceDir() / "policies" / "workstation.bh");
    std::size_t work = text.find("qube work {"), personal = text.find("qube personal {");
    std::size_t personalEnd = text.find("}\n", personal) + 2;
    REQUIRE(work < personal);
    REQUIRE(personal == text.find("}\n", work) + 2); // adjacent
    std::string workBlock = text.substr(work, personal - work);
    std::string personalBlock = text.substr(personal, personalEnd - personal);
    REQUIRE(std::count(workBlock.begin(), workBlock.end(), '\n') ==
            std::count(personalBlock.begin(), personalBlock.end(), '\n'));
    std::string swapped =
        text.substr(0, work) + personalBlock + workBlock + text.substr(personalEnd);
    checkCompilesLikeWorkstation(swapped);
}

TEST_CASE("determinism: networks, services and network flows in reverse order compile alike") {
    // Flows are deny-wins (order means nothing) and declarations are names: reversing each
    // kind of line in place changes no meaning, and must change no emitted rule either.
    // (rpc rules are first-match and keep their order.)
    std::string text = test::readFile(test::sourceDir() / "policies" / "workstation.bh");
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    std::size_t reversedKinds = 0;
    const std::vector<std::vector<std::string_view>> kinds = {
        {"network "}, {"service "}, {"allow ", "deny "}};
    for (const std::vector<std::string_view>& kind : kinds) {
        std::vector<std::size_t> at;
        for (std::size_t i = 0; i < lines.size(); ++i)
            if (std::any_of(kind.begin(), kind.end(),
                            [&](std::string_view k) { return lines[i].starts_with(k); }))
                at.push_back(i);
        std::vector<std::string> picked;
        for (std::size_t i : at)
            picked.push_back(lines[i]);
        std::reverse(picked.begin(), picked.end());
        for (std::size_t k = 0; k < at.size(); ++k)
            lines[at[k]] = picked[k];
        reversedKinds += at.size() > 1 ? 1U : 0U;
    }
    REQUIRE(reversedKinds == kinds.size()); // every kind has lines to move
    std::string reversed;
    for (const std::string& line : lines)
        reversed += line + "\n";
    REQUIRE(reversed != text);
    checkCompilesLikeWorkstation(reversed);
}
