// Differential test of the analyzer's query API against a deliberately simple, independent
// model written here from research/qubes-formats.md §1.4-1.8 and docs/semantics.md (not from
// analyzer/src). A seeded generator writes random policies in the Bulkhead language; for each
// one, every request's first-match decision (Analysis::decide) and every ordered pair's
// reachability (Analysis::reaches) must agree with the oracle below.
//
// The oracle works on the generator's own description of the policy (not on model::Policy),
// evaluates Qubes' rules the way qrexec's parser.py does (string tokens, first match,
// collect_targets_for_ask in reverse order), and builds its own edge set for the graph search.
// One fact comes from qubes-core-admin rather than the formats note: a disposable's
// default_dispvm is its dispvm-template's explicit one, else the dispvm-template itself
// (qubes/vm/dispvm.py).
//
// On a disagreement the test shrinks the policy to a small one that still disagrees and prints
// it with the request (or pair), the analyzer's answer and the expected one, once per kind of
// disagreement. A kind is named by the simplification of Qubes (Variant, [L] [D] [S]) that
// would reproduce the analyzer's answer, or UNEXPLAINED. The disagreements found so far are
// also pinned as hand-written cases at the end of the file.
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace bulkhead;

namespace {

// ---------------------------------------------------------------------------------------
// Deterministic randomness: mt19937's output is fixed by the standard; the distributions of
// <random> are not, so everything below draws through below() and chance().
class Rng {
public:
    explicit Rng(std::uint32_t seed) : gen_(seed) {}
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(gen_()) % n; }
    bool chance(std::uint32_t percent) { return gen_() % 100U < percent; }
    template <class T> const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

private:
    std::mt19937 gen_;
};

// ---------------------------------------------------------------------------------------
// The generator's description of a policy.
enum class Kind { Template, Qube, DispvmTemplate, Firewall, Netvm };

const char* keyword(Kind k) {
    switch (k) {
    case Kind::Template:
        return "template";
    case Kind::Qube:
        return "qube";
    case Kind::DispvmTemplate:
        return "dispvm-template";
    case Kind::Firewall:
        return "firewall";
    case Kind::Netvm:
        return "netvm";
    }
    return "?";
}

struct GenQube {
    std::string name;
    Kind kind = Kind::Qube;
    std::string trust;
    std::vector<std::string> tags;
    std::optional<std::string> netvm;
    std::optional<std::string> defaultDispvm;
};

struct GenRule {
    std::string service;                 // "*" or a name
    std::optional<std::string> argument; // "+a", "+b"; empty: any argument
    std::vector<std::string> sources;
    std::vector<std::string> targets;
    std::string action; // allow, deny, ask
    std::optional<std::string> redirect;
    std::optional<std::string> defaultTarget;
    std::optional<std::string> notify;
};

struct GenPolicy {
    std::vector<std::string> levels;
    std::vector<GenQube> qubes; // qubes[0] is the template
    std::vector<GenRule> rules;
};

const std::vector<std::string> kServices = {"test.One", "test.Two", "test.Three"};
const std::vector<std::string> kTagPool = {"alpha", "beta", "gamma"};
const std::vector<std::string> kTypePool = {"AppVM", "TemplateVM", "AdminVM", "DispVM"};
const std::vector<std::string> kLabels = {"red", "yellow", "blue"};

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? sep : "") + v[i];
    return out;
}

std::string render(const GenPolicy& p) {
    std::ostringstream s;
    s << "policy \"differential\";\n";
    s << "trust ";
    for (std::size_t i = 0; i < p.levels.size(); ++i)
        s << (i ? " < " : "") << p.levels[i] << " = " << kLabels[i];
    s << ";\n";
    const std::string& tpl = p.qubes.front().name;
    for (const GenQube& q : p.qubes) {
        s << keyword(q.kind) << " " << q.name << " {";
        if (q.kind != Kind::Template)
            s << " template " << tpl << ";";
        s << " trust " << q.trust << ";";
        if (q.netvm)
            s << " netvm " << *q.netvm << ";";
        if (!q.tags.empty())
            s << " tags " << join(q.tags) << ";";
        if (q.defaultDispvm)
            s << " default_dispvm " << *q.defaultDispvm << ";";
        s << " }\n";
    }
    for (const GenRule& r : p.rules) {
        s << "rpc " << r.service << (r.argument ? *r.argument : "") << " " << join(r.sources)
          << " -> " << join(r.targets) << " " << r.action;
        if (r.redirect)
            s << " target=" << *r.redirect;
        if (r.defaultTarget)
            s << " default_target=" << *r.defaultTarget;
        if (r.notify)
            s << " notify=" << *r.notify;
        s << ";\n";
    }
    return s.str();
}

std::vector<std::string> dispvmTemplatesOf(const GenPolicy& p) {
    std::vector<std::string> out;
    for (const GenQube& q : p.qubes)
        if (q.kind == Kind::DispvmTemplate)
            out.push_back(q.name);
    return out;
}

