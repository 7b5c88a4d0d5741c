#include "rpc_eval.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace bulkhead::analyzer::rpc {
namespace {

bool isDom0Name(const std::string& n) {
    return n == "dom0" || n == "@adminvm" || n == "uuid:00000000-0000-0000-0000-000000000000";
}

// The targets a walk over rules has not settled yet. A broad rule (`*`, @anyvm) late in a
// list is offered only those (a path-compressed skip list), a narrow one what its token
// names through the index.
class OpenTargets {
public:
    explicit OpenTargets(std::size_t n) : next_(n + 1), left_(n) {
        for (std::size_t i = 0; i <= n; ++i)
            next_[i] = i;
    }
    bool done() const { return left_ == 0; }
    void close(std::size_t i) {
        next_[i] = i + 1;
        --left_;
    }
    template <class F> void offer(const Token& target, const TargetIndex& index, F&& f) {
        if (!TargetIndex::broad(target))
            return index.visit(target, f);
        for (std::size_t i = find(0); i + 1 < next_.size(); i = find(i + 1))
            f(i);
    }

private:
    std::size_t find(std::size_t i) {
        while (next_[i] != i) {
            next_[i] = next_[next_[i]];
            i = next_[i];
        }
        return i;
    }
    std::vector<std::size_t> next_;
    std::size_t left_;
};

} // namespace

Token parseToken(const std::string& text) {
    using K = Token::Kind;
    auto token = [](K kind, std::string value = {}) {
        Token t;
        t.kind = kind;
        t.value = std::move(value);
        return t;
    };
    auto valued = [&](std::size_t prefix, K kind) {
        std::string v = text.substr(prefix);
        return v.empty() ? token(K::Invalid, text) : token(kind, v);
    };
    if (text == "*")
        return token(K::Wildcard);
    if (text == "@adminvm")
        return token(K::AdminVM);
    if (text == "@anyvm")
        return token(K::AnyVM);
    if (text == "@default")
        return token(K::Default);
    if (text == "@dispvm")
        return token(K::DispVM);
    if (text.starts_with("@dispvm:@tag:"))
        return valued(13, K::DispVMTag);
    if (text.starts_with("@dispvm:"))
        return valued(8, K::DispVMOf);
    if (text.starts_with("@tag:"))
        return valued(5, K::Tag);
    if (text.starts_with("@type:"))
        return valued(6, K::Type);
    if (text.starts_with("@") || text.empty())
        return token(K::Invalid, text);
    return token(K::Name, text);
}

std::optional<std::size_t> System::find(const std::string& name) const {
    if (isDom0Name(name))
        return 0;
    for (std::size_t i = 0; i < qubes.size(); ++i)
        if (qubes[i].name == name)
            return i;
    return std::nullopt;
}

Evaluator::Evaluator(const System& system, std::vector<Rule> rules)
    : system_(system), rules_(std::move(rules)) {
    // System::find scans every qube: one index for all the rules' names instead.
    std::unordered_map<std::string_view, std::size_t> byName;
    for (std::size_t q = 0; q < system_.qubes.size(); ++q)
        byName.try_emplace(system_.qubes[q].name, q);
    auto resolveName = [&](Token& t) {
        if (t.kind != Token::Kind::Name && t.kind != Token::Kind::DispVMOf)
            return;
        if (isDom0Name(t.value)) {
            t.qube = 0;
        } else if (auto it = byName.find(t.value); it != byName.end()) {
            t.qube = it->second;
        }
    };
    // Tags are numbered in their sorted order, so each qube's numbers are sorted as its tags.
    std::map<std::string_view, std::size_t> tagNumber;
    for (const SystemQube& q : system_.qubes)
        for (const std::string& tag : q.tags)
            tagNumber.emplace(tag, 0);
    for (auto& [tag, number] : tagNumber) {
        number = byTag_.size();
        byTag_.emplace_back();
    }
    tagsOf_.resize(system_.qubes.size());
    for (std::size_t q = 0; q < system_.qubes.size(); ++q) {
        for (const std::string& tag : system_.qubes[q].tags) {
            std::size_t number = tagNumber.at(tag);
            byTag_[number].push_back(q);
            tagsOf_[q].push_back(number);
        }
        std::sort(tagsOf_[q].begin(), tagsOf_[q].end());
        tagsOf_[q].erase(std::unique(tagsOf_[q].begin(), tagsOf_[q].end()), tagsOf_[q].end());
        byType_[system_.qubes[q].type].push_back(q);
    }
    // Types are numbered too: every qube's, and DispVM, which a disposable caller has.
    std::map<std::string_view, std::size_t> typeNumber{{"DispVM", 0}};
    for (const SystemQube& q : system_.qubes)
        typeNumber.emplace(q.type, typeNumber.size());
    dispvmType_ = typeNumber.at("DispVM");
    for (const SystemQube& q : system_.qubes)
        typeOf_.push_back(typeNumber.at(q.type));
    auto resolve = [&](Token& t) {
        resolveName(t);
        if (t.kind == Token::Kind::Tag || t.kind == Token::Kind::DispVMTag)
            if (auto it = tagNumber.find(t.value); it != tagNumber.end())
                t.tag = it->second;
        if (t.kind == Token::Kind::Type)
            if (auto it = typeNumber.find(t.value); it != typeNumber.end())
                t.type = it->second;
    };
    for (Rule& r : rules_) {
        resolve(r.source);
        resolve(r.target);
        if (r.redirect)
            resolve(*r.redirect);
    }
    for (const Rule& r : rules_)
        if (r.service != "*")
            byService_.try_emplace(r.service);
    for (const Rule& r : rules_) {
        if (r.service == "*") {
            starOnly_.push_back(&r);
            for (auto& [name, list] : byService_)
                list.push_back(&r);
        } else {
            byService_.at(r.service).push_back(&r);
        }
    }
}

