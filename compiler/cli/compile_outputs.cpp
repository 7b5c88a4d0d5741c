#include "compile_outputs.h"

#include "baseline.h"

#include "bulkhead/analyzer/translation.h"
#include "bulkhead/backends/kernel_check.h"
#include "bulkhead/backends/net_plan.h"
#include "bulkhead/backends/nft_emit.h"
#include "bulkhead/backends/qvm_firewall_emit.h"
#include "bulkhead/compiler/qrexec_policy.h"
#include "bulkhead/compiler/sha256.h"

#include <nlohmann/json.hpp>

namespace bulkhead::cli {
namespace {

std::vector<backends::SourceDigest> digests(const model::Policy& policy, const CheckRun& run) {
    std::vector<backends::SourceDigest> out;
    for (const std::string& path : policy.files)
        for (FileId id = 0; id < run.sources.size(); ++id)
            if (run.sources.file(id).path == path) {
                out.push_back({path, sha256Hex(run.sources.file(id).text)});
                break;
            }
    return out;
}

// The emitted lines as Qubes' own parser reads them: what dom0 will evaluate.
Validation readBackQrexec(const model::Policy& policy, const std::string& text,
                          const std::string& name) {
    Validation v{"qrexec-readback", "passed", ""};
    QrexecTextOptions opts;
    opts.file = name;
    QrexecPolicyLoad load = parseQrexecPolicyText(text, opts);
    if (!load.errors.empty()) {
        v.result = "failed";
        v.detail = "Qubes' parser refuses the emitted file: " + load.errors.front().render();
        return v;
    }
    std::vector<analyzer::BaselineRule> rules;
    for (const QrexecRule& r : load.rules) {
        SourceRange at;
        at.begin.line = r.line;
        rules.push_back(baselineRuleOf(r, at));
    }
    analyzer::TranslationCheck check = analyzer::checkQrexecTranslation(policy, rules);
    v.detail = std::to_string(rules.size()) + " lines, " + std::to_string(check.compared) +
               " request classes compared";
    if (check.differ) {
        v.result = "failed";
        v.detail = *check.differ;
    }
    return v;
}

// Each firewall qube's ruleset loaded for real into a throw-away network namespace, after
// Qubes' own base tables, as the qube's firewall service will load it; then what the kernel
// holds is read back and proven to accept exactly what the policy permits.
// With `skip` (--no-kernel-check) nothing is loaded and both say so.
std::vector<Validation> kernelChecks(const model::Policy& policy,
                                     const std::vector<backends::NftRuleset>& rulesets, bool skip) {
    Validation kernel{"nft-kernel", "passed", ""};
    Validation readback{"nft-readback", "passed", ""};
    if (skip) {
        kernel.result = "skipped";
        kernel.detail = "--no-kernel-check: the rulesets were not loaded into a kernel";
        readback.result = "skipped";
        readback.detail = "needs the kernel check";
        return {kernel, readback};
    }
    std::string modes;
    for (const backends::NftRuleset& r : rulesets) {
        backends::KernelCheckResult k = backends::checkInThrowAwayNamespace(
            backends::qubesBaseTables(), {{r.qube + "/bulkhead.nft", r.text}});
        using S = backends::KernelCheckResult::Status;
        if (k.status == S::NamespaceUnavailable) {
            kernel.result = "refused";
            kernel.detail = "no network namespace could be made (" + k.reason +
                            "); --no-kernel-check writes without this check";
            readback.result = "skipped";
            readback.detail = "needs the kernel check";
            return {kernel, readback};
        }
        if (k.status != S::Loaded) {
            kernel.result = "failed";
            kernel.detail =
                k.status == S::Rejected ? "the kernel refused it: " + k.errors() : k.reason;
            return {kernel};
        }
        modes = backends::kernelCheckModeName(k.mode);
        nft::RulesetParse parsed = nft::parseRulesetJson(k.rulesetJson);
        analyzer::TranslationCheck t =
            parsed.ruleset ? analyzer::checkNftTranslation(policy, r.qube, *parsed.ruleset)
                           : analyzer::TranslationCheck{0, parsed.error};
        if (t.differ) {
            // A prover that gave up refutes nothing: "could not prove", not a compiler bug.
            readback.result = t.undecided ? "unproven" : "failed";
            readback.detail = r.qube + ": " + *t.differ;
            return {kernel, readback};
        }
    }
    kernel.detail = std::to_string(rulesets.size()) +
                    " rulesets loaded beside Qubes' base tables (" +
                    (modes.empty() ? "none" : modes) + ")";
    readback.detail = std::to_string(rulesets.size()) +
                      " rulesets read back from the kernel accept exactly the packets the "
                      "policy permits (Z3)";
    return {kernel, readback};
}

// Test-only damage, so the tests can show that validation catches a broken emitter.
std::string dropLastRuleLine(std::string text) {
    std::size_t end = text.size() - 1; // the text ends in a newline
    std::size_t start = text.rfind('\n', end - 1);
    return text.substr(0, start == std::string::npos ? 0 : start + 1);
}

std::string manifestText(const model::Policy& policy,
                         const std::vector<backends::SourceDigest>& sources, const CheckRun& run,
                         const std::map<std::string, TreeFile>& files,
                         const std::vector<Validation>& validations) {
    nlohmann::ordered_json m;
    m["generator"] = "bulkhead";
    m["manifest_version"] = 1;
    m["bulkhead_version"] = BULKHEAD_VERSION;
    m["policy"] = policy.name;
    m["sources"] = nlohmann::json::array();
    for (const backends::SourceDigest& s : sources)
        m["sources"].push_back({{"path", s.path}, {"sha256", s.sha256}});
    m["baseline"] = run.analysis.haveBaseline ? nlohmann::json(run.analysis.baselineDescription)
                                              : nlohmann::json(nullptr);
    m["files"] = nlohmann::json::array();
    for (const auto& [path, file] : files)
        m["files"].push_back({{"path", path},
                              {"sha256", sha256Hex(file.contents)},
                              {"bytes", file.contents.size()},
                              {"executable", file.executable}});
    m["validations"] = nlohmann::json::array();
    for (const Validation& v : validations)
        m["validations"].push_back({{"name", v.name}, {"result", v.result}, {"detail", v.detail}});
    // A strict dump: policy text is ASCII by grammar; anything else would be escaped.
    return m.dump(2, ' ', true) + "\n";
}

} // namespace

CompileOutputs buildOutputs(const model::Policy& policy, const CheckRun& run,
                            const CompileOptions& options) {
    CompileOutputs out;
    std::vector<backends::SourceDigest> sources = digests(policy, run);
    std::vector<std::string> fileNames;
    for (FileId id = 0; id < run.sources.size(); ++id)
        fileNames.push_back(run.sources.file(id).path);

    std::string qrexec = backends::emitQrexecPolicy(policy, {BULKHEAD_VERSION, sources, fileNames});
    if (options.breakForTesting == "qrexec")
        qrexec = dropLastRuleLine(qrexec);
    out.validations.push_back(readBackQrexec(policy, qrexec, options.qrexecFileName));
    out.files["dom0/etc/qubes/policy.d/" + options.qrexecFileName] = {qrexec, false};

    backends::NetPlan plan = backends::planNetwork(policy);
    backends::NftEmitOptions nftOptions{BULKHEAD_VERSION, sources,
                                        options.breakForTesting == "nft"};
    std::vector<backends::NftRuleset> rulesets = backends::emitNftables(policy, plan, nftOptions);
    for (Validation& v : kernelChecks(policy, rulesets, options.noKernelCheck))
        out.validations.push_back(std::move(v));
    for (const backends::NftRuleset& r : rulesets) {
        out.files[r.qube + "/bulkhead.nft"] = {r.text, false};
        out.files[r.qube + "/qubes-firewall.d/50-bulkhead"] = {r.loader, true};
    }
    for (const backends::QvmFirewallRules& r : backends::emitQvmFirewall(policy, plan)) {
        std::string text;
        for (const std::string& line : r.lines)
            text += line + "\n";
        out.files["dom0/qvm-firewall/" + r.qube + ".rules"] = {text, false};
    }
    out.files["manifest.json"] = {manifestText(policy, sources, run, out.files, out.validations),
                                  false};
    return out;
}

} // namespace bulkhead::cli
