#include "test_support.h"

#include "cli.h"

#include "bulkhead/backends/net_plan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace bulkhead::test {

const std::string kSmallPolicyHead = R"(policy "t";
trust low = red < mid = yellow < high = blue;
template tpl { trust high; }
qube a { template tpl; trust low; }
qube b { template tpl; trust mid; }
)";
namespace fs = std::filesystem;

fs::path sourceDir() {
    return BULKHEAD_SOURCE_DIR;
}

std::vector<fs::path> examplePolicies() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(sourceDir() / "policies"))
        if (e.path().extension() == ".bh")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

TempDir::TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("bulkhead-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
}

fs::path TempDir::write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

bool Checked::has(DiagCode code) const {
    return std::any_of(diagnostics.begin(), diagnostics.end(),
                       [&](const Diagnostic& d) { return d.code == code; });
}

Checked checkFiles(const std::vector<std::string>& paths) {
    SourceManager sources;
    DiagnosticSink sink;
    FrontendResult r = runFrontend(paths, sources, sink);
    Checked out;
    out.frontEndErrors = sink.errorCount();
    out.policy = std::move(r.policy);
    if (out.policy) {
        out.analysis = analyzer::analyze(*out.policy, {}, sink); // no baseline
        backends::reportNetPlanProblems(*out.policy, sink);
    }
    out.diagnostics = sink.sorted();
    std::ostringstream s;
    renderDiagnostics(s, sources, out.diagnostics, {false});
    for (FileId f = 0; f < sources.size(); ++f)
        out.files.push_back(sources.file(f).path);
    out.rendered = s.str();
    return out;
}

Checked checkText(const std::string& text) {
    TempDir dir;
    fs::path p = dir.write("policy.bh", text);
    return checkFiles({p.string()});
}

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::map<std::string, std::string> readTree(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::string root = sourceDir().string() + "/";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file())
            continue;
        std::string text = readFile(e.path());
        for (std::size_t at; (at = text.find(root)) != std::string::npos;)
            text.erase(at, root.size());
        out[fs::relative(e.path(), dir).string()] = text;
    }
    return out;
}

void matchGolden(const fs::path& golden, const std::map<std::string, std::string>& files,
                 const std::set<std::string>& ignore) {
    if (std::getenv("BULKHEAD_UPDATE_GOLDEN") != nullptr) {
        fs::remove_all(golden);
        for (const auto& [rel, text] : files) {
            fs::create_directories((golden / rel).parent_path());
            std::ofstream(golden / rel, std::ios::binary) << text;
        }
        return;
    }
    REQUIRE(fs::is_directory(golden));
    std::map<std::string, std::string> expected = readTree(golden);
    for (const auto& [rel, text] : expected) {
        CAPTURE(rel);
        REQUIRE(files.count(rel) == 1);
        if (!ignore.count(rel))
            CHECK(files.at(rel) == text);
    }
    CHECK(files.size() == expected.size());
}

CliResult runCli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = cli::run(args, out, err);
    return {code, out.str(), err.str()};
}

} // namespace bulkhead::test
