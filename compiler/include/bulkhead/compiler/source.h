#pragma once
// Source text owned for the whole run, and the positions every later stage points back to.
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

using FileId = std::uint32_t;

// 1-based line and column; columns count Unicode code points, as editors do.
struct SourcePos {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    auto operator<=>(const SourcePos&) const = default;
};

struct SourceRange {
    FileId file = 0;
    SourcePos begin;
    SourcePos end; // inclusive last character
    bool valid() const { return begin.line != 0; }
    auto operator<=>(const SourceRange&) const = default;
};

// Smallest range covering both; both must be in the same file.
SourceRange cover(const SourceRange& a, const SourceRange& b);

struct SourceFile {
    std::string path; // as shown to the user
    std::string text;
    std::vector<std::size_t> lineStarts; // byte offset of each line
    std::string_view line(std::uint32_t oneBased) const;
};

class SourceManager {
public:
    FileId add(std::string path, std::string text);
    const SourceFile& file(FileId id) const { return *files_.at(id); }
    std::size_t size() const { return files_.size(); }

private:
    std::vector<std::unique_ptr<SourceFile>> files_;
};

} // namespace bulkhead
