#pragma once
// The policy's rpc rules as a Qubes 4.1+ policy.d file. Qubes evaluates its lines in order
// and takes the first match, as the model does; a rule with several sources or targets
// becomes one line per pair, in order, so the first match stays the same rule.
#include "bulkhead/backends/emitted.h"
#include "bulkhead/compiler/model.h"

#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::backends {

inline constexpr std::string_view kDefaultQrexecFileName = "30-bulkhead.policy";

// Is this a file name Qubes reads from policy.d ([0-9a-z_.-], ending in .policy)?
bool isQubesPolicyFileName(std::string_view name);

struct QrexecEmitOptions {
    std::string version;                // Bulkhead's version, for the header
    std::vector<SourceDigest> sources;  // the policy files, for the header
    std::vector<std::string> fileNames; // by FileId: where each rule was written
};

// The file's text. Throws UnsafeValue when a value could change the line's meaning.
std::string emitQrexecPolicy(const model::Policy& policy, const QrexecEmitOptions& options);

} // namespace bulkhead::backends
