#include "bulkhead/backends/qvm_firewall_emit.h"

#include "text_safety.h"

#include <algorithm>
#include <string_view>

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

// A list line before it becomes text: qvm-firewall takes one action per rule.
struct Line {
    const char* action;
    NetElement e;
};

bool anyProtocol(const NetElement& e) {
    return e.match == NetElement::Match::Proto && e.protoLow == 0 && e.protoHigh == 255;
}

// Every packet b matches, a matches too.
bool covers(const NetElement& a, const NetElement& b) {
    if (a.dst.family != b.dst.family || !a.dst.contains(b.dst))
        return false;
    if (anyProtocol(a))
        return true;
    return a.match == b.match && a.protoLow == b.protoLow && a.protoHigh == b.protoHigh &&
           a.low <= b.low && b.high <= a.high;
}

IpPrefix parentOf(IpPrefix p) {
    --p.length;
    return p.masked();
}

// The fewest prefixes that hold exactly the addresses of `in` (classic CIDR aggregation):
// sorted, those inside another dropped, then two halves of one prefix joined, repeatedly.
std::vector<IpPrefix> aggregate(std::vector<IpPrefix> in) {
    for (IpPrefix& p : in)
        p = p.masked();
    std::sort(in.begin(), in.end());
    std::vector<IpPrefix> out;
    for (const IpPrefix& p : in) {
        if (!out.empty() && out.back().contains(p))
            continue;
        out.push_back(p);
        while (out.size() >= 2) {
            const IpPrefix& a = out[out.size() - 2];
            const IpPrefix& b = out.back();
            if (a.family != b.family || a.length != b.length || a.length == 0 ||
                parentOf(a) != parentOf(b))
                break;
            IpPrefix joined = parentOf(a);
            out.pop_back();
            out.back() = joined;
        }
    }
    return out;
}

// The list as Qubes applies it, shorter: a run of whole-protocol lines with one action (a
// drop of every qube address, one line each, at 10,000 qubes) becomes the fewest prefixes
// holding the same addresses, and a line that an earlier line covers is left out: first
// match, it never applies (the audit would flag it, BH1310).
std::vector<Line> tidy(const std::vector<Line>& lines) {
    std::vector<Line> joined;
    for (std::size_t i = 0; i < lines.size();) {
        std::size_t j = i;
        std::vector<IpPrefix> run;
        for (; j < lines.size() && anyProtocol(lines[j].e) &&
               std::string_view(lines[j].action) == lines[i].action;
             ++j)
            run.push_back(lines[j].e.dst);
        if (j == i) {
            joined.push_back(lines[i++]);
            continue;
        }
        for (const IpPrefix& p : aggregate(std::move(run))) {
            Line l = lines[i];
            l.e.dst = p;
            joined.push_back(l);
        }
        i = j;
    }
    std::vector<Line> out;
    for (const Line& l : joined)
        if (std::none_of(out.begin(), out.end(),
                         [&](const Line& earlier) { return covers(earlier.e, l.e); }))
            out.push_back(l);
    return out;
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
            std::vector<Line> lines;
            for (const NetElement& e : n.denyInternal)
                lines.push_back({"drop", e});
            for (const NetElement& e : n.allowInternal)
                lines.push_back({"accept", e});
            // Network objects never stand for a qube: keep the allows below off them.
            for (const IpPrefix& a : plan.internal)
                if (overlapsAny(a, n.allowExternal)) {
                    NetElement any;
                    any.dst = a;
                    any.protoLow = 0;
                    any.protoHigh = 255;
                    lines.push_back({"drop", any});
                }
            for (const NetElement& e : n.denyExternal)
                lines.push_back({"drop", e});
            for (const NetElement& e : n.allowExternal)
                lines.push_back({"accept", e});
            for (const Line& l : tidy(lines))
                addLines(r.lines, l.action, l.e);
        }
        for (const std::string& line : r.lines)
            requireCharset(line, kQvmFirewallChars, "qvm-firewall rule");
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace bulkhead::backends
