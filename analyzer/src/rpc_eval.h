#pragma once
// qrexec policy evaluation exactly as Qubes' policy daemon does it
// (research/qubes-formats.md §1.4-1.8): tokens, first match, redirects, ask target lists.
#include "bulkhead/analyzer/analyzer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace bulkhead::analyzer::rpc {

// A Qubes token in Qubes' spelling, parsed once.
struct Token {
    enum class Kind : std::uint8_t {
        Name,
        Wildcard,
        AdminVM,
        AnyVM,
        Default,
        DispVM,
        DispVMOf,
        DispVMTag,
        Tag,
        Type,
        Invalid
    };
    Kind kind = Kind::Invalid;
    std::string value; // Name, DispVMOf, DispVMTag, Tag, Type
    // Name, DispVMOf: the qube the name denotes, resolved once (matching is by index);
    // empty for a name that is not in the system.
    std::optional<std::size_t> qube;
    // Tag, DispVMTag: the tag's number in the Evaluator's table, resolved once (matching
    // compares numbers, not strings); empty for a tag no qube has.
    std::optional<std::size_t> tag;
    // Type: the type's number in the Evaluator's table, likewise; empty for a type no
    // caller or target can have.
    std::optional<std::size_t> type;
};
Token parseToken(const std::string& text);

// What Qubes' system info says about one qube (internal.GetSystemInfo).
struct SystemQube {
    std::string name;
    std::string type;                         // AdminVM, AppVM, TemplateVM, DispVM, StandaloneVM
    std::vector<std::string> tags;            // sorted
    std::optional<std::size_t> defaultDispvm; // index into System::qubes
    bool dispvmTemplate = false;
};

struct System {
    std::vector<SystemQube> qubes; // qubes[0] is dom0
    std::optional<std::size_t> find(const std::string& name) const;
};

// A request's intended target, already verified as Qubes does.
struct Target {
    enum class Kind : std::uint8_t { Qube, AdminVM, Default, DispVM, DispVMOf };
    Kind kind = Kind::Default;
    std::size_t qube = 0; // Qube, DispVMOf (the dispvm template)
    bool operator==(const Target&) const = default;
};

// Where a call lands: a qube, or a new disposable of a dispvm template.
struct Landing {
    bool disposable = false;
    std::size_t qube = 0; // the qube, or the dispvm template
    bool operator==(const Landing&) const = default;
};

struct Rule {
    std::string service;
    std::optional<std::string> argument;
    Token source;
    Token target;
    enum class Action : std::uint8_t { Allow, Deny, Ask } action = Action::Deny;
    std::optional<Token> redirect;
    std::optional<Token> defaultTarget;
    SourceRange range;
};

struct Decision {
    enum class Result : std::uint8_t { Deny, Allow, Ask } result = Result::Deny;
    const Rule* rule = nullptr;    // the deciding rule; null when no rule matched
    std::vector<Landing> landings; // Allow: one; Ask: the user's choices
    std::string reason;            // why a match still denies (no target, loopback, ...)
    bool askList = false;          // landings are the caller's ask list (Ask without target=)
};

// A caller: a qube, or a disposable of a dispvm template (calls under its own disp name).
struct Caller {
    std::size_t qube = 0;
    bool disposable = false;
};

// Every class of request worth asking: each service some rule names and one that none names
// (""), likewise for arguments, from every caller (qubes but dom0, and disposables of each
// dispvm-template) to every target (each qube, @adminvm, @default, @dispvm, @dispvm:X).
// Which targets a token can match, by index into Universe::targets: a superset that
// targetMatches() then filters, so that a rule costs the targets it names, not all of them.
class Evaluator;
class TargetIndex {
public:
    TargetIndex() = default;
    TargetIndex(const Evaluator& evaluator, const std::vector<Target>& targets);
    // Calls f(index) for every candidate target of the token, ascending within each group.
    template <class F> void visit(const Token& t, F&& f) const;
    std::size_t size() const { return all_.size(); }
    // The @dispvm target: the only one whose matches read the caller's default_dispvm.
    std::optional<std::size_t> dispvmTarget() const {
        return dispvm_ == kNone ? std::nullopt : std::optional<std::size_t>(dispvm_);
    }
    // Whether target i, when the token can match it at all (visit() offers it, or the token
    // is broad), matches it for every caller: then targetMatches() need not be asked. Only
    // @anyvm's dom0 targets and the @dispvm that @dispvm:X and @dispvm:@tag: offer (it
    // depends on the caller's default_dispvm) must be.
    bool certain(const Token& t, std::size_t i) const {
        switch (t.kind) {
        case Token::Kind::AnyVM:
            return i != adminvm_ && (qube_.empty() || i != qube_[0]);
        case Token::Kind::DispVMOf:
        case Token::Kind::DispVMTag:
            return i != dispvm_;
        case Token::Kind::Invalid:
            return false;
        default:
            return true;
        }
    }
    // Wildcard and @anyvm name (nearly) every target: walked over the undecided ones only.
    static bool broad(const Token& t) {
        return t.kind == Token::Kind::Wildcard || t.kind == Token::Kind::AnyVM;
    }

private:
    static constexpr std::size_t kNone = SIZE_MAX;
    std::vector<std::size_t> all_;
    std::vector<std::size_t> qube_, dispvmOf_; // by qube id; kNone when absent
    std::size_t adminvm_ = kNone, default_ = kNone, dispvm_ = kNone;
    std::vector<std::vector<std::size_t>> byTag_, dispvmByTag_; // by tag number
    std::map<std::string, std::vector<std::size_t>, std::less<>> byType_;
};

