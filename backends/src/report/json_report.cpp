#include "bulkhead/backends/report.h"

#include "locations.h"

#include <ostream>

namespace bulkhead::backends {
namespace {

using nlohmann::ordered_json;

ordered_json location(const SourceManager& sources, const SourceRange& r) {
    if (!r.valid())
        return nullptr;
    return {{"file", report::fileOf(sources, r)},
            {"line", r.begin.line},
            {"column", r.begin.column},
            {"end_line", r.end.line},
            {"end_column", r.end.column}};
}

} // namespace

void writeJsonReport(std::ostream& out, const SourceManager& sources,
                     std::span<const Diagnostic> diags, const ReportContext& context) {
    ordered_json doc;
    doc["report_version"] = kReportVersion;
    doc["tool"] = {{"name", "bulkhead"}, {"version", context.toolVersion}};
    doc["command"] = context.command;
    doc["exit_code"] = context.exitCode;
    doc["baseline"] =
        context.baseline.empty() ? ordered_json(nullptr) : ordered_json(context.baseline);
    ordered_json counts = ordered_json::object();
    for (const auto& [name, value] : context.counts)
        counts[name] = value;
    doc["counts"] = counts;
    doc["diagnostics"] = ordered_json::array();
    for (const Diagnostic& d : diags) {
        const DiagInfo& info = diagInfo(d.code);
        ordered_json j;
        j["code"] = info.id;
        j["name"] = info.name;
        j["severity"] = severityName(d.severity);
        j["message"] = d.message;
        j["location"] = location(sources, d.range);
        j["hint"] = d.hint.empty() ? ordered_json(nullptr) : ordered_json(d.hint);
        j["notes"] = ordered_json::array();
        j["witness"] = ordered_json::array();
        for (const DiagNote& n : d.notes)
            (n.hop ? j["witness"] : j["notes"])
                .push_back({{"message", n.message}, {"location", location(sources, n.range)}});
        for (const DiagFix& f : d.fixes) {
            ordered_json edits = ordered_json::array();
            for (const DiagEdit& e : f.edits)
                edits.push_back({{"action", e.insert ? "insert" : "delete"},
                                 {"location", location(sources, e.range)},
                                 {"text", e.insert ? ordered_json(*e.insert) : nullptr}});
            j["fixes"].push_back({{"description", f.description}, {"edits", std::move(edits)}});
        }
        doc["diagnostics"].push_back(std::move(j));
    }
    // Policy text may hold any UTF-8 the front end accepted; invalid bytes never reach here,
    // but replace rather than throw if they did.
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

} // namespace bulkhead::backends