GenPolicy generate(std::uint32_t seed) {
    Rng rng(seed);
    GenPolicy p;
    const std::vector<std::string> levelNames = {"low", "mid", "high"};
    std::size_t nLevels = 2 + rng.below(2);
    p.levels.assign(levelNames.begin(), levelNames.begin() + static_cast<std::ptrdiff_t>(nLevels));

    auto randomTags = [&] {
        std::vector<std::string> tags;
        for (const std::string& t : kTagPool)
            if (rng.chance(30))
                tags.push_back(t);
        return tags;
    };

    GenQube tpl;
    tpl.name = "tpl";
    tpl.kind = Kind::Template;
    tpl.trust = p.levels.back();
    if (rng.chance(30))
        tpl.tags = randomTags();
    p.qubes.push_back(tpl);

    std::size_t nQubes = 4 + rng.below(5);
    for (std::size_t i = 1; i <= nQubes; ++i) {
        GenQube q;
        std::size_t roll = rng.below(100);
        q.kind = roll < 40   ? Kind::Qube
                 : roll < 65 ? Kind::DispvmTemplate
                 : roll < 80 ? Kind::Firewall
                             : Kind::Netvm;
        const char* prefix = q.kind == Kind::Qube             ? "app"
                             : q.kind == Kind::DispvmTemplate ? "dvm"
                             : q.kind == Kind::Firewall       ? "fw"
                                                              : "net";
        q.name = prefix + std::to_string(i);
        q.trust = rng.pick(p.levels);
        q.tags = randomTags();
        p.qubes.push_back(q);
    }

    // netvm: a netvm-kind qube has none, a firewall may use a netvm-kind qube, the others any
    // network provider; so no chain loops.
    std::vector<std::string> netvms, providers;
    for (const GenQube& q : p.qubes) {
        if (q.kind == Kind::Netvm)
            netvms.push_back(q.name);
        if (q.kind == Kind::Netvm || q.kind == Kind::Firewall)
            providers.push_back(q.name);
    }
    std::vector<std::string> dvms = dispvmTemplatesOf(p);
    for (GenQube& q : p.qubes) {
        if (q.kind == Kind::Netvm)
            continue;
        const std::vector<std::string>& choice = q.kind == Kind::Firewall ? netvms : providers;
        if (!choice.empty() && rng.chance(q.kind == Kind::Template ? 20 : 55))
            q.netvm = rng.pick(choice);
    }
    for (GenQube& q : p.qubes)
        if (!dvms.empty() && rng.chance(40))
            q.defaultDispvm = rng.pick(dvms);

    // Token pools, per column (docs/language.md section 11).
    std::vector<std::string> names;
    for (const GenQube& q : p.qubes)
        names.push_back(q.name);
    std::vector<std::string> srcSpecial = {"@anyvm", "*", "dom0", "@adminvm"};
    std::vector<std::string> dstSpecial = {"@anyvm", "*", "@adminvm", "@dispvm"};
    std::vector<std::string> redirectPool = names;
    redirectPool.push_back("@adminvm");
    redirectPool.push_back("@adminvm");
    redirectPool.push_back("@dispvm");
    for (const std::string& t : kTagPool) {
        srcSpecial.push_back("@tag:" + t);
        dstSpecial.push_back("@tag:" + t);
    }
    for (const std::string& t : kTypePool) {
        srcSpecial.push_back("@type:" + t);
        dstSpecial.push_back("@type:" + t);
    }
    for (const std::string& d : dvms) {
        dstSpecial.push_back("@dispvm:" + d);
        redirectPool.push_back("@dispvm:" + d);
    }
    if (!dvms.empty())
        dstSpecial.push_back("@dispvm:@tag:" + rng.pick(kTagPool));

    std::size_t nRules = 5 + rng.below(21);
    for (std::size_t i = 0; i < nRules; ++i) {
        GenRule r;
        r.service = rng.chance(15) ? "*" : rng.pick(kServices);
        if (r.service != "*") {
            std::size_t a = rng.below(3);
            if (a == 1)
                r.argument = "+a";
            else if (a == 2)
                r.argument = "+b";
        }
        std::size_t act = rng.below(3);
        r.action = act == 0 ? "allow" : act == 1 ? "deny" : "ask";
        if (r.action != "deny" && rng.chance(30))
            r.redirect = rng.pick(redirectPool);
        if (r.action == "ask" && rng.chance(15))
            r.defaultTarget = rng.pick(redirectPool);
        if (rng.chance(8))
            r.notify = rng.chance(50) ? "yes" : "no";

        std::size_t nSrc = rng.chance(80) ? 1 : 2;
        for (std::size_t k = 0; k < nSrc; ++k) {
            if (!dvms.empty() && rng.chance(4)) // parses, never matches
                r.sources.push_back(rng.chance(75) ? "@dispvm:" + rng.pick(dvms)
                                                   : "@dispvm:@tag:" + rng.pick(kTagPool));
            else
                r.sources.push_back(rng.chance(45) ? rng.pick(names) : rng.pick(srcSpecial));
        }
        bool defaultOk = r.action == "ask" || (r.action == "allow" && r.redirect);
        std::size_t nDst = rng.chance(80) ? 1 : 2;
        for (std::size_t k = 0; k < nDst; ++k) {
            if (defaultOk && rng.chance(12))
                r.targets.push_back("@default");
            else
                r.targets.push_back(rng.chance(40) ? rng.pick(names) : rng.pick(dstSpecial));
        }
        p.rules.push_back(r);
    }
    return p;
}

// ---------------------------------------------------------------------------------------
// The oracle: Qubes' evaluation (qubes-formats.md §1.4-1.8) over the system the policy
// declares plus dom0.
struct Domain {
    std::string type;
    std::set<std::string> tags;
    bool templateForDispvms = false;
    std::optional<std::string> defaultDispvm;
};

// Who calls: a declared qube, or a disposable of X (node "@dispvm:X"), which calls under a
// name of its own (disp1234) that no policy line names.
struct Caller {
    std::string node;
    std::string name;
    Domain info;
};

struct Rule {
    std::string service;
    std::optional<std::string> argument;
    std::string source, target, action;
    std::optional<std::string> redirect;
};

struct Decision {
    std::string result; // allow, ask, deny
    std::vector<std::string> targets;
    bool operator==(const Decision&) const = default;
};

std::string show(const Decision& d) {
    return d.result + " [" + join(d.targets) + "]";
}

bool isDom0(const std::string& s) {
    return s == "dom0" || s == "@adminvm";
}

