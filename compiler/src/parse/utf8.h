#pragma once
// UTF-8 checks done before ANTLR sees the text (its decoder throws on bad input).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulkhead {

struct Utf8Error {
    std::uint32_t line;
    std::uint32_t column;
};

// Where the first invalid sequence starts (overlong forms, surrogates and values past
// U+10FFFF are invalid too), or nothing when the text is valid UTF-8.
std::optional<Utf8Error> findInvalidUtf8(std::string_view text);

std::size_t utf8CodePoints(std::string_view text);

// The text with every invalid sequence replaced by '?', safe to print.
std::string sanitizeUtf8(std::string_view text);

} // namespace bulkhead
