// `bulkhead check --each`: pre-commit passes every staged *.bh file at once, and in a
// repository of independent policies each is a policy of its own.
#include "commands.h"

#include <algorithm>
#include <ostream>

namespace bulkhead::cli {

int runCheckEach(const CheckOptions& options, std::ostream& out, std::ostream& err,
                 const Terminal& terminal) {
    // One document per file would not be one JSON or SARIF document.
    if (options.format != "text") {
        err << "bulkhead check: --each writes text only (check the files one by one for "
               "--format "
            << options.format << ")\n";
        return kBadInput;
    }
    int worst = kClean;
    for (const std::string& file : options.files) {
        CheckOptions one = options;
        one.each = false;
        one.files = {file};
        worst = std::max(worst, runCheck(one, out, err, terminal));
    }
    return worst;
}

} // namespace bulkhead::cli
