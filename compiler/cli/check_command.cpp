#include "commands.h"

#include "bulkhead/backends/summary.h"
#include "bulkhead/compiler/frontend.h"

#include <ostream>

namespace bulkhead::cli {

int runCheck(const CheckOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal) {
    SourceManager sources;
    DiagnosticSink sink;
    FrontendResult result = runFrontend(options.files, sources, sink);
    std::vector<Diagnostic> diags = sink.sorted();
    renderDiagnostics(err, sources, diags, {terminal.color});

    if (sink.hasErrors() || !result.policy) {
        err << "bulkhead: " << sink.errorCount() << (sink.errorCount() == 1 ? " error" : " errors")
            << "\n";
        return kBadInput;
    }
    if (options.showModel)
        backends::writeSummary(out, *result.policy);
    else
        out << "policy \"" << result.policy->name << "\": " << result.policy->qubes.size() - 1
            << " qubes, " << result.policy->assertions.size() << " assertions\n";
    if (sink.warningCount() > 0) {
        err << "bulkhead: " << sink.warningCount()
            << (sink.warningCount() == 1 ? " warning" : " warnings") << "\n";
        return kFindings;
    }
    return kClean;
}

} // namespace bulkhead::cli
