// The deployed-system descriptions on arbitrary bytes: the qvm-ls inventory and the
// GetSystemInfo JSON, each turned into a model with a few policy lines, and the label order.
#include "bulkhead/compiler/deployed_system.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using Rules = std::vector<std::pair<bulkhead::QrexecRule, bulkhead::SourceRange>>;

// The same two policy lines for every input: parsed once, not once per execution.
const Rules& policyRules() {
    static const Rules rules = [] {
        bulkhead::QrexecPolicyLoad load =
            bulkhead::parseQrexecPolicyText("qubes.Filecopy * @anyvm work ask\n"
                                            "qubes.Gpg * @tag:x @default allow target=vault\n");
        Rules out;
        for (const bulkhead::QrexecRule& r : load.rules)
            out.emplace_back(r, bulkhead::SourceRange{});
        return out;
    }();
    return rules;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)policyRules();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    SourceManager sources; // one copy of the input, read as each format in turn
    FileId id = sources.add("qubes.txt", std::string(reinterpret_cast<const char*>(data), size));
    for (bool json : {false, true}) {
        DiagnosticSink sink;
        std::vector<deployed::Qube> qubes = json ? deployed::parseSystemInfo(id, sources, sink)
                                                 : deployed::parseInventory(id, sources, sink);
        (void)deployed::buildPolicy(qubes, policyRules(), sink);
    }
    // The label order is neither format: one parse per input, not one per format.
    DiagnosticSink sink;
    (void)deployed::parseLabelOrder(id, sources, sink);
    return 0;
}