const std::vector<const Rule*>& Evaluator::rulesFor(const std::string& service) const {
    auto it = byService_.find(service);
    return it == byService_.end() ? starOnly_ : it->second;
}

const SystemQube& Evaluator::info(const Caller& c) const {
    return system_.qubes.at(c.qube);
}

std::optional<std::size_t> Evaluator::defaultDispvmOf(const Caller& c) const {
    // A disposable's default_dispvm is its template's, or else the template itself
    // (qubes-core-admin qubes/vm/dispvm.py).
    if (c.disposable)
        return info(c).defaultDispvm.value_or(c.qube);
    return info(c).defaultDispvm;
}

bool Evaluator::sourceMatches(const Token& t, const Caller& c) const {
    using K = Token::Kind;
    // A disposable calls under its own name (disp1234), of type DispVM, with its template's
    // tags and default_dispvm.
    bool dom0 = !c.disposable && c.qube == 0;
    switch (t.kind) {
    case K::Name:
        return !c.disposable && t.qube && *t.qube == c.qube;
    case K::Wildcard:
        return true;
    case K::AdminVM:
        return dom0;
    case K::AnyVM:
        return !dom0;
    case K::Tag:
        return hasTag(c.qube, t);
    case K::Type:
        return t.type && *t.type == (c.disposable ? dispvmType_ : typeOf_.at(c.qube));
    default:
        return false; // @dispvm:... as a source never matches (§1.5)
    }
}

bool Evaluator::targetMatches(const Token& t, const Caller& c, const Target& r) const {
    using K = Token::Kind;
    using T = Target::Kind;
    bool toDom0 = (r.kind == T::Qube && r.qube == 0) || r.kind == T::AdminVM;
    switch (t.kind) {
    case K::Name:
        if (t.qube == std::optional<std::size_t>(0))
            return toDom0; // dom0 written as a name
        return r.kind == T::Qube && t.qube && *t.qube == r.qube;
    case K::Wildcard:
        return true;
    case K::AdminVM:
        return toDom0;
    case K::AnyVM:
        return !toDom0;
    case K::Default:
        return r.kind == T::Default;
    case K::DispVM:
        return r.kind == T::DispVM;
    case K::DispVMOf: {
        if (r.kind == T::DispVMOf)
            return t.qube && *t.qube == r.qube;
        return r.kind == T::DispVM && defaultDispvmOf(c) && t.qube &&
               *defaultDispvmOf(c) == *t.qube;
    }
    case K::DispVMTag: {
        std::optional<std::size_t> dvm;
        if (r.kind == T::DispVMOf)
            dvm = r.qube;
        else if (r.kind == T::DispVM)
            dvm = defaultDispvmOf(c);
        return dvm && system_.qubes[*dvm].dispvmTemplate && hasTag(*dvm, t);
    }
    // @tag and @type look the target name up in the system info: dom0 by name matches,
    // "@adminvm" is not a key and does not (§1.5).
    case K::Tag:
        return r.kind == T::Qube && hasTag(r.qube, t);
    case K::Type:
        return r.kind == T::Qube && t.type && typeOf_[r.qube] == *t.type;
    case K::Invalid:
        return false;
    }
    return false;
}

