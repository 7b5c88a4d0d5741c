// Splitting an nftables file into top-level statements, for chunked loading.
#include "bulkhead/backends/kernel_check.h"

namespace bulkhead::backends {

std::vector<NftStatement> splitTopLevelStatements(std::string_view text) {
    std::vector<NftStatement> out;
    std::size_t line = 1;
    std::size_t start = 0;       // where the current statement (or blank run) begins
    std::size_t startLine = 1;   // its line
    bool hasContent = false;     // the current statement has more than blanks and comments
    int depth = 0;               // braces
    bool inString = false;       // inside "..."
    bool inComment = false;      // after # up to the end of the line
    char lastSignificant = '\n'; // last character outside comments on this line, not a blank

    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
            bool continued = lastSignificant == '\\';
            inString = false;
            inComment = false;
            lastSignificant = '\n';
            ++line;
            if (depth > 0 || continued)
                continue;
            if (hasContent)
                out.push_back({startLine, text.substr(start, i + 1 - start)});
            start = i + 1;
            startLine = line;
            hasContent = false;
            continue;
        }
        if (inComment)
            continue;
        if (inString) {
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n')
                ++i;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '#') {
            inComment = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (!hasContent) {
            // Statements begin at the start of their first line with content.
            hasContent = true;
            std::size_t lineStart = text.rfind('\n', i);
            lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
            if (lineStart > start) {
                start = lineStart;
                startLine = line;
            }
        }
        lastSignificant = c;
        if (c == '"')
            inString = true;
        else if (c == '{')
            ++depth;
        else if (c == '}' && depth > 0)
            --depth;
    }
    if (hasContent)
        out.push_back({startLine, text.substr(start)});
    return out;
}

} // namespace bulkhead::backends
