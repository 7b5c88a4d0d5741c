#pragma once
// qrexec policy evaluation exactly as Qubes' policy daemon does it
// (research/qubes-formats.md §1.4-1.8): tokens, first match, redirects, ask target lists.
#include "bulkhead/analyzer/analyzer.h"

#include <map>
#include <optional>
#include <string>
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
};

// A caller: a qube, or a disposable of a dispvm template (calls under its own disp name).
struct Caller {
    std::size_t qube = 0;
    bool disposable = false;
};

// Every class of request worth asking: each service some rule names and one that none names
// (""), likewise for arguments, from every caller (qubes but dom0, and disposables of each
// dispvm-template) to every target (each qube, @adminvm, @default, @dispvm, @dispvm:X).
struct Universe {
    std::vector<Caller> callers;
    std::vector<Target> targets;
    std::vector<std::pair<std::string, std::vector<std::string>>> services; // with arguments
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

    // The same for every target at once: the rules are filtered by caller once and the ask
    // list computed once (it does not depend on the target).
    std::vector<Decision> evaluateAll(const std::string& service, const std::string& argument,
                                      const Caller& caller, const std::vector<Target>& targets,
                                      const SourceRange* skip = nullptr) const;

    // matching() for every target at once, the rules filtered by caller once.
    std::vector<std::vector<const Rule*>> matchingAll(const std::string& service,
                                                      const std::string& argument,
                                                      const Caller& caller,
                                                      const std::vector<Target>& targets) const;

    // Every rule that matches the request, in order: the first decides, the rest it beats.
    std::vector<const Rule*> matching(const std::string& service, const std::string& argument,
                                      const Caller& caller, const Target& target) const;

    // Service names and, per service, argument values that some rule names.
    std::vector<std::string> services() const;
    std::vector<std::string> arguments(const std::string& service) const;
    const std::vector<Rule>& rules() const { return rules_; }

private:
    bool sourceMatches(const Token& t, const Caller& c) const;
    bool targetMatches(const Token& t, const Caller& c, const Target& r) const;
    bool ruleApplies(const Rule& r, const std::string& service, const std::string& argument) const;
    std::vector<Landing> askTargets(const std::string& service, const std::string& argument,
                                    const Caller& caller, const SourceRange* skip) const;
    std::optional<Landing> resolve(const Token& t, const Caller& caller, std::string& why) const;
    std::optional<Landing> resolve(const Target& t, const Caller& caller, std::string& why) const;
    const SystemQube& info(const Caller& c) const;
    // The rules of a service that match this argument and caller, in order.
    std::vector<const Rule*> forCaller(const std::string& service, const std::string& argument,
                                       const Caller& caller, const SourceRange* skip) const;
    Decision decide(const std::vector<const Rule*>& candidates, const std::string& service,
                    const std::string& argument, const Caller& caller, const Target& target,
                    const SourceRange* skip, std::optional<std::vector<Landing>>& askCache) const;
    std::optional<std::size_t> defaultDispvmOf(const Caller& c) const;

    // The rules a service can match (its own and the '*' ones), in order: evaluation walks
    // these instead of every rule.
    const std::vector<const Rule*>& rulesFor(const std::string& service) const;

    const System& system_;
    std::vector<Rule> rules_;
    std::map<std::string, std::vector<const Rule*>, std::less<>> byService_;
    std::vector<const Rule*> starOnly_; // for services no rule names
};

} // namespace bulkhead::analyzer::rpc
