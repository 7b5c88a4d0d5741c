#include "caller_classes.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace bulkhead::analyzer::rpc {

namespace {

// What sourceMatches and the @dispvm targets read of a caller. A named caller gets a key of
// its own (its index), so it is alone in its class.
using Key = std::tuple<std::size_t, bool, std::string, std::vector<std::string>,
                       std::optional<std::size_t>>;

class ClassKeys {
public:
    ClassKeys(const Evaluator& ev, const std::string& service, const Universe& u)
        : ev_(ev), u_(u), named_(ev.namedSources(service)) {
        // Only the tags and types some source of the service's rules names can make a rule
        // match one caller and not another: the rest of a caller's tags (and a type no rule
        // names) leave every decision as it is, so they stay out of the key.
        for (const Rule& r : ev.rules()) {
            if (r.service != service && r.service != "*")
                continue;
            if (r.source.kind == Token::Kind::Tag)
                tags_.insert(r.source.value);
            if (r.source.kind == Token::Kind::Type)
                types_.insert(r.source.value);
        }
    }

    // withName: a caller some rule names gets a key of its own.
    Key of(std::size_t i, bool withDefaultDispvm, bool withName = true) const {
        const Caller& c = u_.callers[i];
        const SystemQube& q = ev_.info(c);
        bool alone = withName && !c.disposable && named_[c.qube];
        std::string type = c.disposable ? std::string("DispVM") : q.type;
        if (!types_.count(type))
            type.clear();
        std::vector<std::string> relevant;
        std::copy_if(q.tags.begin(), q.tags.end(), std::back_inserter(relevant),
                     [&](const std::string& t) { return tags_.count(t) != 0; });
        return {alone ? i + 1 : 0, c.disposable, std::move(type), std::move(relevant),
                withDefaultDispvm ? ev_.defaultDispvmOf(c) : std::nullopt};
    }

private:
    const Evaluator& ev_;
    const Universe& u_;
    std::vector<bool> named_;
    std::set<std::string> tags_, types_;
};

} // namespace

std::vector<std::vector<std::size_t>> callerClasses(const Evaluator& ev, const std::string& service,
                                                    const Universe& u) {
    ClassKeys keys(ev, service, u);
    std::map<Key, std::size_t> classOf;
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t i = 0; i < u.callers.size(); ++i) {
        auto [it, fresh] = classOf.emplace(keys.of(i, true), out.size());
        if (fresh)
            out.emplace_back();
        out[it->second].push_back(i);
    }
    return out;
}

std::vector<std::size_t> sharedWalks(const Evaluator& ev, const std::string& service,
                                     const Universe& u,
                                     const std::vector<std::vector<std::size_t>>& classes) {
    ClassKeys keys(ev, service, u);
    std::map<Key, std::size_t> first;
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < classes.size(); ++k)
        out.push_back(first.emplace(keys.of(classes[k].front(), false), k).first->second);
    return out;
}

ArgumentRules::ArgumentRules(const Evaluator& ev, const std::string& service,
                             const std::string& argument)
    : ev_(ev), rules_(ev.rulesOnlyFor(service, argument)) {}

bool ArgumentRules::matter(const Caller& c) const {
    return std::any_of(rules_.begin(), rules_.end(),
                       [&](const Rule* r) { return ev_.matchesSource(*r, c); });
}

struct WalkFirsts::Keys {
    ClassKeys keys;
    std::map<Key, std::size_t> ids;
};

WalkFirsts::WalkFirsts(const Evaluator& ev, const std::string& service, const std::string& argument,
                       const Universe& u)
    : ev_(ev), service_(service), argument_(argument), u_(u),
      keys_(std::make_unique<Keys>(Keys{ClassKeys(ev, service, u), {}})),
      own_(ev.rulesNaming(service, argument)) {}

WalkFirsts::~WalkFirsts() = default;

Evaluator::FirstTwo WalkFirsts::of(std::size_t caller, Origin* origin) {
    Evaluator::FirstTwo out;
    visit(caller, [&](const Evaluator::FirstTwo& answer, const Origin& from) {
        out = answer;
        if (origin)
            *origin = from;
    });
    return out;
}

void WalkFirsts::visit(std::size_t caller,
                       const std::function<void(const Evaluator::FirstTwo&, const Origin&)>& f) {
    const Caller& c = u_.callers[caller];
    Origin from;
    if (!c.disposable && c.qube == 0) { // dom0 calls as @adminvm, which no key holds
        f(ev_.firstTwoMatches(service_, argument_, c, u_), from);
        return;
    }
    Key key = keys_->keys.of(caller, false, false);
    std::size_t id = keys_->ids.emplace(std::move(key), keys_->ids.size()).first->second;
    auto [it, fresh] = byKey_.try_emplace(id);
    if (fresh)
        it->second = ev_.firstTwoByClass(service_, argument_, c, u_);
    Evaluator::FirstTwo& answer = it->second;
    from.key = id;
    Evaluator::Saved saved;
    struct Undo { // the key's answer as it was, however f ends
        Evaluator::FirstTwo& answer;
        Evaluator::Saved& saved;
        ~Undo() {
            for (auto undo = saved.rbegin(); undo != saved.rend(); ++undo) {
                auto [ti, first, next] = *undo;
                answer.first[ti] = first;
                answer.next[ti] = next;
            }
        }
    } undo{answer, saved};
    // A disposable calls under a name no rule can know (caller_classes.h).
    if (auto named = own_.find(c.qube); !c.disposable && named != own_.end())
        from.ownUpTo = ev_.addOwnRules(answer, named->second, c, u_, &saved);
    // The key leaves default_dispvm out: the @dispvm target, the one that reads it, is
    // this caller's own.
    if (std::optional<std::size_t> dispvm = u_.index.dispvmTarget()) {
        saved.emplace_back(*dispvm, answer.first[*dispvm], answer.next[*dispvm]);
        std::tie(answer.first[*dispvm], answer.next[*dispvm]) =
            ev_.firstTwoFor(service_, argument_, c, u_, *dispvm);
    }
    f(answer, from);
}

} // namespace bulkhead::analyzer::rpc
