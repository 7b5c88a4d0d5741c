#include "audit_fw_qvm.h"

#include "bulkhead/compiler/address.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace bulkhead::cli::fw {
namespace {

struct Token {
    std::string key, value;
    std::uint32_t column = 0;
};

struct BadLine {
    std::uint32_t column;
    std::string message;
};

std::optional<unsigned> number(std::string_view s, unsigned max) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max)
        return std::nullopt;
    return v;
}

// key=value words; comment= takes the rest of the line (it may hold spaces).
std::vector<Token> tokens(std::string_view line) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ' || line[i] == '\t') {
            ++i;
            continue;
        }
        std::size_t end = line.substr(i).starts_with("comment=")
                              ? line.size()
                              : std::min(line.find_first_of(" \t", i), line.size());
        std::string_view word = line.substr(i, end - i);
        std::size_t eq = word.find('=');
        auto column = static_cast<std::uint32_t>(i + 1);
        if (eq == std::string_view::npos)
            throw BadLine{column, "'" + std::string(word) + "' is not KEY=VALUE"};
        out.push_back({std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)), column});
        i = end;
    }
    return out;
}

struct Rule {
    bool accept = false;
    std::optional<unsigned> proto; // 1, 6, 17
    std::optional<IpPrefix> dst;
    bool ipv6 = false;
    std::optional<std::string> dsthost;
    std::optional<std::pair<unsigned, unsigned>> ports;
    std::optional<unsigned> icmptype;
    bool dns = false;
};

Rule parse(const std::vector<Token>& words) {
    Rule r;
    std::map<std::string, const Token*> seen;
    for (const Token& t : words) {
        if (!seen.emplace(t.key, &t).second)
            throw BadLine{t.column, "'" + t.key + "' is given twice"};
        auto bad = [&](const std::string& why) {
            return BadLine{t.column, t.key + "=" + t.value + ": " + why};
        };
        if (t.key == "action") {
            if (t.value != "accept" && t.value != "drop")
                throw bad("the action is accept or drop");
            r.accept = t.value == "accept";
        } else if (t.key == "proto") {
            static const std::map<std::string, unsigned> protos{
                {"tcp", 6}, {"udp", 17}, {"icmp", 1}};
            auto it = protos.find(t.value);
            if (it == protos.end())
                throw bad("the protocol is tcp, udp or icmp");
            r.proto = it->second;
        } else if (t.key == "dst4" || t.key == "dst6" || t.key == "dsthost") {
            if (seen.count("dst4") + seen.count("dst6") + seen.count("dsthost") > 1)
                throw BadLine{t.column, "more than one destination"};
            AddressParse a = parseAddress(t.value);
            if (t.key == "dsthost" && !a.prefix) {
                bool name =
                    !t.value.empty() && std::all_of(t.value.begin(), t.value.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                               c == '_' || c == '-';
                    });
                if (!name)
                    throw bad("not an address or a host name ([a-z0-9._-])");
                r.dsthost = t.value;
                continue;
            }
            if (!a.prefix)
                throw bad(a.error);
            bool v6 = a.prefix->family == IpPrefix::Family::V6;
            if ((t.key == "dst4" && v6) || (t.key == "dst6" && !v6))
                throw bad(t.key == "dst4" ? "an IPv6 address in dst4" : "an IPv4 address in dst6");
            r.dst = a.prefix->masked();
            r.ipv6 = v6;
        } else if (t.key == "dstports") {
            std::size_t dash = t.value.find('-');
            auto lo = number(t.value.substr(0, dash), 65535);
            auto hi = dash == std::string::npos ? lo : number(t.value.substr(dash + 1), 65535);
            if (!lo || !hi || *lo > *hi)
                throw bad("ports are N or N-M within 0-65535, N <= M");
            r.ports = {{*lo, *hi}};
        } else if (t.key == "icmptype") {
            r.icmptype = number(t.value, 255);
            if (!r.icmptype)
                throw bad("an ICMP type is 0-255");
        } else if (t.key == "specialtarget") {
            if (t.value != "dns")
                throw bad("the only special target is dns");
            r.dns = true;
        } else if (t.key == "expire") {
            std::string_view v = t.value;
            if (v.starts_with('+'))
                v.remove_prefix(1);
            if (!number(v, 0xffffffffu))
                throw bad("expire is a UNIX time or +seconds");
        } else if (t.key != "comment") {
            throw BadLine{t.column, "unknown option '" + t.key + "'"};
        }
    }
    if (!seen.count("action"))
        throw BadLine{1, "a rule needs action=accept or action=drop"};
    if (r.ports && r.proto == 1u)
        throw BadLine{seen["dstports"]->column, "dstports with proto=icmp"};
    if (r.icmptype && r.proto != 1u)
        throw BadLine{seen["icmptype"]->column, "icmptype needs proto=icmp"};
    return r;
}

