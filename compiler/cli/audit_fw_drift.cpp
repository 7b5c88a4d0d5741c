#include "audit_fw_drift.h"
#include "audit_firewall.h"
#include "audit_fw_findings.h"
#include "audit_fw_qvm.h"

#include "bulkhead/backends/net_plan.h"
#include "bulkhead/backends/qvm_firewall_emit.h"

#include <algorithm>
#include <map>

namespace bulkhead::cli {
namespace {

using fw::Box;
using fw::Piece;
using fw::U128;

bool inPrefixes(const std::vector<IpPrefix>& ps, U128 a) {
    return std::any_of(ps.begin(), ps.end(), [&](const IpPrefix& p) {
        if (p.family != IpPrefix::Family::V4)
            return false;
        auto [lo, hi] = backends::rangeOf(p);
        return lo <= a && a <= hi;
    });
}

// Does a flow of the policy speak of this packet of qube q? (Its line is where the policy
// decides it.)
bool flowCovers(const model::Policy& p, const model::NetFlow& f, model::QubeId q, const Box& b) {
    bool from = std::any_of(f.from.begin(), f.from.end(), [&](const model::Endpoint& e) {
        return (e.kind == model::Endpoint::Kind::Qube && e.qube == q) ||
               (e.kind == model::Endpoint::Kind::Tag &&
                std::binary_search(p.qubes[q].tags.begin(), p.qubes[q].tags.end(), e.tag));
    });
    bool to = std::any_of(f.to.begin(), f.to.end(), [&](const model::Endpoint& e) {
        switch (e.kind) {
        case model::Endpoint::Kind::Network:
            return inPrefixes(p.networks[e.network].prefixes, b.addrLo);
        case model::Endpoint::Kind::Prefix:
            return inPrefixes({e.prefix}, b.addrLo);
        case model::Endpoint::Kind::Qube:
            return inPrefixes(p.qubes[e.qube].addresses, b.addrLo);
        case model::Endpoint::Kind::Tag:
            break;
        }
        return false;
    });
    bool service = false;
    for (const model::ServiceUse& u : f.services)
        for (const model::ServiceMatch& m : u.matches) {
            unsigned proto = m.protocol == model::Protocol::Tcp   ? 6
                             : m.protocol == model::Protocol::Udp ? 17
                                                                  : 1;
            bool ports =
                m.ports.empty() || std::any_of(m.ports.begin(), m.ports.end(), [&](const auto& r) {
                    return r.low <= b.portLo && b.portLo <= r.high;
                });
            service =
                service || m.protocol == model::Protocol::Any || (proto == b.protoLo && ports);
        }
    return from && to && service;
}

std::optional<SourceRange> policyLine(const model::Policy& intent, model::QubeId q, const Box& b,
                                      model::Verdict v) {
    for (const model::NetFlow& f : intent.flows)
        if (f.verdict == v && flowCovers(intent, f, q, b))
            return f.range;
    return std::nullopt;
}

// What each deployed state is compared on, worked out once per state (a net qube's
// ruleset serves many qubes): each client's decision, and the addresses of the qubes another
// net qube serves, whose packets are decided there, not by this ruleset.
class Comparable {
public:
    explicit Comparable(const model::Policy& deployed) : p_(deployed) {}

    const fw::Decision& decision(const fw::FirewallState& s, U128 client) {
        return decisions_.of(s, client);
    }

