#pragma once
// The files of one compile and the validations behind them, before anything is written.
#include "check_run.h"

#include "bulkhead/backends/emitted.h"
#include "bulkhead/backends/qrexec_emit.h"
#include "bulkhead/compiler/atomic_dir.h"

#include <map>
#include <string>
#include <vector>

namespace bulkhead::cli {

struct Validation {
    std::string name;   // "qrexec-readback", "nft-kernel", "nft-readback"
    std::string result; // "passed", "failed" (a compiler bug), "refused", "skipped"
    std::string detail;
};

struct CompileOutputs {
    std::map<std::string, TreeFile> files; // manifest.json included
    std::vector<Validation> validations;
};

CompileOutputs buildOutputs(const model::Policy& policy, const CheckRun& run,
                            const CompileOptions& options);

} // namespace bulkhead::cli