// Only ever asked of rulesFor(service), which holds the service's own rules and '*' ones.
bool Evaluator::ruleApplies(const Rule& r, const std::string&, const std::string& argument) const {
    return !r.argument || (!argument.empty() && *r.argument == argument);
}

std::optional<Landing> Evaluator::resolve(const Target& t, const Caller& caller,
                                          std::string& why) const {
    switch (t.kind) {
    case Target::Kind::Qube:
        return Landing{false, t.qube};
    case Target::Kind::AdminVM:
        return Landing{false, 0};
    case Target::Kind::Default:
        why = "no target is specified by caller or policy";
        return std::nullopt;
    case Target::Kind::DispVM:
        if (!defaultDispvmOf(caller)) {
            why = "no DispVM base is set for this VM";
            return std::nullopt;
        }
        return Landing{true, *defaultDispvmOf(caller)};
    case Target::Kind::DispVMOf:
        return Landing{true, t.qube};
    }
    return std::nullopt;
}

std::optional<Landing> Evaluator::resolve(const Token& t, const Caller& caller,
                                          std::string& why) const {
    using K = Token::Kind;
    switch (t.kind) {
    case K::Name: {
        // Rule tokens were resolved once by the constructor: no search by name here.
        const std::optional<std::size_t>& q = t.qube;
        if (!q) {
            why = "redirect target " + t.value + " does not exist";
            return std::nullopt;
        }
        return Landing{false, *q};
    }
    case K::AdminVM:
        return Landing{false, 0};
    case K::DispVM:
        return resolve(Target{Target::Kind::DispVM, 0}, caller, why);
    case K::DispVMOf: {
        const std::optional<std::size_t>& q = t.qube;
        if (!q || !system_.qubes[*q].dispvmTemplate) {
            why = "not a template for dispvm: " + t.value;
            return std::nullopt;
        }
        return Landing{true, *q};
    }
    default:
        why = "invalid redirect";
        return std::nullopt;
    }
}

Evaluator::AskList Evaluator::askList(const std::string& service, const std::string& argument,
                                      const Caller& caller, const SourceRange* skip,
                                      bool keepSelf) const {
    // collect_targets_for_ask: every rule matching service, argument and source, walked in
    // reverse; deny removes, allow and ask add, the target column or the redirect expanded.
    // The last word on a target is the earliest rule that names it, so the rules are walked
    // forward here and each target keeps the first rule's word: a broad rule (*, @anyvm)
    // then costs the qubes once, not once per rule.
    using K = Token::Kind;
    // Slots: qube q at q, a disposable of q at n + q, "@adminvm" at 2n.
    const std::size_t n = system_.qubes.size();
    std::vector<std::uint8_t> out(2 * n + 1, 0), decided(2 * n + 1, 0);
    bool anyDispvm = false, dispvmDecided = false; // the bare @dispvm, resolved at the end
    bool allDone = false;                          // every qube but dom0 is decided
    const std::vector<const Rule*>& candidates = rulesFor(service);
    for (const Rule* rule : candidates) {
        const Rule& r = *rule;
        if ((skip && r.range == *skip) || !ruleApplies(r, service, argument) ||
            !sourceMatches(r.source, caller))
            continue;
        const Token& t = r.redirect ? *r.redirect : r.target;
        std::uint8_t add = r.action != Rule::Action::Deny ? 1 : 0;
        auto put = [&](std::size_t slot) {
            if (!decided[slot]) {
                decided[slot] = 1;
                out[slot] = add;
            }
        };
        auto dispvm = [&] {
            if (!dispvmDecided) {
                dispvmDecided = true;
                anyDispvm = add != 0;
            }
        };
        auto allQubes = [&](bool withDom0) {
            if (!allDone) {
                for (std::size_t q = 1; q < n; ++q)
                    put(q);
                for (std::size_t q = 0; q < n; ++q)
                    if (system_.qubes[q].dispvmTemplate)
                        put(n + q);
                allDone = true;
            }
            if (withDom0)
                put(0);
            dispvm();
        };
        switch (t.kind) {
        case K::Name: // tokens resolved by the constructor
            if (t.qube)
                put(*t.qube);
            break;
        case K::Wildcard:
            allQubes(true);
            break;
        case K::AnyVM:
            allQubes(false);
            break;
        case K::AdminVM:
            // "@adminvm" until the walk ends, not "dom0": a deny of one spelling does not
            // remove the other (qubes-formats.md §1.6).
            put(2 * n);
            break;
        case K::DispVM:
            dispvm();
            break;
        case K::DispVMOf:
            if (t.qube && system_.qubes[*t.qube].dispvmTemplate)
                put(n + *t.qube);
            break;
        case K::DispVMTag:
            if (t.tag)
                for (std::size_t q : byTag_[*t.tag])
                    if (system_.qubes[q].dispvmTemplate)
                        put(n + q);
            break;
        case K::Tag:
            if (t.tag)
                for (std::size_t q : byTag_[*t.tag])
                    put(q);
            break;
        case K::Type:
            if (auto typed = byType_.find(t.value); typed != byType_.end())
                for (std::size_t q : typed->second)
                    put(q);
            break;
        default:
            break;
        }
    }
    if (out[2 * n])
        out[0] = 1;
    AskList list;
    list.dispvm = anyDispvm;
    for (std::size_t i = 0; i < 2 * n; ++i) {
        bool disp = i >= n;
        std::size_t q = disp ? i - n : i;
        if (!out[i] || (!keepSelf && !disp && !caller.disposable && q == caller.qube))
            continue; // the source itself is never offered
        list.named.push_back({disp, q});
    }
    return list;
}

