// SARIF 2.1.0 (OASIS): one run, rule metadata from the diagnostic catalog, results anchored
// to policy regions (columns are Unicode code points, as Bulkhead counts them), witness
// paths as code flows.
#include "bulkhead/backends/report.h"

#include "locations.h"

#include <algorithm>
#include <map>
#include <ostream>

namespace bulkhead::backends {
namespace {

using nlohmann::ordered_json;

// SARIF's levels have the same names as Bulkhead's severities.
std::string_view level(Severity s) {
    return severityName(s);
}

// docs/diagnostics.md heading anchors: "### BH1001 assertion-violated (error)".
std::string helpAnchor(const DiagInfo& info) {
    std::string a = std::string(info.id) + "-" + std::string(info.name) + "-" +
                    std::string(level(info.severity));
    std::transform(a.begin(), a.end(), a.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return a;
}

ordered_json physical(const SourceManager& sources, const SourceRange& r) {
    ordered_json region = {{"startLine", r.begin.line},
                           {"startColumn", r.begin.column},
                           {"endLine", r.end.line},
                           {"endColumn", r.end.column + 1}}; // SARIF's end is exclusive
    return {{"artifactLocation", {{"uri", report::uriOf(report::fileOf(sources, r))}}},
            {"region", region}};
}

// SARIF fix objects: per file, the deleted statements and the inserted ones (an empty
// deletedRegion is an insertion), each on a line of its own at the statement's indentation.
ordered_json fixOf(const SourceManager& sources, const DiagFix& fix) {
    std::map<std::string, ordered_json> byFile;
    for (const DiagEdit& e : fix.edits) {
        if (!e.range.valid())
            continue;
        ordered_json replacement;
        if (e.insert) {
            const SourcePos& at = e.range.begin;
            replacement["deletedRegion"] = {{"startLine", at.line},
                                            {"startColumn", at.column},
                                            {"endLine", at.line},
                                            {"endColumn", at.column}};
            replacement["insertedContent"] = {
                {"text", *e.insert + "\n" + std::string(at.column > 0 ? at.column - 1 : 0, ' ')}};
        } else {
            replacement["deletedRegion"] = physical(sources, e.range)["region"];
        }
        std::string uri = report::uriOf(report::fileOf(sources, e.range));
        byFile[uri].push_back(std::move(replacement));
    }
    ordered_json changes = ordered_json::array();
    for (auto& [uri, replacements] : byFile)
        changes.push_back(
            {{"artifactLocation", {{"uri", uri}}}, {"replacements", std::move(replacements)}});
    return {{"description", {{"text", fix.description}}}, {"artifactChanges", std::move(changes)}};
}

ordered_json locationOf(const SourceManager& sources, const SourceRange& r,
                        const std::string& message) {
    ordered_json loc = ordered_json::object();
    if (r.valid())
        loc["physicalLocation"] = physical(sources, r);
    if (!message.empty())
        loc["message"] = {{"text", message}};
    return loc;
}

} // namespace

void writeSarifReport(std::ostream& out, const SourceManager& sources,
                      std::span<const Diagnostic> diags, const ReportContext& context) {
    // Rules: every code that occurs, in catalog order, so ruleIndex is stable per report.
    std::map<DiagCode, std::size_t> ruleIndex;
    ordered_json rules = ordered_json::array();
    for (const DiagInfo& info : diagCatalog()) {
        bool used = std::any_of(diags.begin(), diags.end(),
                                [&](const Diagnostic& d) { return d.code == info.code; });
        if (!used)
            continue;
        ruleIndex[info.code] = rules.size();
        rules.push_back(
            {{"id", info.id},
             {"name", info.name},
             {"shortDescription", {{"text", info.summary}}},
             {"helpUri", "https://github.com/bulkhead/bulkhead/blob/main/docs/diagnostics.md#" +
                             helpAnchor(info)},
             {"defaultConfiguration", {{"level", level(info.severity)}}}});
    }

    ordered_json results = ordered_json::array();
    for (const Diagnostic& d : diags) {
        ordered_json r;
        r["ruleId"] = diagInfo(d.code).id;
        r["ruleIndex"] = ruleIndex.at(d.code);
        r["level"] = level(d.severity);
        r["message"] = {{"text", d.hint.empty() ? d.message : d.message + " (" + d.hint + ")"}};
        if (d.range.valid())
            r["locations"] = ordered_json::array({locationOf(sources, d.range, "")});
        ordered_json related = ordered_json::array();
        ordered_json hops = ordered_json::array();
        for (const DiagNote& n : d.notes) {
            if (n.hop) {
                hops.push_back({{"location", locationOf(sources, n.range, n.message)}});
                continue;
            }
            if (!n.range.valid())
                continue; // SARIF related locations need a place; the text is in the message
            ordered_json loc = locationOf(sources, n.range, n.message);
            loc["id"] = related.size();
            related.push_back(std::move(loc));
        }
        if (!related.empty())
            r["relatedLocations"] = std::move(related);
        if (!hops.empty())
            r["codeFlows"] = ordered_json::array(
                {{{"message", {{"text", "the escape path, hop by hop"}}},
                  {"threadFlows", ordered_json::array({{{"locations", std::move(hops)}}})}}});
        for (const DiagFix& f : d.fixes)
            r["fixes"].push_back(fixOf(sources, f));
        results.push_back(std::move(r));
    }

    ordered_json run;
    run["tool"] = {{"driver",
                    {{"name", "bulkhead"},
                     {"version", context.toolVersion},
                     {"informationUri", "https://github.com/bulkhead/bulkhead"},
                     {"rules", std::move(rules)}}}};
    run["columnKind"] = "unicodeCodePoints";
    run["invocations"] = ordered_json::array(
        {{{"executionSuccessful", context.exitCode == 0 || context.exitCode == 1},
          {"exitCode", context.exitCode}}});
    run["results"] = std::move(results);
    ordered_json doc;
    doc["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
    doc["version"] = "2.1.0";
    doc["runs"] = ordered_json::array({std::move(run)});
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

} // namespace bulkhead::backends
