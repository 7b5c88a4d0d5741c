#pragma once
// Which addresses stand for which sender or receiver of packets. Flows name qubes; firewalls
// see addresses: this is the one place that maps between them, for the backends that write
// rules and for the analyzer that proves those rules equal to the flows.
#include "bulkhead/compiler/model.h"

#include <compare>
#include <optional>
#include <vector>

namespace bulkhead::model {

// A qube, or every disposable started from a dispvm-template (they share its firewall rules:
// Qubes copies them into each disposable).
struct NetNode {
    QubeId qube = 0;
    bool disposables = false;
    auto operator<=>(const NetNode&) const = default;
};

// Qubes gives disposables addresses from one range per family (qubes-formats.md §3.7).
IpPrefix disposablesRange(IpPrefix::Family family);

class NetAddressing {
public:
    explicit NetAddressing(const Policy& policy);

    // The node's addresses: a qube's `ip`; for disposables of a dispvm-template with a netvm,
    // the disposables range (shared by every such template: see disposablesOwner); empty
    // when the policy does not say.
    std::vector<IpPrefix> addressesOf(const NetNode& node) const;
    // Every address that denotes a node. Network objects stand for addresses outside the
    // system, so a flow to a network never reaches these.
    const std::vector<IpPrefix>& internal() const { return internal_; }
    // The dispvm-template whose disposables the disposables range stands for: the only one
    // with a netvm. Empty when none has one, or when several do (their disposables are then
    // indistinguishable by address).
    std::optional<QubeId> disposablesOwner() const { return owner_; }
    std::vector<QubeId> networkedDispvmTemplates() const { return networkedTemplates_; }

    // The nodes a qube or tag endpoint stands for (none for networks and prefixes).
    std::vector<NetNode> covered(const Endpoint& endpoint) const;
    // Who sends through this qube: qubes whose netvm it is, and disposables of
    // dispvm-templates whose netvm it is.
    std::vector<NetNode> clientsOf(QubeId provider) const;
    std::optional<QubeId> netvmOf(const NetNode& node) const;
    // Qubes that forward their clients' traffic: every network provider.
    std::vector<QubeId> providers() const;

private:
    const Policy& policy_;
    std::vector<IpPrefix> internal_;
    std::optional<QubeId> owner_;
    std::vector<QubeId> networkedTemplates_;
};

} // namespace bulkhead::model
