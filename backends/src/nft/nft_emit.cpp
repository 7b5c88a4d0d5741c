#include "bulkhead/backends/nft_emit.h"

#include "../text_safety.h"
#include "bulkhead/backends/boxes.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::backends {
namespace {

using Family = IpPrefix::Family;
constexpr std::size_t kElementsPerStatement = 500; // small batches load in user namespaces too

// The three set shapes a destination class needs, per family.
enum class Shape { Port, Proto, Icmp };

struct SetSpec {
    std::string name;
    Shape shape;
    Family family;
    std::vector<Box> boxes;
};

std::string keyType(Shape s, Family f) {
    std::string addr = f == Family::V4 ? "ipv4_addr" : "ipv6_addr";
    switch (s) {
    case Shape::Port:
        return addr + " . inet_proto . inet_service";
    case Shape::Proto:
        return addr + " . inet_proto";
    case Shape::Icmp:
        return addr + (f == Family::V4 ? " . icmp_type" : " . icmpv6_type");
    }
    return addr;
}

std::string matchExpr(Shape s, Family f) {
    std::string daddr = f == Family::V4 ? "ip daddr" : "ip6 daddr";
    switch (s) {
    case Shape::Port:
        return daddr + " . meta l4proto . th dport";
    case Shape::Proto:
        return daddr + " . meta l4proto";
    case Shape::Icmp:
        return daddr + (f == Family::V4 ? " . icmp type" : " . icmpv6 type");
    }
    return daddr;
}

std::string rangeText(unsigned lo, unsigned hi) {
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

std::string elementText(const Box& b, Shape s, Family f) {
    std::string out = addressText(b.addrLo, b.addrHi, f);
    if (s != Shape::Icmp)
        out += " . " + rangeText(b.protoLo, b.protoHi);
    if (s != Shape::Proto)
        out += " . " + rangeText(b.portLo, b.portHi);
    return out;
}

Box boxOf(const NetElement& e) {
    Box b;
    auto [lo, hi] = rangeOf(e.dst);
    b.addrLo = lo;
    b.addrHi = hi;
    b.protoLo = e.protoLow;
    b.protoHi = e.protoHigh;
    if (e.match != NetElement::Match::Proto) {
        b.portLo = e.low;
        b.portHi = e.high;
    }
    return b;
}

Shape shapeOf(NetElement::Match m) {
    switch (m) {
    case NetElement::Match::Port:
        return Shape::Port;
    case NetElement::Match::Icmp:
        return Shape::Icmp;
    case NetElement::Match::Proto:
        return Shape::Proto;
    }
    return Shape::Proto;
}

// The sets of one verdict in one chain: one per shape and family that has elements.
std::vector<SetSpec> setsOf(const std::string& chain, char verdict,
                            const std::vector<NetElement>& elements) {
    std::vector<SetSpec> out;
    for (Family f : {Family::V4, Family::V6})
        for (Shape s : {Shape::Port, Shape::Proto, Shape::Icmp}) {
            std::vector<Box> boxes;
            for (const NetElement& e : elements)
                if (e.dst.family == f && shapeOf(e.match) == s)
                    boxes.push_back(boxOf(e));
            if (boxes.empty())
                continue;
            char shape = s == Shape::Port ? 'p' : s == Shape::Proto ? 'q' : 'i';
            std::string name = chain + "-" + verdict + shape + (f == Family::V4 ? "4" : "6");
            out.push_back({name, s, f, disjoint(std::move(boxes))});
        }
    return out;
}

class Writer {
public:
    Writer(const model::Policy& p, const NetPlan& plan, const NftEmitOptions& o)
        : p_(p), plan_(plan), options_(o) {}

    NftRuleset emit(const ProviderPlan& pp) {
        NftRuleset r;
        r.qube = p_.qubes[pp.provider].name;
        requireCharset(r.qube, kServiceChars, "qube name");
        sets_.clear();
        chains_.clear();
        srcElements_.clear();
        q2q_.clear();
        mapped_.clear();
        std::vector<const PlannedSource*> sources;
        for (const PlannedSource& s : pp.sources)
            sources.push_back(&s);
        std::sort(sources.begin(), sources.end(),
                  [&](const auto* x, const auto* y) { return idOf(x->node) < idOf(y->node); });
        for (const PlannedSource* s : sources)
            addSource(*s);
        std::sort(sets_.begin(), sets_.end(),
                  [](const SetSpec& x, const SetSpec& y) { return x.name < y.name; });
        for (auto& [family, elements] : srcElements_)
            std::sort(elements.begin(), elements.end());
        r.text = header(r.qube) + body();
        r.loader = loader(r.qube);
        return r;
    }

private:
    // A node's part of chain and set names: its kind and name, so the output does not
    // depend on the order of declarations (names are [a-zA-Z0-9_.-], checked again here).
    std::string idOf(const model::NetNode& n) {
        const std::string& name = p_.qubes[n.qube].name;
        requireCharset(name, kServiceChars, "qube name");
        return (n.disposables ? "d-" : "q-") + name;
    }

    std::string comment(const model::NetNode& n) {
        std::string name = netNodeName(p_, n);
        requireCharset(name, kWordChars, "qube name");
        return name;
    }

    // The chain for one node's rules towards one destination class; created once.
    // mayBreak: the test-only damage may fall here (a chain no other chain's elements mask).
    std::optional<std::string> classChain(const model::NetNode& n, bool internal,
                                          bool mayBreak = false) {
        auto it = plan_.rules.find(n);
        if (it == plan_.rules.end())
            return std::nullopt;
        const NodeRules& rules = it->second;
        const auto& allow = internal ? rules.allowInternal : rules.allowExternal;
        const auto& deny = internal ? rules.denyInternal : rules.denyExternal;
        if (allow.empty())
            return std::nullopt; // nothing to accept: falling through drops
        std::string name = std::string(internal ? "int-" : "ext-") + idOf(n);
        if (chains_.count(name))
            return name;
        std::vector<NetElement> allowed = allow;
        if (options_.breakOneAllowForTesting && mayBreak && !broken_ && !allowed.empty()) {
            allowed.pop_back();
            broken_ = true;
        }
        std::string body =
            "        comment \"" + comment(n) + (internal ? " to qubes" : " to networks") + "\"\n";
        if (!internal) // a network object never stands for a qube's address
            body += "        ip daddr @internal4 return\n        ip6 daddr @internal6 return\n";
        using Named = std::pair<char, const std::vector<NetElement>*>;
        for (auto [verdict, elements] : {Named{'d', &deny}, Named{'a', &allowed}})
            for (SetSpec& s : setsOf(name, verdict, *elements)) {
                body += "        " + matchExpr(s.shape, s.family) + " @" + s.name +
                        (verdict == 'd' ? " return\n" : " accept\n");
                sets_.push_back(std::move(s));
            }
        chains_[name] = body;
        return name;
    }

    void addSource(const PlannedSource& s) {
        std::string name = "src-" + idOf(s.node);
        std::string body = "        comment \"" + comment(s.node) + "\"\n";
        if (auto c = classChain(s.node, true)) {
            body += "        jump " + *c + "\n";
            addQ2q(s);
        }
        if (auto c = classChain(s.node, false, s.transit.empty()))
            body += "        jump " + *c + "\n";
        std::vector<model::NetNode> transit = s.transit;
        std::sort(transit.begin(), transit.end(),
                  [&](const auto& x, const auto& y) { return idOf(x) < idOf(y); });
        for (const model::NetNode& t : transit)
            if (auto c = classChain(t, false))
                body += "        jump " + *c + " # forwarded for " + comment(t) + "\n";
        chains_[name] = body;
        // Disposables of several templates share one range; the plan made sure their rules
        // are the same, so the first one's chain judges all of them.
        for (const IpPrefix& a : s.addresses)
            if (mapped_.insert(a).second)
                srcElements_[a.family].push_back({a, name});
    }

    // Qubes' own forward chain drops new traffic into a client's interface; this lets
    // through the pairs the policy allows (Bulkhead's table still judges each packet).
    void addQ2q(const PlannedSource& s) {
        const NodeRules& rules = plan_.rules.at(s.node);
        for (const IpPrefix& from : s.addresses) {
            if (from.family != Family::V4)
                continue;
            auto [flo, fhi] = rangeOf(from);
            for (const NetElement& e : rules.allowInternal) {
                if (e.dst.family != Family::V4)
                    continue;
                auto [lo, hi] = rangeOf(e.dst);
                Box b;
                b.srcLo = flo;
                b.srcHi = fhi;
                b.addrLo = lo;
                b.addrHi = hi;
                q2q_.push_back(b);
            }
        }
    }

    std::string header(const std::string& qube) {
        std::string h = "#!/usr/sbin/nft -f\n# Generated by Bulkhead " +
                        commentSafe(options_.version) + " for " + qube +
                        ". Do not edit: change the\n# policy and run `bulkhead compile` again.\n";
        h += "# policy: " + commentSafe(p_.name) + "\n";
        for (const SourceDigest& s : options_.sources)
            h += "# source: " + commentSafe(s.path) + " sha256:" + commentSafe(s.sha256) + "\n";
        h += "# One transaction: it replaces table inet bulkhead and the bulkhead-q2q chain and\n"
             "# set in table ip qubes, and nothing else.\n\n";
        return h;
    }

    std::string body() {
        std::string out = "table inet bulkhead\ndelete table inet bulkhead\n"
                          "table inet bulkhead {\n"
                          "    set internal4 { type ipv4_addr; flags interval; }\n"
                          "    set internal6 { type ipv6_addr; flags interval; }\n"
                          "    map src4 { type ipv4_addr : verdict; flags interval; }\n"
                          "    map src6 { type ipv6_addr : verdict; flags interval; }\n";
        for (const SetSpec& s : sets_)
            out += "    set " + s.name + " { type " + keyType(s.shape, s.family) +
                   "; flags interval; }\n";
        for (const auto& [name, chainBody] : chains_)
            out += "    chain " + name + " {\n" + chainBody + "    }\n";
        out += "    chain forward {\n"
               "        type filter hook forward priority filter - 10; policy accept;\n"
               "        ct state established,related accept\n"
               "        # Only what the clients send is judged here; Qubes' own forward chain\n"
               "        # drops new traffic towards them.\n"
               "        iifgroup != 2 accept\n"
               "        ip saddr vmap @src4\n"
               "        ip6 saddr vmap @src6\n"
               "        reject with icmpx admin-prohibited\n"
               "    }\n"
               "}\n";
        out += elements("inet bulkhead", "internal4", internalBoxes(Family::V4),
                        [](const Box& b) { return addressText(b.addrLo, b.addrHi, Family::V4); });
        out += elements("inet bulkhead", "internal6", internalBoxes(Family::V6),
                        [](const Box& b) { return addressText(b.addrLo, b.addrHi, Family::V6); });
        for (Family f : {Family::V4, Family::V6}) {
            std::vector<std::string> items;
            for (const auto& [prefix, chain] : srcElements_[f])
                items.push_back(prefix.str() + " : jump " + chain);
            out += statements("inet bulkhead", f == Family::V4 ? "src4" : "src6", items);
        }
        for (const SetSpec& s : sets_)
            out += elements("inet bulkhead", s.name, s.boxes,
                            [&](const Box& b) { return elementText(b, s.shape, s.family); });
        out += "\ntable ip qubes {\n"
               "    set bulkhead-q2q { type ipv4_addr . ipv4_addr; flags interval; }\n"
               "    chain bulkhead-q2q {\n    }\n}\n"
               "flush set ip qubes bulkhead-q2q\nflush chain ip qubes bulkhead-q2q\n"
               "add rule ip qubes bulkhead-q2q ip saddr . ip daddr @bulkhead-q2q accept\n";
        out += elements("ip qubes", "bulkhead-q2q", disjoint(q2q_), [](const Box& b) {
            return addressText(b.srcLo, b.srcHi, Family::V4) + " . " +
                   addressText(b.addrLo, b.addrHi, Family::V4);
        });
        return out;
    }

    std::vector<Box> internalBoxes(Family f) {
        std::vector<Box> boxes;
        for (const IpPrefix& a : plan_.internal)
            if (a.family == f) {
                auto [lo, hi] = rangeOf(a);
                Box b;
                b.addrLo = lo;
                b.addrHi = hi;
                boxes.push_back(b);
            }
        return disjoint(std::move(boxes));
    }

    template <class Render>
    std::string elements(const std::string& table, const std::string& set,
                         const std::vector<Box>& boxes, Render render) {
        std::vector<std::string> items;
        for (const Box& b : boxes)
            items.push_back(render(b));
        return statements(table, set, items);
    }

    std::string statements(const std::string& table, const std::string& set,
                           const std::vector<std::string>& items) {
        std::string out;
        for (std::size_t i = 0; i < items.size(); i += kElementsPerStatement) {
            out += "add element " + table + " " + set + " {";
            std::size_t end = std::min(items.size(), i + kElementsPerStatement);
            for (std::size_t k = i; k < end; ++k)
                out += (k == i ? " " : ", ") + items[k];
            out += " }\n";
        }
        return out;
    }

    std::string loader(const std::string& qube) {
        return "#!/bin/sh\n# Generated by Bulkhead " + commentSafe(options_.version) + " for " +
               qube +
               ". Do not edit.\n"
               "# Qubes' firewall service runs this at start (" +
               std::string(kNftLoaderInstallPath) +
               "); it loads the ruleset in one\n"
               "# transaction, then makes sure Qubes' custom-forward chain consults "
               "bulkhead-q2q.\nset -eu\nnft -f " +
               std::string(kNftInstallPath) +
               "\n"
               "if ! nft list chain ip qubes custom-forward | grep -q 'jump bulkhead-q2q'; then\n"
               "    nft " +
               std::string(kNftQ2qHook) + "\nfi\n";
    }

    const model::Policy& p_;
    const NetPlan& plan_;
    const NftEmitOptions& options_;
    std::vector<SetSpec> sets_;
    std::map<std::string, std::string> chains_;
    std::map<Family, std::vector<std::pair<IpPrefix, std::string>>> srcElements_;
    std::vector<Box> q2q_;
    std::set<IpPrefix> mapped_;
    bool broken_ = false;
};

} // namespace

std::vector<NftRuleset> emitNftables(const model::Policy& policy, const NetPlan& plan,
                                     const NftEmitOptions& options) {
    std::vector<NftRuleset> out;
    Writer w(policy, plan, options);
    for (const ProviderPlan& pp : plan.providers)
        out.push_back(w.emit(pp));
    return out;
}

} // namespace bulkhead::backends
