// bulkhead diff on pairs of example policies: golden text and JSON for a layout-only change,
// an opened escape path, a closed flow, a changed port and an added qube; packet classes
// proven with Z3; directories and git revisions as inputs.
#include "test_support.h"

#include "process.h"

#include "bulkhead/analyzer/net_diff.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

std::string example(const std::string& name) {
    return test::readFile(test::sourceDir() / "policies" / name);
}

std::string workstation() {
    return example("workstation.bh");
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Before the first rpc rule, so that first match sees the line.
std::string withRpcRule(const std::string& text, const std::string& line) {
    std::string out = text;
    return out.insert(out.find("\nrpc ") + 1, line + "\n");
}

test::CliResult diff(const fs::path& a, const fs::path& b, const std::string& format = "text") {
    return test::runCli({"diff", "--no-baseline", "--format", format, a.string(), b.string()});
}

std::optional<model::Policy> policyOf(const std::string& text) {
    test::Checked c = test::checkText(text);
    return c.policy;
}

// a (low) and b (high), both online: the start of the small policies below.
const std::string kTwoQubes = R"(policy "p";
trust low = red < high = blue;
template t { trust high; }
netvm net { template t; trust low; }
qube a { template t; trust low; netvm net; }
qube b { template t; trust high; netvm net; }
)";

struct GoldenCase {
    const char* name;
    const char* example;
    std::string (*change)(const std::string&);
};

const GoldenCase kGoldenCases[] = {
    {"layout-only", "workstation.bh",
     [](const std::string& t) {
         return replaced(t, "rpc qubes.Gpg work -> vault allow;",
                         "rpc   qubes.Gpg\n    work  ->  vault   allow ; # moved");
     }},
    {"escape-opened", "workstation.bh",
     [](const std::string& t) {
         return withRpcRule(t, "rpc qubes.VMShell personal -> vault allow;");
     }},
    {"flow-closed", "workstation.bh",
     [](const std::string& t) { return replaced(t, "allow personal -> internet : http;\n", ""); }},
    {"port-changed", "workstation.bh",
     [](const std::string& t) {
         return replaced(t, "service ssh = tcp/22;", "service ssh = tcp/2222;");
     }},
    {"qube-added", "k8s-lab.bh",
     [](const std::string& t) {
         return t + "qube scratch { template fedora-40; trust admin; netvm sys-firewall; "
                    "ip 10.137.0.99; }\nallow scratch -> k8s-w1 : tcp/8080;\n";
     }},
};

} // namespace

TEST_CASE("diff: golden text and JSON over pairs of example policies, the same twice") {
    for (const GoldenCase& c : kGoldenCases) {
        CAPTURE(c.name);
        test::TempDir tmp;
        std::string before = example(c.example);
        fs::path oldFile = tmp.write("old.bh", before);
        fs::path newFile = tmp.write("new.bh", c.change(before));
        std::map<std::string, std::string> outputs;
        for (const char* format : {"text", "json"}) {
            test::CliResult first = diff(oldFile, newFile, format);
            test::CliResult second = diff(oldFile, newFile, format);
            INFO(first.err);
            REQUIRE(first.exitCode <= 1);
            CHECK(first.out == second.out); // deterministic, Z3 included
            std::string text = first.out;
            std::string dir = tmp.path().string() + "/";
            for (std::size_t at; (at = text.find(dir)) != std::string::npos;)
                text.erase(at, dir.size());
            outputs[std::string("diff.") + (std::string(format) == "text" ? "txt" : "json")] =
                text + (std::string(format) == "text"
                            ? "# exit " + std::to_string(first.exitCode) + "\n"
                            : "");
        }
        outputs["old.bh"] = before;
        outputs["new.bh"] = c.change(before);
        test::matchGolden(test::sourceDir() / "tests/golden/diff" / c.name, outputs);
    }
}

TEST_CASE("diff: the same meaning, whatever the layout, is no semantic change") {
    test::TempDir tmp;
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    CHECK(diff(ws, ws).out.find("no semantic change") != std::string::npos);
    fs::path moved = tmp.write("moved.bh", kGoldenCases[0].change(workstation()));
    test::CliResult r = diff(ws, moved);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("no semantic change") != std::string::npos);
    nlohmann::json j = nlohmann::json::parse(diff(ws, moved, "json").out);
    CHECK(j["semantic_change"] == false);
    CHECK(j["changes"].empty());
    // The flows were compared, not skipped: the pairs some allow names (seven senders and
    // the disposables of dvm, each to the outside).
    CHECK(j["proof"]["net_pairs"] == 8);
}