// Deliberate departures from Qubes, used only to *explain* a disagreement in the report
// (which simplification of Qubes' behaviour would make the analyzer's answer right). The
// test always asserts the Qubes behaviour, Variant{}.
struct Variant {
    bool askLoopbackKept = false; // an ask redirected to the caller keeps the caller as a landing
    bool noDispvmDefault = false; // a disposable has no default_dispvm unless its template sets one
    bool dom0Merged = false;      // "dom0" and "@adminvm" are one string in collect_targets_for_ask
};

std::string describe(const Variant& v) {
    std::vector<std::string> parts;
    if (v.askLoopbackKept)
        parts.push_back("[L] an ask redirected to the caller itself keeps the caller as a landing "
                        "(Qubes refuses the loopback, so nothing lands)");
    if (v.noDispvmDefault)
        parts.push_back("[D] a disposable of X has no default_dispvm unless X sets one (Qubes: "
                        "DispVM.default_dispvm defaults to X)");
    if (v.dom0Merged)
        parts.push_back("[S] dom0 and @adminvm are merged while collect_targets_for_ask walks "
                        "the rules (Qubes: `*`/@type:AdminVM add \"dom0\", @adminvm adds "
                        "\"@adminvm\", merged only after the walk)");
    return join(parts, " + ");
}

// Every combination of the departures, fewest first.
std::vector<Variant> explanations() {
    std::vector<Variant> out;
    for (int size = 1; size <= 3; ++size)
        for (int bits = 1; bits < 8; ++bits) {
            int n = (bits & 1) + ((bits >> 1) & 1) + ((bits >> 2) & 1);
            if (n == size)
                out.push_back(Variant{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0});
        }
    return out;
}

class Oracle {
public:
    explicit Oracle(const GenPolicy& p, Variant v = {}) : variant_(v) {
        domains_["dom0"] = Domain{"AdminVM", {}, false, std::nullopt};
        for (const GenQube& q : p.qubes) {
            Domain d;
            d.type = q.kind == Kind::Template ? "TemplateVM" : "AppVM";
            d.tags.insert(q.tags.begin(), q.tags.end());
            d.templateForDispvms = q.kind == Kind::DispvmTemplate;
            d.defaultDispvm = q.defaultDispvm;
            domains_[q.name] = d;
            qubeNames_.push_back(q.name);
            if (d.templateForDispvms)
                dvms_.push_back(q.name);
        }
        // One line per source and target (docs/language.md section 11), in file order.
        for (const GenRule& g : p.rules)
            for (const std::string& s : g.sources)
                for (const std::string& t : g.targets)
                    rules_.push_back(Rule{g.service, g.argument, s, t, g.action, g.redirect});
    }

    const std::vector<std::string>& qubeNames() const { return qubeNames_; }
    const std::vector<std::string>& dispvmTemplates() const { return dvms_; }

    std::vector<Caller> callers() const {
        std::vector<Caller> out;
        for (const std::string& n : qubeNames_)
            out.push_back(Caller{n, n, domains_.at(n)});
        std::size_t dispid = 1000;
        for (const std::string& x : dvms_) {
            // qubes/vm/dispvm.py: a disposable is class DispVM, gets its template's tags, and
            // clones its template's explicitly set properties; default_dispvm otherwise
            // defaults to the disposable's own template.
            const Domain& tpl = domains_.at(x);
            Domain d;
            d.type = "DispVM";
            d.tags = tpl.tags;
            d.defaultDispvm = tpl.defaultDispvm ? tpl.defaultDispvm : std::optional<std::string>(x);
            if (variant_.noDispvmDefault)
                d.defaultDispvm = tpl.defaultDispvm;
            out.push_back(Caller{"@dispvm:" + x, "disp" + std::to_string(dispid++), d});
        }
        return out;
    }

    // Every target a caller may name (qubes-formats.md §1.5 IntendedTarget).
    std::vector<std::string> requestTargets() const {
        std::vector<std::string> out = qubeNames_;
        out.push_back("dom0");
        out.push_back("@adminvm");
        out.push_back("@default");
        out.push_back("@dispvm");
        for (const std::string& x : dvms_)
            out.push_back("@dispvm:" + x);
        return out;
    }

    Decision decide(const std::string& service, const std::string& argument, const Caller& c,
                    const std::string& target) const {
        for (const Rule& r : rules_) {
            if (!matchButTarget(r, service, argument, c) || !matchTarget(r.target, target, c))
                continue;
            if (r.action == "deny")
                return deny();
            if (r.action == "allow") {
                std::optional<std::string> t = resolve(r.redirect ? *r.redirect : target, c);
                if (!t || *t == c.name) // no target, no DispVM base, or loopback
                    return deny();
                return Decision{"allow", {*t}};
            }
            // ask
            std::set<std::string> list;
            if (r.redirect) {
                std::optional<std::string> t = resolve(*r.redirect, c);
                if (t && (*t != c.name || variant_.askLoopbackKept)) // a loopback never lands
                    list.insert(*t);
            } else {
                list = targetsForAsk(service, argument, c);
            }
            if (list.empty())
                return deny();
            return Decision{"ask", std::vector<std::string>(list.begin(), list.end())};
        }
        return deny(); // no matching rule
    }

private:
    static Decision deny() { return Decision{"deny", {}}; }

    static bool matchButTarget(const Rule& r, const std::string& service,
                               const std::string& argument, const Caller& c) {
        if (r.service != "*" && r.service != service)
            return false;
        if (r.argument && *r.argument != argument) // "" (an unnamed argument) never equals
            return false;
        return matchSource(r.source, c);
    }

