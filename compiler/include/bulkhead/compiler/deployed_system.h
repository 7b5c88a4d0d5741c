#pragma once
// A deployed Qubes system as its own tools describe it, turned into the same model a `.bh`
// policy becomes, so the audit reports exactly what check would: the qube inventory
// (`qvm-ls --raw-data`) or the system info Qubes gives its policy engine
// (`internal.GetSystemInfo`), and the qrexec policy as Qubes loaded it. Labels stand for
// trust: red < orange < yellow < green < gray < blue < purple < black, dom0 above all.
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"
#include "bulkhead/compiler/qrexec_policy.h"
#include "bulkhead/compiler/source.h"

#include <optional>
#include <string>
#include <vector>

namespace bulkhead::deployed {

struct Qube {
    std::string name;
    std::string klass; // AdminVM, AppVM, TemplateVM, DispVM, StandaloneVM
    std::string label;
    std::optional<std::string> templ, netvm, defaultDispvm;
    std::optional<std::string> ip;
    std::vector<std::string> tags;
    bool templateForDispvms = false;
    bool providesNetwork = false;
    std::string uuid;
    SourceRange range; // the line (inventory) or entry (system info) it was read from
};

// `qvm-ls --raw-data --fields NAME,CLASS,LABEL,TEMPLATE,NETVM,IP,TAGS,DEFAULT_DISPVM,
// TEMPLATE_FOR_DISPVMS,PROVIDES_NETWORK`: one qube a line, '|' between fields, '-' for none.
// Errors go to the sink with file:line:col; nothing is returned for a line in error.
std::vector<Qube> parseInventory(FileId file, const SourceManager& sources, DiagnosticSink& sink);

// internal.GetSystemInfo JSON: {"domains": {NAME: {type, label, tags, default_dispvm,
// template_for_dispvms, uuid, ...}}}. It says nothing of templates, netvms or addresses.
std::vector<Qube> parseSystemInfo(FileId file, const SourceManager& sources, DiagnosticSink& sink);

// A label order that replaces the default chain: lines of labels joined by '<', lowest
// first (`red < yellow < black`), several lines for a partial order, '#' comments. Returns
// the (lower, higher) pairs; errors (unknown label, a cycle) go to the sink.
std::optional<std::vector<std::pair<model::Label, model::Label>>>
parseLabelOrder(FileId file, const SourceManager& sources, DiagnosticSink& sink);

// The deployed qrexec rules, each a model rule at its policy.d line. A rule naming a qube the
// system does not have cannot match anything; it is left out and returned for the report.
struct PolicyBuild {
    std::optional<model::Policy> policy;
    std::vector<std::pair<SourceRange, std::string>> unknownNames; // where, which name
};
// labelOrder: (lower, higher) pairs; empty means Qubes' default chain.
PolicyBuild buildPolicy(const std::vector<Qube>& qubes,
                        const std::vector<std::pair<QrexecRule, SourceRange>>& rules,
                        DiagnosticSink& sink,
                        const std::vector<std::pair<model::Label, model::Label>>& labelOrder = {});

} // namespace bulkhead::deployed
