#pragma once
// The bulkhead command line, callable in-process so tests drive it like a user would.
#include <iosfwd>
#include <string>
#include <vector>

namespace bulkhead::cli {

// Exit codes, as docs/cli.md documents them.
enum ExitCode : int { kClean = 0, kFindings = 1, kBadInput = 2, kInternalError = 3 };

struct Terminal {
    bool color = false; // colour diagnostics (decided by the caller from isatty/NO_COLOR)
};

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const Terminal& terminal = {});

} // namespace bulkhead::cli
