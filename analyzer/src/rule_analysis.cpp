#include "rule_analysis.h"

#include "caller_classes.h"
#include "flow_index.h"

#include <algorithm>
#include <map>
#include <set>

namespace bulkhead::analyzer {
namespace {

std::string callerName(const rpc::System& sys, const rpc::Caller& c) {
    return c.disposable ? "a disposable of " + sys.qubes[c.qube].name : sys.qubes[c.qube].name;
}

std::string targetName(const rpc::System& sys, const rpc::Target& t) {
    switch (t.kind) {
    case rpc::Target::Kind::Qube:
        return sys.qubes[t.qube].name;
    case rpc::Target::Kind::AdminVM:
        return "@adminvm";
    case rpc::Target::Kind::Default:
        return "@default";
    case rpc::Target::Kind::DispVM:
        return "@dispvm";
    case rpc::Target::Kind::DispVMOf:
        return "@dispvm:" + sys.qubes[t.qube].name;
    }
    return "?";
}

std::string actionText(rpc::Rule::Action a) {
    return a == rpc::Rule::Action::Allow ? "allow" : a == rpc::Rule::Action::Ask ? "ask" : "deny";
}

// What we learn about one line of the policy while walking every request.
struct Facts {
    std::optional<std::string> matchedExample;
    bool exampleIsLoopback = false;
    bool decides = false;
    bool changesSomething = false;
    // The rules that decide its requests instead: only the first few (by place in the
    // policy), which are all the report names, so a broad line does not collect hundreds.
    std::set<SourceRange> coveredBy;
    bool coveredBySameAction = true;
    std::optional<std::pair<std::string, SourceRange>> overridden; // example, earlier rule
    // Bookkeeping of classView: the view it was last seen in, and its place there.
    std::size_t seenView = SIZE_MAX, viewIndex = 0;
};

constexpr std::size_t kCoversShown = 3;

void coveredBy(Facts& x, const SourceRange& by) {
    // Asked for every target a line names: most calls change nothing, so look first.
    if (x.coveredBy.size() == kCoversShown && !(by < *x.coveredBy.rbegin()))
        return;
    if (x.coveredBy.count(by))
        return;
    x.coveredBy.insert(by);
    if (x.coveredBy.size() > kCoversShown)
        x.coveredBy.erase(std::prev(x.coveredBy.end()));
}

// One policy line as one class of callers sees it, for the facts that name a caller.
struct RuleView {
    static constexpr std::size_t kNone = SIZE_MAX;
    Facts* facts = nullptr;
    std::size_t firstTargets[2] = {kNone, kNone}; // the first two targets it matches
    std::size_t overriddenAt = kNone;             // the first target another action decides
    SourceRange overriddenBy;

