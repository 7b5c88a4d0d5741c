// The command line as a user meets it: exit codes, help, version, fmt's writing rules.
#include "test_support.h"

#include <doctest/doctest.h>

#include "bulkhead/compiler/parse.h"

#include <sstream>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {
const char* kClean = "policy \"p\";\ntrust low < high;\ntemplate deb { trust high; }\n";
}

TEST_CASE("check: exit 0 clean, 1 warnings, 2 errors; --show-model prints the policy") {
    test::TempDir dir;
    auto clean = dir.write("clean.bh", kClean);
    test::CliResult ok = test::runCli({"check", clean.string()});
    CHECK(ok.exitCode == 0);
    CHECK(ok.err.find("error[") == std::string::npos);
    CHECK(ok.err.find("warning[") == std::string::npos);
    CHECK(ok.err.find("note[BH1004]: checked without Qubes' shipped policy") != std::string::npos);

    auto warn = dir.write("warn.bh", std::string(kClean) + "network n = 10.1.0.0/8;\n");
    test::CliResult w = test::runCli({"check", warn.string()});
    CHECK(w.exitCode == 1);
    CHECK(w.err.find("warning[BH0503]") != std::string::npos);

    auto bad = dir.write("bad.bh", std::string(kClean) + "qube x { trust nope; }\n");
    test::CliResult b = test::runCli({"check", bad.string()});
    CHECK(b.exitCode == 2);
    CHECK(b.err.find(bad.string() + ":4:16: error[BH0202]") != std::string::npos);

    test::CliResult model = test::runCli({"check", "--show-model", clean.string()});
    CHECK(model.exitCode == 0);
    CHECK(model.out.find("template deb { trust high; netvm none; }") != std::string::npos);
}

TEST_CASE("usage errors exit 2; help and version exit 0") {
    CHECK(test::runCli({}).exitCode == 2);
    CHECK(test::runCli({"frobnicate"}).exitCode == 2);
    CHECK(test::runCli({"check"}).exitCode == 2);
    CHECK(test::runCli({"check", "--no-such-flag", "x.bh"}).exitCode == 2);
    test::CliResult help = test::runCli({"check", "--help"});
    CHECK(help.exitCode == 0);
    CHECK(help.out.find("--show-model") != std::string::npos);
    CHECK(test::runCli({"fmt", "--help"}).exitCode == 0);
    test::CliResult version = test::runCli({"--version"});
    CHECK(version.exitCode == 0);
    CHECK(version.out.find("ANTLR tool 4.7.2, runtime 4.9") != std::string::npos);
    CHECK(version.out.find("Z3 4.") != std::string::npos);
}

TEST_CASE("a missing or unreadable file is bad input") {
    test::TempDir dir;
    test::CliResult r = test::runCli({"check", (dir.path() / "missing.bh").string()});
    CHECK(r.exitCode == 2);
    CHECK(r.err.find("error[BH0105]") != std::string::npos);
    test::CliResult d = test::runCli({"check", dir.path().string()});
    CHECK(d.exitCode == 2);
    CHECK(d.err.find("it is a directory") != std::string::npos);
}

TEST_CASE("fmt rewrites in place, --check writes nothing, errors write nothing at all") {
    test::TempDir dir;
    auto messy = dir.write("messy.bh", "policy  \"p\" ;\n");
    auto tidy = dir.write("tidy.bh", "policy \"q\";\n");
    test::CliResult check = test::runCli({"fmt", "--check", messy.string(), tidy.string()});
    CHECK(check.exitCode == 1);
    CHECK(check.out == messy.string() + ": not formatted\n");
    CHECK(test::readFile(messy) == "policy  \"p\" ;\n");

    auto broken = dir.write("broken.bh", "policy \"p\"\nqube {\n");
    test::CliResult refused = test::runCli({"fmt", messy.string(), broken.string()});
    CHECK(refused.exitCode == 2);
    CHECK(test::readFile(messy) == "policy  \"p\" ;\n"); // nothing written, not even the good one

    test::CliResult done = test::runCli({"fmt", messy.string(), tidy.string()});
    CHECK(done.exitCode == 0);
    CHECK(test::readFile(messy) == "policy \"p\";\n");
    CHECK(test::runCli({"fmt", "--check", messy.string()}).exitCode == 0);
    // No temporary files are left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path()))
        ++files;
    CHECK(files == 3);
}

