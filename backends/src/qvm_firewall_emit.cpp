#include "bulkhead/backends/qvm_firewall_emit.h"

#include "text_safety.h"

namespace bulkhead::backends {
namespace {

// One element as qvm-firewall rules; an ICMP type range becomes one rule per type, since
// qvm-firewall takes a single icmptype.
void addLines(std::vector<std::string>& out, const char* action, const NetElement& e) {
    std::string dst = std::string(e.dst.family == IpPrefix::Family::V4 ? "dst4=" : "dst6=") +
                      e.dst.masked().str();
    if (e.dst.isHost())
        dst += e.dst.family == IpPrefix::Family::V4 ? "/32" : "/128";
    std::string base = std::string("action=") + action;
    auto proto = [&]() -> std::string {
        switch (e.protoLow) {
        case 6:
            return " proto=tcp";
        case 17:
            return " proto=udp";
        default:
            return " proto=icmp"; // 1, or 58 for IPv6: Qubes maps icmp to icmpv6 there
        }
    };
    switch (e.match) {
    case NetElement::Match::Proto:
        if (e.protoLow == 0 && e.protoHigh == 255)
            out.push_back(base + " " + dst);
        else
            out.push_back(base + proto() + " " + dst);
        return;
    case NetElement::Match::Port:
        out.push_back(base + proto() + " " + dst + " dstports=" + std::to_string(e.low) + "-" +
                      std::to_string(e.high));
        return;
    case NetElement::Match::Icmp:
        for (unsigned t = e.low; t <= e.high; ++t)
            out.push_back(base + proto() + " " + dst + " icmptype=" + std::to_string(t));
        return;
    }
}

bool overlapsAny(const IpPrefix& a, const std::vector<NetElement>& elements) {
    for (const NetElement& e : elements)
        if (e.dst.contains(a) || a.contains(e.dst))
            return true;
    return false;
}

} // namespace

std::vector<QvmFirewallRules> emitQvmFirewall(const model::Policy& policy, const NetPlan& plan) {
    std::vector<QvmFirewallRules> out;
    for (model::QubeId q = 1; q < policy.qubes.size(); ++q) {
        // A firewall or net qube forwards its clients' traffic under its own address: a
        // qvm-firewall list for it would have to carry theirs too. Bulkhead's nftables rules
        // in its netvm judge that traffic (docs/deploy.md); Qubes' setting is left alone.
        model::QubeKind kind = policy.qubes[q].kind;
        if (!policy.qubes[q].netvm || kind == model::QubeKind::NetVM ||
            kind == model::QubeKind::Firewall)
            continue;
        QvmFirewallRules r;
        r.qube = policy.qubes[q].name;
        requireCharset(r.qube, kServiceChars, "qube name");
        auto it = plan.rules.find({q, false});
        if (it != plan.rules.end()) {
            const NodeRules& n = it->second;
            for (const NetElement& e : n.denyInternal)
                addLines(r.lines, "drop", e);
            for (const NetElement& e : n.allowInternal)
                addLines(r.lines, "accept", e);
            // Network objects never stand for a qube: keep the allows below off them.
            for (const IpPrefix& a : plan.internal)
                if (overlapsAny(a, n.allowExternal)) {
                    NetElement any;
                    any.dst = a;
                    any.protoLow = 0;
                    any.protoHigh = 255;
                    addLines(r.lines, "drop", any);
                }
            for (const NetElement& e : n.denyExternal)
                addLines(r.lines, "drop", e);
            for (const NetElement& e : n.allowExternal)
                addLines(r.lines, "accept", e);
        }
        for (const std::string& line : r.lines)
            requireCharset(line, kQvmFirewallChars, "qvm-firewall rule");
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace bulkhead::backends
