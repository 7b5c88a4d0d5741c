#include "baseline.h"

#include "bulkhead/compiler/frontend.h"
#include "bulkhead/compiler/qrexec_policy.h"

#include <filesystem>
#include <map>

namespace bulkhead::cli {

bool loadBaseline(const BaselineChoice& choice, SourceManager& sources, DiagnosticSink& sink,
                  analyzer::AnalysisOptions& options) {
    namespace fs = std::filesystem;
    QrexecPolicyOptions qopts;
    if (!choice.policyDirs.empty()) {
        qopts.policyDirs = choice.policyDirs;
    } else {
        qopts.policyDirs.clear();
        for (std::string_view d : {kQrexecRuntimePolicyDir, kQrexecPolicyDir})
            if (fs::is_directory(d))
                qopts.policyDirs.emplace_back(d);
    }
    if (!choice.legacyDir.empty())
        qopts.legacyDir = choice.legacyDir;
    if (choice.none || qopts.policyDirs.empty()) {
        sink.report(DiagCode::NoBaseline, {},
                    choice.none ? "checked without Qubes' shipped policy (--no-baseline)"
                                : "checked without Qubes' shipped policy: no " +
                                      std::string(kQrexecPolicyDir) + " here")
            .hint("pass --baseline DIR (a copy of dom0's /etc/qubes/policy.d): Qubes' defaults "
                  "open paths that a check without them cannot see");
        return true;
    }
    for (const std::string& d : qopts.policyDirs)
        if (!fs::is_directory(d)) {
            sink.report(DiagCode::CannotReadFile, {},
                        "cannot read baseline '" + d + "': not a directory");
            return false;
        }

    QrexecPolicyLoad load = loadQrexecPolicy(qopts);
    // Each file once in the source manager, so hops and errors show their line.
    std::map<std::string, FileId> ids;
    auto rangeOf = [&](const std::string& file, std::uint32_t line) {
        return policyLineRange(file, line, sources, ids);
    };
    if (load.refused()) {
        for (const QrexecError& e : load.errors)
            sink.report(DiagCode::BaselineRefused, e.line ? rangeOf(e.file, e.line) : SourceRange{},
                        "Qubes refuses this baseline policy: " + e.render())
                .hint("Qubes denies every call while any policy file has an error");
        return false;
    }
    for (const QrexecRule& r : load.rules)
        options.baseline.push_back(baselineRuleOf(r, rangeOf(r.file, r.line)));
    options.haveBaseline = true;
    options.baselineDescription =
        qopts.policyDirs.back() + " (" + std::to_string(load.rules.size()) + " rules)";
    return true;
}

analyzer::BaselineRule baselineRuleOf(const QrexecRule& r, const SourceRange& range) {
    analyzer::BaselineRule b;
    b.service = r.service;
    b.argument = r.argument;
    b.source = r.source.text();
    b.target = r.target.text();
    b.action = std::string(qrexecActionName(r.action));
    if (r.redirect)
        b.redirect = r.redirect->text();
    if (r.defaultTarget)
        b.defaultTarget = r.defaultTarget->text();
    b.range = range;
    return b;
}

std::vector<analyzer::BaselineRule> policyLines(const model::Policy& p) {
    std::vector<analyzer::BaselineRule> out;
    for (const model::RpcRule& r : p.rpcRules)
        for (const model::RpcToken& from : r.from)
            for (const model::RpcToken& to : r.to) {
                analyzer::BaselineRule b;
                b.service = r.spec.service;
                b.argument = r.spec.argument;
                b.source = model::tokenText(p, from);
                b.target = model::tokenText(p, to);
                b.action = std::string(model::actionName(r.action));
                if (r.target)
                    b.redirect = model::tokenText(p, *r.target);
                if (r.defaultTarget)
                    b.defaultTarget = model::tokenText(p, *r.defaultTarget);
                b.range = r.range;
                out.push_back(std::move(b));
            }
    return out;
}

SourceRange policyLineRange(const std::string& file, std::uint32_t line, SourceManager& sources,
                            std::map<std::string, FileId>& files) {
    auto it = files.find(file);
    if (it == files.end()) {
        DiagnosticSink quiet; // a file Qubes read is readable; if not, no snippet
        std::optional<FileId> id = readSourceFile(file, sources, quiet, {});
        if (!id)
            return {};
        it = files.emplace(file, *id).first;
    }
    std::uint32_t l = std::max<std::uint32_t>(line, 1);
    auto width = static_cast<std::uint32_t>(sources.file(it->second).line(l).size());
    return {it->second, {l, 1}, {l, std::max<std::uint32_t>(width, 1)}};
}

} // namespace bulkhead::cli