TEST_CASE("the generated parser (ANTLR tool 4.7.2) runs on the 4.9 runtime") {
    ParserVersions v = parserVersions();
    CHECK(v.tool == "4.7.2");
    CHECK(v.runtime.rfind("4.9", 0) == 0);
    SourceManager sources;
    DiagnosticSink sink;
    FileId id = sources.add("v.bh", "policy \"v\"; trust a < b;");
    ParsedFile parsed = parseFile(sources, id, sink);
    CHECK(parsed.ok);
    CHECK(parsed.ast.statements.size() == 2);
}

TEST_CASE("invalid UTF-8 is reported with its position, never passed to ANTLR") {
    test::Checked r = test::checkText("policy \"p\";\n# caf\xc3\n");
    REQUIRE(r.has(DiagCode::InvalidUtf8));
    CHECK(r.diagnostics[0].range.begin.line == 2);
    CHECK(r.diagnostics[0].range.begin.column == 6);
    CHECK(r.rendered.find('\xc3') == std::string::npos); // the snippet never echoes bad bytes
    CHECK(r.rendered.find("# caf?") != std::string::npos);
    CHECK(test::checkText("policy \"p\"; # \xed\xa0\x80 surrogate\n").has(DiagCode::InvalidUtf8));
    CHECK(test::checkText("policy \"p\"; # \xc0\xaf overlong\n").has(DiagCode::InvalidUtf8));
    CHECK(test::checkText("policy \"p\"; # caf\xc3\xa9 ok\n").policy);
}

TEST_CASE("with a baseline, a waiver that matches no edge is a warning (BH0906)") {
    test::TempDir dir;
    fs::create_directories(dir.path() / "policy.d"); // an empty but real baseline
    auto p = dir.write("p.bh", std::string(kClean) +
                                   "qube a { template deb; trust low; }\n"
                                   "qube b { template deb; trust high; }\n"
                                   "assert no path from a to b except rpc a because \"typo\";\n");
    std::string baseline = (dir.path() / "policy.d").string();
    test::CliResult r = test::runCli({"check", "--baseline", baseline, p.string()});
    CHECK(r.exitCode == 1);
    CHECK(r.err.find(p.string() + ":6:35: warning[BH0906]") != std::string::npos);
    CHECK(r.out.find("(0 rules)") != std::string::npos);
    // Without a baseline the same waiver may be for a path Qubes' defaults open: no warning.
    test::CliResult none = test::runCli({"check", "--no-baseline", p.string()});
    CHECK(none.exitCode == 0);
    CHECK(none.err.find("BH0906") == std::string::npos);
}

TEST_CASE("explain: the deciding rule and the rules it beat; a path hop by hop") {
    std::string sketch = (test::sourceDir() / "tests" / "data" / "design-sketch.bh").string();
    test::CliResult gpg =
        test::runCli({"explain", "--no-baseline", sketch, "work", "->", "vault", "qubes.Gpg"});
    CHECK(gpg.exitCode == 0);
    CHECK(gpg.out.find("qubes.Gpg from work to vault: allow -> vault") != std::string::npos);
    CHECK(gpg.out.find("design-sketch.bh:29: rpc qubes.Gpg") != std::string::npos);

    test::CliResult none =
        test::runCli({"explain", "--no-baseline", sketch, "personal->vault", "qubes.Gpg"});
    CHECK(none.exitCode == 0);
    CHECK(none.out.find("deny (no matching rule found)") != std::string::npos);

    test::CliResult path =
        test::runCli({"explain", "--no-baseline", sketch, "vault", "->", "internet"});
    CHECK(path.exitCode == 0);
    CHECK(path.out.find("vault reaches internet in 2 hops") != std::string::npos);
    CHECK(path.out.find("1. vault => work [rpc] qubes.Gpg") != std::string::npos);

    CHECK(test::runCli({"explain", "--no-baseline", sketch, "vault", "internet"}).exitCode == 2);
    CHECK(test::runCli({"explain", "--no-baseline", sketch, "nobody", "->", "vault"}).exitCode ==
          2);
}

TEST_CASE("explain: when nothing reaches, what is reached and which rules refuse the rest") {
    std::string ws = (test::sourceDir() / "policies" / "workstation.bh").string();
    test::CliResult r =
        test::runCli({"explain", "--no-baseline", ws, "offline-dvm", "->", "personal"});
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("no path from offline-dvm to personal") != std::string::npos);
    CHECK(r.out.find("offline-dvm reaches 2 nodes: @dispvm:offline-dvm offline-dvm") !=
          std::string::npos);
    // The one line that keeps banking data in: its deny decides every direct request.
    CHECK(r.out.find("workstation.bh:168: rpc * @tag:banking-data -> @anyvm deny;") !=
          std::string::npos);
    CHECK(r.out.find("e.g. qubes.ClipboardPaste from offline-dvm to personal") !=
          std::string::npos);
}