    void sawTarget(std::size_t ti) {
        if (ti == firstTargets[0] || ti == firstTargets[1])
            return;
        if (ti < firstTargets[0]) {
            firstTargets[1] = firstTargets[0];
            firstTargets[0] = ti;
        } else if (ti < firstTargets[1]) {
            firstTargets[1] = ti;
        }
    }
    void overriddenHere(std::size_t ti, const SourceRange& by) {
        if (ti < overriddenAt) {
            overriddenAt = ti;
            overriddenBy = by;
        }
    }
};
struct ClassView {
    std::vector<RuleView> rules; // the lines it matches
};

// What a caller's own request would be decided as, from the decision of its class
// (Evaluator::outcome with keepSelf): it never lands on itself.
rpc::Decision forCaller(rpc::Decision d, const rpc::Caller& c) {
    if (d.result == rpc::Decision::Result::Deny || c.disposable)
        return d;
    std::erase(d.landings, rpc::Landing{false, c.qube});
    if (d.landings.empty())
        d.result = rpc::Decision::Result::Deny;
    return d;
}

bool sameDecision(const rpc::Decision& a, const rpc::Decision& b) {
    return a.result == b.result && a.landings == b.landings;
}

// Whether some caller of the class would see the request to target ti decided otherwise
// without line m (which decides it): the next matching line decides it then, with m left
// out of the ask list too. The ask lists of the class are computed once.
bool changes(const rpc::Evaluator& ev, const rpc::Universe& u, const std::string& service,
             const std::string& arg, const std::vector<std::size_t>& members, std::size_t ti,
             const rpc::Rule* m, const rpc::Rule* next,
             std::optional<std::vector<rpc::Landing>>& withAsk,
             std::optional<std::vector<rpc::Landing>>& withoutAsk) {
    const rpc::Caller& rep = u.callers[members.front()];
    const rpc::Target& t = u.targets[ti];
    rpc::Decision with = ev.outcome(m, service, arg, rep, t, nullptr, withAsk, true);
    rpc::Decision without = ev.outcome(next, service, arg, rep, t, &m->range, withoutAsk, true);
    if (sameDecision(with, without))
        return false;
    // A caller that is in neither decision's landings sees them as they are.
    for (std::size_t i : members) {
        const rpc::Caller& c = u.callers[i];
        rpc::Landing self{false, c.qube};
        auto in = [&](const rpc::Decision& d) {
            return std::find(d.landings.begin(), d.landings.end(), self) != d.landings.end();
        };
        if (c.disposable || (!in(with) && !in(without)) ||
            !sameDecision(forCaller(with, c), forCaller(without, c)))
            return true;
    }
    return false;
}

// What a broad target (* or @anyvm, which match every target, or every target but dom0)
// sees of the deciding rules, so that such a line costs the summary, not every target.
struct BroadSummary {
    std::size_t firstTargets[2] = {RuleView::kNone, RuleView::kNone};
    std::vector<SourceRange> deciders; // the smallest kCoversShown + 1 distinct, ascending
    // By action: the first target whose deciding rule has another action, and that rule.
    std::size_t otherAction[3] = {RuleView::kNone, RuleView::kNone, RuleView::kNone};
    SourceRange otherBy[3];
};

std::size_t actionIndex(rpc::Rule::Action a) {
    return a == rpc::Rule::Action::Allow ? 0 : a == rpc::Rule::Action::Ask ? 1 : 2;
}

// The summary of the deciding rules of the given targets (ascending), each decided.
class Summary {
public:
    void add(std::size_t ti, const rpc::Rule& d) {
        if (seen_ < 2)
            out_.firstTargets[seen_++] = ti;
        // Most targets change nothing once the list is full and every action has its
        // first other: look before searching (asked for every target of a token).
        bool full = out_.deciders.size() == kCoversShown + 1;
        if (!full || d.range < out_.deciders.back()) {
            auto at = std::lower_bound(out_.deciders.begin(), out_.deciders.end(), d.range);
            if ((at == out_.deciders.end() || *at != d.range) &&
                (!full || at != out_.deciders.end())) {
                out_.deciders.insert(at, d.range);
                if (out_.deciders.size() > kCoversShown + 1)
                    out_.deciders.pop_back();
            }
        }
        if (othersDone_ == 3)
            return;
        for (std::size_t a = 0; a < 3; ++a)
            if (out_.otherAction[a] == RuleView::kNone && actionIndex(d.action) != a) {
                out_.otherAction[a] = ti;
                out_.otherBy[a] = d.range;
                ++othersDone_;
            }
    }
    const BroadSummary& get() const { return out_; }

private:
    BroadSummary out_;
    std::size_t seen_ = 0, othersDone_ = 0;
};

// For * (withDom0) or @anyvm: targets [begin, end) that some rule decides.
BroadSummary summarize(const rpc::Universe& u, const std::vector<const rpc::Rule*>& first,
                       bool withDom0, std::size_t begin, std::size_t end) {
    using T = rpc::Target::Kind;
    Summary s;
    for (std::size_t ti = begin; ti < end; ++ti) {
        const rpc::Target& t = u.targets[ti];
        bool dom0 = (t.kind == T::Qube && t.qube == 0) || t.kind == T::AdminVM;
        if ((dom0 && !withDom0) || !first[ti])
            continue;
        s.add(ti, *first[ti]);
    }
    return s.get();
}

// For a token that matches exactly these targets (ascending) for every caller.
BroadSummary summarizeOver(const std::vector<const rpc::Rule*>& first,
                           const std::vector<std::size_t>& targets) {
    Summary s;
    for (std::size_t ti : targets)
        s.add(ti, *first[ti]); // the token's own line matches it: some rule decides
    return s.get();
}

// The summary of targets [0, k) followed by that of [k, n): what summarize() gives for [0, n).
BroadSummary joined(const BroadSummary& head, const BroadSummary& tail) {
    BroadSummary out = head;
    for (std::size_t ti : tail.firstTargets)
        if (ti != RuleView::kNone && out.firstTargets[1] == RuleView::kNone)
            out.firstTargets[out.firstTargets[0] == RuleView::kNone ? 0 : 1] = ti;
    for (const SourceRange& r : tail.deciders)
        if (!std::binary_search(out.deciders.begin(), out.deciders.end(), r))
            out.deciders.insert(std::lower_bound(out.deciders.begin(), out.deciders.end(), r), r);
    if (out.deciders.size() > kCoversShown + 1)
        out.deciders.resize(kCoversShown + 1);
    for (std::size_t a = 0; a < 3; ++a)
        if (out.otherAction[a] == RuleView::kNone) {
            out.otherAction[a] = tail.otherAction[a];
            out.otherBy[a] = tail.otherBy[a];
        }
    return out;
}

// Whether the decision of rule r reads the caller's default_dispvm: a redirect to @dispvm, or
// an ask list (a bare @dispvm in it offers the caller's own default disposable).
bool readsOwnDispvm(const rpc::Rule* r) {
    if (!r || r->action == rpc::Rule::Action::Deny)
        return false;
    if (r->redirect)
        return r->redirect->kind == rpc::Token::Kind::DispVM;
    return r->action == rpc::Rule::Action::Ask;
}

// Facts::changesSomething for the lines that decide a class's requests. Decisions that do
// not depend on the target repeat: the answer is remembered by (deciding rule, next rule),
// and the class's ask lists are computed once.
class Changes {
public:
    Changes(const rpc::Evaluator& ev, const rpc::Universe& u, const std::string& service,
            const std::string& arg, const std::vector<std::size_t>& members)
        : ev_(ev), u_(u), service_(service), arg_(arg), members_(members) {}

