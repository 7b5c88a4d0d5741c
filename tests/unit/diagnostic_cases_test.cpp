// Every diagnostic code has a rejected input under tests/diagnostics/ that names the code,
// line and column it must produce. Adding a code without a case fails here.
#include "test_support.h"

#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

struct Expectation {
    std::string id;
    std::string file; // for multi-file cases: the file, relative to the case; empty: any
    std::uint32_t line;
    std::uint32_t column;
};

struct Case {
    fs::path entry;
    std::vector<Expectation> expected;
    std::string message; // substring of the first expected diagnostic's message
};

std::vector<Case> loadCases() {
    std::vector<Case> out;
    fs::path dir = test::sourceDir() / "tests" / "diagnostics";
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_directory())
            entries.push_back(e.path() / "main.bh");
        else if (e.path().extension() == ".bh")
            entries.push_back(e.path());
    }
    std::sort(entries.begin(), entries.end());
    static const std::regex kExpect(R"(# expect: (BH\d{4}) (?:([\w.-]+):)?(\d+):(\d+)\s*)");
    static const std::regex kMessage(R"(# expect-message: (.*\S)\s*)");
    for (const fs::path& entry : entries) {
        Case c{entry, {}, {}};
        std::ifstream in(entry, std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            if (std::regex_match(line, m, kExpect))
                c.expected.push_back({m[1], m[2], static_cast<std::uint32_t>(std::stoul(m[3])),
                                      static_cast<std::uint32_t>(std::stoul(m[4]))});
            else if (std::regex_match(line, m, kMessage))
                c.message = m[1];
            else if (!line.starts_with("#"))
                break;
        }
        out.push_back(std::move(c));
    }
    return out;
}

bool reported(const test::Checked& r, const Expectation& e) {
    for (const Diagnostic& d : r.diagnostics)
        if (diagInfo(d.code).id == e.id && d.range.begin.line == e.line &&
            d.range.begin.column == e.column &&
            (e.file.empty() || r.files.at(d.range.file).ends_with("/" + e.file)))
            return true;
    return false;
}

} // namespace

TEST_CASE("every rejected input reports its diagnostic at its line and column") {
    std::vector<Case> cases = loadCases();
    REQUIRE(!cases.empty());
    for (const Case& c : cases) {
        CAPTURE(c.entry.string());
        REQUIRE_MESSAGE(!c.expected.empty(), "a case without '# expect:' lines");
        test::Checked r = test::checkFiles({c.entry.string()});
        CAPTURE(r.rendered);
        for (const Expectation& e : c.expected) {
            CAPTURE(e.id);
            CAPTURE(e.line);
            CAPTURE(e.column);
            CHECK(reported(r, e));
        }
        if (!c.message.empty()) {
            bool found = false;
            for (const Diagnostic& d : r.diagnostics)
                found = found || (diagInfo(d.code).id == c.expected.front().id &&
                                  d.message.find(c.message) != std::string::npos);
            CHECK_MESSAGE(found, "message should contain: " << c.message);
        }
        // A front-end error never yields a policy; a warning or an analysis finding does.
        CHECK((r.frontEndErrors > 0) != r.policy.has_value());
    }
}

TEST_CASE("a file over the size limit is refused with BH0110, not read into memory") {
    test::TempDir dir;
    std::string big(9u << 20, '#');
    fs::path p = dir.write("big.bh", big);
    test::Checked r = test::checkFiles({p.string()});
    CHECK(r.has(DiagCode::InputTooLarge));
    CHECK(!r.policy);
}

TEST_CASE("every catalog code has a rejected-input case and a docs entry") {
    // Covered by tests elsewhere: BH0110 above (a 9 MiB file is not committed); BH0906,
    // BH1004, BH1005 and BH1007 need a baseline, options or budgets (cli_test, analyzer_test).
    // BH0111, BH0112 and BH13xx come from a deployed system, not a policy file (audit_test,
    // audit_firewall_test).
    std::set<std::string> covered = {"BH0110", "BH0111", "BH0906", "BH1004", "BH1005",
                                     "BH1007", "BH1301", "BH1302", "BH1303", "BH1304",
                                     "BH1305", "BH1306", "BH0112", "BH1307", "BH1308",
                                     "BH1309", "BH1310", "BH1311", "BH1312"};
    for (const Case& c : loadCases())
        for (const Expectation& e : c.expected)
            covered.insert(e.id);
    std::string docs = test::readFile(test::sourceDir() / "docs" / "diagnostics.md");
    for (const DiagInfo& info : diagCatalog()) {
        CAPTURE(info.id);
        CHECK(covered.count(std::string(info.id)) == 1);
        CHECK(docs.find("### " + std::string(info.id) + " " + std::string(info.name)) !=
              std::string::npos);
    }
}

TEST_CASE("catalog ids are unique and well formed") {
    std::set<std::string_view> ids, names;
    for (const DiagInfo& info : diagCatalog()) {
        CHECK(ids.insert(info.id).second);
        CHECK(names.insert(info.name).second);
        CHECK(std::regex_match(std::string(info.id), std::regex("BH\\d{4}")));
        CHECK(&diagInfo(info.code) == &info);
    }
}

TEST_CASE("a sink's empty copy keeps its severity overrides; absorb adds its findings") {
    // The analyzer's qrexec rule analysis reports into such a copy on another thread.
    DiagnosticSink sink;
    sink.overrideSeverity(DiagCode::RuleRedundant, Severity::Error);
    sink.overrideSeverity(DiagCode::UnusedWaiver, std::nullopt); // off
    sink.report(DiagCode::CouldNotProve, {}, "first");
    DiagnosticSink beside = sink.emptyCopy();
    CHECK(beside.errorCount() == 0);
    CHECK(beside.sorted().empty());
    beside.report(DiagCode::RuleRedundant, {}, "second"); // an error, through the override
    beside.report(DiagCode::UnusedWaiver, {}, "silenced");
    sink.absorb(std::move(beside));
    CHECK(sink.errorCount() == 2);
    std::vector<Diagnostic> out = sink.sorted();
    REQUIRE(out.size() == 2);
    std::set<std::string> messages{out[0].message, out[1].message};
    CHECK(messages == std::set<std::string>{"first", "second"});
    for (const Diagnostic& d : out)
        CHECK(d.severity == Severity::Error);
}
