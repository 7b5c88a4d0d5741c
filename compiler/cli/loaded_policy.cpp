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

} // namespace bulkhead::cli
