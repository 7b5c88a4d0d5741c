#include "commands.h"

#include "baseline.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/backends/summary.h"
#include "bulkhead/compiler/frontend.h"

#include <algorithm>
#include <ostream>

namespace bulkhead::cli {
namespace {

// "1 error", "2 errors, 1 warning": what the run found, for its last line.
std::string counts(const DiagnosticSink& sink) {
    auto plural = [](std::size_t n, const char* word) {
        return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
    };
    std::string out;
    if (sink.errorCount() > 0)
        out = plural(sink.errorCount(), "error");
    if (sink.warningCount() > 0)
        out += (out.empty() ? "" : ", ") + plural(sink.warningCount(), "warning");
    return out;
}

} // namespace

int runCheck(const CheckOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal) {
    SourceManager sources;
    DiagnosticSink sink;
    for (const std::string& s : options.severities) {
        std::size_t eq = s.find('=');
        std::optional<DiagCode> code =
            eq == std::string::npos ? std::nullopt : diagCodeFromText(s.substr(0, eq));
        std::string level = eq == std::string::npos ? "" : s.substr(eq + 1);
        if (!code ||
            (level != "error" && level != "warning" && level != "note" && level != "off")) {
            err << "bulkhead: --severity takes ID=error|warning|note|off with a code from "
                   "docs/diagnostics.md, not '"
                << s << "'\n";
            return kBadInput;
        }
        const DiagInfo& info = diagInfo(*code);
        if (info.severity == Severity::Error && info.id < "BH1000") {
            err << "bulkhead: " << info.id << " is an input error and cannot be changed\n";
            return kBadInput;
        }
        sink.overrideSeverity(*code, level == "off"       ? std::nullopt
                                     : level == "error"   ? std::optional(Severity::Error)
                                     : level == "warning" ? std::optional(Severity::Warning)
                                                          : std::optional(Severity::Note));
    }
    FrontendResult result = runFrontend(options.files, sources, sink);
    auto render = [&] {
        std::vector<Diagnostic> diags = sink.sorted();
        renderDiagnostics(err, sources, diags, {terminal.color});
    };

    if (sink.hasErrors() || !result.policy) {
        render();
        err << "bulkhead: " << counts(sink) << "\n";
        return kBadInput;
    }
    const model::Policy& policy = *result.policy;

    analyzer::AnalysisOptions analysis;
    BaselineChoice baseline{options.baselineDirs, options.baselineLegacy, options.noBaseline};
    if (!loadBaseline(baseline, sources, sink, analysis)) {
        render();
        return kBadInput;
    }
    analyzer::AnalysisSummary summary = analyzer::analyze(policy, analysis, sink);
    render();

    std::vector<Diagnostic> diags = sink.sorted();
    bool unproven = std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
        return d.code == DiagCode::CouldNotProve;
    });
    if (options.showModel)
        backends::writeSummary(out, policy);
    out << "policy \"" << policy.name << "\": " << policy.qubes.size() - 1 << " qubes, "
        << summary.nodes << " nodes, " << summary.edges
        << " edges; assertions: " << summary.assertionsHeld << " hold ("
        << summary.certificatesChecked << " Z3-certified), " << summary.assertionsViolated
        << " violated; requirements: " << summary.requirementsMet << " met, "
        << summary.requirementsUnmet
        << " unmet; baseline: " << (analysis.haveBaseline ? analysis.baselineDescription : "none")
        << "\n";

    if (sink.errorCount() > 0 || sink.warningCount() > 0)
        err << "bulkhead: " << counts(sink) << "\n";
    if (unproven)
        return kInternalError;
    return sink.errorCount() > 0 || sink.warningCount() > 0 ? kFindings : kClean;
}

} // namespace bulkhead::cli
