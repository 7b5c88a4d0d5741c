#pragma once
// The parts of Python's str that qrexec's parser leans on, so that lines break, strip and
// split, and values print in error messages, exactly as they do in Qubes (a Python program).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::qrexec {

struct TextLine {
    std::string text; // UTF-8, without its line ending
    std::uint32_t number = 0;
};

struct DecodedText {
    std::vector<TextLine> lines; // every line before the first undecodable one
    // Set when the bytes are not UTF-8: Python's UnicodeDecodeError reason and the line.
    std::optional<std::string> decodeError;
    std::uint32_t decodeErrorLine = 0;
};

// Python's text mode (UTF-8, universal newlines): "\n", "\r\n" and a lone "\r" end a line.
DecodedText decodeLines(std::string_view bytes);

bool isPythonSpace(char32_t c);                                 // str.isspace()
std::string_view pythonStrip(std::string_view s);               // str.strip()
std::vector<std::string> pythonSplit(std::string_view s);       // str.split()
std::string pythonRepr(std::string_view s);                     // repr(str)
std::string pythonTuple(const std::vector<std::string>& items); // repr(tuple of str)
std::string pythonList(const std::vector<std::string>& items);  // repr(list of str)

// Decodes the code point at s[i] (s is valid UTF-8) and moves i past it.
char32_t nextCodePoint(std::string_view s, std::size_t& i);

} // namespace bulkhead::qrexec
