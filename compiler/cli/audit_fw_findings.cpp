#include "audit_fw_findings.h"
#include "audit_firewall.h"
#include "audit_fw_qvm.h"

#include <algorithm>

namespace bulkhead::cli {
namespace {

using fw::Box;
using fw::kAllV4;
using fw::Piece;
using fw::U128;

Box addressBox(U128 src, U128 lo, U128 hi) {
    Box b;
    b.srcLo = b.srcHi = src;
    b.addrLo = lo;
    b.addrHi = hi;
    return b;
}

// Addresses a client's packets to the outside never go to: the qubes' (and, for DNS,
// Qubes' DNS addresses too), ascending and each once, made once for every client.
struct Inside {
    std::vector<U128> qubes, qubesAndDns;

    explicit Inside(const model::Policy& p) {
        for (model::QubeId q = 1; q < p.qubes.size(); ++q)
            if (auto a = clientAddress(p, q))
                qubes.push_back(*a);
        qubesAndDns = qubes;
        for (U128 a : fw::qubesDnsAddresses())
            qubesAndDns.push_back(a);
        for (std::vector<U128>* v : {&qubes, &qubesAndDns}) {
            std::sort(v->begin(), v->end());
            v->erase(std::unique(v->begin(), v->end()), v->end());
        }
    }
};

// Pieces of a client's packets to addresses outside `inside` (the boxes, one per address,
// in the order backends::disjoint gives them).
std::vector<Piece> outside(const std::vector<U128>& inside, const std::vector<Piece>& pieces,
                           U128 src) {
    std::vector<Box> cut;
    cut.reserve(inside.size());
    for (U128 a : inside)
        cut.push_back(addressBox(src, a, a));
    return fw::subtractAll(pieces, cut);
}

std::string where(const fw::FirewallState& s, std::size_t site) {
    return s.sites[site].where;
}

// The piece of a decision holding a packet (the box's lowest point).
const Piece* holding(const std::vector<Piece>& pieces, const Box& b) {
    for (const Piece& x : pieces)
        if (x.box.srcLo <= b.srcLo && b.srcLo <= x.box.srcHi && x.box.addrLo <= b.addrLo &&
            b.addrLo <= x.box.addrHi && x.box.protoLo <= b.protoLo && b.protoLo <= x.box.protoHi &&
            x.box.portLo <= b.portLo && b.portLo <= x.box.portHi)
            return &x;
    return nullptr;
}

void dnsOpen(const model::Policy& p, const Inside& inside, model::QubeId c,
             const fw::FirewallState& s, U128 a, const fw::Decision& d, DiagnosticSink& sink) {
    std::vector<Box> dns;
    for (unsigned proto : {6u, 17u}) {
        Box b = addressBox(a, 0, kAllV4);
        b.protoLo = b.protoHi = proto;
        b.portLo = b.portHi = 53;
        dns.push_back(b);
    }
    std::vector<Piece> open = outside(inside.qubesAndDns, fw::intersect(d.accepted, dns), a);
    for (const Piece& x : open) {
        // DNS reaches these addresses; is other traffic of the same protocol to them refused?
        Box same = addressBox(a, x.box.addrLo, x.box.addrHi);
        same.protoLo = same.protoHi = x.box.protoLo;
        std::vector<Piece> refused = fw::intersect(d.dropped, {same});
        if (refused.empty())
            continue;
        // Both packets to one address.
        Box packet = x.box, other = refused.front().box;
        packet.addrLo = other.addrLo = std::max(x.box.addrLo, other.addrLo);
        packet.addrHi = other.addrHi = std::min(x.box.addrHi, other.addrHi);
        sink.report(DiagCode::DnsOpen, s.sites[x.site].range,
                    where(s, x.site) + ": '" + p.qubes[c].name +
                        "' may send DNS to any server here (" + fw::packetText(packet) +
                        " passes) while its other " + (x.box.protoLo == 6 ? "tcp" : "udp") +
                        " traffic there is refused (" + fw::packetText(other) +
                        "): DNS bypasses Qubes' resolver and can carry data out")
            .note(s.sites[refused.front().site].range,
                  "the other traffic is refused here (" + where(s, refused.front().site) + ")")
            .hint("allow DNS only through Qubes (qvm-firewall specialtarget=dns, which is " +
                  std::string("10.139.1.1 and 10.139.1.2), or drop udp and tcp port 53 first"));
        return; // one finding per qube: the first rule that opens it
    }
}

void reportIcmp(const model::Policy& p, model::QubeId c, const fw::FirewallState& s,
                std::size_t site, const Box& packet, DiagnosticSink& sink) {
    sink.report(DiagCode::IcmpOpen, s.sites[site].range,
                where(s, site) + ": '" + p.qubes[c].name +
                    "' may send ICMP where nothing else of it may go (" + fw::packetText(packet) +
                    " passes): it can map networks and carry data in ICMP payloads")
        .hint("limit ICMP to the destinations the qube needs, or drop it (qvm-firewall "
              "proto=icmp with dst4=)");
}

void icmpOpen(const model::Policy& p, const Inside& inside, model::QubeId c,
              const fw::FirewallState& s, U128 a, const fw::Decision& d, DiagnosticSink& sink) {
    Box icmp = addressBox(a, 0, kAllV4);
    icmp.protoLo = icmp.protoHi = 1;
    icmp.portHi = 255;
    std::vector<Piece> open = outside(inside.qubes, fw::intersect(d.accepted, {icmp}), a);
    // Where does anything but ICMP go?
    std::vector<Box> reached;
    for (const Piece& x : d.accepted)
        if (!(x.box.protoLo == 1 && x.box.protoHi == 1))
            reached.push_back(addressBox(a, x.box.addrLo, x.box.addrHi));
    if (d.dropped.empty())
        return;
    reached = backends::disjoint(reached);
    for (const Piece& o : open) {
        Piece wide = o;
        wide.box.protoLo = 0;
        wide.box.protoHi = 255;
        wide.box.portLo = 0;
        wide.box.portHi = 65535;
        std::vector<Piece> only = fw::subtractAll({wide}, reached);
        if (only.empty())
            continue;
        Box packet = o.box; // ICMP of this piece, to addresses nothing else reaches
        packet.addrLo = only.front().box.addrLo;
        packet.addrHi = only.front().box.addrHi;
        reportIcmp(p, c, s, o.site, packet, sink);
        return;
    }
}

void deadRules(const fw::FirewallState& s, DiagnosticSink& sink) {
    std::string whose = s.qvmFirewall ? "'" + s.firewallQube + "'"
                                      : "a client of '" + s.firewallQube + "' that reaches it";
    for (std::size_t site : s.shadowCandidates) {
        const fw::RuleUse& u = s.uses[site];
        if (s.sites[site].policy || u.matched)
            continue;
        if (!u.couldMatch) {
            sink.report(DiagCode::FirewallRuleNeverMatches, s.sites[site].range,
                        s.sites[site].where + ": no packet of " + whose +
                            " can match this rule, so it does nothing")
                .hint("check its addresses, protocol and ports (a port needs tcp or udp, an "
                      "ICMP type needs icmp)");
            continue;
        }
        const Piece* d = nullptr;
        if (u.example)
            for (const auto* list : {&s.decision.accepted, &s.decision.dropped})
                if (!d)
                    d = holding(*list, *u.example);
        auto diag = sink.report(
            DiagCode::FirewallRuleShadowed, s.sites[site].range,
            s.sites[site].where +
                ": earlier rules decide every packet "
                "this rule matches, so it never applies" +
                (u.example ? " (" + fw::packetText(*u.example) + " is " +
                                 (d && holding(s.decision.accepted, *u.example) ? "accepted"
                                                                                : "dropped") +
                                 " before it)"
                           : std::string()));
        if (d && d->site != site)
            diag.note(s.sites[d->site].range, "decided here (" + where(s, d->site) + ")");
        diag.hint("move it above the rule that decides its packets, or remove it");
    }
}

void notApplied(const model::Policy& p, const Inside& inside,
                const std::vector<fw::FirewallState>& states, DecisionIndex& decisions,
                DiagnosticSink& sink) {
    for (const fw::FirewallState& list : states) {
        if (!list.qvmFirewall)
            continue;
        std::optional<model::QubeId> c = p.findQube(list.firewallQube);
        if (c && p.qubes[*c].netvm && ignoresQvmFirewall(p, *p.qubes[*c].netvm)) {
            const std::string& gateway = p.qubes[*p.qubes[*c].netvm].name;
            sink.report(DiagCode::FirewallNotApplied,
                        list.sites.empty() ? SourceRange{} : list.sites.front().range,
                        "'" + list.firewallQube + "' goes through '" + gateway +
                            "', a Whonix gateway (tag anon-gateway), which does not run "
                            "qubes-firewall: none of these rules is enforced")
                .hint("restrict it inside the gateway, or give the qube a netvm that runs "
                      "qubes-firewall");
            continue;
        }
        const fw::FirewallState* enforced = c ? decidingState(p, states, *c) : nullptr;
        std::optional<U128> a = c ? clientAddress(p, *c) : std::nullopt;
        if (!enforced || enforced == &list || !a)
            continue;
        const fw::Decision& want = decisions.of(list, *a);
        const fw::Decision& have = decisions.of(*enforced, *a);
        std::vector<Piece> more =
            outside(inside.qubes, fw::subtractAll(have.accepted, fw::boxesOf(want.accepted)), *a);
        std::vector<Piece> less =
            outside(inside.qubes, fw::subtractAll(want.accepted, fw::boxesOf(have.accepted)), *a);
        for (const auto& [pieces, loose] : {std::pair{&more, true}, std::pair{&less, false}}) {
            if (pieces->empty())
                continue;
            const Piece& x = fw::example(*pieces);
            const Piece* other = holding(loose ? want.dropped : have.dropped, x.box);
            const fw::FirewallState& at = loose ? *enforced : list;
            auto diag = sink.report(
                DiagCode::FirewallNotApplied, at.sites[x.site].range,
                "'" + enforced->firewallQube + "' " + (loose ? "lets through " : "drops ") +
                    fw::packetText(x.box) + " of '" + list.firewallQube + "', while the qvm-" +
                    "firewall rules dom0 keeps for it " + (loose ? "drop" : "accept") +
                    " it: the rules in force are not the ones dom0 holds");
            if (other) {
                const fw::FirewallState& os = loose ? list : *enforced;
                diag.note(os.sites[other->site].range,
                          "the other side decides it here (" + where(os, other->site) + ")");
            }
            diag.hint("restart the qubes-firewall service in '" + enforced->firewallQube +
                      "' (or look for user rules in its custom chains)");
        }
    }
}

} // namespace

ClientDecisions::ClientDecisions(const fw::FirewallState& state) {
    for (const Piece& x : state.decision.accepted)
        byClient_[x.box.srcLo].accepted.push_back(x);
    for (const Piece& x : state.decision.dropped)
        byClient_[x.box.srcLo].dropped.push_back(x);
}

const fw::Decision& ClientDecisions::of(U128 client) const {
    auto it = byClient_.find(client);
    return it == byClient_.end() ? none_ : it->second;
}

const fw::Decision& DecisionIndex::of(const fw::FirewallState& state, U128 client) {
    return byState_.try_emplace(&state, state).first->second.of(client);
}

void reportFirewallFindings(const model::Policy& deployed,
                            const std::vector<fw::FirewallState>& states, DiagnosticSink& sink) {
    for (const fw::FirewallState& s : states) {
        for (const fw::Unmodelled& u : s.unmodelled)
            sink.report(DiagCode::FirewallRuleUnmodelled, s.sites[u.site].range,
                        s.sites[u.site].where + ": " + u.why +
                            "; the audit takes this rule as matching nothing")
                .hint("what it decides is not in the findings: check it by hand");
        deadRules(s, sink);
    }
    Inside inside(deployed);
    DecisionIndex decisions;
    for (model::QubeId c = 1; c < deployed.qubes.size(); ++c) {
        const fw::FirewallState* s = decidingState(deployed, states, c);
        std::optional<U128> a = clientAddress(deployed, c);
        if (!s || !a)
            continue;
        const fw::Decision& d = decisions.of(*s, *a);
        dnsOpen(deployed, inside, c, *s, *a, d, sink);
        icmpOpen(deployed, inside, c, *s, *a, d, sink);
    }
    notApplied(deployed, inside, states, decisions, sink);
}

} // namespace bulkhead::cli
