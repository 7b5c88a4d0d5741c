// The canonical description of a policy: sorted declarations, rules in order, no positions.
#include "bulkhead/compiler/model.h"

#include <algorithm>
#include <sstream>

namespace bulkhead::model {
namespace {

class Describer {
public:
    explicit Describer(const Policy& p) : p_(p) {}

    std::string run() {
        out_ << "policy \"" << p_.name << "\"\n";
        trust();
        qubes();
        networks();
        services();
        for (const RpcServiceDecl& s : sorted(p_.rpcServices))
            out_ << "rpc-service " << s.name << " data " << directionName(s.direction) << "\n";
        for (const NetFlow& f : p_.flows)
            flow(f);
        for (const RpcRule& r : p_.rpcRules)
            rpc(r);
        for (const Assertion& a : p_.assertions)
            assertion(a);
        for (const Requirement& r : p_.requirements)
            requirement(r);
        return out_.str();
    }

private:
    const Policy& p_;
    std::ostringstream out_;

    template <class T> static std::vector<T> sorted(std::vector<T> v) {
        std::sort(v.begin(), v.end(), [](const T& a, const T& b) { return a.name < b.name; });
        return v;
    }

    std::string qube(QubeId id) const { return p_.qubes.at(id).name; }

    void trust() {
        const auto& levels = p_.trust.levels();
        std::vector<LevelId> ids(levels.size());
        for (LevelId i = 0; i < ids.size(); ++i)
            ids[i] = i;
        std::sort(ids.begin(), ids.end(),
                  [&](LevelId a, LevelId b) { return levels[a].name < levels[b].name; });
        for (LevelId a : ids) {
            out_ << "trust " << levels[a].name;
            if (levels[a].label)
                out_ << " = " << labelName(*levels[a].label);
            std::vector<std::string> above;
            for (LevelId b : ids)
                if (p_.trust.less(a, b))
                    above.push_back(levels[b].name);
            out_ << " below {";
            for (std::size_t i = 0; i < above.size(); ++i)
                out_ << (i ? ", " : "") << above[i];
            out_ << "}\n";
        }
    }

    void qubes() {
        std::vector<QubeId> ids;
        for (QubeId i = 0; i < p_.qubes.size(); ++i)
            ids.push_back(i);
        std::sort(ids.begin(), ids.end(),
                  [&](QubeId a, QubeId b) { return p_.qubes[a].name < p_.qubes[b].name; });
        for (QubeId id : ids) {
            const Qube& q = p_.qubes[id];
            out_ << kindKeyword(q.kind) << " " << q.name << " {";
            if (q.trust)
                out_ << " trust " << p_.trust.levels()[*q.trust].name << ";";
            if (q.templ)
                out_ << " template " << qube(*q.templ) << ";";
            out_ << " netvm " << (q.netvm ? qube(*q.netvm) : "none") << ";";
            if (q.defaultDispvm)
                out_ << " default_dispvm " << qube(*q.defaultDispvm) << ";";
            for (const IpPrefix& a : q.addresses)
                out_ << " ip " << a.str() << ";";
            if (!q.tags.empty()) {
                out_ << " tags";
                for (const std::string& t : q.tags)
                    out_ << " " << t;
                out_ << ";";
            }
            out_ << " }\n";
        }
    }

    void networks() {
        for (const NetworkObject& n : sorted(p_.networks)) {
            out_ << "network " << n.name << " =";
            for (const IpPrefix& pfx : n.prefixes)
                out_ << " " << pfx.str();
            out_ << "\n";
        }
    }

    void match(const ServiceMatch& m) {
        out_ << protocolName(m.protocol);
        for (std::size_t i = 0; i < m.ports.size(); ++i) {
            out_ << (i ? "," : "/") << m.ports[i].low;
            if (m.ports[i].high != m.ports[i].low)
                out_ << "-" << m.ports[i].high;
        }
    }

    void services() {
        for (const Service& s : sorted(p_.services)) {
            out_ << "service " << s.name << " =";
            for (const ServiceMatch& m : s.matches) {
                out_ << " ";
                match(m);
            }
            out_ << " data " << directionName(s.direction) << "\n";
        }
    }

    void endpoints(const std::vector<Endpoint>& es) {
        for (std::size_t i = 0; i < es.size(); ++i) {
            out_ << (i ? ", " : "");
            const Endpoint& e = es[i];
            switch (e.kind) {
            case Endpoint::Kind::Qube:
                out_ << qube(e.qube);
                break;
            case Endpoint::Kind::Network:
                out_ << p_.networks[e.network].name;
                break;
            case Endpoint::Kind::Prefix:
                out_ << e.prefix.str();
                break;
            case Endpoint::Kind::Tag:
                out_ << "@tag:" << e.tag;
                break;
            }
        }
    }

