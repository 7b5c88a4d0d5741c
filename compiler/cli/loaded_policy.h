#pragma once
// What explain and graph both start from: the policy through the front end, Qubes'
// baseline, and the built analysis, with diagnostics rendered on the way.
#include "baseline.h"
#include "cli.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/frontend.h"

#include <memory>
#include <ostream>

namespace bulkhead::cli {

struct LoadedPolicy {
    SourceManager sources;
    FrontendResult frontend;
    analyzer::AnalysisOptions options;
    std::unique_ptr<analyzer::Analysis> analysis;
};

// kClean when loaded.analysis is ready; else the exit code (bad input, could not prove).
int loadPolicy(const std::vector<std::string>& files, const BaselineChoice& baseline,
               LoadedPolicy& loaded, std::ostream& err, const Terminal& terminal);

// "FILE:LINE: the line's text" for a report; `none` for a range without a place.
std::string sourceLine(const SourceManager& sources, const SourceRange& r, const char* none);

} // namespace bulkhead::cli