    static bool matchSource(const std::string& tok, const Caller& c) {
        if (tok == "*" || tok == "@anyvm")
            return true; // a caller is never dom0
        if (isDom0(tok))
            return false;
        if (tok.starts_with("@tag:"))
            return c.info.tags.count(tok.substr(5)) > 0;
        if (tok.starts_with("@type:"))
            return c.info.type == tok.substr(6);
        if (tok.starts_with("@dispvm:"))
            return false; // the request source is a plain name
        return tok == c.name;
    }

    bool matchTarget(const std::string& tok, const std::string& req, const Caller& c) const {
        if (tok == "*")
            return true;
        if (tok == "@anyvm")
            return !isDom0(req);
        if (isDom0(tok))
            return isDom0(req);
        if (tok.starts_with("@tag:")) {
            auto it = domains_.find(req); // "@adminvm" and "@dispvm..." are not keys
            return it != domains_.end() && it->second.tags.count(tok.substr(5)) > 0;
        }
        if (tok.starts_with("@type:")) {
            auto it = domains_.find(req);
            return it != domains_.end() && it->second.type == tok.substr(6);
        }
        if (tok == "@default" || tok == "@dispvm")
            return req == tok;
        // @dispvm:X and @dispvm:@tag:T also match a call to @dispvm through the caller's
        // default_dispvm.
        std::string asked = req;
        if (req == "@dispvm")
            asked = c.info.defaultDispvm ? "@dispvm:" + *c.info.defaultDispvm : "";
        if (tok.starts_with("@dispvm:@tag:")) {
            if (!asked.starts_with("@dispvm:"))
                return false;
            auto it = domains_.find(asked.substr(8));
            return it != domains_.end() && it->second.templateForDispvms &&
                   it->second.tags.count(tok.substr(13)) > 0;
        }
        if (tok.starts_with("@dispvm:"))
            return req == tok || asked == tok;
        return req == tok;
    }

    // Where a call to t lands: @dispvm is the caller's default_dispvm, @adminvm is dom0,
    // @default is nowhere.
    static std::optional<std::string> resolve(const std::string& t, const Caller& c) {
        if (t == "@default")
            return std::nullopt;
        if (t == "@dispvm") {
            if (!c.info.defaultDispvm)
                return std::nullopt;
            return "@dispvm:" + *c.info.defaultDispvm;
        }
        if (t == "@adminvm")
            return "dom0";
        return t;
    }

    // Token.expand() over the system info, as strings.
    std::set<std::string> expand(const std::string& tok) const {
        std::set<std::string> out = expandStrings(tok);
        if (variant_.dom0Merged && out.erase("dom0"))
            out.insert("@adminvm");
        return out;
    }

    std::set<std::string> expandStrings(const std::string& tok) const {
        std::set<std::string> out;
        if (tok == "*" || tok == "@anyvm") {
            for (const auto& [name, d] : domains_) {
                if (tok == "*" || d.type != "AdminVM")
                    out.insert(name);
                if (d.templateForDispvms)
                    out.insert("@dispvm:" + name);
            }
            out.insert("@dispvm");
        } else if (tok == "@adminvm" || tok == "@dispvm") {
            out.insert(tok);
        } else if (tok == "@default") {
        } else if (tok.starts_with("@tag:")) {
            for (const auto& [name, d] : domains_)
                if (d.tags.count(tok.substr(5)))
                    out.insert(name);
        } else if (tok.starts_with("@type:")) {
            for (const auto& [name, d] : domains_)
                if (d.type == tok.substr(6))
                    out.insert(name);
        } else if (tok.starts_with("@dispvm:@tag:")) {
            for (const auto& [name, d] : domains_)
                if (d.templateForDispvms && d.tags.count(tok.substr(13)))
                    out.insert("@dispvm:" + name);
        } else if (tok.starts_with("@dispvm:")) {
            auto it = domains_.find(tok.substr(8));
            if (it != domains_.end() && it->second.templateForDispvms)
                out.insert(tok);
        } else if (domains_.count(tok)) {
            out.insert(tok);
        }
        return out;
    }

    // collect_targets_for_ask: every rule matching service, argument and source, walked in
    // reverse; deny removes its target's expansion, allow and ask add theirs (the redirect
    // when they have one). Then @dispvm, @adminvm are resolved and the caller removed.
    std::set<std::string> targetsForAsk(const std::string& service, const std::string& argument,
                                        const Caller& c) const {
        std::set<std::string> targets;
        for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
            if (!matchButTarget(*it, service, argument, c))
                continue;
            std::set<std::string> e =
                expand(it->action != "deny" && it->redirect ? *it->redirect : it->target);
            if (it->action == "deny")
                for (const std::string& s : e)
                    targets.erase(s);
            else
                targets.insert(e.begin(), e.end());
        }
        if (targets.erase("@dispvm") && c.info.defaultDispvm)
            targets.insert("@dispvm:" + *c.info.defaultDispvm);
        if (targets.erase("@adminvm"))
            targets.insert("dom0");
        targets.erase(c.name);
        return targets;
    }

    Variant variant_;
    std::map<std::string, Domain> domains_;
    std::vector<std::string> qubeNames_;
    std::vector<std::string> dvms_;
    std::vector<Rule> rules_;
};

const std::vector<std::string> kRequestServices = {"test.One", "test.Two", "test.Three", "other"};
const std::vector<std::string> kRequestArguments = {"", "+a", "+b"};