std::vector<Landing> Evaluator::askTargets(const std::string& service, const std::string& argument,
                                           const Caller& caller, const SourceRange* skip,
                                           bool keepSelf) const {
    AskList list = askList(service, argument, caller, skip, keepSelf);
    std::optional<std::size_t> dvm = defaultDispvmOf(caller);
    if (!list.dispvm || !dvm)
        return std::move(list.named);
    // (disposable, qube) ascending, as Qubes' set gives them
    Landing own{true, *dvm};
    auto at = std::lower_bound(
        list.named.begin(), list.named.end(), own, [](const Landing& a, const Landing& b) {
            return std::tie(a.disposable, a.qube) < std::tie(b.disposable, b.qube);
        });
    if (at == list.named.end() || !(*at == own))
        list.named.insert(at, own);
    return std::move(list.named);
}

std::vector<const Rule*> Evaluator::forCaller(const std::string& service,
                                              const std::string& argument, const Caller& caller,
                                              const SourceRange* skip) const {
    std::vector<const Rule*> out;
    for (const Rule* r : rulesFor(service))
        if ((!skip || r->range != *skip) && ruleApplies(*r, service, argument) &&
            sourceMatches(r->source, caller))
            out.push_back(r);
    return out;
}

Decision Evaluator::outcome(const Rule* rule, const std::string& service,
                            const std::string& argument, const Caller& caller, const Target& target,
                            const SourceRange* skip, std::optional<std::vector<Landing>>& askCache,
                            bool keepSelf) const {
    Decision d;
    if (!rule) {
        d.reason = "no matching rule found";
        return d;
    }
    const Rule& r = *rule;
    d.rule = &r;
    switch (r.action) {
    case Rule::Action::Deny:
        d.reason = "denied by policy";
        return d;
    case Rule::Action::Allow: {
        // A redirect is not re-checked against any rule (§1.6).
        std::optional<Landing> l =
            r.redirect ? resolve(*r.redirect, caller, d.reason) : resolve(target, caller, d.reason);
        if (!l)
            return d;
        if (!keepSelf && !l->disposable && !caller.disposable && l->qube == caller.qube) {
            d.reason = "loopback qrexec connection not supported";
            return d;
        }
        d.result = Decision::Result::Allow;
        d.landings = {*l};
        return d;
    }
    case Rule::Action::Ask:
        if (r.redirect) {
            // Ask.evaluate: with target=, that target is the only choice offered.
            std::optional<Landing> l = resolve(*r.redirect, caller, d.reason);
            if (!l)
                return d;
            if (!keepSelf && !l->disposable && !caller.disposable && l->qube == caller.qube) {
                d.reason = "loopback qrexec connection not supported";
                return d;
            }
            d.landings = {*l};
        } else {
            // The ask list depends on the caller only, never on the target asked for.
            if (!askCache)
                askCache = askTargets(service, argument, caller, skip, keepSelf);
            d.landings = *askCache;
            d.askList = true;
        }
        if (d.landings.empty()) {
            d.reason = "no target is available to choose from";
            return d;
        }
        d.result = Decision::Result::Ask;
        return d;
    }
    return d;
}