    // m decides target ti, next would without m's line.
    void at(std::size_t ti, const rpc::Rule* m, const rpc::Rule* next, Facts& f) {
        if (f.changesSomething)
            return;
        auto perTarget = [](const rpc::Rule* r) {
            return r && r->action == rpc::Rule::Action::Allow && !r->redirect;
        };
        bool memoable = !perTarget(m) && !perTarget(next);
        if (memoable)
            if (auto it = memo_.find({m, next}); it != memo_.end()) {
                f.changesSomething = it->second;
                return;
            }
        bool known = changes(ev_, u_, service_, arg_, members_, ti, m, next, withAsk_,
                             withoutAsk_[m->range]);
        if (memoable)
            memo_.emplace(std::make_pair(m, next), known);
        f.changesSomething = known;
    }

private:
    const rpc::Evaluator& ev_;
    const rpc::Universe& u_;
    const std::string& service_;
    const std::string& arg_;
    const std::vector<std::size_t>& members_;
    std::map<std::pair<const rpc::Rule*, const rpc::Rule*>, bool> memo_;
    std::optional<std::vector<rpc::Landing>> withAsk_;
    std::map<SourceRange, std::optional<std::vector<rpc::Landing>>> withoutAsk_;
};

// Adds what a line sees of the targets it matches to a view: its first targets, the rules
// that decide them instead (Facts::coveredBy), and where another action overrides it.
class ViewBuilder {
public:
    // Lines already in the view carry `inherited` as their Facts::seenView (or none).
    ViewBuilder(ClassView& view, std::size_t serial, std::size_t inherited)
        : view_(view), serial_(serial), inherited_(inherited) {}