TEST_CASE("diff: a new rule that opens an escape path is an error with its lines") {
    test::TempDir tmp;
    fs::path opened = tmp.write(
        "opened.bh", withRpcRule(workstation(), "rpc qubes.VMShell personal -> vault allow;"));
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    test::CliResult r = diff(ws, opened);
    CHECK(r.exitCode == 1);
    CHECK(r.out.find("error [rpc] opened: was deny, now allow vault") != std::string::npos);
    CHECK(r.out.find("e.g. qubes.VMShell from personal to vault") != std::string::npos);
    CHECK(r.out.find("new: " + opened.string() + ":") != std::string::npos);
    CHECK(r.out.find("error [escape-path] new escape path: personal => vault") !=
          std::string::npos);
    test::CliResult back = diff(opened, ws);
    CHECK(back.exitCode == 0);
    CHECK(back.out.find("note [escape-path] escape path gone: personal => vault") !=
          std::string::npos);

    nlohmann::json j = nlohmann::json::parse(diff(ws, opened, "json").out);
    CHECK(j["semantic_change"] == true);
    CHECK(j["changes"][0]["severity"] == "error");
    CHECK(j["changes"][0]["kind"] == "rpc");
    CHECK(j["changes"][0]["new"][0]["file"] == opened.string());
}

TEST_CASE("diff: a removed flow is closed as packet classes around the deny carve-out") {
    test::TempDir tmp;
    fs::path closed =
        tmp.write("closed.bh", replaced(workstation(), "allow personal -> internet : http;\n", ""));
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    test::CliResult r = diff(ws, closed);
    INFO(r.out);
    CHECK(r.exitCode == 0);
    // internet is 0.0.0.0/0 and ::/0, minus corp (deny personal -> corp : any): IPv4 on
    // either side of 198.51.100.0/24, and all of IPv6.
    CHECK(r.out.find("note [net] closed: tcp port 80 from personal to "
                     "0.0.0.0-198.51.99.255 (internet)") != std::string::npos);
    CHECK(r.out.find("note [net] closed: tcp port 80 from personal to "
                     "198.51.101.0-255.255.255.255 (internet)") != std::string::npos);
    CHECK(r.out.find("note [net] closed: tcp port 80 from personal to any IPv6 address") !=
          std::string::npos);
    CHECK(r.out.find("old: " + ws.string() + ":119") != std::string::npos);
    test::CliResult back = diff(closed, ws);
    CHECK(back.out.find("warning [net] opened: tcp port 80 from personal to "
                        "0.0.0.0-198.51.99.255 (internet)") != std::string::npos);
}

TEST_CASE("net differences: classes cover the difference exactly, each with its lines") {
    std::string base = kTwoQubes + "network out = 10.0.0.0/8;\n";
    std::optional<model::Policy> older =
        policyOf(base + "allow a -> out : tcp/1-1000;\ndeny a -> 10.1.0.0/16 : any;\n"
                        "allow b -> out : tcp/1-1000;\n");
    std::optional<model::Policy> newer =
        policyOf(base + "allow a -> out : tcp/1-1000;\nallow b -> out : tcp/1-2000;\n");
    REQUIRE(older);
    REQUIRE(newer);
    analyzer::NetComparison c = analyzer::compareNetFlows(*older, *newer);
    REQUIRE(!c.unknown);
    // Only opened: nothing the old one permits is lost. a: where the deny carved out;
    // b: the ports added.
    REQUIRE(c.differences.size() == 2);
    const analyzer::NetDifference& a = c.differences[0];
    const analyzer::NetDifference& b = c.differences[1];
    CHECK((a.opened && b.opened && a.from == "a" && b.from == "b"));
    CHECK((a.toOutside && b.toOutside && !a.fromOutside));
    REQUIRE(a.classes.size() == 1);
    REQUIRE(b.classes.size() == 1);
    CHECK(a.classes[0].text == "tcp ports 1-1000 from a to 10.1.0.0/16 (out)");
    CHECK(a.classes[0].example == "tcp port 1 from a to 10.1.0.0 (out)");
    CHECK(b.classes[0].text == "tcp ports 1001-2000 from b to 10.0.0.0/8 (out)");
    // The lines: the old deny and the new allow for a; for b only the new allow (the old
    // policy has no line that matches port 1001).
    REQUIRE(a.classes[0].oldLines.size() == 1);
    CHECK(a.classes[0].oldLines[0].begin.line == 9);
    REQUIRE(a.classes[0].newLines.size() == 1);
    CHECK(a.classes[0].newLines[0].begin.line == 8);
    CHECK(b.classes[0].oldLines.empty());
    REQUIRE(b.classes[0].newLines.size() == 1);
    CHECK(b.classes[0].newLines[0].begin.line == 9);

    // The same meaning in other words: no difference, proven over every packet.
    std::optional<model::Policy> same = policyOf(
        base + "service lo = tcp/1-500;\nservice mid = tcp/501-1000;\n"
               "service hi = tcp/1001-2000;\n"
               "allow b -> out : lo, mid, hi;\nallow a -> 10.0.0.0/9, 10.128.0.0/9 : lo, mid;\n");
    REQUIRE(same);
    analyzer::NetComparison none = analyzer::compareNetFlows(*newer, *same);
    CHECK(!none.unknown);
    CHECK(none.differences.empty());
    CHECK(none.pairs == 2);
    CHECK(none.queries >= 4); // each pair, each direction: unsat
}