Decision Evaluator::evaluate(const std::string& service, const std::string& argument,
                             const Caller& caller, const Target& target,
                             const SourceRange* skip) const {
    std::optional<std::vector<Landing>> askCache;
    for (const Rule* r : forCaller(service, argument, caller, skip))
        if (targetMatches(r->target, caller, target))
            return outcome(r, service, argument, caller, target, skip, askCache);
    return outcome(nullptr, service, argument, caller, target, skip, askCache);
}

std::vector<const Rule*> Evaluator::firstMatches(const std::string& service,
                                                 const std::string& argument, const Caller& caller,
                                                 const Universe& u) const {
    std::vector<const Rule*> out(u.targets.size(), nullptr);
    OpenTargets open(u.targets.size());
    for (const Rule* r : rulesFor(service)) {
        if (open.done())
            break;
        if (!ruleApplies(*r, service, argument) || !sourceMatches(r->source, caller))
            continue;
        open.offer(r->target, u.index, [&](std::size_t i) {
            if (out[i] || !matches(r->target, caller, u, i))
                return;
            out[i] = r;
            open.close(i);
        });
    }
    return out;
}

Evaluator::FirstTwo Evaluator::firstTwoMatches(const std::string& service,
                                               const std::string& argument, const Caller& caller,
                                               const Universe& u) const {
    return firstTwoOver(forCaller(service, argument, caller, nullptr), caller, u);
}

Evaluator::FirstTwo Evaluator::firstTwoByClass(const std::string& service,
                                               const std::string& argument, const Caller& caller,
                                               const Universe& u) const {
    std::vector<const Rule*> rules = forCaller(service, argument, caller, nullptr);
    std::erase_if(rules, [](const Rule* r) { return r->source.kind == Token::Kind::Name; });
    return firstTwoOver(rules, caller, u);
}

std::map<std::size_t, std::vector<const Rule*>>
Evaluator::rulesNaming(const std::string& service, const std::string& argument) const {
    std::map<std::size_t, std::vector<const Rule*>> out;
    for (const Rule* r : rulesFor(service))
        if (r->source.kind == Token::Kind::Name && r->source.qube &&
            ruleApplies(*r, service, argument))
            out[*r->source.qube].push_back(r);
    return out;
}

std::optional<std::size_t> Evaluator::addOwnRules(FirstTwo& byClass,
                                                  const std::vector<const Rule*>& own,
                                                  const Caller& caller, const Universe& u,
                                                  Saved* saved) const {
    std::optional<std::size_t> highest;
    // Each rule goes into the order of the rules already matched: before the first, it
    // decides, and the old first is next unless it is of the same line; after it, it is
    // next if it comes before the old next and is of another line.
    for (const Rule* r : own) {
        u.index.visit(r->target, [&](std::size_t i) {
            if (!matches(r->target, caller, u, i))
                return;
            const Rule*& first = byClass.first[i];
            const Rule*& next = byClass.next[i];
            if (saved)
                saved->emplace_back(i, first, next);
            if (!first) {
                first = r;
            } else if (r < first) { // rules_ is in policy order
                if (first->range != r->range)
                    next = first;
                first = r;
            } else if (r->range != first->range && (!next || r < next)) {
                next = r;
            } else {
                return;
            }
            highest = std::max(highest.value_or(i), i);
        });
    }
    return highest;
}

Evaluator::FirstTwo Evaluator::firstTwoOver(const std::vector<const Rule*>& rules,
                                            const Caller& caller, const Universe& u) const {
    std::size_t n = u.targets.size();
    FirstTwo out{std::vector<const Rule*>(n, nullptr), std::vector<const Rule*>(n, nullptr)};
    OpenTargets open(n); // open: still missing its next rule of another line
    for (const Rule* r : rules) {
        if (open.done())
            break;
        open.offer(r->target, u.index, [&](std::size_t i) {
            if (out.next[i] || !matches(r->target, caller, u, i))
                return;
            if (!out.first[i]) {
                out.first[i] = r;
            } else if (out.first[i]->range != r->range) {
                out.next[i] = r;
                open.close(i);
            }
        });
    }
    return out;
}

