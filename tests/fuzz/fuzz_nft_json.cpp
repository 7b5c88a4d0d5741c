// libnftables JSON (`nft -j list ruleset`) on arbitrary bytes: the reader the audit and
// translation validation share.
#include "bulkhead/compiler/nft_ruleset.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    nft::RulesetParse parsed = nft::parseRulesetJson(text);
    if (parsed.ruleset)
        for (const nft::Chain& c : parsed.ruleset->chains)
            (void)parsed.ruleset->findChain(c.family, c.table, c.name);
    return 0;
}
