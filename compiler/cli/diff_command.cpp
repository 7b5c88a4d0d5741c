// `bulkhead diff OLD NEW`: what a change to a policy means. qrexec decisions are compared
// exactly over every request class of the new policy's system (old rules, then Qubes'
// baseline, against new rules, then the same baseline); network flows are compared with Z3
// packet class by packet class (analyzer/net_diff.h); escape paths from the two analyses.
// Severity follows the trust direction.
#include "baseline.h"
#include "check_run.h"
#include "diff_inputs.h"

#include "bulkhead/analyzer/net_diff.h"
#include "bulkhead/analyzer/translation.h"
#include "bulkhead/backends/diff_report.h"
#include "bulkhead/compiler/frontend.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

namespace bulkhead::cli {
namespace {

using Change = backends::DiffChange;

std::vector<analyzer::BaselineRule> rulesOf(const model::Policy& p,
                                            const std::vector<analyzer::BaselineRule>& baseline) {
    std::vector<analyzer::BaselineRule> out = policyLines(p);
    out.insert(out.end(), baseline.begin(), baseline.end());
    return out;
}

std::vector<backends::DiffPlace> where(const SourceManager& sources,
                                       const std::optional<SourceRange>& r) {
    if (!r || !r->valid())
        return {};
    return {{sources.file(r->file).path, r->begin.line, r->begin.column}};
}

std::vector<backends::DiffPlace> where(const SourceManager& sources,
                                       const std::vector<SourceRange>& ranges) {
    std::vector<backends::DiffPlace> out;
    for (const SourceRange& r : ranges) {
        std::vector<backends::DiffPlace> one = where(sources, r);
        out.insert(out.end(), one.begin(), one.end());
    }
    return out;
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

std::map<std::string, std::vector<backends::DiffPlace>> escapes(const analyzer::GraphView& g,
                                                                const SourceManager& sources) {
    std::map<std::string, std::vector<backends::DiffPlace>> out; // path -> assertion's place
    for (const analyzer::GraphWitness& w : g.witnesses) {
        std::string path;
        for (const analyzer::GraphEdge& h : w.hops)
            path += (path.empty() ? h.from : "") + " => " + h.to;
        out[path] = where(sources, w.assertion);
    }
    return out;
}

// Which way data moves over network flows, by side pair ("outside" for every network node):
// a service's data direction can change the influence without changing a single packet.
std::set<std::pair<std::string, std::string>> netInfluence(const analyzer::GraphView& g) {
    std::set<std::string> external;
    for (const analyzer::GraphNode& n : g.nodes)
        if (n.kind == "external")
            external.insert(n.name);
    auto side = [&](const std::string& n) { return external.count(n) ? "outside" : n; };
    std::set<std::pair<std::string, std::string>> out;
    for (const analyzer::GraphEdge& e : g.edges)
        if (e.kind == "net")
            out.insert({side(e.from), side(e.to)});
    return out;
}

// A connection carries data both ways: an opened packet class weighs as the worse of its two
// directions.
std::string netSeverity(const model::Policy& p, const analyzer::NetDifference& d) {
    if (!d.opened)
        return "note";
    if (d.fromOutside || d.toOutside)
        return "warning"; // a network outside the system: data in or out, at the bottom
    std::string there = severityOf(p, d.from, {d.to}, true);
    std::string back = severityOf(p, d.to, {d.from}, true);
    return there == "error" || back == "error"       ? "error"
           : there == "warning" || back == "warning" ? "warning"
                                                     : "note";
}

// Both sides as policies: files or directories, the old one from git with --git.
bool readInputs(const DiffOptions& o, PolicyInput& older, PolicyInput& newer, std::ostream& err) {
    std::string error;
    bool ok = false;
    if (!o.gitRevision.empty())
        ok = gitInput(o.gitRevision, o.paths, older, error) &&
             workingTreeInput(o.paths, newer, error);
    else if (o.paths.size() != 2)
        error = "give OLD and NEW (each a file or a directory of *.bh files), or --git REV "
                "with the new policy's paths";
    else
        ok = workingTreeInput({o.paths[0]}, older, error) &&
             workingTreeInput({o.paths[1]}, newer, error);
    if (!ok)
        err << "bulkhead diff: " << error << "\n";
    return ok;
}

} // namespace

int runDiff(const DiffOptions& o, std::ostream& out, std::ostream& err, const Terminal& terminal) {
    PolicyInput oldInput, newInput;
    if (!readInputs(o, oldInput, newInput, err))
        return kBadInput;
    CheckRun run;
    FrontendResult older = runFrontend(oldInput.roots, run.sources, run.sink, {}, oldInput.reader);
    FrontendResult newer;
    if (older.policy)
        newer = runFrontend(newInput.roots, run.sources, run.sink);
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
                {"note", "qube", "qube " + q.name + " added", "", {}, where(run.sources, q.range)});
    for (const model::Qube& q : oldP.qubes)
        if (!newP.findQube(q.name))
            changes.push_back({"note",
                               "qube",
                               "qube " + q.name + " removed",
                               "",
                               where(run.sources, q.range),
                               {}});

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

