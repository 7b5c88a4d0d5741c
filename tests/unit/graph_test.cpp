// bulkhead graph: the DOT drawing of the influence graph (docs/graph.md).
#include "test_support.h"

#include <doctest/doctest.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

// web (red, behind sys-net) may copy files into vault (blue): an escape path.
const char* kPolicy = R"(policy "g";
trust low = red < mid = yellow < high = blue;
template tpl { trust high; }
netvm sys-net { template tpl; trust low; }
qube web { template tpl; trust low; netvm sys-net; }
qube vault { template tpl; trust high; netvm none; }
rpc qubes.Filecopy web -> vault allow;
rpc qubes.OpenInVM web -> vault allow;
rpc qubes.ClipboardPaste vault -> web ask;
assert no path from web to vault;
assert no path from vault to sys-net via net;
)";

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("graph: nodes by trust label, netvm clusters, edge styles, the escape path in red") {
    test::TempDir dir;
    std::string policy = dir.write("g.bh", kPolicy).string();
    test::CliResult r = test::runCli({"graph", "--no-baseline", policy});
    INFO(r.err);
    INFO(r.out);
    REQUIRE(r.exitCode == 0);
    const std::string& dot = r.out;
    CHECK(dot.starts_with("digraph "));
    // Qubes' label colours on the trust levels.
    CHECK(has(dot, R"("web" [label="web\nlow", shape=box, style="rounded,filled", )"
                   R"(fillcolor="#cc0000")"));
    CHECK(has(dot, R"("vault" [label="vault\nhigh", shape=box, style="rounded,filled", )"
                   R"(fillcolor="#3465a4")"));
    CHECK(has(dot, R"("sys-net" [label="sys-net\nlow", shape=hexagon)"));
    CHECK(has(dot, R"("tpl" [label="tpl\nhigh", shape=box3d)"));
    // web sits in its netvm's cluster.
    std::size_t cluster = dot.find(R"(subgraph "cluster_netvm_sys-net" {)");
    REQUIRE(cluster != std::string::npos);
    std::size_t web = dot.find(R"("web" [label=)");
    std::size_t close = dot.find("  }\n", cluster);
    CHECK(cluster < web);
    CHECK(web < close);
    // Two calls web => vault collapse into one rpc edge, on the escape path: bold red.
    CHECK(has(dot, R"("web" -> "vault" [color="#ef2929", fontcolor="#a40000", penwidth=3.5, )"
                   R"(style=bold, arrowhead=normal, label="escape 1: qubes.Filecopy, )"
                   R"(qubes.OpenInVM")"));
    // The ask call back is dashed; templates dotted; the netvm link one edge with two heads.
    CHECK(has(dot, R"("vault" -> "web" [color="#c17d11", fontcolor="#c17d11", style="dashed", )"
                   R"(arrowhead=open, label="qubes.ClipboardPaste")"));
    CHECK(has(dot, R"("tpl" -> "web" [color="#888a85", fontcolor="#888a85", style="dotted")"));
    CHECK(has(dot, R"("sys-net" -> "web" [color="#2e3436", fontcolor="#2e3436", )"
                   R"(style="solid", arrowhead=none, dir=both)"));
    CHECK(has(dot, "escape 1 (bold red): web => vault"));
    // The legend names every kind; the edges out of dom0 are left out, and counted.
    for (const char* kind : {"net", "rpc allow", "rpc ask", "template", "dispvm-template", "netvm",
                             "device", "admin", "escape path"})
        CHECK(has(dot, std::string("label=\"") + kind + "\""));
    CHECK_FALSE(has(dot, R"("dom0" -> "web")"));
    CHECK(has(dot, "edges out are not drawn"));

    test::CliResult all = test::runCli({"graph", "--no-baseline", "--all", policy});
    CHECK(all.exitCode == 0);
    CHECK(has(all.out, R"("dom0" -> "web" [color="#000000")"));
    CHECK_FALSE(has(all.out, "edges out are not drawn"));
}

TEST_CASE("graph: deterministic; -o writes the file; --svg runs Graphviz") {
    test::TempDir dir;
    std::string policy = dir.write("g.bh", kPolicy).string();
    test::CliResult one = test::runCli({"graph", "--no-baseline", policy});
    test::CliResult two = test::runCli({"graph", "--no-baseline", policy});
    REQUIRE(one.exitCode == 0);
    CHECK(one.out == two.out);

    fs::path file = dir.path() / "g.dot";
    CHECK(test::runCli({"graph", "--no-baseline", policy, "-o", file.string()}).exitCode == 0);
    CHECK(test::readFile(file) == one.out);

    CHECK(test::runCli({"graph", "--svg", "--png", policy}).exitCode == 2);
    if (!fs::exists("/usr/bin/dot")) {
        WARN_MESSAGE(false, "Graphviz's dot is missing (scripts/install-deps.sh installs it)");
        return;
    }
    fs::path svg = dir.path() / "g.svg";
    test::CliResult r =
        test::runCli({"graph", "--no-baseline", "--svg", policy, "-o", svg.string()});
    INFO(r.err);
    CHECK(r.exitCode == 0);
    std::string text = test::readFile(svg);
    CHECK(has(text, "<svg"));
    CHECK(has(text, "escape 1"));
    CHECK(test::runCli({"graph", "--no-baseline", "--svg", policy}).out.find("<svg") !=
          std::string::npos);
}