    void uses(const std::vector<ServiceUse>& us) {
        for (std::size_t i = 0; i < us.size(); ++i) {
            out_ << (i ? ", " : "");
            if (us[i].service) {
                out_ << p_.services[*us[i].service].name;
                continue;
            }
            for (const ServiceMatch& m : us[i].matches)
                match(m);
        }
    }

    void flow(const NetFlow& f) {
        out_ << (f.verdict == Verdict::Allow ? "allow " : "deny ");
        endpoints(f.from);
        out_ << " -> ";
        endpoints(f.to);
        out_ << " : ";
        uses(f.services);
        out_ << "\n";
    }

    std::string token(const RpcToken& t) const { return tokenText(p_, t); }

    void tokens(const std::vector<RpcToken>& ts) {
        for (std::size_t i = 0; i < ts.size(); ++i)
            out_ << (i ? ", " : "") << token(ts[i]);
    }

    void spec(const RpcServiceSpec& s) { out_ << s.service << s.argument.value_or(""); }

    void rpc(const RpcRule& r) {
        out_ << "rpc ";
        spec(r.spec);
        out_ << " ";
        tokens(r.from);
        out_ << " -> ";
        tokens(r.to);
        out_ << " " << actionName(r.action);
        if (r.target)
            out_ << " target=" << token(*r.target);
        if (r.defaultTarget)
            out_ << " default_target=" << token(*r.defaultTarget);
        if (r.user)
            out_ << " user=" << *r.user;
        if (r.notify)
            out_ << " notify=" << (*r.notify ? "yes" : "no");
        if (r.autostart)
            out_ << " autostart=" << (*r.autostart ? "yes" : "no");
        out_ << "\n";
    }

    void selector(const Selector& s) {
        static constexpr const char* kOps[] = {"", "< ", "<= ", "> ", ">= "};
        switch (s.kind) {
        case Selector::Kind::Qube:
            out_ << qube(s.qube);
            break;
        case Selector::Kind::Network:
            out_ << p_.networks[s.network].name;
            break;
        case Selector::Kind::Trust:
            out_ << "trust " << kOps[static_cast<int>(s.comparator)]
                 << p_.trust.levels()[s.level].name;
            break;
        case Selector::Kind::Tag:
            out_ << "@tag:" << s.value;
            break;
        case Selector::Kind::Type:
            out_ << "@type:" << s.value;
            break;
        case Selector::Kind::AnyVM:
            out_ << "@anyvm";
            break;
        case Selector::Kind::DispVMOf:
            out_ << "@dispvm:" << qube(s.qube);
            break;
        }
    }

    void selectors(const std::vector<Selector>& ss) {
        for (std::size_t i = 0; i < ss.size(); ++i) {
            out_ << (i ? ", " : "");
            selector(ss[i]);
        }
    }

    void assertion(const Assertion& a) {
        out_ << "assert ";
        if (a.kind == Assertion::Kind::NoNetwork) {
            selectors(a.from);
            out_ << " has no network\n";
            return;
        }
        out_ << "no path from ";
        selectors(a.from);
        out_ << " to ";
        selectors(a.to);
        if (!a.via.empty()) {
            out_ << " via ";
            for (std::size_t i = 0; i < a.via.size(); ++i)
                out_ << (i ? ", " : "") << edgeKindName(a.via[i]);
        }
        out_ << "\n";
        for (const Waiver& w : a.waivers) {
            out_ << "  except " << edgeKindName(w.kind);
            if (w.service) {
                out_ << " ";
                spec(*w.service);
            }
            if (!w.rpcFrom.empty() || !w.rpcTo.empty()) {
                out_ << " ";
                tokens(w.rpcFrom);
                out_ << " -> ";
                tokens(w.rpcTo);
            }
            if (w.from) {
                out_ << " ";
                selector(*w.from);
            }
            if (w.to) {
                out_ << " -> ";
                selector(*w.to);
            }
            if (!w.services.empty()) {
                out_ << " : ";
                uses(w.services);
            }
            out_ << " because \"" << w.reason << "\"\n";
        }
    }

    void requirement(const Requirement& r) {
        out_ << "require ";
        if (r.kind == Requirement::Kind::Rpc) {
            out_ << "rpc ";
            if (r.spec)
                spec(*r.spec);
            out_ << " ";
            tokens(r.rpcFrom);
            out_ << " -> ";
            tokens(r.rpcTo);
        } else {
            endpoints(r.from);
            out_ << " -> ";
            endpoints(r.to);
            out_ << " : ";
            uses(r.services);
        }
        out_ << "\n";
    }
};

} // namespace

std::string describe(const Policy& policy) {
    return Describer(policy).run();
}

} // namespace bulkhead::model