struct Universe {
    std::vector<Caller> callers;
    std::vector<Target> targets;
    std::vector<std::pair<std::string, std::vector<std::string>>> services; // with arguments
    TargetIndex index;                                                      // over targets
};

class Evaluator;
Universe universeOf(const System& system, const Evaluator& evaluator);

class Evaluator {
public:
    Evaluator(const System& system, std::vector<Rule> rules);

    // The decision for service+argument (argument "" stands for one no rule names).
    // skip: leave out the rules written at this range (what the policy would decide without
    // one of its lines).
    Decision evaluate(const std::string& service, const std::string& argument, const Caller& caller,
                      const Target& target, const SourceRange* skip = nullptr) const;

    // For every target of the universe at once, the rule that decides (null: none). The
    // caller's rules are walked in order, each taking the still undecided targets it matches:
    // the cost follows the targets the rules name, not rules x targets.
    std::vector<const Rule*> firstMatches(const std::string& service, const std::string& argument,
                                          const Caller& caller, const Universe& u) const;

    // The decision of rule r (which matches the request) for it; null r: no rule matched.
    // askCache holds the caller's ask list once computed (it does not depend on the target).
    // keepSelf: what the decision would be if the caller could land on itself (no loopback
    // deny, the caller left in its ask list): the same for every caller of its class
    // (caller_classes.h), which then drops only its own node.
    Decision outcome(const Rule* r, const std::string& service, const std::string& argument,
                     const Caller& caller, const Target& target, const SourceRange* skip,
                     std::optional<std::vector<Landing>>& askCache, bool keepSelf = false) const;

    // For every target at once, the deciding rule (first) and the first matching rule of
    // another policy line after it (next: what decides once the deciding line is gone), by
    // firstMatches' walk: a target leaves the walk once both are known.
    struct FirstTwo {
        std::vector<const Rule*> first, next;
    };
    FirstTwo firstTwoMatches(const std::string& service, const std::string& argument,
                             const Caller& caller, const Universe& u) const;
    // firstTwoMatches in two steps: without the rules whose source names the caller (what
    // every caller of its class but for its name gets, caller_classes.h: WalkFirsts), then
    // those rules laid over that answer. The second step costs only the targets the caller's
    // own rules name.
    FirstTwo firstTwoByClass(const std::string& service, const std::string& argument,
                             const Caller& caller, const Universe& u) const;
    // own: the rules naming the caller (rulesNaming), in policy order. Returns the highest
    // target index whose first or next rule they changed, if any. saved: each (target, first,
    // next) before a change, in order, to undo them in reverse.
    using Saved = std::vector<std::tuple<std::size_t, const Rule*, const Rule*>>;
    std::optional<std::size_t> addOwnRules(FirstTwo& byClass, const std::vector<const Rule*>& own,
                                           const Caller& caller, const Universe& u,
                                           Saved* saved = nullptr) const;
    // The rules of a service that apply to this argument and name a qube as their source, by
    // that qube, each list in policy order.
    std::map<std::size_t, std::vector<const Rule*>> rulesNaming(const std::string& service,
                                                                const std::string& argument) const;
    // The same for target ti alone (a class that shares another's walk redoes its @dispvm
    // target with it, caller_classes.h).
    std::pair<const Rule*, const Rule*> firstTwoFor(const std::string& service,
                                                    const std::string& argument,
                                                    const Caller& caller, const Universe& u,
                                                    std::size_t ti) const;

    // The ask list of a caller (Ask without target=) in two parts: the choices its rules name,
    // and whether a bare @dispvm is among them, which offers the caller's default_dispvm
    // (resolved last, so no deny of @dispvm:X removes it). Classes that differ only in
    // default_dispvm share the first part (rpc_edges.cpp).
    struct AskList {
        std::vector<Landing> named; // (disposable, qube) ascending
        bool dispvm = false;
    };
    AskList askList(const std::string& service, const std::string& argument, const Caller& caller,
                    const SourceRange* skip, bool keepSelf) const;

