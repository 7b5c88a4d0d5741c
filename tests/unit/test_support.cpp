#include "test_support.h"

#include "cli.h"

#include "bulkhead/backends/net_plan.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace bulkhead::test {
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

CliResult runCli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = cli::run(args, out, err);
    return {code, out.str(), err.str()};
}

} // namespace bulkhead::test
