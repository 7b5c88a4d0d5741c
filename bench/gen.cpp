// bulkhead-bench-gen: writes a synthetic but valid Bulkhead policy of any size for the
// benchmark (DESIGN §9, docs/performance.md), and with --deployed the same system as a
// deployed Qubes holds it, for `bulkhead audit`. The policy's shape: generator.h.
// Above 4 MiB the qubes, flows and rules go into FILE.part-K.bh files that FILE.bh imports.
#include "deployed.h"
#include "firewall_state.h"
#include "generator.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using bench::Options;

constexpr std::size_t kPartBytes = 4u << 20;

// Text cut at line ends into pieces of at most kPartBytes.
std::vector<std::string> chunks(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = std::min(text.size(), at + kPartBytes);
        if (end < text.size())
            end = text.rfind('\n', end - 1) + 1;
        out.push_back(text.substr(at, end - at));
        at = end;
    }
    return out;
}

int usage(const char* why) {
    std::cerr
        << "bulkhead-bench-gen: " << why
        << "\nusage: bulkhead-bench-gen --qubes N [--flows M] [--rpc-rules R] [--seed S] "
           "[--sound] [--deployed DIR [--no-firewall]] -o FILE.bh\n  defaults: M = 10 N, R = 10 N, "
           "S = 1\n"
           "  --sound: only what `bulkhead check` accepts (exit 0), so compile runs\n"
           "  --deployed DIR: also the deployed system for bulkhead audit: DIR/policy.d/,\n"
           "    DIR/qubes.txt, DIR/firewall/QUBE.rules (qvm-firewall --raw of each networked\n"
           "    qube) and DIR/nft/NETQUBE.json (nft -j list ruleset of each net qube, loaded\n"
           "    into a throw-away network namespace: needs root, else skipped with a notice)\n"
           "  --no-firewall: --deployed without DIR/firewall/ and DIR/nft/\n";
    return 2;
}

bool number(const char* text, std::size_t& out) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (!*text || *end || v == 0 || v > 10'000'000)
        return false;
    out = static_cast<std::size_t>(v);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    bool haveQubes = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--sound") {
            o.sound = true;
            continue;
        }
        if (arg == "--no-firewall") {
            o.firewallState = false;
            continue;
        }
        if (i + 1 >= argc)
            return usage(("missing value after " + arg).c_str());
        const char* value = argv[++i];
        std::size_t n = 0;
        if (arg == "-o" || arg == "--deployed") {
            (arg == "-o" ? o.out : o.deployedDir) = value;
            continue;
        }
        if (!number(value, n))
            return usage(("not a positive number: " + std::string(value)).c_str());
        if (arg == "--qubes") {
            o.qubes = n;
            haveQubes = true;
        } else if (arg == "--flows") {
            o.flows = n;
        } else if (arg == "--rpc-rules") {
            o.rpcRules = n;
        } else if (arg == "--seed") {
            o.seed = static_cast<std::uint32_t>(n);
        } else {
            return usage(("unknown option " + arg).c_str());
        }
    }
    if (!haveQubes || o.out.empty())
        return usage("--qubes and -o are required");
    if (o.qubes < 20)
        return usage("--qubes must be at least 20");
    bench::Generated generated = bench::generate(o);
    const std::vector<std::string>& sections = generated.sections;
    std::size_t total = 0;
    for (const std::string& part : sections)
        total += part.size();
    std::vector<std::pair<std::string, std::string>> files; // path, text
    if (total <= kPartBytes) {
        std::string text;
        for (const std::string& part : sections)
            text += part;
        files.emplace_back(o.out, text);
    } else {
        // Bulkhead reads at most 8 MiB per file: the qubes, flows and rules go into parts the
        // root imports in order (imports load first, in order, so rule order is kept).
        std::string stem = o.out.ends_with(".bh") ? o.out.substr(0, o.out.size() - 3) : o.out;
        std::string base = stem.substr(stem.rfind('/') + 1);
        std::string root = sections.front();
        std::size_t k = 0;
        for (std::size_t i = 1; i + 1 < sections.size(); ++i)
            for (const std::string& chunk : chunks(sections[i])) {
                std::string name = base + ".part-" + std::to_string(++k) + ".bh";
                files.emplace_back(stem + ".part-" + std::to_string(k) + ".bh", chunk);
                root += "import \"" + name + "\";\n";
            }
        files.emplace(files.begin(), o.out, root + "\n" + sections.back());
    }
    for (const auto& [path, text] : files) {
        std::ofstream f(path, std::ios::binary);
        f << text;
        f.close();
        if (!f) {
            std::cerr << "bulkhead-bench-gen: cannot write " << path << "\n";
            return 1;
        }
    }
    if (!o.deployedDir.empty()) {
        std::string error = bench::writeDeployed(o.deployedDir, generated);
        if (!error.empty()) {
            std::cerr << "bulkhead-bench-gen: " << error << "\n";
            return 1;
        }
        // From the policy as written, so the firewall state is what compile makes of it.
        bench::FirewallStateResult fw;
        if (o.firewallState)
            fw = bench::writeFirewallState(o.out, o.deployedDir);
        if (!fw.error.empty()) {
            std::cerr << "bulkhead-bench-gen: " << fw.error << "\n";
            return 1;
        }
        if (!fw.notice.empty())
            std::cerr << "bulkhead-bench-gen: " << fw.notice << "\n";
    }
    return 0;
}