// The influence graph of docs/semantics.md, built from the oracle's decisions; nodes are the
// qubes, dom0 and @dispvm:X.
class OracleGraph {
public:
    OracleGraph(const GenPolicy& p, const Oracle& o) {
        nodes_.insert("dom0");
        for (const GenQube& q : p.qubes)
            nodes_.insert(q.name);
        for (const std::string& x : o.dispvmTemplates())
            nodes_.insert("@dispvm:" + x);
        const std::string& tpl = p.qubes.front().name;
        for (const GenQube& q : p.qubes) {
            if (q.kind != Kind::Template)
                add(tpl, q.name); // template
            if (q.kind == Kind::DispvmTemplate) {
                add(q.name, "@dispvm:" + q.name); // dispvm-template
                add(tpl, "@dispvm:" + q.name);    // the disposables run on X's template
            }
            if (q.netvm) {
                add(*q.netvm, q.name);
                add(q.name, *q.netvm);
                if (q.kind == Kind::DispvmTemplate) { // disposables take X's netvm
                    add(*q.netvm, "@dispvm:" + q.name);
                    add("@dispvm:" + q.name, *q.netvm);
                }
            }
        }
        for (const std::string& n : nodes_)
            add("dom0", n); // dom0 controls everything
        // rpc: every request, data both ways (the test services are not built in).
        for (const Caller& c : o.callers())
            for (const std::string& s : kRequestServices)
                for (const std::string& a : kRequestArguments)
                    for (const std::string& t : o.requestTargets()) {
                        Decision d = o.decide(s, a, c, t);
                        if (d.result == "deny")
                            continue;
                        for (const std::string& land : d.targets) {
                            add(c.node, land);
                            add(land, c.node);
                        }
                    }
    }

    const std::set<std::string>& nodes() const { return nodes_; }

    bool reaches(const std::string& from, const std::string& to) const {
        std::set<std::string> seen{from};
        std::deque<std::string> queue{from};
        while (!queue.empty()) {
            std::string n = queue.front();
            queue.pop_front();
            auto it = adj_.find(n);
            if (it == adj_.end())
                continue;
            for (const std::string& m : it->second) {
                if (m == to)
                    return true;
                if (seen.insert(m).second)
                    queue.push_back(m);
            }
        }
        return false;
    }

    std::vector<std::string> edgeList() const {
        std::vector<std::string> out;
        for (const auto& [from, tos] : adj_)
            for (const std::string& to : tos)
                out.push_back(from + " => " + to);
        return out;
    }

private:
    void add(const std::string& a, const std::string& b) {
        if (a != b)
            adj_[a].insert(b);
    }
    std::set<std::string> nodes_;
    std::map<std::string, std::set<std::string>> adj_;
};

// ---------------------------------------------------------------------------------------
// Running the real thing.
// The front end and Analysis::build, without a baseline (test::checkText would also run
// analyze(), building the graph a second time). Empty when the front end reports an error.
struct Built {
    std::unique_ptr<model::Policy> policy; // the analysis may point into it
    std::unique_ptr<analyzer::Analysis> analysis;
};

std::optional<Built> buildAnalysis(const std::string& text) {
    static const test::TempDir dir;
    std::vector<std::string> roots{dir.write("policy.bh", text).string()};
    SourceManager sources;
    DiagnosticSink sink;
    FrontendResult r = runFrontend(roots, sources, sink);
    if (sink.errorCount() != 0 || !r.policy)
        return std::nullopt;
    Built b;
    b.policy = std::make_unique<model::Policy>(std::move(*r.policy));
    b.analysis = analyzer::Analysis::build(*b.policy, {});
    return b;
}

Decision analyzerDecision(const analyzer::Analysis& a, const std::string& service,
                          const std::string& argument, const std::string& caller,
                          const std::string& target) {
    analyzer::RpcDecision d = a.decide(service, argument, caller, target);
    std::vector<std::string> t = d.targets;
    std::sort(t.begin(), t.end());
    return Decision{d.result, t};
}

struct Request {
    std::string service, argument, caller, target;
};

std::string show(const Request& r) {
    return "rpc " + r.service + (r.argument.empty() ? "" : r.argument) + " from " + r.caller +
           " to " + r.target + (r.argument.empty() ? "  (argument: one no rule names)" : "");
}

const Caller* findCaller(const std::vector<Caller>& cs, const std::string& node) {
    for (const Caller& c : cs)
        if (c.node == node)
            return &c;
    return nullptr;
}

// Does the analyzer still disagree with the oracle on this request for policy p?
bool decideDisagrees(const GenPolicy& p, const Request& r) {
    std::optional<Built> b = buildAnalysis(render(p));
    if (!b)
        return false;
    Oracle o(p);
    std::vector<Caller> cs = o.callers();
    const Caller* c = findCaller(cs, r.caller);
    if (!c)
        return false;
    return analyzerDecision(*b->analysis, r.service, r.argument, r.caller, r.target) !=
           o.decide(r.service, r.argument, *c, r.target);
}

bool reachDisagrees(const GenPolicy& p, const std::string& from, const std::string& to) {
    std::optional<Built> b = buildAnalysis(render(p));
    if (!b)
        return false;
    Oracle o(p);
    OracleGraph g(p, o);
    if (!g.nodes().count(from) || !g.nodes().count(to))
        return false;
    return b->analysis->reaches(from, to) != g.reaches(from, to);
}