    // Line x (through its expansion r) matches target ti, which rule d decides.
    void target(Facts& x, const rpc::Rule& r, std::size_t ti, const rpc::Rule& d) {
        RuleView& v = viewOf(x);
        v.sawTarget(ti);
        if (d.range == r.range)
            return;
        coveredBy(x, d.range);
        if (d.action != r.action) {
            x.coveredBySameAction = false;
            v.overriddenHere(ti, d.range);
        }
    }
    // Line x (through r) names every target (* or @anyvm), whose deciding rules b sums up.
    void broad(Facts& x, const rpc::Rule& r, const BroadSummary& b) {
        if (b.firstTargets[0] == RuleView::kNone)
            return;
        RuleView& v = viewOf(x);
        v.sawTarget(b.firstTargets[0]);
        if (b.firstTargets[1] != RuleView::kNone)
            v.sawTarget(b.firstTargets[1]);
        for (const SourceRange& by : b.deciders)
            if (by != r.range)
                coveredBy(x, by);
        std::size_t a = actionIndex(r.action);
        if (b.otherAction[a] != RuleView::kNone) {
            x.coveredBySameAction = false;
            v.overriddenHere(b.otherAction[a], b.otherBy[a]);
        }
    }

private:
    RuleView& viewOf(Facts& x) {
        if (x.seenView != serial_ && x.seenView != inherited_) {
            x.seenView = serial_;
            x.viewIndex = view_.rules.size();
            view_.rules.push_back(
                RuleView{&x, {RuleView::kNone, RuleView::kNone}, RuleView::kNone, {}});
        }
        return view_.rules[x.viewIndex];
    }

