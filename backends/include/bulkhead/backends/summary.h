#pragma once
// A human-readable summary of a checked policy: what `bulkhead check --show-model` prints.
#include "bulkhead/compiler/model.h"

#include <iosfwd>

namespace bulkhead::backends {

void writeSummary(std::ostream& out, const model::Policy& policy);

} // namespace bulkhead::backends
