#include "bulkhead/backends/net_plan.h"

#include <algorithm>
#include <set>

namespace bulkhead::backends {
namespace {

using model::NetNode;

constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpV6 = 58;

void sortUnique(std::vector<NetElement>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The elements one service match gives towards one destination prefix.
void addMatch(std::vector<NetElement>& out, const IpPrefix& dst, const model::ServiceMatch& m) {
    using P = model::Protocol;
    NetElement e;
    e.dst = dst;
    bool v6 = dst.family == IpPrefix::Family::V6;
    switch (m.protocol) {
    case P::Any:
        e.match = NetElement::Match::Proto;
        e.protoLow = 0;
        e.protoHigh = 255;
        out.push_back(e);
        return;
    case P::Tcp:
    case P::Udp: {
        std::uint8_t proto = m.protocol == P::Tcp ? kTcp : kUdp;
        if (m.ports.empty()) {
            e.match = NetElement::Match::Proto;
            e.protoLow = e.protoHigh = proto;
            out.push_back(e);
            return;
        }
        e.match = NetElement::Match::Port;
        e.protoLow = e.protoHigh = proto;
        for (const model::PortRange& r : m.ports) {
            e.low = r.low;
            e.high = r.high;
            out.push_back(e);
        }
        return;
    }
    case P::Icmp: {
        std::uint8_t proto = v6 ? kIcmpV6 : kIcmp;
        e.protoLow = e.protoHigh = proto;
        if (m.ports.empty()) {
            e.match = NetElement::Match::Proto;
            out.push_back(e);
            return;
        }
        e.match = NetElement::Match::Icmp;
        for (const model::PortRange& r : m.ports) {
            e.low = r.low;
            e.high = r.high;
            out.push_back(e);
        }
        return;
    }
    }
}

// Could some packet match both elements?
bool overlaps(const NetElement& a, const NetElement& b) {
    if (!(a.dst.contains(b.dst) || b.dst.contains(a.dst)))
        return false;
    if (a.protoHigh < b.protoLow || b.protoHigh < a.protoLow)
        return false;
    auto ports = [](const NetElement& e) {
        return e.match == NetElement::Match::Proto ? std::pair<unsigned, unsigned>{0, 65535}
                                                   : std::pair<unsigned, unsigned>{e.low, e.high};
    };
    auto [alo, ahi] = ports(a);
    auto [blo, bhi] = ports(b);
    // ICMP types and ports share the range; they never meet since the protocols differ.
    return alo <= bhi && blo <= ahi;
}

// A deny element that no allow element overlaps removes nothing: leaving it out changes no
// packet's fate and lets senders with the same effective rules compare equal.
void pruneDenies(std::vector<NetElement>& deny, const std::vector<NetElement>& allow) {
    std::erase_if(deny, [&](const NetElement& d) {
        return std::none_of(allow.begin(), allow.end(),
                            [&](const NetElement& a) { return overlaps(a, d); });
    });
}

void addServices(std::vector<NetElement>& out, const IpPrefix& dst,
                 const std::vector<model::ServiceUse>& uses) {
    for (const model::ServiceUse& u : uses)
        for (const model::ServiceMatch& m : u.matches)
            addMatch(out, dst, m);
}

class Planner {
public:
    explicit Planner(const model::Policy& p) : p_(p), addressing_(p) {}

    NetPlan run() {
        plan_.internal = addressing_.internal();
        for (const model::NetFlow& f : p_.flows)
            addFlow(f);
        for (auto& [node, rules] : plan_.rules) {
            sortUnique(rules.allowInternal);
            sortUnique(rules.denyInternal);
            sortUnique(rules.allowExternal);
            sortUnique(rules.denyExternal);
            pruneDenies(rules.denyInternal, rules.allowInternal);
            pruneDenies(rules.denyExternal, rules.allowExternal);
        }
        checkSharedDisposables();
        for (model::QubeId provider : addressing_.providers())
            plan_.providers.push_back(planProvider(provider));
        return std::move(plan_);
    }

private:
    void problem(const SourceRange& at, std::string message, std::string hint) {
        if (reported_.insert({at, message}).second)
            plan_.problems.push_back({at, std::move(message), std::move(hint)});
    }

    // The node's addresses, or a problem when a firewall needs them and the policy is silent.
    // A dispvm-template's own qube may go without: it is started only to be changed, and
    // without an address nothing of it passes a firewall (its disposables are what matter).
    std::vector<IpPrefix> addressesFor(const NetNode& n, const SourceRange& at, const char* role) {
        std::vector<IpPrefix> a = addressing_.addressesOf(n);
        if (!a.empty() ||
            (!n.disposables && p_.qubes[n.qube].kind == model::QubeKind::DispVMTemplate))
            return a;
        problem(at,
                "qube '" + p_.qubes[n.qube].name + "' is a " + role +
                    " here, but the policy gives it no address",
                "add `ip ADDRESS;` to '" + p_.qubes[n.qube].name + "' (in dom0: qvm-prefs " +
                    p_.qubes[n.qube].name + " ip)");
        return {};
    }

    // Disposables of different dispvm-templates share one address range: a firewall can
    // treat them alike only where the policy does.
    void checkSharedDisposables() {
        std::vector<model::QubeId> templates = addressing_.networkedDispvmTemplates();
        if (templates.size() < 2)
            return;
        const NodeRules empty;
        auto rulesOf = [&](model::QubeId t) -> const NodeRules& {
            auto it = plan_.rules.find({t, true});
            return it == plan_.rules.end() ? empty : it->second;
        };
        auto same = [](const NodeRules& a, const NodeRules& b) {
            return a.allowInternal == b.allowInternal && a.denyInternal == b.denyInternal &&
                   a.allowExternal == b.allowExternal && a.denyExternal == b.denyExternal;
        };
        std::string names;
        for (model::QubeId t : templates)
            names += (names.empty() ? "" : ", ") + p_.qubes[t].name;
        for (model::QubeId t : templates)
            if (!same(rulesOf(t), rulesOf(templates[0])))
                problem(p_.qubes[t].range,
                        "disposables of '" + p_.qubes[t].name +
                            "' may send other packets than those of '" +
                            p_.qubes[templates[0]].name +
                            "', but every disposable takes its address from one range (" + names +
                            " all have a netvm)",
                        "firewall rules tell senders apart by address: give disposables of "
                        "templates with a netvm the same flows, or a netvm to only one of them");
        for (const auto& [at, name] : disposableDestinations_)
            problem(at,
                    "disposables of '" + name +
                        "' are a destination here, but every disposable takes its address "
                        "from one range (" +
                        names + " all have a netvm)",
                    "name a qube with an address as the destination instead");
    }

    void addFlow(const model::NetFlow& f) {
        bool allow = f.verdict == model::Verdict::Allow;
        std::set<NetNode> senders;
        for (const model::Endpoint& e : f.from)
            for (const NetNode& n : addressing_.covered(e))
                if (addressing_.netvmOf(n)) {
                    senders.insert(n);
                    // A denied sender needs no address: what is not named is dropped anyway.
                    if (allow)
                        addressesFor(n, e.range, "sender");
                }
        if (senders.empty())
            return;
        std::vector<NetElement> internal, external;
        for (const model::Endpoint& e : f.to) {
            using K = model::Endpoint::Kind;
            if (e.kind == K::Network) {
                for (const IpPrefix& pre : p_.networks[e.network].prefixes)
                    addServices(external, pre, f.services);
            } else if (e.kind == K::Prefix) {
                addServices(external, e.prefix, f.services);
            } else {
                for (const NetNode& d : addressing_.covered(e)) {
                    if (allow && d.disposables && !addressing_.disposablesOwner())
                        disposableDestinations_.push_back({e.range, p_.qubes[d.qube].name});
                    std::vector<IpPrefix> addrs = allow ? addressesFor(d, e.range, "destination")
                                                        : addressing_.addressesOf(d);
                    for (const IpPrefix& a : addrs)
                        addServices(internal, a, f.services);
                }
            }
        }
        for (const NetNode& s : senders) {
            NodeRules& r = plan_.rules[s];
            auto& in = allow ? r.allowInternal : r.denyInternal;
            auto& out = allow ? r.allowExternal : r.denyExternal;
            for (const NetElement& el : internal)
                if (!(el.dst.isHost() && isOwnAddress(s, el.dst)))
                    in.push_back(el);
            out.insert(out.end(), external.begin(), external.end());
        }
    }

    bool isOwnAddress(const NetNode& n, const IpPrefix& a) {
        std::vector<IpPrefix> own = addressing_.addressesOf(n);
        return std::find(own.begin(), own.end(), a) != own.end();
    }

    bool sends(const NetNode& n) const { return plan_.rules.count(n) > 0; }

    bool sendsOut(const NetNode& n) const {
        auto it = plan_.rules.find(n);
        return it != plan_.rules.end() && !it->second.allowExternal.empty();
    }

    // Nodes whose external traffic a forwarding client carries under its own address.
    void collectTransit(model::QubeId forwarder, std::vector<NetNode>& out, int depth) {
        if (depth > 64) // netvm chains are acyclic (the resolver checks); a bound all the same
            return;
        for (const NetNode& c : addressing_.clientsOf(forwarder)) {
            if (sendsOut(c))
                out.push_back(c);
            model::QubeKind k = p_.qubes[c.qube].kind;
            if (!c.disposables && (k == model::QubeKind::NetVM || k == model::QubeKind::Firewall))
                collectTransit(c.qube, out, depth + 1);
        }
    }

    ProviderPlan planProvider(model::QubeId provider) {
        ProviderPlan pp;
        pp.provider = provider;
        for (const NetNode& c : addressing_.clientsOf(provider)) {
            PlannedSource s;
            s.node = c;
            model::QubeKind k = p_.qubes[c.qube].kind;
            if (!c.disposables && (k == model::QubeKind::NetVM || k == model::QubeKind::Firewall))
                collectTransit(c.qube, s.transit, 0);
            std::sort(s.transit.begin(), s.transit.end());
            if (!sends(c) && s.transit.empty())
                continue; // nothing to let through: default deny covers it
            s.addresses = addressing_.addressesOf(c);
            if (s.addresses.empty() && !s.transit.empty())
                addressesFor(c, p_.qubes[c.qube].range, "forwarder of its clients' traffic");
            if (!s.addresses.empty())
                pp.sources.push_back(std::move(s));
        }
        std::sort(pp.sources.begin(), pp.sources.end(),
                  [](const PlannedSource& a, const PlannedSource& b) { return a.node < b.node; });
        return pp;
    }

    const model::Policy& p_;
    model::NetAddressing addressing_;
    NetPlan plan_;
    std::set<std::pair<SourceRange, std::string>> reported_;
    std::vector<std::pair<SourceRange, std::string>> disposableDestinations_;
};

} // namespace

NetPlan planNetwork(const model::Policy& policy) {
    return Planner(policy).run();
}

void reportNetPlanProblems(const model::Policy& policy, DiagnosticSink& sink) {
    for (const PlanProblem& p : planNetwork(policy).problems)
        sink.report(DiagCode::BackendNeedsAddress, p.range, p.message).hint(p.hint);
}

std::string netNodeName(const model::Policy& policy, const model::NetNode& node) {
    return (node.disposables ? "@dispvm:" : "") + policy.qubes[node.qube].name;
}

} // namespace bulkhead::backends
