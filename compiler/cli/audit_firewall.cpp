#include "audit_firewall.h"
#include "audit_fw_nft.h"
#include "audit_fw_qvm.h"

#include "bulkhead/compiler/frontend.h"
#include "bulkhead/compiler/nft_ruleset.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace bulkhead::cli {
namespace {

using fw::Box;
using fw::kAllV4;
using fw::Piece;
using fw::U128;

// "QUBE=FILE" from the command line.
std::optional<std::pair<std::string, std::string>> qubeAndFile(const std::string& arg) {
    std::size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        return std::nullopt;
    return std::pair{arg.substr(0, eq), arg.substr(eq + 1)};
}

std::optional<fw::FirewallState> readNft(const std::string& qube, const std::string& path,
                                         CheckRun& run, const model::Policy& p) {
    std::optional<FileId> id = readSourceFile(path, run.sources, run.sink, {});
    if (!id)
        return std::nullopt;
    nft::RulesetParse parsed = nft::parseRulesetJson(run.sources.file(*id).text);
    if (!parsed.ruleset) {
        run.sink
            .report(DiagCode::BadFirewallState, fw::rangeAt(*id, run.sources, parsed.errorAt),
                    "not an nftables ruleset: " + parsed.error)
            .hint("write it in the firewall qube with nft -j list ruleset");
        return std::nullopt;
    }
    std::optional<model::QubeId> f = p.findQube(qube);
    if (!f) {
        run.sink.report(DiagCode::BadFirewallState, fw::rangeAt(*id, run.sources, 0),
                        "--nft-ruleset names '" + qube + "', which the inventory does not have");
        return std::nullopt;
    }
    fw::NftContext ctx;
    for (model::QubeId q = 1; q < p.qubes.size(); ++q)
        if (p.qubes[q].netvm == f)
            if (auto a = clientAddress(p, q))
                ctx.clients.push_back(*a);
    if (p.qubes[*f].netvm)
        ctx.uplink = "eth0"; // a qube with a netvm reaches it through eth0
    return fw::evaluateNft(*parsed.ruleset, *id, run.sources, qube, ctx);
}

std::optional<fw::FirewallState> readQvm(const std::string& qube, const std::string& path,
                                         CheckRun& run, const model::Policy& p) {
    std::optional<FileId> id = readSourceFile(path, run.sources, run.sink, {});
    if (!id)
        return std::nullopt;
    std::optional<model::QubeId> q = p.findQube(qube);
    if (!q) {
        run.sink.report(DiagCode::BadFirewallState, {*id, {1, 1}, {1, 1}},
                        "--qvm-firewall names '" + qube + "', which the inventory does not have");
        return std::nullopt;
    }
    // The list is read whatever the qube's address, so a bad line is always reported.
    std::optional<U128> address = clientAddress(p, *q);
    std::optional<fw::FirewallState> state =
        fw::evaluateQvmFirewall(*id, run.sources, qube, address.value_or(0), run.sink);
    if (state && !address) {
        // Not bad input (a qube without a netvm has no address), but nothing to evaluate.
        run.sink
            .report(DiagCode::FirewallRuleUnmodelled, {*id, {1, 1}, {1, 1}},
                    "'" + qube +
                        "' has no IPv4 address in the inventory: its rules are not "
                        "evaluated")
            .hint("qvm-ls --raw-data lists an IP for every qube with a netvm");
        state->decision = {};
        state->shadowCandidates.clear();
        state->unmodelled.clear();
    }
    return state;
}

// [lo, hi] as the fewest prefixes.
std::vector<IpPrefix> prefixesOf(U128 lo, U128 hi) {
    std::vector<IpPrefix> out;
    while (lo <= hi) {
        unsigned host = 0;
        while (host < 32 && (lo & ((U128(1) << (host + 1)) - 1)) == 0 &&
               lo + ((U128(1) << (host + 1)) - 1) <= hi)
            ++host;
        IpPrefix p;
        for (unsigned i = 0; i < 4; ++i)
            p.bytes[i] = static_cast<std::uint8_t>(lo >> (24 - 8 * i));
        p.length = static_cast<std::uint8_t>(32 - host);
        out.push_back(p);
        U128 next = lo + (U128(1) << host);
        if (next > kAllV4)
            break;
        lo = next;
    }
    return out;
}

model::ServiceMatch matchOf(const Box& b) {
    model::ServiceMatch m;
    m.protocol = b.protoLo == 6    ? model::Protocol::Tcp
                 : b.protoLo == 17 ? model::Protocol::Udp
                                   : model::Protocol::Icmp;
    unsigned full = b.protoLo == 1 ? 255 : 65535;
    if (b.portLo != 0 || b.portHi != full)
        m.ports.push_back(
            {static_cast<std::uint16_t>(b.portLo), static_cast<std::uint16_t>(b.portHi)});
    return m;
}

bool isOther(const Box& b) {
    return b.protoLo != 1 && b.protoLo != 6 && b.protoLo != 17;
}

class FlowBuilder {
public:
    FlowBuilder(model::Policy& p, std::vector<fw::FirewallState>& states) : p_(p), states_(states) {
        for (model::QubeId q = 1; q < p.qubes.size(); ++q)
            if (auto a = clientAddress(p, q)) {
                qubeAt_[*a] = q;
                Box b;
                b.srcHi = kAllV4;
                b.addrLo = b.addrHi = *a;
                qubeBoxes_.push_back(b);
            }
        qubeBoxes_ = backends::disjoint(qubeBoxes_);
    }

