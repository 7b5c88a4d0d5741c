#pragma once
// Syntax trees of every loaded file -> one resolved, checked policy.
#include "bulkhead/compiler/ast.h"
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <optional>
#include <span>

namespace bulkhead {

// Files in load order (imports before their importer). The primary file, the first one the
// user named, is where the policy header belongs. Returns the policy when no error was
// reported; warnings do not stop it.
std::optional<model::Policy> resolve(std::span<const ast::File> files, FileId primary,
                                     const SourceManager& sources, DiagnosticSink& sink);

} // namespace bulkhead
