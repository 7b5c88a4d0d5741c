// Qubes' policy.d loader on arbitrary bytes, includes followed through an in-memory tree so
// nothing on disk is touched. The input is a small archive: the text up to the first line
// "%%% PATH" is /etc/qubes/policy.d/30-fuzz.policy; each "%%% PATH" line starts another file:
// run/NAME under /run/qubes/policy.d, legacy/NAME under /etc/qubes-rpc/policy, anything else
// under /etc/qubes/policy.d. A plain policy file is thus an input of its own.
#include "bulkhead/compiler/qrexec_policy.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kMarker = "%%% ";

std::string placeOf(std::string_view name) {
    if (name.starts_with("run/"))
        return "/run/qubes/policy.d/" + std::string(name.substr(4));
    if (name.starts_with("legacy/"))
        return "/etc/qubes-rpc/policy/" + std::string(name.substr(7));
    return "/etc/qubes/policy.d/" + std::string(name);
}

bulkhead::QrexecFileTree unpack(std::string_view input) {
    bulkhead::QrexecFileTree tree;
    std::string* current = &tree["/etc/qubes/policy.d/30-fuzz.policy"];
    while (!input.empty()) {
        std::size_t end = input.find('\n');
        std::string_view line = input.substr(0, end == std::string_view::npos ? input.size() : end);
        if (line.starts_with(kMarker))
            current = &tree[placeOf(line.substr(kMarker.size()))];
        else
            current->append(line).append(end == std::string_view::npos ? "" : "\n");
        input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    }
    return tree;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    QrexecFileTree tree = unpack({reinterpret_cast<const char*>(data), size});
    QrexecPolicyOptions options; // Qubes' own directories, in memory
    options.files = &tree;
    options.maxIncludeDepth = 16;          // deep enough for every directive, cheap per input
    options.maxIncludedBytes = 256 * 1024; // the same: includes may not multiply an input
    QrexecPolicyLoad load = loadQrexecPolicy(options);
    for (const QrexecRule& r : load.rules)
        (void)formatQrexecRule(r); // what compile would write back
    for (const QrexecError& e : load.errors)
        (void)e.render();
    return 0;
}