    void run() {
        // Every client's accepted packets, split into those to a qube and the rest.
        std::vector<std::pair<model::QubeId, Piece>> external;
        for (model::QubeId c = 1; c < p_.qubes.size(); ++c) {
            const fw::FirewallState* s = decidingState(p_, states_, c);
            std::optional<U128> addr = clientAddress(p_, c);
            if (!s || !addr)
                continue;
            for (const Piece& piece : s->decision.accepted) {
                if (piece.box.srcLo != *addr)
                    continue;
                for (const Piece& in : fw::intersect({piece}, qubeBoxes_))
                    toQube(c, *s, in);
                for (const Piece& out : fw::subtractAll({piece}, qubeBoxes_))
                    external.push_back({c, out});
            }
        }
        toOutside(external);
        for (auto& [key, pieces] : internal_) {
            model::Endpoint to;
            to.kind = model::Endpoint::Kind::Qube;
            to.qube = key.second;
            emit(key.first, to, pieces);
        }
    }

private:
    // A packet to another client of the same firewall qube: its ruleset decided it
    // exactly (the vif side of Qubes' base chain included). A packet to any other qube
    // leaves for a net qube whose base chain drops new connections into a client's vif
    // (qubes-formats.md §3.3), so it makes no flow.
    void toQube(model::QubeId c, const fw::FirewallState& s, const Piece& piece) {
        model::QubeId d = qubeAt_.at(piece.box.addrLo);
        std::optional<model::QubeId> f = p_.findQube(s.firewallQube);
        if (s.qvmFirewall || !f || p_.qubes[d].netvm != f)
            return;
        internal_[{c, d}].push_back(piece);
    }

    // Destinations outside the qubes: cut where any accepted piece starts or ends, then
    // intervals that every client treats alike become one network object.
    void toOutside(const std::vector<std::pair<model::QubeId, Piece>>& pieces) {
        std::set<U128> cuts;
        for (const auto& [c, piece] : pieces) {
            cuts.insert(piece.box.addrLo);
            cuts.insert(piece.box.addrHi + 1);
        }
        std::vector<U128> edges(cuts.begin(), cuts.end());
        using Sig = std::vector<std::tuple<model::QubeId, std::size_t, unsigned, unsigned, unsigned,
                                           unsigned, const fw::FirewallState*>>;
        std::map<Sig, std::vector<std::pair<U128, U128>>> groups;
        std::map<Sig, std::map<model::QubeId, std::vector<Piece>>> members;
        for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
            U128 lo = edges[i], hi = edges[i + 1] - 1;
            Sig sig;
            std::map<model::QubeId, std::vector<Piece>> byClient;
            for (const auto& [c, piece] : pieces)
                if (piece.box.addrLo <= lo && hi <= piece.box.addrHi) {
                    const fw::FirewallState* s = decidingState(p_, states_, c);
                    sig.emplace_back(c, piece.site, piece.box.protoLo, piece.box.protoHi,
                                     piece.box.portLo, piece.box.portHi, s);
                    byClient[c].push_back(piece);
                }
            if (sig.empty())
                continue;
            std::sort(sig.begin(), sig.end());
            groups[sig].push_back({lo, hi});
            members.emplace(sig, std::move(byClient));
        }
        for (auto& [sig, intervals] : groups) {
            model::NetworkObject o;
            o.name = objectName(intervals);
            for (auto [lo, hi] : intervals) {
                std::vector<IpPrefix> ps = prefixesOf(lo, hi);
                o.prefixes.insert(o.prefixes.end(), ps.begin(), ps.end());
            }
            std::sort(o.prefixes.begin(), o.prefixes.end());
            p_.networks.push_back(std::move(o));
            model::Endpoint to;
            to.kind = model::Endpoint::Kind::Network;
            to.network = static_cast<model::NetworkId>(p_.networks.size() - 1);
            for (auto& [c, list] : members.at(sig)) {
                for (Piece& piece : list) { // the object's first interval stands for all
                    piece.box.addrLo = intervals.front().first;
                    piece.box.addrHi = intervals.front().second;
                }
                emit(c, to, list);
            }
        }
    }

