// bulkhead diff on pairs of example policies: no change, a layout-only change, a closed
// flow, and an opened escape path; text and JSON.
#include "test_support.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

std::string workstation() {
    return test::readFile(test::sourceDir() / "policies" / "workstation.bh");
}

test::CliResult diff(const fs::path& a, const fs::path& b, const std::string& format = "text") {
    return test::runCli({"diff", "--no-baseline", "--format", format, a.string(), b.string()});
}

} // namespace

TEST_CASE("diff: the same meaning, whatever the layout, is no semantic change") {
    test::TempDir tmp;
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    CHECK(diff(ws, ws).out.find("no semantic change") != std::string::npos);
    // Re-laid-out and re-commented: tokens move, meaning does not.
    std::string text = workstation();
    std::string line = "rpc qubes.Gpg work -> vault allow;";
    text.replace(text.find(line), line.size(),
                 "rpc   qubes.Gpg\n    work  ->  vault   allow ; # moved");
    fs::path moved = tmp.write("moved.bh", text);
    test::CliResult r = diff(ws, moved);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("no semantic change") != std::string::npos);
    nlohmann::json j = nlohmann::json::parse(diff(ws, moved, "json").out);
    CHECK(j["semantic_change"] == false);
    CHECK(j["changes"].empty());
}

TEST_CASE("diff: a new rule that opens an escape path is an error with its lines") {
    test::TempDir tmp;
    std::string text = workstation();
    std::size_t at = text.find("\nrpc ") + 1; // before every rpc rule: first match sees it
    text.insert(at, "rpc qubes.VMShell personal -> vault allow;\n");
    fs::path opened = tmp.write("opened.bh", text);
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    test::CliResult r = diff(ws, opened);
    CHECK(r.exitCode == 1);
    CHECK(r.out.find("error [rpc] opened: was deny, now allow vault") != std::string::npos);
    CHECK(r.out.find("e.g. qubes.VMShell from personal to vault") != std::string::npos);
    CHECK(r.out.find("new: " + opened.string() + ":") != std::string::npos);
    CHECK(r.out.find("error [escape-path] new escape path: personal => vault") !=
          std::string::npos);
    // The other way round the path is gone: a note, and nothing blocks.
    test::CliResult back = diff(opened, ws);
    CHECK(back.exitCode == 0);
    CHECK(back.out.find("note [escape-path] escape path gone: personal => vault") !=
          std::string::npos);

    nlohmann::json j = nlohmann::json::parse(diff(ws, opened, "json").out);
    CHECK(j["semantic_change"] == true);
    CHECK(j["changes"][0]["severity"] == "error");
    CHECK(j["changes"][0]["kind"] == "rpc");
}

TEST_CASE("diff: a removed flow is closed; adding it back opens it to the internet") {
    test::TempDir tmp;
    std::string text = workstation();
    std::string line = "allow personal -> internet : http;\n";
    text.erase(text.find(line), line.size());
    fs::path closed = tmp.write("closed.bh", text);
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    test::CliResult r = diff(ws, closed);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("note [net] closed: http between internet and personal") != std::string::npos);
    test::CliResult back = diff(closed, ws);
    CHECK(back.out.find("warning [net] opened: http between internet and personal") !=
          std::string::npos);
}
