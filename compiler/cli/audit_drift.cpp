#include "audit_drift.h"
#include "baseline.h"

#include "bulkhead/analyzer/translation.h"
#include "bulkhead/compiler/frontend.h"

#include <filesystem>

namespace bulkhead::cli {
namespace {

namespace fs = std::filesystem;

// The top-level policy.d file a rule comes from (an included file counts as its includer).
std::string topFile(const QrexecRule& r) {
    return fs::path(r.via.empty() ? r.file : r.via.front().file).filename().string();
}

void qubeDrift(const model::Policy& intended, const model::Policy& deployed, DiagnosticSink& sink) {
    auto name = [](const model::Policy& p, std::optional<model::QubeId> q) {
        return q ? p.qubes[*q].name : std::string("none");
    };
    for (model::QubeId i = 1; i < intended.qubes.size(); ++i) {
        const model::Qube& q = intended.qubes[i];
        std::optional<model::QubeId> d = deployed.findQube(q.name);
        if (!d) {
            sink.report(DiagCode::Drift, q.range,
                        "'" + q.name + "' is in the policy but not in the deployed system");
            continue;
        }
        const model::Qube& dq = deployed.qubes[*d];
        auto differ = [&](const std::string& what, const std::string& want,
                          const std::string& have) {
            if (want != have)
                sink.report(DiagCode::Drift, q.range,
                            "'" + q.name + "': the policy says " + what + " " + want +
                                ", the deployed system has " + have)
                    .note(dq.range, "deployed here");
        };
        differ("netvm", name(intended, q.netvm), name(deployed, dq.netvm));
        differ("template", name(intended, q.templ), name(deployed, dq.templ));
        auto tags = [](const std::vector<std::string>& t) {
            std::string s;
            for (const std::string& x : t)
                s += (s.empty() ? "" : ",") + x;
            return s.empty() ? std::string("no tags") : "tags " + s;
        };
        differ("", tags(q.tags), tags(dq.tags));
    }
}

} // namespace

void reportDrift(const AuditOptions& o, const model::Policy& intent,
                 const model::Policy& deployedSystem, const std::vector<DeployedRule>& rules,
                 DiagnosticSink& sink) {
    qubeDrift(intent, deployedSystem, sink);

    // Deployed: every line as loaded. Intended: the same, with the compiled file's lines
    // replaced by the policy's rules at that file's place in Qubes' reading order.
    std::vector<analyzer::BaselineRule> deployed, intended;
    std::vector<analyzer::BaselineRule> compiled = policyLines(intent);
    bool placed = false;
    for (const DeployedRule& d : rules) {
        deployed.push_back(baselineRuleOf(d.rule, d.range));
        std::string file = topFile(d.rule);
        if (!placed && file >= o.qrexecFileName) {
            intended.insert(intended.end(), compiled.begin(), compiled.end());
            placed = true;
        }
        if (file != o.qrexecFileName)
            intended.push_back(baselineRuleOf(d.rule, d.range));
    }
    if (!placed)
        intended.insert(intended.end(), compiled.begin(), compiled.end());

    for (const analyzer::RpcDrift& d :
         analyzer::compareRpcRuleLists(deployedSystem, deployed, intended)) {
        SourceRange at = d.deployedRule.value_or(d.intendedRule.value_or(SourceRange{}));
        auto diag =
            sink.report(DiagCode::Drift, at,
                        "drift: " + d.example + " is " + d.deployed + " here, the policy says " +
                            d.intended + " (" + std::to_string(d.requests) + " request class" +
                            (d.requests == 1 ? " differs" : "es differ") + " this way)");
        if (d.intendedRule && d.deployedRule)
            diag.note(*d.intendedRule, "the policy decides it here");
        diag.hint("compile the policy and deploy its " + o.qrexecFileName +
                  ", or change the policy if the deployed line is right");
    }
}

} // namespace bulkhead::cli
