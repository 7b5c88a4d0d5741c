#pragma once
// Qubes' policy loaders (AbstractFileSystemLoader, load_policy_file and
// load_policy_file_service, Compat40Loader) as one class: which files are read, in what
// order, and how each directive brings in more (qubes-formats.md §1.1, §1.2, §1.7).
// Where Qubes stops at the first error, the loader records it and goes on.
#include "bulkhead/compiler/qrexec_policy.h"
#include "qrexec/paths.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::qrexec {

class Loader {
public:
    Loader(QrexecPolicyLoad& out, const FileAccess& files, std::string_view legacyDir,
           std::uint32_t maxDepth, std::size_t maxIncludedBytes);

    // load_policy_dirs: merge the directories by basename (first wins), sort, read.
    void loadPolicyDirs(const std::vector<std::string>& dirs);
    // One file's text; directives resolve against policyDir, or are not followed.
    void loadText(std::string_view bytes, const std::string& file, const std::string& policyDir);

private:
    enum class Syntax {
        Current, // policy.d lines
        Legacy,  // R4.0 per-service lines, read for !include-service and !compat-4.0
    };
    // What relative paths resolve against: Qubes' policy_path (the directory of the
    // top-level file, kept for nested includes too), or the legacy directory under
    // !compat-4.0. An empty base means directives are checked but not followed.
    struct Scope {
        std::string base;
    };
    struct Unit { // the file being read
        std::string file;
        Syntax syntax = Syntax::Current;
        std::string service = "*"; // Legacy only: what every line applies to
        std::string argument = "*";
        std::vector<QrexecInclusion> via;
        const Scope* scope = nullptr;
    };

    void readFile(const std::string& path, Unit unit);
    void parse(std::string_view bytes, const Unit& unit);
    void currentLine(std::string_view raw, std::uint32_t number, const Unit& unit);
    void legacyLine(std::string_view raw, std::uint32_t number, const Unit& unit);

    void include(const Unit& from, std::uint32_t line, std::string_view word);
    void includeDir(const Unit& from, std::uint32_t line, std::string_view word);
    void includeService(const Unit& from, std::uint32_t line, std::string_view service,
                        std::string_view argument, std::string_view word);
    void legacyInclude(const Unit& from, std::uint32_t line, std::string_view word);
    void compat40(const Unit& from, std::uint32_t line); // in compat.cpp

    // Reads the file at path (as Qubes names it) brought in by a directive at from:line, as
    // `syntax`; the directives in it resolve against scope.
    void follow(const Unit& from, std::uint32_t line, QrexecDirectiveKind kind, const Scope& scope,
                const std::string& path, Syntax syntax, std::string_view service,
                std::string_view argument);
    // filter_filepaths: the *.policy regular files of a listing, sorted; a bad name is an
    // error (and the file is skipped).
    std::vector<std::string> policyFiles(const std::string& dir,
                                         const std::vector<std::string>& names);

    // What makes reading a file repeat itself exactly: the same file, read the same way.
    std::string identity(Syntax syntax, const Scope& scope, std::string_view service,
                         std::string_view argument, const std::string& path) const;
    void addRule(QrexecRule rule, const std::string& file, std::uint32_t line,
                 const std::vector<QrexecInclusion>& via);
    void error(std::string file, std::uint32_t line, std::string message);
    void directive(QrexecDirectiveKind kind, const Unit& from, std::uint32_t line, std::string path,
                   bool followed);

    QrexecPolicyLoad& out_;
    const FileAccess& files_;
    std::string legacyDir_;
    std::uint32_t maxDepth_;
    std::size_t includedBudget_; // bytes still to be read through directives
    bool overBudget_ = false;
    std::vector<std::string> reading_; // identities of the files being read, outermost first
};

} // namespace bulkhead::qrexec
