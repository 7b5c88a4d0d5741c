#include "bulkhead/compiler/diagnostics.h"

#include "parse/utf8.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <ostream>
#include <sstream>
#include <tuple>

namespace bulkhead {
namespace {

#define BULKHEAD_DIAGNOSTIC(ENUM, ID, NAME, SEVERITY, SUMMARY)                                     \
    DiagInfo{DiagCode::ENUM, ID, NAME, Severity::SEVERITY, SUMMARY},
constexpr std::array kCatalog = {
#include "bulkhead/compiler/diagnostic_codes.def"
};
#undef BULKHEAD_DIAGNOSTIC

struct Style {
    bool on;
    const char* bold() const { return on ? "\x1b[1m" : ""; }
    const char* reset() const { return on ? "\x1b[0m" : ""; }
    const char* colour(Severity s) const {
        if (!on)
            return "";
        switch (s) {
        case Severity::Error:
            return "\x1b[1;31m";
        case Severity::Warning:
            return "\x1b[1;35m";
        case Severity::Note:
            return "\x1b[1;36m";
        }
        return "";
    }
    const char* caret() const { return on ? "\x1b[1;32m" : ""; }
};

constexpr std::size_t kSnippetWidth = 120;

// One source line made printable, with where each code point starts: diagnostics come sorted,
// so consecutive ones often share a line, and a long line is prepared once, not per caret.
struct PreparedLine {
    FileId file = 0;
    std::uint32_t line = 0;
    std::string text;                // invalid UTF-8 as '?', tabs as spaces
    std::vector<std::size_t> starts; // byte offset of each code point, plus text.size()
};

const PreparedLine& prepare(const SourceManager& sources, const SourceRange& range,
                            PreparedLine& cache) {
    if (cache.line == range.begin.line && cache.file == range.file && !cache.starts.empty())
        return cache;
    cache.file = range.file;
    cache.line = range.begin.line;
    cache.text = sanitizeUtf8(sources.file(range.file).line(range.begin.line));
    std::replace(cache.text.begin(), cache.text.end(), '\t', ' ');
    cache.starts.clear();
    for (std::size_t i = 0; i < cache.text.size(); ++i)
        if ((static_cast<unsigned char>(cache.text[i]) & 0xC0) != 0x80)
            cache.starts.push_back(i);
    cache.starts.push_back(cache.text.size());
    return cache;
}

void renderSnippet(std::ostream& out, const SourceManager& sources, const SourceRange& range,
                   const Style& style, PreparedLine& cache) {
    if (!range.valid() || range.file >= sources.size())
        return;
    const PreparedLine& line = prepare(sources, range, cache);
    std::size_t width = line.starts.size() - 1;
    std::size_t startCol = std::min<std::size_t>(range.begin.column, width + 1);
    std::size_t endCol = range.end.line == range.begin.line
                             ? std::max<std::size_t>(range.end.column, startCol)
                             : std::max(width, startCol);
    // A very long line is shown as a window around the caret, never whole.
    std::size_t from = 1, to = width;
    if (width > kSnippetWidth) {
        from = startCol > kSnippetWidth / 3 ? startCol - kSnippetWidth / 3 : 1;
        to = std::min(width, from + kSnippetWidth - 1);
    }
    std::string shown =
        (from > 1 ? "..." : "") +
        line.text.substr(line.starts[from - 1], line.starts[to] - line.starts[from - 1]) +
        (to < width ? "..." : "");
    std::size_t shift = from - 1 - (from > 1 ? 3 : 0);
    startCol -= shift;
    endCol = std::min(endCol, to) - shift;
    std::string number = std::to_string(range.begin.line);
    std::string gutter(number.size(), ' ');
    out << " " << number << " | " << shown << "\n";
    std::string marks(startCol - 1, ' ');
    marks += '^';
    if (endCol > startCol)
        marks.append(endCol - startCol, '~');
    out << " " << gutter << " | " << style.caret() << marks << style.reset() << "\n";
}

void renderLocation(std::ostream& out, const SourceManager& sources, const SourceRange& range) {
    if (!range.valid() || range.file >= sources.size()) {
        out << "bulkhead: ";
        return;
    }
    out << sources.file(range.file).path << ":" << range.begin.line << ":" << range.begin.column
        << ": ";
}

// "  = repair: ..." and one line per edit: what goes, with the statement's first line, or
// what comes in before a place.
void renderFix(std::ostream& out, const SourceManager& sources, const DiagFix& fix,
               PreparedLine& cache) {
    out << "  = repair: " << fix.description << "\n";
    for (const DiagEdit& e : fix.edits) {
        out << "      " << (e.insert ? "insert before " : "remove ");
        renderLocation(out, sources, e.range);
        if (e.insert) {
            out << *e.insert << "\n";
            continue;
        }
        if (e.range.valid() && e.range.file < sources.size()) {
            const PreparedLine& line = prepare(sources, e.range, cache);
            std::size_t col =
                std::clamp<std::size_t>(e.range.begin.column, 1, line.starts.size()) - 1;
            out << line.text.substr(line.starts[col]);
        }
        out << "\n";
    }
}

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1), prev2(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], prev2[j - 2] + 1); // transposition
        }
        prev2 = prev;
        prev = cur;
    }
    return prev[b.size()];
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

} // namespace