    std::string objectName(const std::vector<std::pair<U128, U128>>& intervals) const {
        // Everything but the qubes' own addresses: the usual "accept" at the end.
        std::vector<Piece> all{{Box{0, kAllV4, 0, kAllV4, 0, 255, 0, 65535}, 0}};
        std::vector<Box> outside = fw::boxesOf(fw::subtractAll(all, qubeBoxes_));
        bool everything = outside.size() == intervals.size();
        for (std::size_t i = 0; everything && i < outside.size(); ++i)
            everything =
                std::find(intervals.begin(), intervals.end(),
                          std::pair{outside[i].addrLo, outside[i].addrHi}) != intervals.end();
        if (everything)
            return "outside (every address but the qubes')";
        std::string name;
        for (std::size_t i = 0; i < intervals.size() && i < 3; ++i)
            name += (i ? ", " : "") + backends::addressText(intervals[i].first, intervals[i].second,
                                                            IpPrefix::Family::V4);
        if (intervals.size() > 3)
            name += " and " + std::to_string(intervals.size() - 3) + " more ranges";
        return name;
    }

    void emit(model::QubeId c, const model::Endpoint& to, const std::vector<Piece>& pieces) {
        const fw::FirewallState* s = decidingState(p_, states_, c);
        model::Endpoint from;
        from.kind = model::Endpoint::Kind::Qube;
        from.qube = c;
        auto flow = [&](model::Verdict v, std::size_t site,
                        std::vector<model::ServiceMatch> matches) {
            model::NetFlow f;
            f.verdict = v;
            f.range = s->sites[site].range;
            f.from = {from};
            f.to = {to};
            f.from[0].range = f.to[0].range = f.range;
            model::ServiceUse use;
            use.matches = std::move(matches);
            use.range = f.range;
            f.services = {std::move(use)};
            p_.flows.push_back(std::move(f));
        };
        unsigned others = 0;
        for (const Piece& piece : pieces)
            if (isOther(piece.box))
                others += piece.box.protoHi - piece.box.protoLo + 1;
        if (others == 253) { // every protocol but tcp, udp and icmp: all of them, minus holes
            std::size_t site = std::find_if(pieces.begin(), pieces.end(), [](const Piece& x) {
                                   return isOther(x.box);
                               })->site;
            model::ServiceMatch any;
            any.protocol = model::Protocol::Any;
            flow(model::Verdict::Allow, site, {any});
            std::vector<Piece> named;
            for (Box b : fw::clientPackets(pieces.front().box.srcLo))
                if (!isOther(b)) {
                    b.addrLo = pieces.front().box.addrLo;
                    b.addrHi = pieces.front().box.addrHi;
                    named.push_back({b, site});
                }
            for (const Piece& hole : fw::subtractAll(named, fw::boxesOf(pieces)))
                flow(model::Verdict::Deny, dropSite(*s, hole.box, site), {matchOf(hole.box)});
            return;
        }
        if (others > 0) {
            std::size_t site = std::find_if(pieces.begin(), pieces.end(), [](const Piece& x) {
                                   return isOther(x.box);
                               })->site;
            std::vector<fw::Unmodelled>& un =
                states_[static_cast<std::size_t>(s - states_.data())].unmodelled;
            std::string why = "it accepts some IP protocols other than tcp, udp and icmp, which "
                              "the model's services cannot name: only its tcp, udp and icmp "
                              "packets make flows";
            if (std::none_of(un.begin(), un.end(), [&](const fw::Unmodelled& u) {
                    return u.site == site && u.why == why;
                }))
                un.push_back({site, why});
        }
        std::map<std::size_t, std::vector<model::ServiceMatch>> bySite;
        for (const Piece& piece : pieces)
            if (!isOther(piece.box))
                bySite[piece.site].push_back(matchOf(piece.box));
        for (auto& [site, matches] : bySite)
            flow(model::Verdict::Allow, site, std::move(matches));
    }

