// The generated system as a deployed Qubes holds it, for `bulkhead audit` (docs/audit.md):
// the rpc rules as policy.d files, the qubes as `qvm-ls --raw-data` lines.
#pragma once

#include "generator.h"

#include <string>

namespace bench {

// Writes DIR/policy.d/ (the rules in order over several files whose names Qubes accepts,
// and a README Qubes' filter skips) and DIR/qubes.txt. Returns an error message, or "".
std::string writeDeployed(const std::string& dir, const Generated& g);

} // namespace bench