    // The rules of a service that match this argument and caller, in order.
    std::vector<const Rule*> forCaller(const std::string& service, const std::string& argument,
                                       const Caller& caller, const SourceRange* skip) const;
    bool targetMatches(const Token& t, const Caller& c, const Target& r) const;
    // targetMatches for target i of u, which t's index entry offers (or t is broad): asks
    // only where the index is not certain (TargetIndex::certain).
    bool matches(const Token& t, const Caller& c, const Universe& u, std::size_t i) const {
        return u.index.certain(t, i) || targetMatches(t, c, u.targets[i]);
    }

    // Every rule that matches the request, in order: the first decides, the rest it beats.
    std::vector<const Rule*> matching(const std::string& service, const std::string& argument,
                                      const Caller& caller, const Target& target) const;

    // Service names and, per service, argument values that some rule names.
    std::vector<std::string> services() const;
    std::vector<std::string> arguments(const std::string& service) const;
    const std::vector<Rule>& rules() const { return rules_; }

    // By qube id: whether a rule of the service names the qube as its source.
    std::vector<bool> namedSources(const std::string& service) const;
    // The rules of a service written for this argument alone (service+argument), in order.
    std::vector<const Rule*> rulesOnlyFor(const std::string& service,
                                          const std::string& argument) const;
    bool matchesSource(const Rule& r, const Caller& c) const { return sourceMatches(r.source, c); }
    std::optional<std::size_t> defaultDispvmOf(const Caller& c) const;
    const SystemQube& info(const Caller& c) const;
    const System& system() const { return system_; }
    // Tags by number (Token::tag): how many, and each qube's, ascending.
    std::size_t tagCount() const { return byTag_.size(); }
    const std::vector<std::size_t>& tagsOf(std::size_t qube) const { return tagsOf_[qube]; }

private:
    bool sourceMatches(const Token& t, const Caller& c) const;
    FirstTwo firstTwoOver(const std::vector<const Rule*>& rules, const Caller& caller,
                          const Universe& u) const;
    bool ruleApplies(const Rule& r, const std::string& service, const std::string& argument) const;
    std::vector<Landing> askTargets(const std::string& service, const std::string& argument,
                                    const Caller& caller, const SourceRange* skip,
                                    bool keepSelf) const;
    std::optional<Landing> resolve(const Token& t, const Caller& caller, std::string& why) const;
    std::optional<Landing> resolve(const Target& t, const Caller& caller, std::string& why) const;
    // The rules a service can match (its own and the '*' ones), in order: evaluation walks
    // these instead of every rule.
    const std::vector<const Rule*>& rulesFor(const std::string& service) const;

    const System& system_;
    std::vector<Rule> rules_;
    std::map<std::string, std::vector<const Rule*>, std::less<>> byService_;
    std::vector<const Rule*> starOnly_; // for services no rule names
    // Qubes by tag number and by type, for the ask list's expansion of @tag: and @type:
    // tokens; each qube's tag numbers, ascending.
    std::vector<std::vector<std::size_t>> byTag_, tagsOf_;
    std::map<std::string, std::vector<std::size_t>, std::less<>> byType_;
    // Each qube's type number, and that of "DispVM" (a disposable caller's type).
    std::vector<std::size_t> typeOf_;
    std::size_t dispvmType_ = 0;
    bool hasTag(std::size_t qube, const Token& t) const {
        return t.tag && std::binary_search(tagsOf_[qube].begin(), tagsOf_[qube].end(), *t.tag);
    }
};

template <class F> void TargetIndex::visit(const Token& t, F&& f) const {
    using K = Token::Kind;
    auto one = [&](std::size_t i) {
        if (i != kNone)
            f(i);
    };
    auto many = [&](const auto& map, const std::string& key) {
        auto it = map.find(key);
        if (it != map.end())
            for (std::size_t i : it->second)
                f(i);
    };
    auto tagged = [&](const std::vector<std::vector<std::size_t>>& byTag) {
        if (t.tag)
            for (std::size_t i : byTag[*t.tag])
                f(i);
    };
    auto at = [](const std::vector<std::size_t>& v, const std::optional<std::size_t>& q) {
        return q && *q < v.size() ? v[*q] : kNone;
    };
    switch (t.kind) {
    case K::Name:
        one(at(qube_, t.qube));
        if (t.qube == std::optional<std::size_t>(0))
            one(adminvm_);
        return;
    case K::Wildcard:
    case K::AnyVM:
        for (std::size_t i : all_)
            f(i);
        return;
    case K::AdminVM:
        one(at(qube_, 0));
        one(adminvm_);
        return;
    case K::Default:
        one(default_);
        return;
    case K::DispVM:
        one(dispvm_);
        return;
    case K::DispVMOf:
        one(at(dispvmOf_, t.qube));
        one(dispvm_); // the caller's default_dispvm may be this one
        return;
    case K::DispVMTag:
        tagged(dispvmByTag_);
        one(dispvm_);
        return;
    case K::Tag:
        tagged(byTag_);
        return;
    case K::Type:
        many(byType_, t.value);
        return;
    case K::Invalid:
        return;
    }
}

} // namespace bulkhead::analyzer::rpc
