#pragma once
// Guards between policy values and output syntax. Every value an emitter writes passes one
// of these; anything outside the expected alphabet is refused, never escaped, because the
// formats (qrexec policy lines, nftables, qvm-firewall rules) have no quoting to rely on.
#include <string>
#include <string_view>

namespace bulkhead::backends {

inline constexpr std::string_view kServiceChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
inline constexpr std::string_view kArgumentChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+._-";
inline constexpr std::string_view kUserChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
inline constexpr std::string_view kWordChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@:*+";
// A qvm-firewall rule line: key=value options whose values stay in the set Qubes accepts
// ([A-Za-z0-9:;,./_[]-], qubes-formats.md §3.2), separated by spaces.
inline constexpr std::string_view kQvmFirewallChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:;,./_[]- =";

// Throws UnsafeValue unless every character of value is in allowed and value is not empty.
void requireCharset(std::string_view value, std::string_view allowed, std::string_view what);
// One whitespace-free word of a line format.
void requireWord(std::string_view value, std::string_view what);

// Text for a comment: printable ASCII only (a newline would end the comment).
std::string commentSafe(std::string_view text);

} // namespace bulkhead::backends