TEST_CASE("net differences: more classes than asked for are cut off, and it says so") {
    std::optional<model::Policy> ws = policyOf(workstation());
    std::optional<model::Policy> closed =
        policyOf(replaced(workstation(), "allow personal -> internet : http;\n", ""));
    REQUIRE(ws);
    REQUIRE(closed);
    analyzer::NetComparison all = analyzer::compareNetFlows(*ws, *closed);
    REQUIRE(all.differences.size() == 1);
    CHECK(all.differences[0].classes.size() == 3); // IPv4 below and above corp, IPv6
    CHECK(!all.differences[0].truncated);
    analyzer::NetComparison two = analyzer::compareNetFlows(*ws, *closed, 50'000'000, 2);
    REQUIRE(two.differences.size() == 1);
    CHECK(two.differences[0].classes.size() == 2);
    CHECK(two.differences[0].truncated);
}

TEST_CASE("diff: directories are policies of their sorted *.bh files") {
    test::TempDir tmp;
    fs::create_directories(tmp.path() / "old");
    fs::create_directories(tmp.path() / "new");
    std::string text = workstation();
    std::size_t split = text.find("\n# Network flows");
    REQUIRE(split != std::string::npos);
    // The old policy in one file, the new one in two: the same meaning.
    tmp.write("old/all.bh", text);
    tmp.write("new/a.bh", text.substr(0, split + 1));
    tmp.write("new/b.bh", text.substr(split + 1));
    tmp.write("new/notes.txt", "not a policy");
    test::CliResult r = diff(tmp.path() / "old", tmp.path() / "new");
    INFO(r.err);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("no semantic change") != std::string::npos);
    fs::create_directories(tmp.path() / "empty");
    test::CliResult empty = diff(tmp.path() / "old", tmp.path() / "empty");
    CHECK(empty.exitCode == 2);
    CHECK(empty.err.find("holds no *.bh file") != std::string::npos);
}

