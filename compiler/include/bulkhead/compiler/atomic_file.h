#pragma once
// Whole-file writes that a crash cannot leave half done: a temporary file in the same
// directory, flushed to disk, then renamed over the target.
#include <string>
#include <string_view>

namespace bulkhead {

// Returns an empty string on success, else why it failed (nothing is left behind then).
std::string writeFileAtomically(const std::string& path, std::string_view contents);

} // namespace bulkhead
