#pragma once
// The analyzer's public face. No Z3 type appears in this header: Z3 is linked privately.
#include <string>

namespace bulkhead::analyzer {

// The prover behind the analyzer, as `bulkhead --version` reports it.
std::string proverVersion();

} // namespace bulkhead::analyzer