TEST_CASE("diff --git: the old side as of a revision, named REV:path") {
    test::TempDir tmp;
    fs::path repo = tmp.path() / "repo";
    fs::create_directories(repo / "policies");
    auto git = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"git", "-C", repo.string(), "-c", "user.name=t", "-c",
                                   "user.email=t@example.invalid", "-c", "commit.gpgsign=false"});
        cli::ProcessResult r = cli::runProcess(args);
        INFO(r.err);
        REQUIRE(r.exitCode == 0);
    };
    std::ofstream(repo / "policies/ws.bh") << workstation();
    git({"init", "-q"});
    git({"add", "-A"});
    git({"commit", "-q", "-m", "base"});
    std::ofstream(repo / "policies/ws.bh")
        << withRpcRule(workstation(), "rpc qubes.VMShell personal -> vault allow;");
    std::string dir = (repo / "policies").string();

    test::CliResult r = test::runCli({"diff", "--no-baseline", "--git", "HEAD", dir});
    INFO(r.err);
    CHECK(r.exitCode == 1);
    CHECK(r.out.find("old: HEAD:" + dir + "/ws.bh:") != std::string::npos);
    CHECK(r.out.find("new: " + dir + "/ws.bh:") != std::string::npos);
    // A file the revision does not have: its diagnostic names REV:path.
    std::ofstream(repo / "policies/extra.bh") << "policy \"x\";\n";
    test::CliResult missing = test::runCli(
        {"diff", "--no-baseline", "--git", "HEAD", (repo / "policies/extra.bh").string()});
    CHECK(missing.exitCode == 2);
    CHECK(missing.err.find("HEAD:" + (repo / "policies/extra.bh").string()) != std::string::npos);

    // Imports of the old side come from the revision too: one broken there, fixed in the
    // working tree, fails as REV:path.
    fs::create_directories(repo / "policies/lib");
    std::string text = workstation();
    std::size_t split = text.find("\n# Network flows") + 1;
    std::ofstream(repo / "policies/lib/base.bh") << text.substr(0, split) << "garbage\n";
    std::ofstream(repo / "policies/main.bh") << "import \"lib/base.bh\";\n" << text.substr(split);
    git({"add", "-A"});
    git({"commit", "-q", "-m", "broken import"});
    std::ofstream(repo / "policies/lib/base.bh") << text.substr(0, split);
    test::CliResult imported = test::runCli(
        {"diff", "--no-baseline", "--git", "HEAD", (repo / "policies/main.bh").string()});
    CHECK(imported.exitCode == 2);
    CHECK(imported.err.find("HEAD:" + (repo / "policies/lib/base.bh").string() + ":") !=
          std::string::npos);

    for (const char* rev : {"no-such-branch", "--output=/tmp/x", "a b", "HEAD:x"}) {
        CAPTURE(rev);
        test::CliResult bad =
            test::runCli({"diff", "--no-baseline", std::string("--git=") + rev, dir});
        CHECK(bad.exitCode == 2);
        CHECK(bad.err.find("--git") != std::string::npos);
    }
    // No git on PATH: said so, exit 2.
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    setenv("PATH", (tmp.path() / "nothing-here").c_str(), 1);
    test::CliResult noGit = test::runCli({"diff", "--git", "HEAD", dir});
    setenv("PATH", path.c_str(), 1);
    CHECK(noGit.exitCode == 2);
    CHECK(noGit.err.find("--git needs git on PATH") != std::string::npos);

    fs::create_directories(tmp.path() / "plain");
    std::ofstream(tmp.path() / "plain/ws.bh") << workstation();
    test::CliResult outside =
        test::runCli({"diff", "--git", "HEAD", (tmp.path() / "plain/ws.bh").string()});
    CHECK(outside.exitCode == 2);
    CHECK(outside.err.find("not in a git repository") != std::string::npos);
}

TEST_CASE("check --each: each file its own policy, the worst exit code") {
    test::TempDir tmp;
    fs::path clean = tmp.write("clean.bh", workstation());
    fs::path other = tmp.write("other.bh", replaced(workstation(), "policy \"", "policy \"x"));
    fs::path bad = tmp.write(
        "bad.bh", withRpcRule(workstation(), "rpc qubes.VMShell personal -> vault allow;"));
    // Together they are one policy with three headers: bad input.
    CHECK(test::runCli({"check", "--no-baseline", clean.string(), other.string()}).exitCode == 2);
    CHECK(test::runCli({"check", "--no-baseline", "--each", clean.string(), other.string()})
              .exitCode == 0);
    test::CliResult r = test::runCli(
        {"check", "--no-baseline", "--each", clean.string(), bad.string(), other.string()});
    CHECK(r.exitCode == 1);
    CHECK(r.err.find(bad.string()) != std::string::npos);
    CHECK(test::runCli({"check", "--each", "--format", "json", clean.string()}).exitCode == 2);
}

TEST_CASE("diff: a data direction that changes the influence, not the packets, is reported") {
    test::TempDir tmp;
    std::string text = kTwoQubes + "service sync = tcp/873 data push;\nallow b -> a : sync;\n";
    fs::path push = tmp.write("push.bh", text);
    fs::path both = tmp.write("both.bh", replaced(text, "data push", "data both"));
    test::CliResult r = diff(push, both);
    CHECK(r.exitCode == 1); // a (low) now writes into b (high)
    CHECK(r.out == "error [net] opened: data from a to b over the same packets (a service's "
                   "data direction changed)\n");
    CHECK(diff(both, push).out.find("note [net] closed: data from a to b") != std::string::npos);
}
