#include "text_safety.h"

#include "bulkhead/backends/emitted.h"

namespace bulkhead::backends {

void requireCharset(std::string_view value, std::string_view allowed, std::string_view what) {
    if (value.empty())
        throw UnsafeValue(std::string(what) + " is empty");
    for (char c : value)
        if (allowed.find(c) == std::string_view::npos)
            throw UnsafeValue(std::string(what) + " '" + commentSafe(value) +
                              "' holds a character the output format cannot carry safely");
}

void requireWord(std::string_view value, std::string_view what) {
    requireCharset(value, kWordChars, what);
}

std::string commentSafe(std::string_view text) {
    std::string out;
    for (char c : text)
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

} // namespace bulkhead::backends
