#pragma once
// Syntax trees of every loaded file -> one resolved, checked policy.
#include "bulkhead/compiler/ast.h"
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <optional>
#include <span>

namespace bulkhead {

// Files in load order (imports expanded in place). Returns the policy when no error was
// reported; warnings do not stop it.
std::optional<model::Policy> resolve(std::span<const ast::File> files,
                                     const SourceManager& sources, DiagnosticSink& sink);

} // namespace bulkhead
