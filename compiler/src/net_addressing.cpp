#include "bulkhead/compiler/net_addressing.h"

#include <algorithm>

namespace bulkhead::model {

IpPrefix disposablesRange(IpPrefix::Family family) {
    // 10.138.0.0/16 and fd09:24ef:4179::a8a:0/112 (vmid_to_ipv4 / the ipv6 feature).
    return *parseAddress(family == IpPrefix::Family::V4 ? "10.138.0.0/16"
                                                        : "fd09:24ef:4179::a8a:0/112")
                .prefix;
}

NetAddressing::NetAddressing(const Policy& policy) : policy_(policy) {
    for (QubeId q = 0; q < policy.qubes.size(); ++q) {
        const Qube& qube = policy.qubes[q];
        internal_.insert(internal_.end(), qube.addresses.begin(), qube.addresses.end());
        if (qube.kind == QubeKind::DispVMTemplate && qube.netvm)
            networkedTemplates_.push_back(q);
    }
    if (networkedTemplates_.size() == 1)
        owner_ = networkedTemplates_[0];
    if (!networkedTemplates_.empty()) {
        internal_.push_back(disposablesRange(IpPrefix::Family::V4));
        internal_.push_back(disposablesRange(IpPrefix::Family::V6));
    }
    std::sort(internal_.begin(), internal_.end());
    internal_.erase(std::unique(internal_.begin(), internal_.end()), internal_.end());
}

std::vector<IpPrefix> NetAddressing::addressesOf(const NetNode& node) const {
    if (!node.disposables)
        return policy_.qubes[node.qube].addresses;
    if (std::find(networkedTemplates_.begin(), networkedTemplates_.end(), node.qube) ==
        networkedTemplates_.end())
        return {};
    return {disposablesRange(IpPrefix::Family::V4), disposablesRange(IpPrefix::Family::V6)};
}

std::vector<NetNode> NetAddressing::covered(const Endpoint& e) const {
    std::vector<NetNode> out;
    auto hasTag = [&](QubeId q) {
        const auto& tags = policy_.qubes[q].tags;
        return std::binary_search(tags.begin(), tags.end(), e.tag);
    };
    for (QubeId q = 1; q < policy_.qubes.size(); ++q) {
        bool named = (e.kind == Endpoint::Kind::Qube && e.qube == q) ||
                     (e.kind == Endpoint::Kind::Tag && hasTag(q));
        if (!named)
            continue;
        out.push_back({q, false});
        if (policy_.qubes[q].kind == QubeKind::DispVMTemplate)
            out.push_back({q, true});
    }
    return out;
}

std::vector<NetNode> NetAddressing::clientsOf(QubeId provider) const {
    std::vector<NetNode> out;
    for (QubeId q = 1; q < policy_.qubes.size(); ++q) {
        if (policy_.qubes[q].netvm != provider)
            continue;
        out.push_back({q, false});
        if (policy_.qubes[q].kind == QubeKind::DispVMTemplate)
            out.push_back({q, true});
    }
    return out;
}

std::optional<QubeId> NetAddressing::netvmOf(const NetNode& node) const {
    return policy_.qubes[node.qube].netvm;
}

std::vector<QubeId> NetAddressing::providers() const {
    std::vector<QubeId> out;
    for (QubeId q = 1; q < policy_.qubes.size(); ++q)
        if (providesNetwork(policy_.qubes[q].kind))
            out.push_back(q);
    return out;
}

} // namespace bulkhead::model