    std::vector<Piece> of(const fw::FirewallState& s, std::vector<Piece> pieces) {
        if (s.qvmFirewall)
            return pieces;
        auto [it, fresh] = elsewhere_.try_emplace(&s);
        if (fresh) {
            std::optional<model::QubeId> f = p_.findQube(s.firewallQube);
            std::vector<Box> boxes;
            for (model::QubeId q = 1; q < p_.qubes.size(); ++q)
                if (auto a = clientAddress(p_, q); a && p_.qubes[q].netvm != f) {
                    Box b;
                    b.srcHi = 0xffffffffu;
                    b.addrLo = b.addrHi = *a;
                    boxes.push_back(b);
                }
            it->second = backends::disjoint(std::move(boxes));
        }
        return fw::subtractAll(pieces, it->second);
    }

private:
    const model::Policy& p_;
    DecisionIndex decisions_;
    std::map<const fw::FirewallState*, std::vector<Box>> elsewhere_;
};

void compare(const model::Policy& intent, model::QubeId iq, Comparable& deployed,
             const fw::FirewallState& s, const fw::FirewallState& want, U128 a,
             DiagnosticSink& sink) {
    const fw::Decision& have = deployed.decision(s, a);
    ClientDecisions wantedByClient(want);
    const fw::Decision& wanted = wantedByClient.of(a);
    std::vector<Piece> more =
        deployed.of(s, fw::subtractAll(have.accepted, fw::boxesOf(wanted.accepted)));
    std::vector<Piece> less =
        deployed.of(s, fw::subtractAll(wanted.accepted, fw::boxesOf(have.accepted)));
    // One finding per deployed line, with its first packet.
    std::map<std::size_t, std::vector<Piece>> opened, closed;
    for (const Piece& x : more)
        opened[x.site].push_back(x);
    for (const Piece& x : less) {
        std::size_t site = s.sites.size() - 1;
        for (const Piece& d : have.dropped)
            if (backends::overlaps(d.box, x.box)) {
                site = d.site;
                break;
            }
        closed[site].push_back(x);
    }
    const std::string& name = intent.qubes[iq].name;
    for (const auto& [table, verb, v] : {std::tuple{&opened, "lets through", model::Verdict::Deny},
                                         std::tuple{&closed, "drops", model::Verdict::Allow}}) {
        for (const auto& [site, pieces] : *table) {
            const Box& packet = fw::example(pieces).box;
            auto diag =
                sink.report(DiagCode::Drift, s.sites[site].range,
                            "firewall drift: " + s.sites[site].where + " " + verb + " " +
                                fw::packetText(packet) + " of '" + name + "', which the policy " +
                                (v == model::Verdict::Deny ? "does not permit" : "permits") + " (" +
                                std::to_string(pieces.size()) + " packet region" +
                                (pieces.size() == 1 ? "" : "s") + " differ this way)");
            if (auto line = policyLine(intent, iq, packet, v))
                diag.note(*line, "the policy decides it here");
            diag.hint("apply the compiled firewall rules again (dom0/qvm-firewall/" + name +
                      ".rules, " +
                      "or the net qube's bulkhead.nft), or change the policy if "
                      "the deployed rule is right");
        }
    }
}

} // namespace

void reportFirewallDrift(const model::Policy& intent, const model::Policy& deployed,
                         const std::vector<fw::FirewallState>& states, SourceManager& sources,
                         DiagnosticSink& sink) {
    if (states.empty())
        return;
    backends::NetPlan plan = backends::planNetwork(intent);
    Comparable comparable(deployed);
    for (const backends::QvmFirewallRules& r : backends::emitQvmFirewall(intent, plan)) {
        std::optional<model::QubeId> iq = intent.findQube(r.qube);
        std::optional<model::QubeId> dq = deployed.findQube(r.qube);
        if (!iq || !dq)
            continue; // qubeDrift reports a qube the system lacks
        const fw::FirewallState* s = decidingState(deployed, states, *dq);
        std::optional<U128> a = clientAddress(deployed, *dq);
        if (!s || !a)
            continue;
        std::string text;
        for (const std::string& line : r.lines)
            text += line + "\n";
        FileId file = sources.add("compiled qvm-firewall rules of " + r.qube, text);
        std::optional<fw::FirewallState> want =
            fw::evaluateQvmFirewall(file, sources, r.qube, *a, sink);
        if (want)
            compare(intent, *iq, comparable, *s, *want, *a, sink);
    }
}

} // namespace bulkhead::cli