std::pair<const Rule*, const Rule*> Evaluator::firstTwoFor(const std::string& service,
                                                           const std::string& argument,
                                                           const Caller& caller, const Universe& u,
                                                           std::size_t ti) const {
    const Rule* first = nullptr;
    for (const Rule* r : rulesFor(service)) {
        if (!ruleApplies(*r, service, argument) || !sourceMatches(r->source, caller) ||
            !targetMatches(r->target, caller, u.targets[ti]))
            continue;
        if (!first)
            first = r;
        else if (first->range != r->range)
            return {first, r};
    }
    return {first, nullptr};
}

std::vector<const Rule*> Evaluator::matching(const std::string& service,
                                             const std::string& argument, const Caller& caller,
                                             const Target& target) const {
    std::vector<const Rule*> out;
    for (const Rule* r : rulesFor(service))
        if (ruleApplies(*r, service, argument) && sourceMatches(r->source, caller) &&
            targetMatches(r->target, caller, target))
            out.push_back(r);
    return out;
}

TargetIndex::TargetIndex(const Evaluator& ev, const std::vector<Target>& targets)
    : qube_(ev.system().qubes.size(), kNone), dispvmOf_(ev.system().qubes.size(), kNone),
      byTag_(ev.tagCount()), dispvmByTag_(ev.tagCount()) {
    const System& sys = ev.system();
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const Target& t = targets[i];
        all_.push_back(i);
        switch (t.kind) {
        case Target::Kind::Qube: {
            qube_[t.qube] = i;
            const SystemQube& q = sys.qubes[t.qube];
            for (std::size_t tag : ev.tagsOf(t.qube))
                byTag_[tag].push_back(i);
            byType_[q.type].push_back(i);
            break;
        }
        case Target::Kind::DispVMOf:
            dispvmOf_[t.qube] = i;
            for (std::size_t tag : ev.tagsOf(t.qube))
                dispvmByTag_[tag].push_back(i);
            break;
        case Target::Kind::AdminVM:
            adminvm_ = i;
            break;
        case Target::Kind::Default:
            default_ = i;
            break;
        case Target::Kind::DispVM:
            dispvm_ = i;
            break;
        }
    }
}

Universe universeOf(const System& sys, const Evaluator& evaluator) {
    Universe u;
    for (std::size_t q = 1; q < sys.qubes.size(); ++q)
        u.callers.push_back({q, false});
    u.targets = {{Target::Kind::AdminVM, 0}, {Target::Kind::Default, 0}, {Target::Kind::DispVM, 0}};
    for (std::size_t q = 0; q < sys.qubes.size(); ++q) {
        u.targets.push_back({Target::Kind::Qube, q});
        if (sys.qubes[q].dispvmTemplate) {
            u.targets.push_back({Target::Kind::DispVMOf, q});
            u.callers.push_back({q, true});
        }
    }
    std::vector<std::string> services = evaluator.services();
    services.push_back(""); // any service no rule names
    for (const std::string& s : services) {
        std::vector<std::string> args = evaluator.arguments(s);
        args.push_back(""); // any argument no rule names
        u.services.emplace_back(s, std::move(args));
    }
    u.index = TargetIndex(evaluator, u.targets);
    return u;
}

std::vector<bool> Evaluator::namedSources(const std::string& service) const {
    std::vector<bool> out(system_.qubes.size(), false);
    for (const Rule* r : rulesFor(service))
        if (r->source.kind == Token::Kind::Name && r->source.qube)
            out[*r->source.qube] = true;
    return out;
}

std::vector<const Rule*> Evaluator::rulesOnlyFor(const std::string& service,
                                                 const std::string& argument) const {
    std::vector<const Rule*> out;
    for (const Rule* r : rulesFor(service))
        if (r->argument && !argument.empty() && *r->argument == argument)
            out.push_back(r);
    return out;
}

std::vector<std::string> Evaluator::services() const {
    std::set<std::string> out;
    for (const Rule& r : rules_)
        if (r.service != "*")
            out.insert(r.service);
    return {out.begin(), out.end()};
}

std::vector<std::string> Evaluator::arguments(const std::string& service) const {
    std::set<std::string> out;
    for (const Rule& r : rules_)
        if ((r.service == service || r.service == "*") && r.argument)
            out.insert(*r.argument);
    return {out.begin(), out.end()};
}

} // namespace bulkhead::analyzer::rpc
