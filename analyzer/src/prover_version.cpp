#include "bulkhead/analyzer/analyzer.h"

#include <z3++.h>

namespace bulkhead::analyzer {

std::string proverVersion() {
    unsigned major = 0, minor = 0, build = 0, revision = 0;
    Z3_get_version(&major, &minor, &build, &revision);
    return "Z3 " + std::to_string(major) + "." + std::to_string(minor) + "." +
           std::to_string(build);
}

} // namespace bulkhead::analyzer
