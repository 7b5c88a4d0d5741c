#pragma once
// Machine-readable reports of a run's diagnostics: Bulkhead's own JSON (a versioned schema,
// docs/report-schema.json) and SARIF 2.1.0 for code-scanning UIs. Both carry every
// diagnostic with its place, notes and hint; witness paths become an ordered list of hops
// (JSON) or a code flow (SARIF).
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/source.h"

#include <iosfwd>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bulkhead::backends {

inline constexpr int kReportVersion = 1;

struct ReportContext {
    std::string command; // "check", "compile", ...
    int exitCode = 0;
    std::string toolVersion;
    // What the command found, in order: ("assertions_violated", 1), ...
    std::vector<std::pair<std::string, long long>> counts;
    std::string baseline; // empty: none
};

void writeJsonReport(std::ostream& out, const SourceManager& sources,
                     std::span<const Diagnostic> diags, const ReportContext& context);

void writeSarifReport(std::ostream& out, const SourceManager& sources,
                      std::span<const Diagnostic> diags, const ReportContext& context);

} // namespace bulkhead::backends
