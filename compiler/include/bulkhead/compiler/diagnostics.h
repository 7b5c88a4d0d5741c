#pragma once
// Diagnostics: one catalog of stable codes, a sink passed explicitly through every stage,
// and a renderer that shows the source line with a caret underline.
#include "bulkhead/compiler/source.h"

#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

enum class Severity : std::uint8_t { Note, Warning, Error };

std::string_view severityName(Severity s);

#define BULKHEAD_DIAGNOSTIC(ENUM, ID, NAME, SEVERITY, SUMMARY) ENUM,
enum class DiagCode : std::uint16_t {
#include "bulkhead/compiler/diagnostic_codes.def"
};
#undef BULKHEAD_DIAGNOSTIC

struct DiagInfo {
    DiagCode code;
    std::string_view id;   // "BH0202": never reused, never renumbered
    std::string_view name; // "unknown-name"
    Severity severity;
    std::string_view summary;
};

const DiagInfo& diagInfo(DiagCode code);
std::span<const DiagInfo> diagCatalog();

struct DiagNote {
    SourceRange range; // may be invalid: a note without a place
    std::string message;
    bool hop = false; // one step of a witness path, in order (reports show them as a flow)
};

// One edit of a suggested fix: delete the text of a range, or insert text at its beginning.
struct DiagEdit {
    SourceRange range;
    std::optional<std::string> insert; // empty: delete range; else this goes before range
};

// A fix the tool proposes (a repair of an escape path): every edit applied together.
struct DiagFix {
    std::string description;
    std::vector<DiagEdit> edits; // in source order
};

struct Diagnostic {
    DiagCode code{};
    Severity severity = Severity::Error;
    SourceRange range;
    std::string message;
    std::string hint; // "did you mean 'work'?" and similar; empty when none
    std::vector<DiagNote> notes;
    std::vector<DiagFix> fixes;
};

class DiagnosticSink;

// Returned by DiagnosticSink::report so a hint or notes can be added in the same expression.
class DiagBuilder {
public:
    DiagBuilder(DiagnosticSink& sink, std::size_t index) : sink_(sink), index_(index) {}
    DiagBuilder& hint(std::string text);
    DiagBuilder& note(SourceRange range, std::string message);
    // The next step of the diagnostic's witness path.
    DiagBuilder& hop(SourceRange range, std::string message);
    DiagBuilder& fix(DiagFix fix);

private:
    DiagnosticSink& sink_;
    std::size_t index_;
};

class DiagnosticSink {
public:
    // Changes a code's severity for this run; nothing silences it (`--severity ID=off`).
    void overrideSeverity(DiagCode code, std::optional<Severity> severity);

    DiagBuilder report(DiagCode code, SourceRange range, std::string message);
    // An empty sink with this one's severity overrides: a phase that runs beside others
    // reports into it, and absorb() appends what it holds where the phase used to run.
    DiagnosticSink emptyCopy() const;
    void absorb(DiagnosticSink&& other);
    bool hasErrors() const { return errors_ > 0; }
    std::size_t errorCount() const { return errors_; }
    std::size_t warningCount() const { return warnings_; }
    // Every diagnostic once, sorted by file, position and code, for deterministic output.
    std::vector<Diagnostic> sorted() const;

private:
    friend class DiagBuilder;
    std::vector<Diagnostic> diags_;
    std::vector<bool> silenced_; // by index into diags_
    std::vector<std::pair<DiagCode, std::optional<Severity>>> overrides_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
};

struct RenderOptions {
    bool color = false;
};

void renderDiagnostics(std::ostream& out, const SourceManager& sources,
                       std::span<const Diagnostic> diags, const RenderOptions& options);

// A code by its id ("BH1104") or name ("rule-partly-overridden").
std::optional<DiagCode> diagCodeFromText(std::string_view text);

// The closest candidate by edit distance, when it is close enough to be a likely typo:
// within a third of the name's length, and within maxDistance edits when that is given.
std::optional<std::string> closestName(std::string_view wanted,
                                       std::span<const std::string> candidates,
                                       std::size_t maxDistance = SIZE_MAX);

} // namespace bulkhead
