#pragma once
// Qubes' silent gaps in a deployed system (qubes-formats.md §1.12, §3): places where the
// files say one thing and Qubes does another, or where a default leaves a door open.
#include "bulkhead/compiler/deployed_system.h"

namespace bulkhead::cli {

void reportSilentGaps(const model::Policy& policy, const deployed::PolicyBuild& build,
                      DiagnosticSink& sink);

} // namespace bulkhead::cli
