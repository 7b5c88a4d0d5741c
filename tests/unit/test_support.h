#pragma once
// Small helpers shared by the unit tests: paths into the source tree, temporary
// directories, and running the front end or the CLI in-process.
#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/frontend.h"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bulkhead::test {

// Five lines of policy: trust low < mid < high, template tpl, qubes a (low) and b (mid),
// no network. A test body appended to it starts at line 6.
extern const std::string kSmallPolicyHead;

std::filesystem::path sourceDir();                    // the repository root
std::vector<std::filesystem::path> examplePolicies(); // policies/*.bh, sorted

// A fresh directory removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path write(const std::string& name, const std::string& text) const;

private:
    std::filesystem::path path_;
};

// Runs the whole front end on in-memory text (written to a temporary file).
struct Checked {
    std::optional<model::Policy> policy;
    std::vector<Diagnostic> diagnostics;
    bool has(DiagCode code) const;
    std::string rendered;           // as the CLI prints them, without colour
    std::vector<std::string> files; // by FileId, as shown
    std::size_t frontEndErrors = 0; // errors before analysis
    analyzer::AnalysisSummary analysis;
};
Checked checkText(const std::string& text);
Checked checkFiles(const std::vector<std::string>& paths);

std::string readFile(const std::filesystem::path& p);

// Every file under dir by relative path; the source tree's absolute path is cut out so the
// outputs compare wherever the checkout is.
std::map<std::string, std::string> readTree(const std::filesystem::path& dir);

// Golden outputs (tests/golden/<area>/<case>/): the files must equal golden's, byte for byte,
// and be all of them; files named in `ignore` need only exist. With BULKHEAD_UPDATE_GOLDEN=1
// in the environment, golden is rewritten from `files` instead.
void matchGolden(const std::filesystem::path& golden,
                 const std::map<std::string, std::string>& files,
                 const std::set<std::string>& ignore = {});

struct CliResult {
    int exitCode;
    std::string out;
    std::string err;
};
CliResult runCli(const std::vector<std::string>& args);

} // namespace bulkhead::test