// Greedy shrinking: drop rules, list elements, parameters, qube properties and qubes (but
// not the template or the qubes in keep) while the disagreement persists. Only runs on a
// failure; a candidate the front end rejects does not count as still failing.
GenPolicy shrink(GenPolicy p, const std::set<std::string>& keep,
                 const std::function<bool(const GenPolicy&)>& stillFails) {
    bool progress = true;
    while (progress) {
        progress = false;
        auto attempt = [&](GenPolicy q) {
            if (!stillFails(q))
                return false;
            p = std::move(q);
            progress = true;
            return true;
        };
        for (std::size_t i = 0; i < p.rules.size();) {
            GenPolicy q = p;
            q.rules.erase(q.rules.begin() + static_cast<std::ptrdiff_t>(i));
            if (!attempt(std::move(q)))
                ++i;
        }
        for (std::size_t i = 0; i < p.rules.size(); ++i) {
            for (auto list : {&GenRule::sources, &GenRule::targets})
                for (std::size_t k = 0;
                     (p.rules[i].*list).size() > 1 && k < (p.rules[i].*list).size();) {
                    GenPolicy q = p;
                    (q.rules[i].*list)
                        .erase((q.rules[i].*list).begin() + static_cast<std::ptrdiff_t>(k));
                    if (!attempt(std::move(q)))
                        ++k;
                }
            for (auto param : {&GenRule::defaultTarget, &GenRule::notify}) {
                if (!(p.rules[i].*param))
                    continue;
                GenPolicy q = p;
                (q.rules[i].*param).reset();
                attempt(std::move(q));
            }
        }
        for (std::size_t i = 0; i < p.qubes.size(); ++i) {
            if (!p.qubes[i].tags.empty()) {
                for (std::size_t k = 0; k < p.qubes[i].tags.size();) {
                    GenPolicy q = p;
                    q.qubes[i].tags.erase(q.qubes[i].tags.begin() + static_cast<std::ptrdiff_t>(k));
                    if (!attempt(std::move(q)))
                        ++k;
                }
            }
            for (auto prop : {&GenQube::netvm, &GenQube::defaultDispvm}) {
                if (!(p.qubes[i].*prop))
                    continue;
                GenPolicy q = p;
                (q.qubes[i].*prop).reset();
                attempt(std::move(q));
            }
        }
        for (std::size_t i = 1; i < p.qubes.size();) {
            if (keep.count(p.qubes[i].name)) {
                ++i;
                continue;
            }
            GenPolicy q = p;
            q.qubes.erase(q.qubes.begin() + static_cast<std::ptrdiff_t>(i));
            if (!attempt(std::move(q)))
                ++i;
        }
    }
    return p;
}

constexpr std::size_t kPolicies = 300;
constexpr std::uint32_t kSeedBase = 0xB01CEADU;
constexpr std::size_t kMaxAttemptsPerPolicy = 20;
constexpr std::size_t kMaxReports = 8; // disagreement kinds shrunk and printed, per run

// What a disagreement is about, to print one shrunk repro per kind rather than hundreds of
// copies of the first one.
std::string targetClass(const std::string& t) {
    if (t.starts_with("@dispvm:"))
        return "@dispvm:X";
    if (t.starts_with("@"))
        return t;
    return t == "dom0" ? "dom0" : "qube";
}

std::string decideKind(const Request& r, const Decision& got, const Decision& want) {
    std::string k = std::string(r.caller.starts_with("@dispvm:") ? "disposable" : "qube") + " -> " +
                    targetClass(r.target) + ": analyzer " + got.result + ", expected " +
                    want.result;
    if (got.result == want.result) {
        std::vector<std::string> extra, missing;
        std::set_difference(got.targets.begin(), got.targets.end(), want.targets.begin(),
                            want.targets.end(), std::back_inserter(extra));
        std::set_difference(want.targets.begin(), want.targets.end(), got.targets.begin(),
                            got.targets.end(), std::back_inserter(missing));
        for (std::string& e : extra)
            e = targetClass(e);
        for (std::string& m : missing)
            m = targetClass(m);
        k += " (extra [" + join(extra) + "], missing [" + join(missing) + "])";
    }
    return k;
}

// The qube a caller, target or node names ("@dispvm:X" names X).
std::string qubeOf(const std::string& s) {
    return s.starts_with("@dispvm:") ? s.substr(8) : s;
}

// Which of Variant's departures from Qubes reproduce the analyzer's answer; "" for none.
class Explainer {
public:
    explicit Explainer(const GenPolicy& p) : policy_(p) {}

    std::string decision(const Request& r, const Decision& got) {
        init();
        for (Entry& e : entries_) {
            std::vector<Caller> cs = e.oracle.callers();
            const Caller* c = findCaller(cs, r.caller);
            if (c && e.oracle.decide(r.service, r.argument, *c, r.target) == got)
                return describe(e.variant);
        }
        return "";
    }

    std::string reach(const std::string& from, const std::string& to, bool got) {
        init();
        for (Entry& e : entries_) {
            if (!e.graph)
                e.graph = std::make_unique<OracleGraph>(policy_, e.oracle);
            if (e.graph->reaches(from, to) == got)
                return describe(e.variant);
        }
        return "";
    }

private:
    struct Entry {
        Variant variant;
        Oracle oracle;
        std::unique_ptr<OracleGraph> graph;
    };
    void init() {
        if (entries_.empty())
            for (Variant v : explanations())
                entries_.push_back(Entry{v, Oracle(policy_, v), nullptr});
    }
    const GenPolicy& policy_;
    std::vector<Entry> entries_;
};

struct Totals {
    std::size_t policies = 0, requests = 0, pairs = 0, nodeSets = 0;
    std::size_t allow = 0, ask = 0, deny = 0;
    std::size_t decideMismatches = 0, reachMismatches = 0, nodeMismatches = 0;
    std::size_t unexplained = 0;              // disagreements no Variant accounts for
    std::map<std::string, std::size_t> kinds; // disagreement cause or kind -> count
    std::size_t reports = 0;
};

