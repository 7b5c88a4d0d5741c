#include "locations.h"

namespace bulkhead::backends::report {

std::string fileOf(const SourceManager& sources, const SourceRange& range) {
    if (!range.valid() || range.file >= sources.size())
        return {};
    return sources.file(range.file).path;
}

std::string uriOf(const std::string& path) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : path) {
        auto c = static_cast<unsigned char>(ch);
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

} // namespace bulkhead::backends::report
