// The benchmark's synthetic policy (bulkhead-bench-gen): the .bh text in sections, and the
// same system as a deployed Qubes would hold it (qubes and rpc rules as records, for
// deployed.h). Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Options {
    std::size_t qubes = 100;
    std::size_t flows = 0;    // 0: 10 per qube
    std::size_t rpcRules = 0; // 0: 10 per qube
    std::uint32_t seed = 1;
    // Only what `bulkhead check` accepts (exit 0): no shadowed or dead rule, no flow carved
    // out entirely, every forwarder with an address, only assertions and requirements that
    // hold. Without it the policy has the findings a real one of that size would.
    bool sound = false;
    std::string out;
    std::string deployedDir;   // empty: no deployed-system inputs
    bool firewallState = true; // with deployedDir: also DIR/firewall/ and DIR/nft/
};

// One qube as `qvm-ls --raw-data` shows it (docs/audit.md); "" where Qubes prints '-'.
struct QubeRecord {
    std::string name, klass, label, templ, netvm, ip;
    std::vector<std::string> tags;
    std::string defaultDispvm;
    bool templateForDispvms = false;
    bool providesNetwork = false;
};

// One rpc rule: a policy.d line once the service's argument is split off.
struct RpcRecord {
    std::string service; // with "+ARG" when the rule names an argument
    std::string source, target, action, params;
};

struct Generated {
    // header, qubes, flows, rpc rules, checks: the policy is their concatenation
    std::vector<std::string> sections;
    std::vector<QubeRecord> qubes; // dom0 first
    std::vector<RpcRecord> rules;  // in policy order
};

Generated generate(const Options& o);

} // namespace bench
