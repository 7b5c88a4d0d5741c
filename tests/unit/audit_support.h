#pragma once
// Running `bulkhead audit` in-process and collecting its findings by code and place
// (audit_test.cpp, audit_firewall_test.cpp).
#include "test_support.h"

#include "bulkhead/compiler/model.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

namespace bulkhead::test {

struct Audit {
    CliResult r;
    // "BH1302 inventory.txt:5" for each finding at a place; "BH1001 -" otherwise.
    std::multiset<std::string> findings;
    bool has(const std::string& f) const { return findings.count(f) > 0; }
    std::size_t count(const std::string& code) const {
        return static_cast<std::size_t>(
            std::count_if(findings.begin(), findings.end(),
                          [&](const std::string& s) { return s.starts_with(code + " "); }));
    }
};

inline Audit audit(const std::vector<std::string>& args) {
    Audit a;
    std::vector<std::string> all{"audit"};
    all.insert(all.end(), args.begin(), args.end());
    a.r = runCli(all);
    static const std::regex kLine(R"(^(?:(\S+?):(\d+):\d+: |bulkhead: )\w+\[(BH\d{4})\])");
    std::istringstream in(a.r.err);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, kLine))
            a.findings.insert(
                m[3].str() + " " +
                (m[1].matched
                     ? std::filesystem::path(m[1].str()).filename().string() + ":" + m[2].str()
                     : "-"));
    }
    return a;
}

// The workstation's qubes as qvm-ls --raw-data would list them on a system built from it.
inline std::string inventoryOf(const model::Policy& p) {
    std::string out;
    auto name = [&](std::optional<model::QubeId> q) { return q ? p.qubes[*q].name : "-"; };
    for (model::QubeId q = 0; q < p.qubes.size(); ++q) {
        const model::Qube& m = p.qubes[q];
        std::string label = m.trust && p.trust.levels()[*m.trust].label
                                ? std::string(model::labelName(*p.trust.levels()[*m.trust].label))
                                : "black";
        std::string tags;
        for (const std::string& t : m.tags)
            tags += (tags.empty() ? "" : ",") + t;
        std::string klass(model::qubesClassOf(p, q));
        out += m.name + "|" + klass + "|" + label + "|" + name(m.templ) + "|" + name(m.netvm) +
               "|" + (m.addresses.empty() ? "-" : m.addresses[0].str()) + "|" +
               (tags.empty() ? "-" : tags) + "|" + name(m.defaultDispvm) + "|" +
               (m.kind == model::QubeKind::DispVMTemplate ? "True" : "False") + "|" +
               (model::providesNetwork(m.kind) ? "True" : "False") + "\n";
    }
    return out;
}

} // namespace bulkhead::test
