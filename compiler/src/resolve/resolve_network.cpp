// Network objects, services and network flows.
#include "resolve/resolver.h"

#include <algorithm>
#include <charconv>

namespace bulkhead::resolver {
namespace {

const std::vector<std::string> kProtocols = {"tcp", "udp", "icmp", "any"};

std::optional<model::Protocol> protocolFromName(std::string_view name) {
    for (std::size_t i = 0; i < kProtocols.size(); ++i)
        if (kProtocols[i] == name)
            return static_cast<model::Protocol>(i);
    return std::nullopt;
}

// Flattens a declaration graph (networks or services naming each other) depth first,
// reporting a cycle at the reference that closes it.
enum class Visit { New, Active, Done };

} // namespace

void Resolver::resolveNetworks() {
    std::vector<Visit> state(policy_.networks.size(), Visit::New);
    auto flatten = [&](auto& self, model::NetworkId id) -> void {
        state[id] = Visit::Active;
        std::vector<IpPrefix> out;
        for (const ast::Ref& item : networkDecls_[id]->items) {
            if (item.kind == ast::Ref::Kind::Address) {
                AddressParse parsed = parseAddress(item.text);
                if (!parsed.prefix) {
                    sink_.report(DiagCode::InvalidAddress, item.range, parsed.error);
                    continue;
                }
                if (parsed.prefix->masked() != *parsed.prefix)
                    sink_
                        .report(DiagCode::HostBitsSet, item.range,
                                item.text + " has host bits set; it means " +
                                    parsed.prefix->masked().str())
                        .hint("write the network address, " + parsed.prefix->masked().str());
                out.push_back(parsed.prefix->masked());
                continue;
            }
            auto it = networkIndex_.find(item.text);
            if (it == networkIndex_.end()) {
                if (qubeIndex_.count(item.text)) {
                    sink_.report(DiagCode::WrongKindOfName, item.range,
                                 "'" + item.text +
                                     "' is a qube; a network object holds "
                                     "addresses and other network objects");
                    continue;
                }
                std::vector<std::string> names;
                for (const auto& [name, nid] : networkIndex_)
                    names.push_back(name);
                reportUnknown(item.range, "network object", item.text, names);
                continue;
            }
            if (state[it->second] == Visit::Active) {
                sink_.report(DiagCode::NetworkCycle, item.range,
                             "network object '" + policy_.networks[id].name +
                                 "' contains itself through '" + item.text + "'");
                continue;
            }
            if (state[it->second] == Visit::New)
                self(self, it->second);
            const auto& inner = policy_.networks[it->second].prefixes;
            out.insert(out.end(), inner.begin(), inner.end());
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        policy_.networks[id].prefixes = std::move(out);
        state[id] = Visit::Done;
    };
    for (model::NetworkId id = 0; id < policy_.networks.size(); ++id)
        if (state[id] == Visit::New)
            flatten(flatten, id);
}

std::optional<model::PortRange> Resolver::portRange(const ast::PortItem& port, unsigned max,
                                                    std::string_view unit) {
    auto number = [&](const std::string& digits) -> std::optional<unsigned> {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || value > max) {
            sink_.report(DiagCode::InvalidPort, port.range,
                         std::string(unit) + " " + digits + " is out of range 0-" +
                             std::to_string(max));
            return std::nullopt;
        }
        return value;
    };
    auto low = number(port.low);
    if (!low)
        return std::nullopt;
    auto high = port.high ? number(*port.high) : low;
    if (!high)
        return std::nullopt;
    if (*high < *low) {
        sink_
            .report(DiagCode::InvalidPort, port.range,
                    "reversed " + std::string(unit) + " range " + port.low + "-" + *port.high)
            .hint("write the lower bound first: " + *port.high + "-" + port.low);
        return std::nullopt;
    }
    return model::PortRange{static_cast<std::uint16_t>(*low), static_cast<std::uint16_t>(*high)};
}

std::optional<model::ServiceMatch> Resolver::protocolMatch(const ast::ServiceItem& item) {
    auto proto = protocolFromName(item.name.text);
    if (!proto)
        return std::nullopt;
    model::ServiceMatch match{*proto, {}, item.range};
    if (*proto == model::Protocol::Any && !item.ports.empty()) {
        sink_
            .report(DiagCode::PortsNotAllowed, item.range,
                    "'any' covers every protocol and "
                    "takes no ports")
            .hint("name the protocol: tcp/PORT or udp/PORT");
        return std::nullopt;
    }
    bool icmp = *proto == model::Protocol::Icmp;
    bool ok = true;
    for (const ast::PortItem& p : item.ports) {
        auto r = portRange(p, icmp ? 255 : 65535, icmp ? "ICMP type" : "port");
        if (r)
            match.ports.push_back(*r);
        ok = ok && r;
    }
    if (!ok)
        return std::nullopt;
    std::sort(match.ports.begin(), match.ports.end());
    return match;
}

std::optional<model::ServiceUse> Resolver::serviceUse(const ast::ServiceItem& item) {
    if (auto it = serviceIndex_.find(item.name.text); it != serviceIndex_.end()) {
        if (item.hasSlash) {
            sink_
                .report(DiagCode::PortsNotAllowed, item.range,
                        "'" + item.name.text + "' is a declared service and takes no ports")
                .note(policy_.services[it->second].range, "declared here");
            return std::nullopt;
        }
        return model::ServiceUse{it->second, policy_.services[it->second].matches, item.range};
    }
    if (auto match = protocolMatch(item))
        return model::ServiceUse{std::nullopt, {*match}, item.range};
    if (protocolFromName(item.name.text))
        return std::nullopt; // already reported
    std::vector<std::string> names = kProtocols;
    for (const auto& [name, id] : serviceIndex_)
        names.push_back(name);
    auto d = sink_.report(DiagCode::UnknownProtocol, item.name.range,
                          "'" + item.name.text + "' is neither a protocol nor a declared service");
    if (auto near = closestName(item.name.text, names))
        d.hint("did you mean '" + *near + "'?");
    else
        d.hint("protocols are tcp, udp, icmp and any; declare services with 'service NAME = ...;'");
    return std::nullopt;
}

std::vector<model::ServiceUse> Resolver::serviceUses(const std::vector<ast::ServiceItem>& items) {
    std::vector<model::ServiceUse> out;
    for (const ast::ServiceItem& item : items)
        if (auto use = serviceUse(item))
            out.push_back(std::move(*use));
    return out;
}

void Resolver::resolveServices() {
    static const std::vector<std::string> kDirections = {"push", "pull", "both", "control"};
    std::vector<Visit> state(policy_.services.size(), Visit::New);
    auto flatten = [&](auto& self, model::ServiceId id) -> void {
        state[id] = Visit::Active;
        const ast::ServiceDecl& decl = *serviceDecls_[id];
        std::vector<model::ServiceMatch> out;
        for (const ast::ServiceItem& item : decl.items) {
            auto it = serviceIndex_.find(item.name.text);
            if (it != serviceIndex_.end() && state[it->second] == Visit::Active) {
                sink_.report(DiagCode::ServiceCycle, item.range,
                             "service '" + decl.name.text + "' contains itself through '" +
                                 item.name.text + "'");
                continue;
            }
            if (it != serviceIndex_.end() && state[it->second] == Visit::New)
                self(self, it->second);
            if (auto use = serviceUse(item))
                out.insert(out.end(), use->matches.begin(), use->matches.end());
        }
        model::Service& service = policy_.services[id];
        service.matches = std::move(out);
        if (decl.direction) {
            auto found = std::find(kDirections.begin(), kDirections.end(), decl.direction->text);
            if (found == kDirections.end()) {
                auto d = sink_.report(DiagCode::UnknownDirection, decl.direction->range,
                                      "'" + decl.direction->text + "' is not a data direction");
                if (auto near = closestName(decl.direction->text, kDirections))
                    d.hint("did you mean '" + *near + "'?");
                else
                    d.hint("directions are push, pull, both and control");
            } else {
                service.direction = static_cast<model::DataDirection>(found - kDirections.begin());
            }
        }
        state[id] = Visit::Done;
    };
    for (model::ServiceId id = 0; id < policy_.services.size(); ++id)
        if (state[id] == Visit::New)
            flatten(flatten, id);
}

std::optional<model::Endpoint> Resolver::endpoint(const ast::Ref& ref) {
    model::Endpoint e;
    e.range = ref.range;
    switch (ref.kind) {
    case ast::Ref::Kind::Address: {
        AddressParse parsed = parseAddress(ref.text);
        if (!parsed.prefix) {
            sink_.report(DiagCode::InvalidAddress, ref.range, parsed.error);
            return std::nullopt;
        }
        if (parsed.prefix->masked() != *parsed.prefix)
            sink_
                .report(DiagCode::HostBitsSet, ref.range,
                        ref.text + " has host bits set; it means " + parsed.prefix->masked().str())
                .hint("write the network address, " + parsed.prefix->masked().str());
        e.kind = model::Endpoint::Kind::Prefix;
        e.prefix = parsed.prefix->masked();
        return e;
    }
    case ast::Ref::Kind::Token: {
        if (ref.text.starts_with("@tag:")) {
            e.kind = model::Endpoint::Kind::Tag;
            e.tag = ref.text.substr(5);
            if (e.tag.empty()) {
                sink_.report(DiagCode::InvalidTokenValue, ref.range, "empty tag in '@tag:'");
                return std::nullopt;
            }
            return e;
        }
        sink_
            .report(DiagCode::BadFlowEndpoint, ref.range,
                    "'" + ref.text + "' cannot be a network endpoint")
            .hint("network flows name qubes, network objects, addresses or @tag:NAME");
        return std::nullopt;
    }
    case ast::Ref::Kind::Star:
    case ast::Ref::Kind::Name:
        break;
    }
    if (auto n = networkIndex_.find(ref.text); n != networkIndex_.end()) {
        e.kind = model::Endpoint::Kind::Network;
        e.network = n->second;
        return e;
    }
    if (auto q = qubeIndex_.find(ref.text); q != qubeIndex_.end()) {
        const model::Qube& qube = policy_.qubes[q->second];
        if (badNetvm_.count(q->second))
            return std::nullopt; // its netvm error is already reported
        if (q->second == model::Policy::dom0) {
            sink_
                .report(DiagCode::EndpointWithoutNetwork, ref.range,
                        "dom0 has no network: no flow starts or ends there")
                .hint("dom0 never gets network in Qubes; remove it from the flow");
            return std::nullopt;
        }
        if (!qube.netvm && !model::providesNetwork(qube.kind)) {
            sink_
                .report(DiagCode::EndpointWithoutNetwork, ref.range,
                        "qube '" + qube.name + "' has no network: no flow starts or ends there")
                .note(qube.range, "declared here")
                .hint("give it 'netvm NAME;' or remove the flow");
            return std::nullopt;
        }
        e.kind = model::Endpoint::Kind::Qube;
        e.qube = q->second;
        return e;
    }
    std::vector<std::string> names = endpointNames();
    reportUnknown(ref.range, "qube or network object", ref.text, names);
    return std::nullopt;
}

std::vector<model::Endpoint> Resolver::endpoints(const std::vector<ast::Ref>& refs) {
    std::vector<model::Endpoint> out;
    for (const ast::Ref& r : refs)
        if (auto e = endpoint(r))
            out.push_back(std::move(*e));
    return out;
}

void Resolver::resolveFlows() {
    forEach<ast::FlowRule>([&](const ast::FlowRule& f, const ast::Statement& s) {
        model::NetFlow flow;
        flow.verdict = f.deny ? model::Verdict::Deny : model::Verdict::Allow;
        flow.from = endpoints(f.from);
        flow.to = endpoints(f.to);
        flow.services = serviceUses(f.services);
        flow.range = s.range;
        for (const model::Endpoint& a : flow.from)
            for (const model::Endpoint& b : flow.to)
                if (a.kind == model::Endpoint::Kind::Qube &&
                    b.kind == model::Endpoint::Kind::Qube && a.qube == b.qube)
                    sink_.report(DiagCode::SelfFlow, b.range,
                                 "flow from '" + policy_.qubes[a.qube].name +
                                     "' to itself: traffic inside a qube never reaches a "
                                     "firewall");
        policy_.flows.push_back(std::move(flow));
    });
}

} // namespace bulkhead::resolver