    // The rule that drops a packet of this box (for a deny carve-out's line).
    static std::size_t dropSite(const fw::FirewallState& s, const Box& b, std::size_t fallback) {
        for (const Piece& d : s.decision.dropped)
            if (d.box.srcLo == b.srcLo && backends::overlaps(d.box, b))
                return d.site;
        return fallback;
    }

    model::Policy& p_;
    std::vector<fw::FirewallState>& states_;
    std::map<U128, model::QubeId> qubeAt_;
    std::vector<Box> qubeBoxes_;
    std::map<std::pair<model::QubeId, model::QubeId>, std::vector<Piece>> internal_;
};

} // namespace

std::optional<fw::U128> clientAddress(const model::Policy& deployed, model::QubeId client) {
    for (const IpPrefix& a : deployed.qubes[client].addresses)
        if (a.family == IpPrefix::Family::V4)
            return fw::ipv4Value(a.bytes, false);
    return std::nullopt;
}

bool ignoresQvmFirewall(const model::Policy& deployed, model::QubeId netvm) {
    const std::vector<std::string>& tags = deployed.qubes[netvm].tags;
    return std::binary_search(tags.begin(), tags.end(), "anon-gateway");
}

const fw::FirewallState* decidingState(const model::Policy& deployed,
                                       const std::vector<fw::FirewallState>& states,
                                       model::QubeId client) {
    const model::Qube& q = deployed.qubes[client];
    if (!q.netvm)
        return nullptr;
    const fw::FirewallState* list = nullptr;
    for (const fw::FirewallState& s : states) {
        if (!s.qvmFirewall && s.firewallQube == deployed.qubes[*q.netvm].name)
            return &s;
        if (s.qvmFirewall && s.firewallQube == q.name && !ignoresQvmFirewall(deployed, *q.netvm))
            list = &s;
    }
    return list;
}

std::optional<std::vector<fw::FirewallState>>
readFirewallState(const AuditOptions& o, CheckRun& run, const model::Policy& deployed) {
    std::vector<fw::FirewallState> out;
    if ((!o.nftRulesets.empty() || !o.qvmFirewalls.empty()) && o.inventory.empty()) {
        // GetSystemInfo has no netvms and no addresses: nothing to place the rules on.
        run.sink.report(DiagCode::BadFirewallState, {},
                        "--nft-ruleset and --qvm-firewall need --inventory (qvm-ls --raw-data): "
                        "the system info has no netvms or addresses");
        return std::nullopt;
    }
    bool ok = true;
    auto each = [&](const std::vector<std::string>& args, const char* option, auto read) {
        for (const std::string& arg : args) {
            auto parts = qubeAndFile(arg);
            if (!parts) {
                run.sink.report(DiagCode::BadFirewallState, {},
                                std::string(option) + " takes QUBE=FILE, not '" + arg + "'");
                ok = false;
                continue;
            }
            std::optional<fw::FirewallState> s = read(parts->first, parts->second, run, deployed);
            if (s)
                out.push_back(std::move(*s));
            else
                ok = false;
        }
    };
    each(o.nftRulesets, "--nft-ruleset", readNft);
    each(o.qvmFirewalls, "--qvm-firewall", readQvm);
    if (!ok)
        return std::nullopt;
    return out;
}

void addFirewallFlows(model::Policy& deployed, std::vector<fw::FirewallState>& states) {
    FlowBuilder(deployed, states).run();
}

} // namespace bulkhead::cli