    ClassView& view_;
    std::size_t serial_, inherited_;
};

Facts* factsFor(const rpc::Evaluator& ev, const std::vector<Facts*>& factsOf, const rpc::Rule* r) {
    return factsOf[static_cast<std::size_t>(r - ev.rules().data())];
}

// For each of the rules that is a line of the policy (not of the baseline): broad(facts, r,
// all) when its target is * (all) or @anyvm, named(facts, r) otherwise.
template <class Broad, class Named>
void eachLine(const rpc::Evaluator& ev, const std::vector<const rpc::Rule*>& rules,
              const std::vector<Facts*>& factsOf, Broad&& broad, Named&& named) {
    for (const rpc::Rule* r : rules) {
        Facts* f = factsFor(ev, factsOf, r);
        if (!f)
            continue;
        if (rpc::TargetIndex::broad(r->target))
            broad(*f, *r, r->target.kind == rpc::Token::Kind::Wildcard);
        else
            named(*f, *r);
    }
}

// What the classes of one shared walk (caller_classes.h) have in common: they differ only in
// default_dispvm, which only the targets up to @dispvm (they come first) and the decisions
// that read it (readsOwnDispvm) see. The rest is taken once, for all their callers.
struct Walk {
    rpc::Evaluator::FirstTwo ft;          // of its first class
    std::vector<const rpc::Rule*> rules;  // the rules that match its callers, in order
    std::size_t split = 0;                // targets [0, split) are each class's own
    ClassView view;                       // of targets [split, n)
    std::size_t serial = 0;               // Facts::seenView of the lines in view
    std::optional<BroadSummary> broad[2]; // of targets [split, n): without dom0, with it
    std::vector<std::size_t> ownDispvm;   // targets after split whose decisions read it
};

// What the walks of callers of one key share when their own rules change nothing past
// @dispvm (WalkFirsts::Origin): the same deciding and next rules there, so the same summaries
// and the same targets whose decisions read default_dispvm; and a target whose deciding line
// is known to change something need not be asked again (Facts only ever learn more).
struct SharedWalk {
    bool ready = false;
    std::vector<std::size_t> ownDispvm;
    std::vector<std::uint32_t> pending; // targets past @dispvm whose line may change nothing
    std::optional<BroadSummary> broad[2];
    std::map<std::pair<rpc::Token::Kind, std::size_t>, BroadSummary> byToken;
};

// The deciding rules of one service and argument, and what the walks of each key share.
struct ArgumentWalks {
    ArgumentWalks(const rpc::Evaluator& ev, const std::string& service, const std::string& arg,
                  const rpc::Universe& u)
        : firsts(ev, service, arg, u) {}
    rpc::WalkFirsts firsts;
    std::map<std::size_t, SharedWalk> shared; // by WalkFirsts::Origin::key
};

// Facts::decides and Facts::changesSomething of the lines deciding targets past @dispvm.
void decidingLines(const rpc::Evaluator& ev, const rpc::Universe& u, Walk& w,
                   const std::vector<Facts*>& factsOf, Changes& changes, SharedWalk* shared) {
    if (shared && shared->ready) {
        w.ownDispvm = shared->ownDispvm;
        auto settled = [&](std::size_t ti) {
            const rpc::Rule* m = w.ft.first[ti];
            Facts& f = *factsFor(ev, factsOf, m);
            changes.at(ti, m, w.ft.next[ti], f);
            return f.changesSomething;
        };
        std::erase_if(shared->pending, settled);
        return;
    }
    for (std::size_t ti = w.split; ti < u.targets.size(); ++ti) {
        const rpc::Rule* m = w.ft.first[ti];
        Facts* f = m ? factsFor(ev, factsOf, m) : nullptr;
        if (!f)
            continue; // no rule, or a baseline line
        f->decides = true;
        if (readsOwnDispvm(m) || readsOwnDispvm(w.ft.next[ti])) {
            w.ownDispvm.push_back(ti);
            continue;
        }
        changes.at(ti, m, w.ft.next[ti], *f);
        if (shared && !f->changesSomething)
            shared->pending.push_back(static_cast<std::uint32_t>(ti));
    }
    if (shared) {
        shared->ownDispvm = w.ownDispvm;
        shared->ready = true;
    }
}

// members: the callers of every class of the walk, its first class's first.
Walk walkView(const rpc::Evaluator& ev, const rpc::Universe& u, const std::string& service,
              const std::string& arg, const std::vector<std::size_t>& members, ArgumentWalks& walks,
              const std::vector<Facts*>& factsOf, std::size_t serial) {
    Walk w;
    const rpc::Caller& rep = u.callers[members.front()];
    rpc::WalkFirsts::Origin origin;
    w.ft = walks.firsts.of(members.front(), &origin);
    w.rules = ev.forCaller(service, arg, rep, nullptr);
    if (auto dispvm = u.index.dispvmTarget())
        w.split = *dispvm + 1;
    w.serial = serial;
    SharedWalk* shared = nullptr;
    if (origin.key && (!origin.ownUpTo || *origin.ownUpTo < w.split))
        shared = &walks.shared[*origin.key];
    Changes changes(ev, u, service, arg, members);
    decidingLines(ev, u, w, factsOf, changes, shared);
    ViewBuilder add(w.view, serial, serial);
    // A @tag: or @type: target matches the same qubes for every caller: the lines that name
    // one share the summary of its deciding rules, as broad targets do.
    std::map<std::pair<rpc::Token::Kind, std::size_t>, BroadSummary> ownTokens;
    auto& byToken = shared ? shared->byToken : ownTokens;
    eachLine(
        ev, w.rules, factsOf,
        [&](Facts& f, const rpc::Rule& r, bool all) {
            if (!w.broad[all] && shared && shared->broad[all])
                w.broad[all] = shared->broad[all];
            if (!w.broad[all]) {
                w.broad[all] = summarize(u, w.ft.first, all, w.split, u.targets.size());
                if (shared)
                    shared->broad[all] = w.broad[all];
            }
            add.broad(f, r, *w.broad[all]);
        },
        [&](Facts& f, const rpc::Rule& r) {
            const rpc::Token& t = r.target;
            std::optional<std::size_t> number = t.kind == rpc::Token::Kind::Tag    ? t.tag
                                                : t.kind == rpc::Token::Kind::Type ? t.type
                                                                                   : std::nullopt;
            if (number) {
                auto [it, fresh] = byToken.try_emplace({t.kind, *number});
                if (fresh) {
                    std::vector<std::size_t> targets;
                    u.index.visit(t, [&](std::size_t ti) { targets.push_back(ti); });
                    it->second = summarizeOver(w.ft.first, targets);
                }
                add.broad(f, r, it->second);
                return;
            }
            u.index.visit(t, [&](std::size_t ti) {
                if (ti >= w.split && ev.matches(t, rep, u, ti))
                    add.target(f, r, ti, *w.ft.first[ti]); // r matches: some rule decides
            });
        });
    return w;
}

// The view of one class of walk w: the walk's, with the targets up to @dispvm and the
// decisions that read default_dispvm taken for this class. The facts every caller of the
// class shares (decides, covered by, changes something) go straight into facts; the rest is
// kept per line for each caller's examples.
ClassView classView(const rpc::Evaluator& ev, const rpc::Universe& u, const std::string& service,
                    const std::string& arg, const Walk& w, const std::vector<std::size_t>& members,
                    bool walksFirst, const std::vector<Facts*>& factsOf, std::size_t serial) {
    const rpc::Caller& rep = u.callers[members.front()];
    std::vector<const rpc::Rule*> first(w.ft.first.begin(),
                                        w.ft.first.begin() + static_cast<std::ptrdiff_t>(w.split));
    std::vector<const rpc::Rule*> next(w.ft.next.begin(),
                                       w.ft.next.begin() + static_cast<std::ptrdiff_t>(w.split));
    if (!walksFirst && w.split)
        std::tie(first[w.split - 1], next[w.split - 1]) =
            ev.firstTwoFor(service, arg, rep, u, w.split - 1);

    Changes changes(ev, u, service, arg, members);
    for (std::size_t ti = 0; ti < w.split; ++ti)
        if (Facts* f = first[ti] ? factsFor(ev, factsOf, first[ti]) : nullptr) {
            f->decides = true;
            changes.at(ti, first[ti], next[ti], *f);
        }
    for (std::size_t ti : w.ownDispvm)
        changes.at(ti, w.ft.first[ti], w.ft.next[ti], *factsFor(ev, factsOf, w.ft.first[ti]));

    ClassView view = w.view;
    ViewBuilder add(view, serial, w.serial);
    eachLine(
        ev, w.rules, factsOf,
        [&](Facts& f, const rpc::Rule& r, bool all) {
            add.broad(f, r, joined(summarize(u, first, all, 0, w.split), *w.broad[all]));
        },
        [&](Facts& f, const rpc::Rule& r) {
            for (std::size_t ti = 0; ti < w.split; ++ti)
                if (ev.targetMatches(r.target, rep, u.targets[ti]))
                    add.target(f, r, ti, *first[ti]);
        });
    return view;
}

} // namespace

void analyzeRpcRules(const model::Policy& policy, const Built& built, DiagnosticSink& sink) {
    const rpc::Evaluator& ev = *built.evaluator;
    const rpc::System& sys = built.system;
    std::map<SourceRange, Facts> facts; // the policy's own rules, by line
    std::map<SourceRange, rpc::Rule::Action> actionOf;
    for (const model::RpcRule& r : policy.rpcRules)
        facts.emplace(r.range, Facts{});
    for (const rpc::Rule& r : ev.rules())
        actionOf.emplace(r.range, r.action);

    std::vector<Facts*> factsOf(ev.rules().size(), nullptr); // by rule index
    for (std::size_t i = 0; i < ev.rules().size(); ++i)
        if (auto f = facts.find(ev.rules()[i].range); f != facts.end())
            factsOf[i] = &f->second;
    std::size_t serial = 0; // of the class views, for Facts' bookkeeping

    rpc::Universe u = rpc::universeOf(sys, ev);
    for (const auto& entry : u.services) {
        // Named, not a structured binding: lambdas below capture it (clang 14 refuses that).
        const std::string& service = entry.first;
        const std::vector<std::string>& args = entry.second;
        // Callers of one class are matched by the same rules for every target
        // (caller_classes.h): the matches are walked once per class, and only what names the
        // caller (the examples) is taken per caller, in the order Qubes' requests come.
        std::vector<std::vector<std::size_t>> classes = rpc::callerClasses(ev, service, u);
        std::vector<std::size_t> shared = rpc::sharedWalks(ev, service, u, classes);
        std::vector<std::size_t> classOf(u.callers.size());
        for (std::size_t k = 0; k < classes.size(); ++k)
            for (std::size_t i : classes[k])
                classOf[i] = k;
        // One walk per shared class (caller_classes.h), then the view of each of its classes;
        // what they add to facts does not depend on the order, and adding it twice changes
        // nothing.
        std::map<std::size_t, std::vector<std::size_t>> walks;
        for (std::size_t k = 0; k < classes.size(); ++k)
            walks[shared[k]].push_back(k);
        auto viewsOf = [&](const std::string& arg, std::size_t walked,
                           const std::vector<std::size_t>& ks, ArgumentWalks& argWalks,
                           std::vector<ClassView>& views) {
            std::vector<std::size_t> members;
            for (std::size_t k : ks)
                members.insert(members.end(), classes[k].begin(), classes[k].end());
            Walk w = walkView(ev, u, service, arg, members, argWalks, factsOf, serial++);
            for (std::size_t k : ks)
                views[k] =
                    classView(ev, u, service, arg, w, classes[k], k == walked, factsOf, serial++);
        };
        // The views for an argument no rule names, which every argument whose own rules do not
        // reach a walk shares (caller_classes.h, ArgumentRules): by class, when first needed.
        std::vector<ClassView> common(classes.size());
        std::vector<bool> commonDone(classes.size(), false);
        std::optional<ArgumentWalks> commonWalks;
        for (const std::string& arg : args) {
            rpc::ArgumentRules own(ev, service, arg);
            std::optional<ArgumentWalks> argWalks;
            std::vector<ClassView> fresh(classes.size());
            std::vector<const ClassView*> viewOf(classes.size());
            for (const auto& [walked, ks] : walks) {
                bool matter = std::any_of(ks.begin(), ks.end(), [&](std::size_t k) {
                    return own.matter(u.callers[classes[k].front()]);
                });
                if (matter) {
                    if (!argWalks)
                        argWalks.emplace(ev, service, arg, u);
                    viewsOf(arg, walked, ks, *argWalks, fresh);
                } else if (!commonDone[walked]) {
                    if (!commonWalks)
                        commonWalks.emplace(ev, service, "", u);
                    viewsOf("", walked, ks, *commonWalks, common);
                    commonDone[walked] = true;
                }
                for (std::size_t k : ks)
                    viewOf[k] = matter ? &fresh[k] : &common[k];
            }
            // The lines of each class's view that its callers can still learn from.
            std::vector<std::vector<const RuleView*>> live(classes.size());
            std::vector<bool> started(classes.size(), false);
            for (std::size_t ci = 0; ci < u.callers.size(); ++ci) {
                std::size_t k = classOf[ci];
                if (!started[k]) {
                    for (const RuleView& r : viewOf[k]->rules)
                        live[k].push_back(&r);
                    started[k] = true;
                }
                const rpc::Caller& c = u.callers[ci];
                auto request = [&](std::size_t ti) {
                    return (service.empty() ? "any other service" : service) + arg + " from " +
                           callerName(sys, c) + " to " + targetName(sys, u.targets[ti]);
                };
                // A call to itself makes a poor example: prefer any other.
                auto loopback = [&](std::size_t ti) {
                    const rpc::Target& t = u.targets[ti];
                    return !c.disposable && t.kind == rpc::Target::Kind::Qube && t.qube == c.qube;
                };
                for (const RuleView* line : live[k]) {
                    const RuleView& r = *line;
                    Facts& x = *r.facts;
                    std::size_t example =
                        loopback(r.firstTargets[0]) && r.firstTargets[1] != RuleView::kNone
                            ? r.firstTargets[1]
                            : r.firstTargets[0];
                    bool exampleLoops = loopback(example);
                    if (!x.matchedExample || (x.exampleIsLoopback && !exampleLoops)) {
                        x.matchedExample = request(example);
                        x.exampleIsLoopback = exampleLoops;
                    }
                    if (!x.overridden && r.overriddenAt != RuleView::kNone)
                        x.overridden = std::make_pair(request(r.overriddenAt), r.overriddenBy);
                }
                // A line with an example that is not a loopback, and its override if it
                // has one, learns nothing from the class's other callers.
                std::erase_if(live[k], [](const RuleView* r) {
                    const Facts& x = *r->facts;
                    return x.matchedExample && !x.exampleIsLoopback &&
                           (x.overridden || r->overriddenAt == RuleView::kNone);
                });
            }
        }
    }

    for (const model::RpcRule& r : policy.rpcRules) {
        const Facts& x = facts.at(r.range);
        std::string action = actionText(actionOf.at(r.range));
        if (!x.matchedExample) {
            sink.report(DiagCode::RuleNeverMatches, r.range,
                        "this rule matches no request in this system")
                .hint("its sources or targets name nothing that exists (a tag no qube has, a "
                      "@dispvm: source, a caller that is also the only target)");
            continue;
        }
        if (!x.decides) {
            DiagCode code =
                x.coveredBySameAction ? DiagCode::RuleShadowedSame : DiagCode::RuleShadowed;
            auto d = sink.report(
                code, r.range,
                std::string("this rule never decides anything: earlier rules ") +
                    (x.coveredBySameAction ? "with the same action" : "with another action") +
                    " decide every request it matches, for example " + *x.matchedExample);
            std::size_t shown = 0;
            for (const SourceRange& by : x.coveredBy)
                if (shown++ < 3)
                    d.note(by, "decided here (" + actionText(actionOf.at(by)) + ")");
            d.hint(x.coveredBySameAction ? "remove it, or move it above the rules that cover it"
                                         : "move it above the rules that cover it, or remove it");
            continue;
        }
        if (x.overridden)
            sink.report(DiagCode::RulePartlyOverridden, r.range,
                        "an earlier rule with another action decides part of what this " + action +
                            " matches, for example " + x.overridden->first)
                .note(x.overridden->second,
                      "decided here (" + actionText(actionOf.at(x.overridden->second)) + ")");
        if (!x.changesSomething)
            sink.report(DiagCode::RuleRedundant, r.range,
                        "removing this rule changes no decision: the rules after it (Qubes' "
                        "defaults included) decide every request the same, for example " +
                            *x.matchedExample);
    }
}

void analyzeNetFlows(const model::Policy& policy, const Built& built, DiagnosticSink& sink) {
    PacketSpace& packets = *built.packets;
    auto nodesOf = [&](const std::vector<model::Endpoint>& list) {
        return packets.flows().nodesOf(list);
    };
    for (const model::NetFlow& f : policy.flows) {
        std::vector<NodeId> from = nodesOf(f.from), to = nodesOf(f.to);
        bool permits = false, adds = false, removes = false;
        for (NodeId a : from)
            for (NodeId b : to) {
                if (a == b)
                    continue;
                if (f.verdict == model::Verdict::Deny) {
                    removes = removes || packets.removedBy(f, a, b);
                    continue;
                }
                for (const model::ServiceUse& use : f.services)
                    permits = permits || packets.permitted(f, use, a, b);
                adds = adds || packets.permittedOnlyBy(f, a, b);
            }
        if (f.verdict == model::Verdict::Deny) {
            if (!removes)
                sink.report(DiagCode::DenyRemovesNothing, f.range,
                            "this deny removes nothing today: no allow covers a packet it "
                            "matches")
                    .hint("fine as a guard against future allows; otherwise check its "
                          "endpoints and services");
            continue;
        }
        if (!permits) {
            auto d = sink.report(DiagCode::RuleShadowed, f.range,
                                 "this allow permits nothing: deny rules carve out all of it");
            for (const model::NetFlow& deny : policy.flows)
                if (deny.verdict == model::Verdict::Deny)
                    d.note(deny.range, "a deny wins over every allow, whatever the order");
            continue;
        }
        if (!adds)
            sink.report(DiagCode::RuleRedundant, f.range,
                        "removing this allow changes nothing: other allows permit every packet it "
                        "does");
    }
}

} // namespace bulkhead::analyzer
