#include "cli.h"

#include <unistd.h>

#ifdef BULKHEAD_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
#ifdef BULKHEAD_WITH_MIMALLOC
    // A large check frees and reuses hundreds of MB between its phases; with mimalloc's
    // 25 ms the pages went back to the kernel and faulted in again: about a tenth of the
    // wall time at N = 5,000, a third at 10,000 (docs/performance.md, Round 10).
    // MIMALLOC_DECOMMIT_DELAY still wins.
    if (!std::getenv("MIMALLOC_DECOMMIT_DELAY"))
        mi_option_set(mi_option_decommit_delay, 1000);
#endif
    std::vector<std::string> args(argv + 1, argv + argc);
    bulkhead::cli::Terminal terminal;
    const char* noColor = std::getenv("NO_COLOR");
    terminal.color = isatty(STDERR_FILENO) && !(noColor && *noColor);
    return bulkhead::cli::run(args, std::cout, std::cerr, terminal);
}
