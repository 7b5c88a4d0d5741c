#include "bulkhead/backends/diff_report.h"

#include "locations.h"

#include <nlohmann/json.hpp>

#include <ostream>

namespace bulkhead::backends {
namespace {

using nlohmann::ordered_json;

std::string placeText(const DiffPlace& p) {
    return p.file + ":" + std::to_string(p.line);
}

std::string placesText(const std::vector<DiffPlace>& places) {
    std::string out;
    for (const DiffPlace& p : places)
        out += (out.empty() ? "" : ", ") + placeText(p);
    return out;
}

ordered_json placesJson(const std::vector<DiffPlace>& places) {
    ordered_json out = ordered_json::array();
    for (const DiffPlace& p : places)
        out.push_back({{"file", p.file}, {"line", p.line}, {"column", p.column}});
    return out;
}

// The rule every change of a kind reports under, for code-scanning views.
struct DiffRule {
    const char* kind;
    const char* id;
    const char* description;
};
constexpr DiffRule kRules[] = {
    {"rpc", "diff-rpc", "a qrexec request class is decided differently"},
    {"net", "diff-net", "a class of packets is permitted by one policy and not the other"},
    {"escape-path", "diff-escape-path", "an escape path appeared or went away"},
    {"qube", "diff-qube", "a qube was added or removed"},
};

std::size_t ruleIndex(const std::string& kind) {
    for (std::size_t i = 0; i < std::size(kRules); ++i)
        if (kind == kRules[i].kind)
            return i;
    return 0;
}

} // namespace

void writeDiffText(std::ostream& out, const DiffReport& report) {
    if (report.changes.empty()) {
        out << "no semantic change: every qrexec request, network packet and escape path is "
               "the same (Z3: "
            << report.netPairs << " node pairs compared, " << report.z3Queries << " queries)\n";
        return;
    }
    for (const DiffChange& c : report.changes) {
        out << c.severity << " [" << c.kind << "] " << c.text << "\n";
        if (!c.example.empty())
            out << "    e.g. " << c.example << "\n";
        if (!c.older.empty())
            out << "    old: " << placesText(c.older) << "\n";
        if (!c.newer.empty())
            out << "    new: " << placesText(c.newer) << "\n";
    }
}

void writeDiffJson(std::ostream& out, const DiffReport& report) {
    ordered_json doc;
    doc["diff_version"] = kDiffVersion;
    doc["tool"] = {{"name", "bulkhead"}, {"version", report.toolVersion}};
    doc["exit_code"] = report.exitCode;
    doc["baseline"] = report.baseline.empty() ? ordered_json() : ordered_json(report.baseline);
    doc["revision"] = report.revision.empty() ? ordered_json() : ordered_json(report.revision);
    doc["semantic_change"] = !report.changes.empty();
    doc["proof"] = {{"net_pairs", report.netPairs}, {"z3_queries", report.z3Queries}};
    doc["changes"] = ordered_json::array();
    for (const DiffChange& c : report.changes)
        doc["changes"].push_back({{"severity", c.severity},
                                  {"kind", c.kind},
                                  {"text", c.text},
                                  {"example", c.example},
                                  {"old", placesJson(c.older)},
                                  {"new", placesJson(c.newer)}});
    out << doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

void writeDiffSarif(std::ostream& out, const DiffReport& report) {
    ordered_json rules = ordered_json::array();
    for (const DiffRule& r : kRules)
        rules.push_back(
            {{"id", r.id},
             {"name", r.kind},
             {"shortDescription", {{"text", r.description}}},
             {"helpUri", "https://github.com/bulkhead/bulkhead/blob/main/docs/cli.md"}});
    // A file read from git is named "REV:path": the artifact is the path in the repository.
    std::string prefix = report.revision.empty() ? "" : report.revision + ":";
    auto location = [&](const DiffPlace& p) {
        std::string file =
            !prefix.empty() && p.file.starts_with(prefix) ? p.file.substr(prefix.size()) : p.file;
        ordered_json region = {{"startLine", p.line}};
        if (p.column > 0)
            region["startColumn"] = p.column;
        return ordered_json{{"physicalLocation",
                             {{"artifactLocation", {{"uri", report::uriOf(file)}}},
                              {"region", std::move(region)}}}};
    };
    ordered_json results = ordered_json::array();
    for (const DiffChange& c : report.changes) {
        std::size_t index = ruleIndex(c.kind);
        std::string text = c.text + (c.example.empty() ? "" : " (e.g. " + c.example + ")");
        ordered_json r;
        r["ruleId"] = kRules[index].id;
        r["ruleIndex"] = index;
        r["level"] = c.severity;
        // Anchored to the new policy's lines; a change that only the old policy has a line
        // for (a removed rule) points there, and says so.
        const std::vector<DiffPlace>& anchor = c.newer.empty() ? c.older : c.newer;
        if (c.newer.empty() && !c.older.empty())
            text += " [old policy: " + placesText(c.older) + "]";
        r["message"] = {{"text", text}};
        ordered_json locations = ordered_json::array();
        for (const DiffPlace& p : anchor)
            locations.push_back(location(p));
        if (!locations.empty())
            r["locations"] = std::move(locations);
        if (!c.newer.empty() && !c.older.empty()) {
            ordered_json related = ordered_json::array();
            for (std::size_t i = 0; i < c.older.size(); ++i) {
                ordered_json l = location(c.older[i]);
                l["id"] = i;
                l["message"] = {{"text", "in the old policy: " + placeText(c.older[i])}};
                related.push_back(std::move(l));
            }
            r["relatedLocations"] = std::move(related);
        }
        results.push_back(std::move(r));
    }
    report::writeSarifDocument(out, std::move(rules), std::move(results), report.toolVersion,
                               report.exitCode);
}

} // namespace bulkhead::backends
