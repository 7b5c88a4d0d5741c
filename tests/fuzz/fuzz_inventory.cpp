// The deployed-system descriptions on arbitrary bytes: the qvm-ls inventory and the
// GetSystemInfo JSON, each turned into a model with a few policy lines.
#include "bulkhead/compiler/deployed_system.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    std::string text(reinterpret_cast<const char*>(data), size);
    QrexecPolicyLoad load =
        parseQrexecPolicyText("qubes.Filecopy * @anyvm work ask\n"
                              "qubes.Gpg * @tag:x @default allow target=vault\n");
    std::vector<std::pair<QrexecRule, SourceRange>> rules;
    for (const QrexecRule& r : load.rules)
        rules.emplace_back(r, SourceRange{});
    for (bool json : {false, true}) {
        SourceManager sources;
        DiagnosticSink sink;
        FileId id = sources.add(json ? "info.json" : "qubes.txt", text);
        std::vector<deployed::Qube> qubes = json ? deployed::parseSystemInfo(id, sources, sink)
                                                 : deployed::parseInventory(id, sources, sink);
        (void)deployed::buildPolicy(qubes, rules, sink);
        (void)deployed::parseLabelOrder(id, sources, sink);
    }
    return 0;
}
