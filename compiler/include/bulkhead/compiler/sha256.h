#pragma once
// SHA-256 of bytes as lowercase hex, for output headers and the compile manifest. OpenSSL's
// libcrypto does it: a reviewed implementation beats a hand-written one in a security tool.
#include <string>
#include <string_view>

namespace bulkhead {

std::string sha256Hex(std::string_view bytes);

} // namespace bulkhead