TEST_CASE("--severity changes a finding's severity; input errors cannot be changed") {
    std::string shadowed =
        (test::sourceDir() / "tests" / "diagnostics" / "BH1101-shadowed-allow.bh").string();
    CHECK(test::runCli({"check", "--no-baseline", shadowed}).exitCode == 1);
    test::CliResult off =
        test::runCli({"check", "--no-baseline", "--severity", "BH1101=off", shadowed});
    CHECK(off.exitCode == 0);
    CHECK(off.err.find("BH1101") == std::string::npos);
    test::CliResult note =
        test::runCli({"check", "--no-baseline", "--severity", "rule-shadowed=note", shadowed});
    CHECK(note.exitCode == 0);
    CHECK(note.err.find("note[BH1101]") != std::string::npos);
    std::string redundant =
        (test::sourceDir() / "tests" / "diagnostics" / "BH1105-deny-of-nothing.bh").string();
    CHECK(test::runCli({"check", "--no-baseline", "--severity", "BH1105=error", redundant})
              .exitCode == 1);
    CHECK(test::runCli({"check", "--severity", "BH0101=off", shadowed}).exitCode == 2);
    CHECK(test::runCli({"check", "--severity", "BH9999=off", shadowed}).exitCode == 2);
    CHECK(test::runCli({"check", "--severity", "BH1101", shadowed}).exitCode == 2);
}

TEST_CASE("explain a packet: the allows and denies that match it") {
    std::string k8s = (test::sourceDir() / "policies" / "k8s-lab.bh").string();
    test::CliResult etcd =
        test::runCli({"explain", "--no-baseline", k8s, "k8s-w1", "->", "k8s-cp1", "tcp/2379"});
    CHECK(etcd.exitCode == 0);
    CHECK(etcd.out.find("tcp/2379 from k8s-w1 to k8s-cp1: not permitted") != std::string::npos);
    CHECK(etcd.out.find("denied by") != std::string::npos);
    test::CliResult api =
        test::runCli({"explain", "--no-baseline", k8s, "k8s-w1", "->", "k8s-cp1", "tcp/6443"});
    CHECK(api.out.find("tcp/6443 from k8s-w1 to k8s-cp1: permitted") != std::string::npos);
    CHECK(api.out.find("allowed by") != std::string::npos);
    CHECK(test::runCli({"explain", "--no-baseline", k8s, "k8s-w1", "->", "k8s-cp1", "tcp/99999"})
              .exitCode == 2);
}

TEST_CASE("explain a packet to one address: qubes by their ip, networks by their prefixes") {
    std::string ws = (test::sourceDir() / "policies" / "workstation.bh").string();
    auto ask = [&](const char* to, const char* packet) {
        return test::runCli({"explain", "--no-baseline", ws, "personal", "->", to, packet});
    };
    // internet minus corp: the deny takes away only corp's addresses.
    CHECK(ask("8.8.8.8", "tcp/443").out.find("tcp/443 from personal to 8.8.8.8: permitted") !=
          std::string::npos);
    test::CliResult corp = ask("198.51.100.7", "tcp/443");
    CHECK(corp.out.find(": not permitted") != std::string::npos);
    CHECK(corp.out.find("denied by") != std::string::npos);
    // A qube's address is that qube, and no network stands for it; nor for the disposables range.
    CHECK(ask("10.137.0.10", "tcp/443").out.find(": not permitted") != std::string::npos);
    CHECK(ask("10.138.7.7", "tcp/443").out.find(": not permitted") != std::string::npos);
    CHECK(ask("10.137.0.0/16", "tcp/443").exitCode == 2); // a prefix is not one address
}

