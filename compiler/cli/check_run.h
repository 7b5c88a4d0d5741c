#pragma once
// What check and compile share: the front end, the baseline, the proof and the backend
// preconditions, with diagnostics rendered as they come out.
#include "commands.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/frontend.h"

#include <ostream>

namespace bulkhead::cli {

struct CheckRun {
    SourceManager sources;
    DiagnosticSink sink;
    FrontendResult frontend;
    analyzer::AnalysisOptions analysis;
    analyzer::AnalysisSummary summary;
};

// Runs the check and renders its diagnostics to err. Returns check's exit code; the policy
// in run.frontend is usable whenever the code is not kBadInput.
int runCheckPhase(const CheckOptions& options, CheckRun& run, std::ostream& err,
                  const Terminal& terminal);

// With --format json or sarif: the run's diagnostics as one document on out.
void writeReport(std::ostream& out, const std::string& format, const std::string& command,
                 int exitCode, const CheckRun& run);

// Applies --severity ID=LEVEL to the sink; false (with a message on err) when one is bad.
bool applySeverities(const std::vector<std::string>& severities, DiagnosticSink& sink,
                     std::ostream& err);

// "1 error", "2 errors, 1 warning".
std::string diagnosticCounts(const DiagnosticSink& sink);

} // namespace bulkhead::cli
