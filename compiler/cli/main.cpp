#include "cli.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    bulkhead::cli::Terminal terminal;
    const char* noColor = std::getenv("NO_COLOR");
    terminal.color = isatty(STDERR_FILENO) && !(noColor && *noColor);
    return bulkhead::cli::run(args, std::cout, std::cerr, terminal);
}
