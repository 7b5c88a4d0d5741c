#include "locations.h"

#include <ostream>

namespace bulkhead::backends::report {

std::string fileOf(const SourceManager& sources, const SourceRange& range) {
    if (!range.valid() || range.file >= sources.size())
        return {};
    return sources.file(range.file).path;
}

std::string uriOf(const std::string& path) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : path) {
        auto c = static_cast<unsigned char>(ch);
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

void writeSarifDocument(std::ostream& out, nlohmann::ordered_json rules,
                        nlohmann::ordered_json results, const std::string& toolVersion,
                        int exitCode) {
    using nlohmann::ordered_json;
    ordered_json run;
    run["tool"] = {{"driver",
                    {{"name", "bulkhead"},
                     {"version", toolVersion},
                     {"informationUri", "https://github.com/bulkhead/bulkhead"},
                     {"rules", std::move(rules)}}}};
    run["columnKind"] = "unicodeCodePoints";
    run["invocations"] = ordered_json::array(
        {{{"executionSuccessful", exitCode == 0 || exitCode == 1}, {"exitCode", exitCode}}});
    run["results"] = std::move(results);
    ordered_json doc;
    doc["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
    doc["version"] = "2.1.0";
    doc["runs"] = ordered_json::array({std::move(run)});
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

} // namespace bulkhead::backends::report
