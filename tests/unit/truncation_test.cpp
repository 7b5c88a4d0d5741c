// Truncating an example at every byte offset never crashes, hangs or aborts: the CLI
// exits 0, 1 or 2, and an exit 2 always names file:line:col.
#include "test_support.h"

#include <doctest/doctest.h>

#include <regex>

namespace fs = std::filesystem;
using namespace bulkhead;

TEST_CASE("check survives every truncation of an example policy") {
    fs::path source = test::sourceDir() / "tests" / "data" / "design-sketch.bh";
    std::string text = test::readFile(source);
    REQUIRE(text.size() > 1000);
    test::TempDir dir;
    fs::path p = dir.path() / "cut.bh";
    std::regex located(
        std::regex_replace(p.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
        R"(:\d+:\d+: error\[BH\d{4}\])");
    std::size_t byExit[4] = {0, 0, 0, 0};
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        dir.write("cut.bh", text.substr(0, cut));
        test::CliResult r = test::runCli({"check", p.string()});
        CAPTURE(cut);
        CAPTURE(r.err);
        REQUIRE((r.exitCode == 0 || r.exitCode == 1 || r.exitCode == 2));
        ++byExit[r.exitCode];
        if (r.exitCode == 2)
            REQUIRE(std::regex_search(r.err, located));
    }
    // The walk really exercised both outcomes.
    CHECK(byExit[2] > 100);
    CHECK(byExit[0] + byExit[1] > 0);
    MESSAGE("offsets: " << text.size() + 1 << ", exit 0: " << byExit[0] << ", exit 1: " << byExit[1]
                        << ", exit 2: " << byExit[2]);
}