// The IPv4 packets a rule matches (NftablesWorker.prepare_rules, qubes-formats.md §3.4).
std::vector<Box> region(const Rule& r) {
    if (r.ipv6)
        return {};
    Box all;
    all.srcHi = 0xffffffffu;
    all.addrHi = 0xffffffffu;
    std::vector<Box> out;
    std::vector<unsigned> protos;
    if (r.proto)
        protos = {*r.proto};
    else if (r.ports || r.dns)
        protos = {6, 17};
    if (r.dns && r.ports && (r.ports->first > 53 || r.ports->second < 53))
        return {}; // skipped: a port other than 53 with the dns target
    std::vector<std::pair<U128, U128>> dsts;
    if (r.dns)
        for (U128 a : qubesDnsAddresses())
            dsts.push_back({a, a});
    else if (r.dst)
        dsts.push_back(backends::rangeOf(*r.dst));
    else
        dsts.push_back({0, 0xffffffffu});
    for (auto [lo, hi] : dsts) {
        Box b = all;
        b.addrLo = lo;
        b.addrHi = hi;
        if (protos.empty()) {
            out.push_back(b);
            continue;
        }
        for (unsigned p : protos) {
            Box x = b;
            x.protoLo = x.protoHi = p;
            if (r.dns) {
                x.portLo = x.portHi = 53;
            } else if (r.ports) {
                x.portLo = r.ports->first;
                x.portHi = r.ports->second;
            } else if (r.icmptype) {
                x.portLo = x.portHi = *r.icmptype;
            }
            out.push_back(x);
        }
    }
    return backends::disjoint(out);
}

} // namespace

const std::vector<U128>& qubesDnsAddresses() {
    static const std::vector<U128> dns{(U128(10) << 24) | (139u << 16) | (1u << 8) | 1u,
                                       (U128(10) << 24) | (139u << 16) | (1u << 8) | 2u};
    return dns;
}

std::optional<FirewallState> evaluateQvmFirewall(FileId file, const SourceManager& sources,
                                                 const std::string& qube, U128 address,
                                                 DiagnosticSink& sink) {
    const SourceFile& f = sources.file(file);
    FirewallState out;
    out.file = f.path;
    out.firewallQube = qube;
    out.qvmFirewall = true;
    std::vector<Piece> rest;
    for (const Box& b : clientPackets(address))
        rest.push_back({b, 0});
    const std::vector<Piece> all = rest;
    bool bad = false;
    for (std::uint32_t line = 1; line <= f.lineStarts.size(); ++line) {
        std::string text(f.line(line));
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        if (text.find_first_not_of(" \t") == std::string::npos)
            continue;
        Rule r;
        try {
            r = parse(tokens(text));
        } catch (const BadLine& e) {
            sink.report(DiagCode::BadFirewallState, {file, {line, e.column}, {line, e.column}},
                        "not a qvm-firewall rule: " + e.message)
                .hint("write the list with qvm-firewall " + qube + " --raw (in dom0)");
            bad = true;
            continue;
        }
        Site s;
        auto width = static_cast<std::uint32_t>(std::max<std::size_t>(text.size(), 1));
        s.range = {file, {line, 1}, {line, width}};
        s.where = "qvm-firewall " + qube + ", rule " + std::to_string(out.sites.size() + 1);
        s.text = text;
        out.sites.push_back(std::move(s));
        out.uses.push_back({!rest.empty(), false, false, std::nullopt});
        std::size_t site = out.sites.size() - 1;
        if (!r.ipv6) // an IPv6 rule leaves the IPv4 packets audited alone
            out.shadowCandidates.push_back(site);
        if (r.dsthost) {
            out.unmodelled.push_back({site, "dsthost=" + *r.dsthost +
                                                " is resolved by the net qube when the rules "
                                                "are applied"});
            continue;
        }
        std::vector<Box> m = region(r);
        std::vector<Piece> hit = intersect(rest, m);
        out.uses[site].matched = !hit.empty();
        std::vector<Piece> could = intersect(all, m);
        out.uses[site].couldMatch = !could.empty();
        if (!could.empty())
            out.uses[site].example = could.front().box;
        rest = subtractAll(rest, m);
        for (Piece& p : hit)
            p.site = site;
        auto& into = r.accept ? out.decision.accepted : out.decision.dropped;
        into.insert(into.end(), hit.begin(), hit.end());
    }
    if (bad)
        return std::nullopt;
    Site end;
    auto last = static_cast<std::uint32_t>(std::max<std::size_t>(f.lineStarts.size(), 1));
    end.range = {file, {last, 1}, {last, 1}};
    end.where = "qvm-firewall " + qube + ", end of the list";
    end.text = "no rule matched: Qubes drops the packet";
    end.policy = true;
    out.sites.push_back(std::move(end));
    out.uses.push_back({!rest.empty(), !rest.empty(), true, std::nullopt});
    for (Piece& p : rest)
        p.site = out.sites.size() - 1;
    out.decision.dropped.insert(out.decision.dropped.end(), rest.begin(), rest.end());
    return out;
}

} // namespace bulkhead::cli::fw
