#pragma once
// Translation validation: what the backends wrote, read back, must decide exactly as the
// model does. A difference is a compiler bug, reported with a concrete request or packet.
#include "bulkhead/analyzer/analyzer.h"

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::analyzer {

struct TranslationCheck {
    std::size_t compared = 0;          // request classes (qrexec) or firewall qubes (nft)
    std::optional<std::string> differ; // the first difference, as a concrete example
};

// The emitted policy.d lines (as Qubes' parser read them back) against the policy's own rpc
// rules, over every request class of the system: the same decision, the same landings, and
// the same requests left to the files after it (so Qubes' own policy decides those alike).
TranslationCheck checkQrexecTranslation(const model::Policy& policy,
                                        const std::vector<BaselineRule>& emitted);

} // namespace bulkhead::analyzer
