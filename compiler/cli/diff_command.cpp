// `bulkhead diff OLD NEW`: what a change to a policy means. qrexec decisions are compared
// exactly over every request class of the new policy's system (old rules, then Qubes'
// baseline, against new rules, then the same baseline); network edges and escape paths are
// compared from the two analyses' graphs. Severity follows the trust direction.
#include "baseline.h"
#include "check_run.h"

#include "bulkhead/analyzer/translation.h"
#include "bulkhead/compiler/frontend.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

namespace bulkhead::cli {
namespace {

struct Change {
    std::string severity; // error (opened low -> high), warning (opened high -> low), note
    std::string kind;     // rpc, net, escape-path, qube
    std::string text;
    std::string example;
    std::string oldAt, newAt; // file:line of the deciding lines; empty when none
};

std::vector<analyzer::BaselineRule> rulesOf(const model::Policy& p,
                                            const std::vector<analyzer::BaselineRule>& baseline) {
    std::vector<analyzer::BaselineRule> out = policyLines(p);
    out.insert(out.end(), baseline.begin(), baseline.end());
    return out;
}

std::string where(const SourceManager& sources, const std::optional<SourceRange>& r) {
    if (!r || !r->valid())
        return "";
    return sources.file(r->file).path + ":" + std::to_string(r->begin.line);
}

// Opening a way from lower to higher trust is an integrity risk (error); from higher to
// lower, or to or from a network outside the system, a confidentiality one (warning);
// anything else a note.
std::string severityOf(const model::Policy& p, const std::string& from,
                       const std::vector<std::string>& to, bool opened) {
    if (!opened)
        return "note";
    auto trustOf = [&](std::string name) -> std::optional<std::optional<model::LevelId>> {
        if (name.starts_with("@dispvm:"))
            name = name.substr(8);
        auto q = p.findQube(name);
        if (!q)
            return std::nullopt;
        return p.qubes[*q].trust; // empty: dom0, above all
    };
    auto a = trustOf(from);
    std::string worst = "note";
    for (const std::string& t : to) {
        auto b = trustOf(t);
        if (!a || !b) {
            worst = "warning"; // a network outside the system: data in or out, at the bottom
            continue;
        }
        bool below = (*a && !*b) || (*a && *b && p.trust.less(**a, **b));
        bool above = (!*a && *b) || (*a && *b && p.trust.less(**b, **a));
        if (below)
            return "error";
        if (above)
            worst = "warning";
    }
    return worst;
}

std::set<std::tuple<std::string, std::string, std::string>> netEdges(const analyzer::GraphView& g) {
    std::set<std::tuple<std::string, std::string, std::string>> out;
    for (const analyzer::GraphEdge& e : g.edges)
        if (e.kind == "net")
            for (const std::string& s : e.services)
                out.insert({e.from, e.to, s});
    return out;
}

std::map<std::string, std::string> escapes(const analyzer::GraphView& g,
                                           const SourceManager& sources) {
    std::map<std::string, std::string> out; // path text -> assertion's place
    for (const analyzer::GraphWitness& w : g.witnesses) {
        std::string path;
        for (const analyzer::GraphEdge& h : w.hops)
            path += (path.empty() ? h.from : "") + " => " + h.to;
        out[path] = where(sources, w.assertion);
    }
    return out;
}

} // namespace

int runDiff(const DiffOptions& o, std::ostream& out, std::ostream& err, const Terminal& terminal) {
    CheckRun run;
    std::vector<std::string> oldFiles{o.oldFile}, newFiles{o.newFile};
    FrontendResult older = runFrontend(oldFiles, run.sources, run.sink);
    FrontendResult newer;
    if (older.policy)
        newer = runFrontend(newFiles, run.sources, run.sink);
    analyzer::AnalysisOptions analysis;
    BaselineChoice baseline{o.baselineDirs, o.baselineLegacy, o.noBaseline};
    DiagnosticSink baselineSink;
    if (!older.policy || !newer.policy ||
        !loadBaseline(baseline, run.sources, baselineSink, analysis)) {
        std::vector<Diagnostic> diags = run.sink.sorted();
        renderDiagnostics(err, run.sources, diags, {terminal.color});
        err << "bulkhead diff: both policies must pass the front end; nothing compared\n";
        return kBadInput;
    }
    const model::Policy& oldP = *older.policy;
    const model::Policy& newP = *newer.policy;
    std::vector<Change> changes;

    for (const model::Qube& q : newP.qubes)
        if (!oldP.findQube(q.name))
            changes.push_back(
                {"note", "qube", "qube " + q.name + " added", "", "", where(run.sources, q.range)});
    for (const model::Qube& q : oldP.qubes)
        if (!newP.findQube(q.name))
            changes.push_back({"note", "qube", "qube " + q.name + " removed", "",
                               where(run.sources, q.range), ""});

    for (const analyzer::RpcDrift& d : analyzer::compareRpcRuleLists(
             newP, rulesOf(oldP, analysis.baseline), rulesOf(newP, analysis.baseline))) {
        bool opened =
            d.intendedLandings.size() > d.deployedLandings.size() ||
            std::any_of(d.intendedLandings.begin(), d.intendedLandings.end(),
                        [&](const std::string& l) {
                            return std::find(d.deployedLandings.begin(), d.deployedLandings.end(),
                                             l) == d.deployedLandings.end();
                        });
        changes.push_back({severityOf(newP, d.caller, d.intendedLandings, opened), "rpc",
                           std::string(opened ? "opened" : "changed") + ": was " + d.deployed +
                               ", now " + d.intended + " (" + std::to_string(d.requests) +
                               " request class" + (d.requests == 1 ? ")" : "es)"),
                           d.example, where(run.sources, d.deployedRule),
                           where(run.sources, d.intendedRule)});
    }

    std::unique_ptr<analyzer::Analysis> a, b;
    try {
        a = analyzer::Analysis::build(oldP, analysis);
        b = analyzer::Analysis::build(newP, analysis);
    } catch (const std::runtime_error& e) {
        err << "bulkhead diff: " << e.what() << "\n";
        return kInternalError;
    }
    analyzer::GraphView ga = a->graphView(), gb = b->graphView();
    auto na = netEdges(ga), nb = netEdges(gb);
    // A flow whose data goes both ways is two edges; one change reads better.
    auto netChanges = [&](const auto& have, const auto& other, bool opened) {
        std::set<std::tuple<std::string, std::string, std::string>> done;
        for (const auto& [from, to, service] : have) {
            if (other.count({from, to, service}) || done.count({from, to, service}))
                continue;
            bool both = have.count({to, from, service}) && !other.count({to, from, service});
            done.insert({to, from, service});
            std::string text =
                std::string(opened ? "opened: " : "closed: ") + service +
                (both ? " between " + from + " and " + to : " from " + from + " to " + to);
            changes.push_back(
                {opened ? severityOf(newP, from, {to}, true) : "note", "net", text, "", "", ""});
        }
    };
    netChanges(nb, na, true);
    netChanges(na, nb, false);
    auto ea = escapes(ga, run.sources), eb = escapes(gb, run.sources);
    for (const auto& [path, at] : eb)
        if (!ea.count(path))
            changes.push_back({"error", "escape-path", "new escape path: " + path, "", "", at});
    for (const auto& [path, at] : ea)
        if (!eb.count(path))
            changes.push_back({"note", "escape-path", "escape path gone: " + path, "", at, ""});

    std::stable_sort(changes.begin(), changes.end(), [](const Change& x, const Change& y) {
        auto rank = [](const std::string& s) { return s == "error" ? 0 : s == "warning" ? 1 : 2; };
        return rank(x.severity) < rank(y.severity);
    });
    bool blocking = std::any_of(changes.begin(), changes.end(),
                                [](const Change& c) { return c.severity == "error"; });
    if (o.format == "json") {
        nlohmann::ordered_json doc;
        doc["diff_version"] = 1;
        doc["semantic_change"] = !changes.empty();
        doc["changes"] = nlohmann::ordered_json::array();
        for (const Change& c : changes)
            doc["changes"].push_back({{"severity", c.severity},
                                      {"kind", c.kind},
                                      {"text", c.text},
                                      {"example", c.example},
                                      {"old", c.oldAt},
                                      {"new", c.newAt}});
        out << doc.dump(2) << "\n";
    } else if (changes.empty()) {
        out << "no semantic change: every qrexec request, network edge and escape path is "
               "the same\n";
    } else {
        for (const Change& c : changes) {
            out << c.severity << " [" << c.kind << "] " << c.text << "\n";
            if (!c.example.empty())
                out << "    e.g. " << c.example << "\n";
            if (!c.oldAt.empty())
                out << "    old: " << c.oldAt << "\n";
            if (!c.newAt.empty())
                out << "    new: " << c.newAt << "\n";
        }
    }
    return blocking ? kFindings : kClean;
}

} // namespace bulkhead::cli
