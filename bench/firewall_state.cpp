#include "firewall_state.h"

#include "bulkhead/backends/kernel_check.h"
#include "bulkhead/backends/net_plan.h"
#include "bulkhead/backends/nft_emit.h"
#include "bulkhead/backends/qvm_firewall_emit.h"
#include "bulkhead/compiler/frontend.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <unistd.h>

namespace bench {
namespace {

namespace fs = std::filesystem;
namespace be = bulkhead::backends;

bool write(const fs::path& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.close();
    return static_cast<bool>(f);
}

std::string makeDir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    return ec ? "cannot create " + dir.string() + ": " + ec.message() : "";
}

std::string writeLists(const std::vector<be::QvmFirewallRules>& lists, const fs::path& dir) {
    if (std::string error = makeDir(dir); !error.empty())
        return error;
    for (const be::QvmFirewallRules& r : lists) {
        std::string text;
        for (const std::string& line : r.lines)
            text += line + "\n";
        if (!write(dir / (r.qube + ".rules"), text))
            return "cannot write " + (dir / (r.qube + ".rules")).string();
    }
    return "";
}

// Each net qube is its own kernel: one namespace per ruleset, the base tables first, as the
// qube loads them at boot before qubes-firewall.d runs bulkhead's loader. The antispoof sets
// vif-route-qubes fills when a client starts stay empty (audit does not read them), and
// Qubes' own `ip qubes-firewall` table is not made from the lists (docs/performance.md).
FirewallStateResult writeRulesets(const std::vector<be::NftRuleset>& rulesets,
                                  const fs::path& dir) {
    be::KernelCheckOptions options;
    options.numericListing = false; // what `nft -j list ruleset` prints, as docs/audit.md asks
    options.timeout = std::chrono::minutes(10); // a 10,000-qube system's sets are large
    // An unprivileged user namespace cannot send a large set's elements in one netlink
    // message, and the listing must not depend on who ran the generator: root only.
    if (geteuid() != 0)
        return {"", dir.string() + "/ not written: loading the rulesets into a throw-away network "
                                   "namespace needs root"};
    std::vector<be::NftInput> base = be::qubesBaseTables();
    std::vector<std::pair<fs::path, std::string>> files;
    for (const be::NftRuleset& r : rulesets) {
        // The ruleset, then what its loader (qubes-firewall.d/50-bulkhead) adds after it.
        std::vector<be::NftInput> loaded{
            {r.qube + "/bulkhead.nft", r.text},
            {r.qube + "/50-bulkhead", std::string(be::kNftQ2qHook) + "\n"}};
        be::KernelCheckResult k = be::checkInThrowAwayNamespace(base, loaded, options);
        if (k.status == be::KernelCheckResult::Status::NamespaceUnavailable)
            return {"", dir.string() +
                            "/ not written: no network namespace to load the rulesets in (" +
                            k.reason + ")"};
        if (!k.loaded())
            return {"the kernel did not take " + r.qube +
                        "/bulkhead.nft: " + (k.reason.empty() ? k.errors() : k.reason),
                    ""};
        files.emplace_back(dir / (r.qube + ".json"), std::move(k.rulesetJson));
    }
    if (std::string error = makeDir(dir); !error.empty())
        return {error, ""};
    for (const auto& [path, json] : files)
        if (!write(path, json))
            return {"cannot write " + path.string(), ""};
    return {};
}

} // namespace

FirewallStateResult writeFirewallState(const std::string& policyPath, const std::string& dir) {
    bulkhead::SourceManager sources;
    bulkhead::DiagnosticSink sink;
    std::vector<std::string> roots{policyPath};
    bulkhead::FrontendResult front = bulkhead::runFrontend(roots, sources, sink);
    if (!front.policy) {
        std::ostringstream text;
        std::vector<bulkhead::Diagnostic> diags = sink.sorted();
        bulkhead::renderDiagnostics(text, sources, diags, {});
        return {"the generated policy does not load:\n" + text.str(), ""};
    }
    const bulkhead::model::Policy& policy = *front.policy;
    // What the plan cannot express (a forwarder without an address, BH1201 in check) is left
    // out of the rules exactly as compile's emitters leave it out.
    be::NetPlan plan = be::planNetwork(policy);
    fs::path root(dir);
    // A qube the policy gives no address (a dispvm-template's own qube) has none in the
    // generated inventory either, so audit could not evaluate its list (BH1307): left out.
    std::set<std::string> addressed;
    for (const bulkhead::model::Qube& q : policy.qubes)
        if (!q.addresses.empty())
            addressed.insert(q.name);
    std::vector<be::QvmFirewallRules> lists = be::emitQvmFirewall(policy, plan);
    std::erase_if(lists,
                  [&](const be::QvmFirewallRules& r) { return !addressed.contains(r.qube); });
    if (std::string error = writeLists(lists, root / "firewall"); !error.empty())
        return {error, ""};
    return writeRulesets(be::emitNftables(policy, plan, {"bench-gen", {}, false}), root / "nft");
}

} // namespace bench
