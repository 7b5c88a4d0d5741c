#include "loaded_policy.h"

#include <stdexcept>

namespace bulkhead::cli {

int loadPolicy(const std::vector<std::string>& files, const BaselineChoice& baseline,
               LoadedPolicy& loaded, std::ostream& err, const Terminal& terminal) {
    DiagnosticSink sink;
    loaded.frontend = runFrontend(files, loaded.sources, sink);
    bool baselineOk =
        loaded.frontend.policy && loadBaseline(baseline, loaded.sources, sink, loaded.options);
    std::vector<Diagnostic> diags = sink.sorted();
    renderDiagnostics(err, loaded.sources, diags, {terminal.color});
    if (!loaded.frontend.policy || !baselineOk || sink.hasErrors())
        return kBadInput;
    try {
        loaded.analysis = analyzer::Analysis::build(*loaded.frontend.policy, loaded.options);
    } catch (const std::runtime_error& e) {
        err << "bulkhead: " << e.what() << "\n";
        return kInternalError;
    }
    return kClean;
}

std::string sourceLine(const SourceManager& sources, const SourceRange& r, const char* none) {
    if (!r.valid())
        return none;
    const SourceFile& f = sources.file(r.file);
    std::string text(f.line(r.begin.line));
    std::size_t start = text.find_first_not_of(" \t");
    return f.path + ":" + std::to_string(r.begin.line) + ": " +
           (start == std::string::npos ? "" : text.substr(start));
}

} // namespace bulkhead::cli
