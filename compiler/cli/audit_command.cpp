// `bulkhead audit`: a deployed system's qubes and qrexec policy, read as Qubes reads them,
// checked as `check` checks a policy: escape paths between trust levels (labels), rule
// findings on the deployed lines, and Qubes' silent gaps.
#include "audit_drift.h"
#include "audit_firewall.h"
#include "audit_fw_drift.h"
#include "audit_fw_findings.h"
#include "audit_gaps.h"
#include "baseline.h"
#include "check_run.h"

#include "bulkhead/compiler/deployed_system.h"
#include "bulkhead/compiler/frontend.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace bulkhead::cli {
namespace {

namespace fs = std::filesystem;

model::Selector trustSelector(model::Comparator c, model::LevelId level) {
    model::Selector s;
    s.kind = model::Selector::Kind::Trust;
    s.comparator = c;
    s.level = level;
    return s;
}

// For each label in use with qubes below it: nothing below reaches it (integrity), and its
// data reaches nothing below through calls, devices or dom0's control (confidentiality;
// networking is every networked qube's nature and is left to the firewall findings).
void addTrustAssertions(model::Policy& p) {
    std::vector<bool> used(p.trust.levels().size(), false);
    for (const model::Qube& q : p.qubes)
        if (q.trust)
            used[*q.trust] = true;
    for (model::LevelId l = 0; l < used.size(); ++l) {
        if (!used[l])
            continue;
        bool lower = false;
        for (model::LevelId k = 0; k < used.size(); ++k)
            lower = lower || (used[k] && p.trust.less(k, l));
        if (lower) {
            model::Assertion integrity;
            integrity.from = {trustSelector(model::Comparator::Less, l)};
            integrity.to = {trustSelector(model::Comparator::Equal, l)};
            p.assertions.push_back(integrity);
            model::Assertion confidentiality;
            confidentiality.from = {trustSelector(model::Comparator::Equal, l)};
            confidentiality.to = {trustSelector(model::Comparator::Less, l)};
            confidentiality.via = {model::EdgeKind::Rpc, model::EdgeKind::Device,
                                   model::EdgeKind::Admin};
            p.assertions.push_back(confidentiality);
        }
    }
    // dom0 sits above every label.
    model::Assertion dom0;
    model::Selector any;
    any.kind = model::Selector::Kind::AnyVM;
    model::Selector admin;
    admin.kind = model::Selector::Kind::Qube;
    admin.qube = model::Policy::dom0;
    dom0.from = {any};
    dom0.to = {admin};
    p.assertions.push_back(dom0);
}

bool loadQubes(const AuditOptions& o, CheckRun& run, std::vector<deployed::Qube>& qubes) {
    const std::string& path = o.inventory.empty() ? o.systemInfo : o.inventory;
    std::optional<FileId> id = readSourceFile(path, run.sources, run.sink, {});
    if (!id)
        return false;
    qubes = o.inventory.empty() ? deployed::parseSystemInfo(*id, run.sources, run.sink)
                                : deployed::parseInventory(*id, run.sources, run.sink);
    return !run.sink.hasErrors();
}

} // namespace

