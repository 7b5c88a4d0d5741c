#pragma once
// Running another program without a shell: an argv array through posix_spawnp, standard
// input from /dev/null, both outputs captured. No string is ever interpreted by a shell.
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::cli {

struct ProcessResult {
    std::optional<std::string> spawnError; // it could not be started (not on PATH, ...)
    int exitCode = -1;                     // -1 when it did not exit normally
    std::string out, err;
};

// argv[0] is looked up on PATH.
ProcessResult runProcess(const std::vector<std::string>& argv);

} // namespace bulkhead::cli
