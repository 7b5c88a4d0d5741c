#pragma once
// Qubes' shipped policy as the analyzer's baseline: read with the policy.d importer, every
// file put in the source manager so each hop of a witness can show its line.
#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/qrexec_policy.h"

#include <map>
#include <string>
#include <vector>

namespace bulkhead::cli {

struct BaselineChoice {
    std::vector<std::string> policyDirs; // empty: Qubes' own locations when they exist
    std::string legacyDir;               // empty: Qubes' default
    bool none = false;                   // --no-baseline
};

// Fills options.baseline; reports BH1004 when no baseline is used and BH1007 when Qubes
// would refuse the baseline. Returns false when the baseline could not be used.
bool loadBaseline(const BaselineChoice& choice, SourceManager& sources, DiagnosticSink& sink,
                  analyzer::AnalysisOptions& options);

// Where a policy.d rule (or error) is, with its file read into the source manager once
// (files maps paths already read to their ids). Invalid when the file cannot be read.
SourceRange policyLineRange(const std::string& file, std::uint32_t line, SourceManager& sources,
                            std::map<std::string, FileId>& files);

// One policy.d line as the analyzer takes rules in Qubes' spelling, at range.
analyzer::BaselineRule baselineRuleOf(const QrexecRule& rule, const SourceRange& range);

// A policy's rpc rules as the policy.d lines they compile to (one per source and target),
// each at its rule's range.
std::vector<analyzer::BaselineRule> policyLines(const model::Policy& policy);

} // namespace bulkhead::cli
