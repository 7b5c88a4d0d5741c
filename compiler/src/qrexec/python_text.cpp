#include "qrexec/python_text.h"

#include <array>
#include <cstdio>
#include <utility>

namespace bulkhead::qrexec {
namespace {

// Why Python's UTF-8 decoder stops at text[i], or nothing when a valid sequence starts there
// (then len is its length). The checks follow the codec's: the second byte's range depends
// on the first, so overlong forms, surrogates and values past U+10FFFF are refused early.
std::optional<std::string> checkSequence(std::string_view text, std::size_t i, std::size_t& len) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char b0 = byte(i);
    len = 1;
    if (b0 < 0x80)
        return std::nullopt;
    unsigned char low = 0x80, high = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0)
            low = 0xA0;
        if (b0 == 0xED)
            high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0)
            low = 0x90;
        if (b0 == 0xF4)
            high = 0x8F;
    } else {
        return std::string("invalid start byte");
    }
    for (std::size_t k = 1; k < len; ++k) {
        if (i + k >= text.size())
            return std::string("unexpected end of data");
        unsigned char b = byte(i + k);
        unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
        if (b < lo || b > hi)
            return std::string("invalid continuation byte");
    }
    return std::nullopt;
}

// Code points str.isprintable() refuses (Unicode 14, as in Python 3.11), unassigned ones
// left out: controls, format characters, separators other than the space, surrogates and
// private use. repr() escapes these.
constexpr std::array<std::pair<char32_t, char32_t>, 28> kNonPrintable = {{
    {0x0, 0x1F},        {0x7F, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},
    {0x61C, 0x61C},     {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},
    {0x8E2, 0x8E2},     {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
    {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
}};

bool isPrintable(char32_t c) {
    for (const auto& [first, last] : kNonPrintable)
        if (c >= first && c <= last)
            return false;
    return true;
}

std::string hexEscape(const char* format, char32_t c) {
    char buf[16];
    std::snprintf(buf, sizeof buf, format, static_cast<unsigned>(c));
    return buf;
}

} // namespace

char32_t nextCodePoint(std::string_view s, std::size_t& i) {
    auto byte = [&](std::size_t k) {
        return static_cast<char32_t>(static_cast<unsigned char>(s[k]));
    };
    char32_t b0 = byte(i);
    std::size_t len = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    if (i + len > s.size()) { // not UTF-8 after all: take the byte alone
        ++i;
        return b0;
    }
    char32_t c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (std::size_t k = 1; k < len; ++k)
        c = (c << 6) | (byte(i + k) & 0x3F);
    i += len;
    return c;
}

DecodedText decodeLines(std::string_view bytes) {
    DecodedText out;
    std::uint32_t number = 1;
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size();) {
        char b = bytes[i];
        if (b == '\n' || b == '\r') {
            out.lines.push_back({std::string(bytes.substr(start, i - start)), number++});
            i += (b == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ? 2u : 1u;
            start = i;
            continue;
        }
        std::size_t len = 1;
        if (auto why = checkSequence(bytes, i, len)) {
            out.decodeError = "'utf-8' codec can't decode byte " +
                              hexEscape("0x%02x", static_cast<unsigned char>(b)) + ": " + *why;
            out.decodeErrorLine = number;
            return out;
        }
        i += len;
    }
    if (start < bytes.size())
        out.lines.push_back({std::string(bytes.substr(start)), number});
    return out;
}

bool isPythonSpace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string_view pythonStrip(std::string_view s) {
    std::size_t first = s.size(), end = 0;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t at = i;
        if (!isPythonSpace(nextCodePoint(s, i))) {
            if (first == s.size())
                first = at;
            end = i;
        }
    }
    return first == s.size() ? std::string_view() : s.substr(first, end - first);
}

std::vector<std::string> pythonSplit(std::string_view s) {
    std::vector<std::string> out;
    std::string word;
    bool inWord = false;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t at = i;
        char32_t c = nextCodePoint(s, i);
        if (isPythonSpace(c)) {
            if (inWord)
                out.push_back(std::move(word));
            word.clear();
            inWord = false;
        } else {
            word.append(s.substr(at, i - at));
            inWord = true;
        }
    }
    if (inWord)
        out.push_back(std::move(word));
    return out;
}

std::string pythonRepr(std::string_view s) {
    // Python picks double quotes only when the text holds a ' and no ".
    bool single = s.find('\'') != std::string_view::npos;
    bool dbl = s.find('"') != std::string_view::npos;
    char quote = single && !dbl ? '"' : '\'';
    std::string out(1, quote);
    for (std::size_t i = 0; i < s.size();) {
        std::size_t at = i;
        char32_t c = nextCodePoint(s, i);
        if (c == static_cast<char32_t>(quote) || c == U'\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == U'\t') {
            out += "\\t";
        } else if (c == U'\n') {
            out += "\\n";
        } else if (c == U'\r') {
            out += "\\r";
        } else if (isPrintable(c)) {
            out.append(s.substr(at, i - at));
        } else if (c <= 0xFF) {
            out += hexEscape("\\x%02x", c);
        } else if (c <= 0xFFFF) {
            out += hexEscape("\\u%04x", c);
        } else {
            out += hexEscape("\\U%08x", c);
        }
    }
    out += quote;
    return out;
}

std::string pythonTuple(const std::vector<std::string>& items) {
    std::string out = "(";
    for (std::size_t k = 0; k < items.size(); ++k)
        out += (k ? ", " : "") + pythonRepr(items[k]);
    return out + (items.size() == 1 ? ",)" : ")");
}

std::string pythonList(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t k = 0; k < items.size(); ++k)
        out += (k ? ", " : "") + pythonRepr(items[k]);
    return out + "]";
}

} // namespace bulkhead::qrexec
