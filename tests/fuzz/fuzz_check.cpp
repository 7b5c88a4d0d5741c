// The whole check pipeline on one DSL file: front end, analyzer (Z3 within its budget) and
// the firewall backends' plan. Any input must end in a report, never a crash.
#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/backends/net_plan.h"
#include "bulkhead/compiler/parse.h"
#include "bulkhead/compiler/resolve.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    if (size > 16 * 1024) // bigger policies explore nothing new, only time
        return 0;
    SourceManager sources;
    DiagnosticSink sink;
    FileId id = sources.add("fuzz.bh", std::string(reinterpret_cast<const char*>(data), size));
    ParsedFile parsed = parseFile(sources, id, sink);
    if (!parsed.ok)
        return 0;
    std::vector<ast::File> files{parsed.ast};
    std::optional<model::Policy> policy = resolve(files, id, sources, sink);
    if (!policy)
        return 0;
    analyzer::AnalysisOptions options;
    options.rlimit = 2'000'000; // a hard question must say "could not prove", quickly
    analyzer::analyze(*policy, options, sink);
    backends::reportNetPlanProblems(*policy, sink);
    return 0;
}
