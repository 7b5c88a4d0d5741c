#pragma once
// Source positions as both report formats spell them.
#include "bulkhead/compiler/source.h"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>

namespace bulkhead::backends::report {

// The file a range is in, as the user named it; empty for a range without a place.
std::string fileOf(const SourceManager& sources, const SourceRange& range);

// A path as a relative URI reference: unreserved characters and '/' kept, the rest
// percent-encoded (SARIF artifactLocation.uri).
std::string uriOf(const std::string& path);

// One SARIF 2.1.0 document with one run of bulkhead: its rules, its results, the exit code.
void writeSarifDocument(std::ostream& out, nlohmann::ordered_json rules,
                        nlohmann::ordered_json results, const std::string& toolVersion,
                        int exitCode);

} // namespace bulkhead::backends::report