// Compares one policy's every request and every ordered pair; on a disagreement of a kind
// not seen before, shrinks the policy and reports it.
void comparePolicy(const GenPolicy& p, const analyzer::Analysis& a, Totals& totals) {
    ++totals.policies;
    const std::string text = render(p);
    INFO("policy:\n", text);

    Explainer explain(p);

    // 1. Every request's first-match decision.
    Oracle oracle(p);
    const std::vector<Caller> callers = oracle.callers();
    const std::vector<std::string> targets = oracle.requestTargets();
    for (const Caller& c : callers)
        for (const std::string& s : kRequestServices)
            for (const std::string& arg : kRequestArguments)
                for (const std::string& t : targets) {
                    ++totals.requests;
                    Decision want = oracle.decide(s, arg, c, t);
                    Decision got = analyzerDecision(a, s, arg, c.node, t);
                    (want.result == "allow" ? totals.allow
                     : want.result == "ask" ? totals.ask
                                            : totals.deny)++;
                    if (got == want)
                        continue;
                    ++totals.decideMismatches;
                    Request r{s, arg, c.node, t};
                    std::string cause = explain.decision(r, got);
                    if (cause.empty())
                        ++totals.unexplained;
                    std::string kind = cause.empty()
                                           ? "UNEXPLAINED decision: " + decideKind(r, got, want)
                                           : "decision, explained by " + cause;
                    if (totals.kinds[kind]++ > 0 || totals.reports >= kMaxReports)
                        continue;
                    ++totals.reports;
                    GenPolicy small =
                        shrink(p, {qubeOf(r.caller), qubeOf(r.target)},
                               [&](const GenPolicy& q) { return decideDisagrees(q, r); });
                    std::optional<Built> sb = buildAnalysis(render(small));
                    Oracle so(small);
                    std::vector<Caller> scs = so.callers();
                    std::string smallGot = "?", reason;
                    if (sb) {
                        analyzer::RpcDecision d = sb->analysis->decide(s, arg, c.node, t);
                        smallGot = show(analyzerDecision(*sb->analysis, s, arg, c.node, t));
                        reason = d.reason;
                    }
                    std::string smallWant = show(so.decide(s, arg, *findCaller(scs, c.node), t));
                    INFO("disagreement kind: ", kind);
                    INFO("request: ", show(r));
                    INFO("analyzer: ", show(got), "   expected (Qubes): ", show(want));
                    INFO("minimal policy:\n", render(small), "minimal request: ", show(r),
                         "\n  analyzer: ", smallGot, " (", reason, ")\n  expected: ", smallWant);
                    CHECK(show(got) == show(want));
                }

    // 2. The node set, then every ordered pair's reachability.
    OracleGraph graph(p, oracle);
    std::vector<std::string> analyzerNodes = a.nodes();
    std::set<std::string> gotNodes(analyzerNodes.begin(), analyzerNodes.end());
    ++totals.nodeSets;
    if (gotNodes != graph.nodes()) {
        ++totals.nodeMismatches;
        CHECK(join(std::vector<std::string>(gotNodes.begin(), gotNodes.end())) ==
              join(std::vector<std::string>(graph.nodes().begin(), graph.nodes().end())));
    }
    for (const std::string& from : graph.nodes())
        for (const std::string& to : graph.nodes()) {
            if (from == to)
                continue;
            ++totals.pairs;
            bool want = graph.reaches(from, to);
            bool got = a.reaches(from, to);
            if (got == want)
                continue;
            ++totals.reachMismatches;
            std::string cause = explain.reach(from, to, got);
            if (cause.empty())
                ++totals.unexplained;
            std::string kind =
                cause.empty() ? std::string("UNEXPLAINED reach ") + targetClass(from) + " -> " +
                                    targetClass(to) + ": analyzer " + (got ? "yes" : "no")
                              : std::string("reach (analyzer ") + (got ? "yes" : "no") +
                                    "), explained by " + cause;
            if (totals.kinds[kind]++ > 0 || totals.reports >= kMaxReports)
                continue;
            ++totals.reports;
            GenPolicy small = shrink(p, {qubeOf(from), qubeOf(to)}, [&](const GenPolicy& q) {
                return reachDisagrees(q, from, to);
            });
            std::optional<Built> sb = buildAnalysis(render(small));
            Oracle so(small);
            OracleGraph sg(small, so);
            INFO("disagreement kind: ", kind);
            INFO("pair: ", from, " -> ", to, "   analyzer reaches: ", got, "   expected: ", want);
            INFO("minimal policy:\n", render(small));
            INFO("analyzer edges:\n", sb ? join(sb->analysis->edges(), "\n") : "?");
            INFO("oracle edges:\n", join(sg.edgeList(), "\n"));
            CHECK(got == want);
        }
}

std::string summary(const Totals& t) {
    std::ostringstream s;
    s << t.policies << " policies, " << t.requests << " requests compared (oracle: " << t.allow
      << " allow, " << t.ask << " ask, " << t.deny << " deny), " << t.pairs << " pairs compared, "
      << t.nodeSets << " node sets compared; disagreements: " << t.decideMismatches
      << " decisions, " << t.reachMismatches << " pairs, " << t.nodeMismatches << " node sets ("
      << t.unexplained << " not explained by [L] [D] [S])";
    for (const auto& [kind, n] : t.kinds)
        s << "\n  " << n << " x " << kind;
    return s.str();
}

// Hand-written policies for the pinned cases: the template tpl plus the given qubes.
GenPolicy pinned(std::vector<GenQube> qubes, std::vector<GenRule> rules) {
    GenPolicy p;
    p.levels = {"low", "high"};
    GenQube tpl;
    tpl.name = "tpl";
    tpl.kind = Kind::Template;
    tpl.trust = "high";
    p.qubes.push_back(tpl);
    for (GenQube& q : qubes) {
        q.trust = "low";
        p.qubes.push_back(std::move(q));
    }
    p.rules = std::move(rules);
    return p;
}

GenQube qube(const std::string& name, Kind kind = Kind::Qube,
             std::optional<std::string> defaultDispvm = std::nullopt) {
    GenQube q;
    q.name = name;
    q.kind = kind;
    q.defaultDispvm = std::move(defaultDispvm);
    return q;
}

GenRule rule(const std::string& service, const std::string& source, const std::string& target,
             const std::string& action, std::optional<std::string> redirect = std::nullopt) {
    GenRule r;
    r.service = service;
    r.sources = {source};
    r.targets = {target};
    r.action = action;
    r.redirect = std::move(redirect);
    return r;
}

