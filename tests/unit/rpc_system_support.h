#pragma once
// Systems for the white-box tests of Qubes' evaluation (analyzer/src/rpc_eval.h).
#include "rpc_eval.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bulkhead::test {

inline void addQube(analyzer::rpc::System& sys, std::string name, std::string type,
                    std::vector<std::string> tags, std::optional<std::size_t> defaultDispvm = {},
                    bool dispvmTemplate = false) {
    analyzer::rpc::SystemQube q;
    q.name = std::move(name);
    q.type = std::move(type);
    q.tags = std::move(tags);
    q.defaultDispvm = defaultDispvm;
    q.dispvmTemplate = dispvmTemplate;
    sys.qubes.push_back(std::move(q));
}

} // namespace bulkhead::test