    analyzer::NetComparison net = analyzer::compareNetFlows(oldP, newP, analysis.rlimit);
    if (net.unknown) {
        err << "bulkhead diff: Z3 could not compare the network flows (" << *net.unknown
            << "); nothing reported\n";
        return kInternalError;
    }
    for (const analyzer::NetDifference& d : net.differences) {
        std::string severity = netSeverity(newP, d);
        for (const analyzer::PacketClass& c : d.classes)
            changes.push_back({severity, "net", (d.opened ? "opened: " : "closed: ") + c.text,
                               c.example, where(run.sources, c.oldLines),
                               where(run.sources, c.newLines)});
        if (d.truncated)
            changes.push_back({severity,
                               "net",
                               std::string(d.opened ? "opened" : "closed") +
                                   ": more packet classes from " + d.from + " to " + d.to +
                                   " than listed",
                               "",
                               {},
                               {}});
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
    // Influence over the network that changed with no packet class to show for it: a
    // service's data direction changed.
    std::set<std::pair<std::string, std::string>> packetPairs;
    for (const analyzer::NetDifference& d : net.differences) {
        packetPairs.insert({d.from, d.to});
        packetPairs.insert({d.to, d.from});
    }
    auto ia = netInfluence(ga), ib = netInfluence(gb);
    for (const auto& [influence, other, opened] :
         {std::tuple{&ib, &ia, true}, std::tuple{&ia, &ib, false}})
        for (const auto& [from, to] : *influence)
            if (!other->count({from, to}) && !packetPairs.count({from, to}))
                changes.push_back(
                    {opened ? severityOf(newP, from, {to}, true) : "note",
                     "net",
                     std::string(opened ? "opened" : "closed") + ": data from " + from + " to " +
                         to + " over the same packets (a service's data direction changed)",
                     "",
                     {},
                     {}});
    auto ea = escapes(ga, run.sources), eb = escapes(gb, run.sources);
    for (const auto& [path, at] : eb)
        if (!ea.count(path))
            changes.push_back({"error", "escape-path", "new escape path: " + path, "", {}, at});
    for (const auto& [path, at] : ea)
        if (!eb.count(path))
            changes.push_back({"note", "escape-path", "escape path gone: " + path, "", at, {}});

    std::stable_sort(changes.begin(), changes.end(), [](const Change& x, const Change& y) {
        auto rank = [](const std::string& s) { return s == "error" ? 0 : s == "warning" ? 1 : 2; };
        return rank(x.severity) < rank(y.severity);
    });
    bool blocking = std::any_of(changes.begin(), changes.end(),
                                [](const Change& c) { return c.severity == "error"; });
    backends::DiffReport report;
    report.changes = std::move(changes);
    report.exitCode = blocking ? kFindings : kClean;
    report.toolVersion = BULKHEAD_VERSION;
    report.baseline = analysis.haveBaseline ? analysis.baselineDescription : "";
    report.revision = o.gitRevision;
    report.netPairs = net.pairs;
    report.z3Queries = net.queries;
    if (o.format == "json")
        backends::writeDiffJson(out, report);
    else if (o.format == "sarif")
        backends::writeDiffSarif(out, report);
    else
        backends::writeDiffText(out, report);
    return report.exitCode;
}

} // namespace bulkhead::cli