int runAudit(const AuditOptions& o, std::ostream& out, std::ostream& err,
             const Terminal& terminal) {
    CheckRun run;
    if (!applySeverities(o.severities, run.sink, err))
        return kBadInput;
    auto finish = [&](int code) {
        if (o.format != "text") {
            writeReport(out, o.format, "audit", code, run);
            return code;
        }
        std::vector<Diagnostic> diags = run.sink.sorted();
        renderDiagnostics(err, run.sources, diags, {terminal.color});
        if (run.sink.errorCount() > 0 || run.sink.warningCount() > 0)
            err << "bulkhead: " << diagnosticCounts(run.sink) << "\n";
        return code;
    };
    if (o.inventory.empty() == o.systemInfo.empty()) {
        err << "bulkhead audit: give the qubes with exactly one of --inventory FILE "
               "(qvm-ls --raw-data) or --system-info FILE (internal.GetSystemInfo)\n";
        return kBadInput;
    }
    // The policy first: the front end yields a model only while the sink holds no error.
    if (!o.intent.empty()) {
        run.frontend = runFrontend(o.intent, run.sources, run.sink);
        if (!run.frontend.policy)
            return finish(kBadInput);
    }
    std::vector<deployed::Qube> qubes;
    if (!loadQubes(o, run, qubes))
        return finish(kBadInput);

    QrexecPolicyOptions qopts;
    qopts.policyDirs = o.policyDirs;
    if (!o.legacyDir.empty())
        qopts.legacyDir = o.legacyDir;
    for (const std::string& d : qopts.policyDirs)
        if (!fs::is_directory(d)) {
            run.sink.report(DiagCode::CannotReadFile, {},
                            "cannot read policy directory '" + d + "': not a directory");
            return finish(kBadInput);
        }
    QrexecPolicyLoad load = loadQrexecPolicy(qopts);
    std::map<std::string, FileId> files;
    // Qubes stops at its first error and then denies every call; every error is shown here.
    for (const QrexecError& e : load.errors)
        run.sink
            .report(DiagCode::BaselineRefused,
                    e.line ? policyLineRange(e.file, e.line, run.sources, files) : SourceRange{},
                    "Qubes refuses this policy: " + e.render())
            .hint("Qubes denies every call while any policy file has an error");
    if (load.refused())
        return finish(kBadInput);
    std::vector<std::pair<QrexecRule, SourceRange>> rules;
    std::vector<DeployedRule> deployedRules;
    for (const QrexecRule& r : load.rules) {
        SourceRange at = policyLineRange(r.file, r.line, run.sources, files);
        rules.emplace_back(r, at);
        deployedRules.push_back({r, at});
    }

    std::vector<std::pair<model::Label, model::Label>> order;
    if (!o.labels.empty()) {
        std::optional<FileId> id = readSourceFile(o.labels, run.sources, run.sink, {});
        auto parsed = id ? deployed::parseLabelOrder(*id, run.sources, run.sink) : std::nullopt;
        if (!parsed)
            return finish(kBadInput);
        order = *parsed;
    }
    deployed::PolicyBuild build = deployed::buildPolicy(qubes, rules, run.sink, order);
    if (!build.policy)
        return finish(kBadInput);
    model::Policy& policy = *build.policy;
    policy.files.push_back(o.inventory.empty() ? o.systemInfo : o.inventory);
    policy.files.insert(policy.files.end(), load.files.begin(), load.files.end());
    // Firewall state becomes the model's network flows before the analysis builds its graph.
    std::optional<std::vector<fw::FirewallState>> firewalls = readFirewallState(o, run, policy);
    if (!firewalls)
        return finish(kBadInput);
    addFirewallFlows(policy, *firewalls);
    for (const fw::FirewallState& s : *firewalls)
        policy.files.push_back(s.file);
    addTrustAssertions(policy);

    run.analysis.haveBaseline = true; // the deployed files are the whole policy
    run.analysis.baselineDescription =
        "deployed policy (" + std::to_string(load.rules.size()) + " rules)";
    run.summary = analyzer::analyze(policy, {}, run.sink);
    reportSilentGaps(policy, build, run.sink);
    reportFirewallFindings(policy, *firewalls, run.sink);
    if (run.frontend.policy) {
        reportDrift(o, *run.frontend.policy, policy, deployedRules, run.sink);
        reportFirewallDrift(*run.frontend.policy, policy, *firewalls, run.sources, run.sink);
    }

    int code = run.sink.errorCount() > 0 || run.sink.warningCount() > 0 ? kFindings : kClean;
    std::vector<Diagnostic> diags = run.sink.sorted();
    if (std::any_of(diags.begin(), diags.end(),
                    [](const Diagnostic& d) { return d.code == DiagCode::CouldNotProve; }))
        code = kInternalError;
    int result = finish(code);
    if (o.format == "text")
        out << "deployed system: " << policy.qubes.size() - 1 << " qubes, " << load.rules.size()
            << " rules from " << load.files.size() << " files; " << firewalls->size()
            << " firewall inputs, " << policy.flows.size() << " network flows; "
            << run.summary.nodes << " nodes, " << run.summary.edges
            << " edges; trust assertions: " << run.summary.assertionsHeld << " hold, "
            << run.summary.assertionsViolated << " violated\n";
    return result;
}

} // namespace bulkhead::cli