// Runs one pinned policy through the same comparison as the random ones, and checks one
// request (and, if given, one path) explicitly against the expectation written in the test.
void checkPinned(const GenPolicy& p, const Request& r, const Decision& want,
                 std::optional<std::pair<std::string, std::string>> path = std::nullopt) {
    std::optional<Built> b = buildAnalysis(render(p));
    INFO("policy:\n", render(p));
    REQUIRE(b);
    Oracle o(p);
    std::vector<Caller> cs = o.callers();
    const Caller* c = findCaller(cs, r.caller);
    REQUIRE(c);
    REQUIRE(show(o.decide(r.service, r.argument, *c, r.target)) == show(want)); // the oracle
    INFO("request: ", show(r));
    CHECK(show(analyzerDecision(*b->analysis, r.service, r.argument, r.caller, r.target)) ==
          show(want));
    if (path) {
        INFO("path: ", path->first, " -> ", path->second);
        REQUIRE(OracleGraph(p, o).reaches(path->first, path->second)); // the oracle
        CHECK(b->analysis->reaches(path->first, path->second));
    }
    Totals totals;
    comparePolicy(p, *b->analysis, totals);
    MESSAGE(summary(totals));
}

} // namespace

TEST_CASE("differential: decide() and reaches() agree with an independent Qubes oracle on "
          "random policies") {
    auto started = std::chrono::steady_clock::now();
    std::size_t generated = 0, rejected = 0;
    std::string firstRejected;
    Totals totals;

    for (std::size_t i = 0; i < kPolicies; ++i) {
        std::optional<GenPolicy> policy;
        std::optional<Built> built;
        for (std::size_t attemptNo = 0; attemptNo < kMaxAttemptsPerPolicy && !built; ++attemptNo) {
            auto seed =
                static_cast<std::uint32_t>(kSeedBase + i * kMaxAttemptsPerPolicy + attemptNo);
            policy = generate(seed);
            ++generated;
            built = buildAnalysis(render(*policy));
            if (!built) {
                ++rejected;
                if (firstRejected.empty())
                    firstRejected = render(*policy) + test::checkText(render(*policy)).rendered;
            }
        }
        REQUIRE_MESSAGE(built, "no valid policy after ", kMaxAttemptsPerPolicy, " attempts");
        INFO("policy #", i);
        comparePolicy(*policy, *built->analysis, totals);
    }

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE("differential: ", generated, " generated, ", rejected, " rejected by the front end; ",
            summary(totals), "\n  time: ", seconds, " s");
    INFO("first rejected policy:\n", firstRejected);
    CHECK(totals.policies >= 200);
    CHECK(rejected * 10 <= generated); // the generator respects the columns: most pass
    CHECK(totals.allow > 0);
    CHECK(totals.ask > 0);
    CHECK(totals.decideMismatches == 0);
    CHECK(totals.reachMismatches == 0);
    CHECK(totals.nodeMismatches == 0);
}

// Each disagreement the random run found, pinned as its minimal policy so that it stays
// visible (and small) whatever the random run happens to generate.

TEST_CASE("differential pinned: an ask list keeps dom0 when a deny names it by another "
          "spelling") {
    // qubes-formats.md §1.6: collect_targets_for_ask walks the rules in reverse over the
    // *expanded strings*: `*` and @type:AdminVM expand to "dom0", @adminvm to "@adminvm",
    // and only after the walk does "@adminvm" become dom0. So `deny -> @adminvm` does not
    // remove the "dom0" that `*` added: the dialog offers dom0, and app1 reaches dom0 (no
    // other rule gives app1 an edge into dom0).
    GenPolicy p =
        pinned({qube("app1"), qube("app2")}, {rule("test.One", "app1", "@adminvm", "deny"),
                                              rule("test.One", "app1", "*", "ask")});
    checkPinned(p, {"test.One", "", "app1", "app2"}, {"ask", {"app2", "dom0", "tpl"}},
                std::pair<std::string, std::string>{"app1", "dom0"});
}

TEST_CASE("differential pinned: an ask redirected to @adminvm survives a deny of "
          "@type:AdminVM") {
    // The mirror image: @type:AdminVM expands to "dom0", the redirect adds "@adminvm".
    GenPolicy p =
        pinned({qube("app1"), qube("app2")}, {rule("test.One", "app1", "@type:AdminVM", "deny"),
                                              rule("test.One", "app1", "app2", "ask", "@adminvm"),
                                              rule("test.One", "app1", "@anyvm", "ask")});
    checkPinned(p, {"test.One", "", "app1", "tpl"}, {"ask", {"app2", "dom0", "tpl"}});
}

TEST_CASE("differential pinned: a disposable's default_dispvm is its own dispvm-template") {
    // qubes-core-admin qubes/vm/dispvm.py: DispVM.default_dispvm defaults to the
    // disposable's template (unless the template sets one, which is cloned). So a
    // disposable of dvm calling @dispvm gets a new disposable of dvm.
    GenPolicy p = pinned({qube("app1"), qube("dvm", Kind::DispvmTemplate)},
                         {rule("*", "@type:DispVM", "*", "allow")});
    checkPinned(p, {"test.One", "", "@dispvm:dvm", "@dispvm"}, {"allow", {"@dispvm:dvm"}});
}

TEST_CASE("differential pinned: an ask redirected to the caller itself cannot land") {
    // The list is just the redirect (qubes-formats.md §1.6), but a call to itself is refused
    // (loopback), so nothing can land: the ask has no target and is a deny.
    GenPolicy p =
        pinned({qube("app1"), qube("app2")}, {rule("test.One", "app1", "app2", "ask", "app1")});
    checkPinned(p, {"test.One", "", "app1", "app2"}, {"deny", {}});
}
