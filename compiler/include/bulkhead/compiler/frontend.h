#pragma once
// The whole front end in one call: read the files (following imports), parse, resolve.
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"
#include "bulkhead/compiler/parse.h"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bulkhead {

struct FrontendLimits {
    std::size_t maxFileBytes = 8u << 20; // a policy is text; anything larger is a mistake
    std::size_t maxFiles = 1000;         // imports included
};

// The syntax trees are not kept: the model holds everything later stages read, and at
// 10,000 qubes the trees were a few hundred MB held through the whole analysis.
struct FrontendResult {
    std::optional<model::Policy> policy; // present when no error was reported
};

// Where a file's text comes from when not from the file system (`diff --git` reads files as
// of a git revision): the text, or why there is none; shownAs names it in diagnostics.
struct FileText {
    std::optional<std::string> text;
    std::string error;
    std::string shownAs;
};
using FileReader = std::function<FileText(const std::string& path)>;

// Root files form one policy. Each file is read once; an import is resolved relative to
// the importing file's directory and loaded before the importer.
FrontendResult runFrontend(std::span<const std::string> roots, SourceManager& sources,
                           DiagnosticSink& sink, const FrontendLimits& limits = {},
                           const FileReader& reader = {});

// Reads one file into the source manager with the same checks and errors as imports.
std::optional<FileId> readSourceFile(const std::string& path, SourceManager& sources,
                                     DiagnosticSink& sink, const SourceRange& requestedAt,
                                     const FrontendLimits& limits = {});

} // namespace bulkhead
