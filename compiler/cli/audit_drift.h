#pragma once
// Drift: what the deployed system decides against what it would decide with the policy's
// compiled rules in place of its policy.d file (the rest of the deployed files unchanged).
#include "check_run.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/qrexec_policy.h"

namespace bulkhead::cli {

struct DeployedRule {
    QrexecRule rule;
    SourceRange range;
};

// Reports BH1306 for each group of requests decided differently, at the deployed line
// (with a note at the policy's line), and for qubes whose properties differ.
void reportDrift(const AuditOptions& options, const model::Policy& intent,
                 const model::Policy& deployedSystem, const std::vector<DeployedRule>& rules,
                 DiagnosticSink& sink);

} // namespace bulkhead::cli