TEST_CASE("explain --batch: one answer per question line, in order") {
    std::string k8s = (test::sourceDir() / "policies" / "k8s-lab.bh").string();
    test::TempDir dir;
    auto questions = dir.write("q.txt", "# kubectl\n"
                                        "k8s-admin -> k8s-cp1 tcp/6443\n"
                                        "\n"
                                        "k8s-w1 -> 10.137.0.11 tcp/2379\n"
                                        "k8s-w1 -> 10.138.0.32 udp/8472\n");
    test::CliResult r =
        test::runCli({"explain", "--no-baseline", k8s, "--batch", questions.string()});
    CHECK(r.exitCode == 0);
    std::size_t a = r.out.find("tcp/6443 from k8s-admin to k8s-cp1: permitted");
    std::size_t b = r.out.find("tcp/2379 from k8s-w1 to 10.137.0.11: not permitted");
    std::size_t c = r.out.find("udp/8472 from k8s-w1 to 10.138.0.32: permitted");
    CHECK(a < b);
    CHECK(b < c);
    CHECK(c != std::string::npos);
    auto bad = dir.write("bad.txt", "k8s-admin -> k8s-cp1 tcp/6443\nk8s-admin k8s-cp1\n");
    test::CliResult rb = test::runCli({"explain", "--no-baseline", k8s, "--batch", bad.string()});
    CHECK(rb.exitCode == 2);
    CHECK(rb.err.find("bad.txt:2:") != std::string::npos);
    CHECK(test::runCli({"explain", "--no-baseline", k8s, "--batch", questions.string(), "a->b"})
              .exitCode == 2);
    CHECK(test::runCli(
              {"explain", "--no-baseline", k8s, "--batch", (dir.path() / "missing.txt").string()})
              .exitCode == 2);
}

TEST_CASE("explain --net-witnesses: every net edge's witness packet, one JSON object a line") {
    std::string ws = (test::sourceDir() / "policies" / "workstation.bh").string();
    test::CliResult r = test::runCli({"explain", "--no-baseline", ws, "--net-witnesses"});
    CHECK(r.exitCode == 0);
    std::size_t lines = 0;
    for (char c : r.out)
        lines += c == '\n';
    CHECK(lines == 34); // 17 packets; every service here moves data both ways: two edges each
    CHECK(test::runCli({"explain", "--no-baseline", ws, "--net-witnesses"}).out == r.out);
    std::string wireguard =
        R"j({"from":"sys-vpn","to":"corp-vpn-gw","sender":"sys-vpn","receiver":"corp-vpn-gw",)j"
        R"j("source":"10.137.0.9","destination":"203.0.113.7","protocol":"udp","port":51820,)j"
        R"j("detail":"udp port 51820 from sys-vpn to corp-vpn-gw (203.0.113.7)","flow":")j" +
        ws + R"j(:126: allow sys-vpn -> corp-vpn-gw : wireguard;"})j";
    CHECK(r.out.find(wireguard + "\n") != std::string::npos);
    // The reverse edge of a `data both` service carries the same packet.
    CHECK(r.out.find(R"j({"from":"corp-vpn-gw","to":"sys-vpn","sender":"sys-vpn",)j") !=
          std::string::npos);
    // A deny carves corp out of personal's internet: Z3 picks the packet, and an address one
    // can send to (IPv4, not 0.0.0.0 or ::).
    CHECK(r.out.find(R"j("receiver":"internet","source":"10.137.0.11","destination":"1.0.0.0",)j"
                     R"j("protocol":"tcp","port":443,)j") != std::string::npos);
    // A flow naming a dispvm-template covers its disposables, which have no `ip` of their own.
    CHECK(r.out.find(R"j({"from":"@dispvm:dvm","to":"internet","sender":"@dispvm:dvm",)j"
                     R"j("receiver":"internet","source":"","destination":"1.0.0.0",)j") !=
          std::string::npos);
    CHECK(
        test::runCli({"explain", "--no-baseline", ws, "--net-witnesses", "work->vault"}).exitCode ==
        2);
}

TEST_CASE("a long source line is shown as a window with the caret under the culprit") {
    std::string names;
    for (int i = 0; i < 60; ++i)
        names += "known" + std::to_string(i) + ", ";
    std::string text = "policy \"p\";\nnetwork known0 = 10.0.0.0/8;\n";
    for (int i = 1; i < 60; ++i)
        text += "network known" + std::to_string(i) + " = 10." + std::to_string(i) + ".0.0/16;\n";
    text += "network all = " + names + "missing9, known1;\n";
    test::Checked r = test::checkText(text);
    std::istringstream lines(r.rendered);
    std::string line, snippet, carets;
    while (std::getline(lines, line))
        if (line.find("missing9") != std::string::npos && line.find(" | ") != std::string::npos) {
            snippet = line;
            std::getline(lines, carets);
            break;
        }
    REQUIRE(!snippet.empty());
    CHECK(snippet.size() < 200); // a window, not the 700-character line
    CHECK(snippet.find("...") != std::string::npos);
    CHECK(carets.find('^') == snippet.find("missing9")); // the caret sits under the name
}
