#include "bulkhead/backends/summary.h"

#include <ostream>

namespace bulkhead::backends {

void writeSummary(std::ostream& out, const model::Policy& policy) {
    std::size_t qubes = policy.qubes.size() - 1; // dom0 is implicit
    std::size_t assertions = policy.assertions.size();
    std::size_t waivers = 0;
    for (const model::Assertion& a : policy.assertions)
        waivers += a.waivers.size();
    out << "policy \"" << policy.name << "\": " << qubes << " qubes, "
        << policy.trust.levels().size() << " trust levels, " << policy.networks.size()
        << " network objects, " << policy.services.size() << " services, " << policy.flows.size()
        << " network flows, " << policy.rpcRules.size() << " rpc rules, " << assertions
        << " assertions (" << waivers << " waivers), " << policy.requirements.size()
        << " requirements\n";
    out << "files:";
    for (const std::string& f : policy.files)
        out << " " << f;
    out << "\n\n" << model::describe(policy);
}

} // namespace bulkhead::backends