std::string_view severityName(Severity s) {
    switch (s) {
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Note:
        return "note";
    }
    return "error";
}

const DiagInfo& diagInfo(DiagCode code) {
    return kCatalog.at(static_cast<std::size_t>(code));
}

std::span<const DiagInfo> diagCatalog() {
    return kCatalog;
}

DiagBuilder& DiagBuilder::hint(std::string text) {
    sink_.diags_[index_].hint = std::move(text);
    return *this;
}

DiagBuilder& DiagBuilder::note(SourceRange range, std::string message) {
    sink_.diags_[index_].notes.push_back({range, std::move(message)});
    return *this;
}

DiagBuilder& DiagBuilder::hop(SourceRange range, std::string message) {
    sink_.diags_[index_].notes.push_back({range, std::move(message), true});
    return *this;
}

DiagBuilder& DiagBuilder::fix(DiagFix fix) {
    sink_.diags_[index_].fixes.push_back(std::move(fix));
    return *this;
}

void DiagnosticSink::overrideSeverity(DiagCode code, std::optional<Severity> severity) {
    overrides_.emplace_back(code, severity);
}

DiagnosticSink DiagnosticSink::emptyCopy() const {
    DiagnosticSink out;
    out.overrides_ = overrides_;
    return out;
}

void DiagnosticSink::absorb(DiagnosticSink&& other) {
    diags_.insert(diags_.end(), std::make_move_iterator(other.diags_.begin()),
                  std::make_move_iterator(other.diags_.end()));
    silenced_.insert(silenced_.end(), other.silenced_.begin(), other.silenced_.end());
    errors_ += other.errors_;
    warnings_ += other.warnings_;
    other = other.emptyCopy();
}

std::optional<DiagCode> diagCodeFromText(std::string_view text) {
    for (const DiagInfo& info : kCatalog)
        if (info.id == text || info.name == text)
            return info.code;
    return std::nullopt;
}

DiagBuilder DiagnosticSink::report(DiagCode code, SourceRange range, std::string message) {
    Diagnostic d;
    d.code = code;
    std::optional<Severity> severity = diagInfo(code).severity;
    for (const auto& [c, s] : overrides_)
        if (c == code)
            severity = s;
    d.severity = severity.value_or(Severity::Note);
    d.range = range;
    d.message = std::move(message);
    if (severity == Severity::Error)
        ++errors_;
    else if (severity == Severity::Warning)
        ++warnings_;
    diags_.push_back(std::move(d));
    silenced_.push_back(!severity);
    return DiagBuilder(*this, diags_.size() - 1);
}

std::vector<Diagnostic> DiagnosticSink::sorted() const {
    std::vector<Diagnostic> out;
    for (std::size_t i = 0; i < diags_.size(); ++i)
        if (!silenced_[i])
            out.push_back(diags_[i]);
    auto key = [](const Diagnostic& d) {
        return std::tie(d.range.file, d.range.begin, d.code, d.message);
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
    out.erase(std::unique(out.begin(), out.end(),
                          [&](const Diagnostic& a, const Diagnostic& b) {
                              return key(a) == key(b) && a.range == b.range;
                          }),
              out.end());
    return out;
}

void renderDiagnostics(std::ostream& sink, const SourceManager& sources,
                       std::span<const Diagnostic> diags, const RenderOptions& options) {
    Style style{options.color};
    PreparedLine cache;
    // std::cerr is unbuffered: every << would be a write(2) of its own, a tenth of a large
    // check's time. Diagnostics are written out whole, in blocks.
    constexpr std::streamoff block = 1 << 16;
    std::ostringstream out;
    for (const Diagnostic& d : diags) {
        if (out.tellp() >= block) {
            sink << out.view();
            out.str({});
        }
        out << style.bold();
        renderLocation(out, sources, d.range);
        out << style.colour(d.severity) << severityName(d.severity) << "[" << diagInfo(d.code).id
            << "]" << style.reset() << style.bold() << ": " << d.message << style.reset() << "\n";
        renderSnippet(out, sources, d.range, style, cache);
        if (!d.hint.empty())
            out << "  = help: " << d.hint << "\n";
        for (const DiagFix& f : d.fixes)
            renderFix(out, sources, f, cache);
        for (const DiagNote& n : d.notes) {
            out << style.bold();
            renderLocation(out, sources, n.range);
            out << style.colour(Severity::Note) << "note" << style.reset() << ": " << n.message
                << "\n";
            renderSnippet(out, sources, n.range, style, cache);
        }
    }
    sink << out.view();
}

std::optional<std::string> closestName(std::string_view wanted,
                                       std::span<const std::string> candidates,
                                       std::size_t maxDistance) {
    std::optional<std::string> best;
    std::size_t bestDistance = 0;
    std::string wantedLower = lower(wanted);
    for (const std::string& c : candidates) {
        if (c == wanted)
            continue;
        std::size_t d = lower(c) == wantedLower ? 0 : editDistance(wanted, c);
        std::size_t limit =
            std::min(maxDistance, std::max<std::size_t>(1, std::min(wanted.size(), c.size()) / 3));
        if (d > limit)
            continue;
        if (!best || d < bestDistance || (d == bestDistance && c < *best)) {
            best = c;
            bestDistance = d;
        }
    }
    return best;
}

} // namespace bulkhead
