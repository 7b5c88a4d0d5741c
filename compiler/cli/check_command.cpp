#include "check_run.h"

#include "baseline.h"

#include "bulkhead/backends/net_plan.h"
#include "bulkhead/backends/report.h"
#include "bulkhead/backends/summary.h"

#include <algorithm>
#include <ostream>

namespace bulkhead::cli {
// Applies --severity ID=LEVEL; false (with a message) when one is not valid.
bool applySeverities(const std::vector<std::string>& severities, DiagnosticSink& sink,
                     std::ostream& err) {
    for (const std::string& s : severities) {
        std::size_t eq = s.find('=');
        std::optional<DiagCode> code =
            eq == std::string::npos ? std::nullopt : diagCodeFromText(s.substr(0, eq));
        std::string level = eq == std::string::npos ? "" : s.substr(eq + 1);
        if (!code ||
            (level != "error" && level != "warning" && level != "note" && level != "off")) {
            err << "bulkhead: --severity takes ID=error|warning|note|off with a code from "
                   "docs/diagnostics.md, not '"
                << s << "'\n";
            return false;
        }
        const DiagInfo& info = diagInfo(*code);
        if (info.severity == Severity::Error && info.id < "BH1000") {
            err << "bulkhead: " << info.id << " is an input error and cannot be changed\n";
            return false;
        }
        sink.overrideSeverity(*code, level == "off"       ? std::nullopt
                                     : level == "error"   ? std::optional(Severity::Error)
                                     : level == "warning" ? std::optional(Severity::Warning)
                                                          : std::optional(Severity::Note));
    }
    return true;
}

std::string diagnosticCounts(const DiagnosticSink& sink) {
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

int runCheckPhase(const CheckOptions& options, CheckRun& run, std::ostream& err,
                  const Terminal& terminal) {
    if (!applySeverities(options.severities, run.sink, err))
        return kBadInput;
    run.frontend = runFrontend(options.files, run.sources, run.sink);
    // Machine formats carry the diagnostics in the report instead.
    auto render = [&] {
        if (options.format != "text")
            return;
        std::vector<Diagnostic> diags = run.sink.sorted();
        renderDiagnostics(err, run.sources, diags, {terminal.color});
    };
    if (run.sink.hasErrors() || !run.frontend.policy) {
        render();
        err << "bulkhead: " << diagnosticCounts(run.sink) << "\n";
        return kBadInput;
    }
    const model::Policy& policy = *run.frontend.policy;

    BaselineChoice baseline{options.baselineDirs, options.baselineLegacy, options.noBaseline};
    if (!loadBaseline(baseline, run.sources, run.sink, run.analysis)) {
        render();
        return kBadInput;
    }
    run.summary = analyzer::analyze(policy, run.analysis, run.sink);
    // What the firewall backends cannot express is an error, found before any output exists.
    backends::reportNetPlanProblems(policy, run.sink);
    render();

    std::vector<Diagnostic> diags = run.sink.sorted();
    bool unproven = std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
        return d.code == DiagCode::CouldNotProve;
    });
    if (run.sink.errorCount() > 0 || run.sink.warningCount() > 0)
        err << "bulkhead: " << diagnosticCounts(run.sink) << "\n";
    if (unproven)
        return kInternalError;
    return run.sink.errorCount() > 0 || run.sink.warningCount() > 0 ? kFindings : kClean;
}

void writeReport(std::ostream& out, const std::string& format, const std::string& command,
                 int exitCode, const CheckRun& run) {
    backends::ReportContext context;
    context.command = command;
    context.exitCode = exitCode;
    context.toolVersion = BULKHEAD_VERSION;
    context.baseline = run.analysis.haveBaseline ? run.analysis.baselineDescription : "";
    auto count = [&](const char* name, std::size_t v) {
        context.counts.emplace_back(name, static_cast<long long>(v));
    };
    const analyzer::AnalysisSummary& s = run.summary;
    count("errors", run.sink.errorCount());
    count("warnings", run.sink.warningCount());
    count("nodes", s.nodes);
    count("edges", s.edges);
    count("assertions_held", s.assertionsHeld);
    count("assertions_violated", s.assertionsViolated);
    count("certificates_checked", s.certificatesChecked);
    count("requirements_met", s.requirementsMet);
    count("requirements_unmet", s.requirementsUnmet);
    std::vector<Diagnostic> diags = run.sink.sorted();
    if (format == "json")
        backends::writeJsonReport(out, run.sources, diags, context);
    else
        backends::writeSarifReport(out, run.sources, diags, context);
}

int runCheck(const CheckOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal) {
    CheckRun run;
    int code = runCheckPhase(options, run, err, terminal);
    if (options.format != "text") {
        writeReport(out, options.format, "check", code, run);
        return code;
    }
    if (code == kBadInput)
        return code;
    const model::Policy& policy = *run.frontend.policy;
    if (options.showModel)
        backends::writeSummary(out, policy);
    const analyzer::AnalysisSummary& summary = run.summary;
    out << "policy \"" << policy.name << "\": " << policy.qubes.size() - 1 << " qubes, "
        << summary.nodes << " nodes, " << summary.edges
        << " edges; assertions: " << summary.assertionsHeld << " hold ("
        << summary.certificatesChecked << " Z3-certified), " << summary.assertionsViolated
        << " violated; requirements: " << summary.requirementsMet << " met, "
        << summary.requirementsUnmet << " unmet; baseline: "
        << (run.analysis.haveBaseline ? run.analysis.baselineDescription : "none") << "\n";
    return code;
}

} // namespace bulkhead::cli
