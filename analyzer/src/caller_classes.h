#pragma once
// Callers that Qubes' evaluation cannot tell apart for one service (docs/performance.md,
// "class edges"): the same disposable-ness and default_dispvm, the same tags and type among
// those some source of the service's rules names, and named as a source by no rule of it.
// Every rule matches all of a class or none of it, so its callers get the same decisions up
// to landing on themselves: Evaluator::outcome with keepSelf gives that common answer, from
// which each caller drops only its own node.
#include "rpc_eval.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bulkhead::analyzer::rpc {

// Indices into u.callers: each class ascending, classes in the order of their first caller.
std::vector<std::vector<std::size_t>> callerClasses(const Evaluator& ev, const std::string& service,
                                                    const Universe& u);

// For each class, the first class whose key differs from its own at most in default_dispvm.
// Only the @dispvm target reads a caller's default_dispvm when rules are matched, so such
// classes have the same first matches for every other target: one walk serves them all,
// and each class redoes the @dispvm target alone (Evaluator::firstTwoFor).
std::vector<std::size_t> sharedWalks(const Evaluator& ev, const std::string& service,
                                     const Universe& u,
                                     const std::vector<std::vector<std::size_t>>& classes);

// A service's rules written for one argument alone (service+argument). A caller none of them
// matches as a source is decided for that argument exactly as for an argument no rule names
// (""): every evaluation keeps the rules that apply to the argument and match the caller as
// a source, so it reads the same rules in the same order. Most callers of a generated or real
// policy are such callers for most arguments: their walks are the "" ones (rpc_edges.cpp,
// rule_analysis.cpp).
class ArgumentRules {
public:
    ArgumentRules(const Evaluator& ev, const std::string& service, const std::string& argument);
    // Whether the caller may be decided otherwise than for "".
    bool matter(const Caller& c) const;

private:
    const Evaluator& ev_;
    std::vector<const Rule*> rules_;
};

// The deciding rules (Evaluator::FirstTwo) for the representatives of the walks of one service
// and argument. Most walks are of callers some rule names, each alone in its class; without
// its name, such a caller is matched like every caller of the same key: the matches of that
// key are walked once, and each caller lays only its own rules over them.
class WalkFirsts {
public:
    WalkFirsts(const Evaluator& ev, const std::string& service, const std::string& argument,
               const Universe& u);
    ~WalkFirsts();
    // Where a caller's answer comes from: its key's (an id per key of this service and
    // argument), with the caller's own rules laid over it up to target `ownUpTo` (the highest
    // index they changed, if any) and its own @dispvm target. Callers with the same key get
    // the same deciding and next rules past both. dom0 has no key.
    struct Origin {
        std::optional<std::size_t> key;
        std::optional<std::size_t> ownUpTo;
    };
    // caller: an index into u.callers.
    Evaluator::FirstTwo of(std::size_t caller, Origin* origin = nullptr);
    // f(answer, origin) with the caller's answer made in place over its key's and undone
    // after: no copy of the key's answer, which is as long as the targets (rpc_edges.cpp asks
    // for every named caller's). f must not keep the reference.
    void visit(std::size_t caller,
               const std::function<void(const Evaluator::FirstTwo&, const Origin&)>& f);

private:
    struct Keys;
    const Evaluator& ev_;
    std::string service_, argument_;
    const Universe& u_;
    std::unique_ptr<Keys> keys_;
    std::map<std::size_t, Evaluator::FirstTwo> byKey_;    // by key without the name (Keys::ids)
    std::map<std::size_t, std::vector<const Rule*>> own_; // Evaluator::rulesNaming
};

} // namespace bulkhead::analyzer::rpc
