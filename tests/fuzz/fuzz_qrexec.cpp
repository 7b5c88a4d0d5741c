// Qubes' policy.d format on arbitrary bytes, as one file's text: every line parsed with
// Qubes' rules, directives checked (not followed: nothing on disk is touched).
#include "bulkhead/compiler/qrexec_policy.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    QrexecPolicyLoad load = parseQrexecPolicyText(text);
    for (const QrexecRule& r : load.rules)
        (void)formatQrexecRule(r); // what compile would write back
    for (const QrexecError& e : load.errors)
        (void)e.render();
    return 0;
}
