#pragma once
// What a backend produces: files by path under the output directory, and the refusal that
// stops a compile before anything is written.
#include <map>
#include <stdexcept>
#include <string>

namespace bulkhead::backends {

// Relative path ("dom0/etc/qubes/policy.d/30-bulkhead.policy") → content. A std::map keeps
// the order deterministic wherever the files are listed.
using FileSet = std::map<std::string, std::string>;

// A value from the policy that cannot be written safely into an output format. The front
// end should have refused it already; the emitters check again because an output that
// reaches dom0 must never carry injected syntax.
class UnsafeValue : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The source files a header or manifest names, with their hashes.
struct SourceDigest {
    std::string path;
    std::string sha256; // lowercase hex
};

} // namespace bulkhead::backends
