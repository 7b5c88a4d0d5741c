#include "rpc_edges.h"

#include "caller_classes.h"
#include "service_kb.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace bulkhead::analyzer {
namespace {

bool isAdminApi(const std::string& service) {
    return service.starts_with("admin.");
}

// Admin API methods that only read (qubes-core-admin classes them "ro"): data flows from the
// subject to the caller. Everything else can change the subject.
bool adminReadOnly(const std::string& service) {
    std::string method = service.substr(service.rfind('.') + 1);
    return method.starts_with("Get") || method.starts_with("List") || method == "Info" ||
           method == "Events" || method == "CurrentState";
}

std::vector<rpc::Landing> adminSubject(const rpc::System& sys, const rpc::Caller& c,
                                       const rpc::Target& t) {
    switch (t.kind) {
    case rpc::Target::Kind::Qube:
        return {{false, t.qube}};
    case rpc::Target::Kind::DispVMOf:
        return {{true, t.qube}};
    case rpc::Target::Kind::DispVM:
        if (auto dvm = sys.qubes[c.qube].defaultDispvm)
            return {{true, *dvm}};
        return {};
    default:
        return {{false, 0}};
    }
}

// Where one caller's calls land, first come first served: each (landing, needs-ask) keeps the
// rule of the first target that gives it, which is the edge seal() kept when every caller
// was evaluated. Bit 0: plain, bit 1: ask.
struct Landings {
    explicit Landings(std::size_t nodes) : made(nodes, 0) {
        for (std::size_t bit = 0; bit < 2; ++bit) {
            origin[bit].assign(nodes, nullptr);
            at[bit].assign(nodes, 0);
        }
    }

    std::vector<std::uint8_t> made;          // by node: has a landing
    std::vector<const rpc::Rule*> origin[2]; // [bit][node]: the deciding rule
    std::vector<std::size_t> at[2];          // [bit][node]: the target it decided
    std::vector<NodeId> touched;
    // A walk shared by classes that differ only in default_dispvm leaves the landings on the
    // caller's own default disposable unresolved: the first rule (and target) per bit.
    const rpc::Rule* ownDispvm[2] = {nullptr, nullptr};
    std::size_t ownDispvmAt[2] = {0, 0};

    void clear() {
        for (NodeId n : touched) {
            made[n] = 0;
            origin[0][n] = origin[1][n] = nullptr;
        }
        touched.clear();
        ownDispvm[0] = ownDispvm[1] = nullptr;
    }
    // The landings by (needs-ask, origin), each list ascending.
    std::map<std::pair<bool, SourceRange>, std::vector<NodeId>> labels() const {
        std::map<std::pair<bool, SourceRange>, std::vector<NodeId>> out;
        // Neighbouring nodes mostly have the same deciding rule: its list is kept at hand.
        const rpc::Rule* last[2] = {nullptr, nullptr};
        std::vector<NodeId>* list[2] = {nullptr, nullptr};
        for (NodeId to : ascending())
            for (std::size_t bit = 0; bit < 2; ++bit) {
                const rpc::Rule* r = origin[bit][to];
                if (!r)
                    continue;
                if (r != last[bit]) {
                    last[bit] = r;
                    list[bit] = &out[{bit == 1, r->range}];
                }
                list[bit]->push_back(to);
            }
        return out;
    }
    // The touched nodes in ascending order: a walk lands on most nodes, and a scan of `made`
    // puts them in order in linear time; a few are sorted.
    std::vector<NodeId> ascending() const {
        std::vector<NodeId> out;
        if (touched.size() * 16 < made.size()) {
            out = touched;
            std::sort(out.begin(), out.end());
            return out;
        }
        out.reserve(touched.size());
        for (std::size_t n = 0; n < made.size(); ++n)
            if (made[n])
                out.push_back(static_cast<NodeId>(n));
        return out;
    }
};

// The landing lists of one service, interned: a list the classes of a walk (or the walks of
// its arguments) share is compared once, not per class.
class Lists {
public:
    std::size_t intern(std::vector<NodeId> to) {
        auto [it, fresh] = ids_.emplace(std::move(to), lists_.size());
        if (fresh)
            lists_.push_back(&it->first);
        return it->second;
    }
    const std::vector<NodeId>& list(std::size_t id) const { return *lists_[id]; }

private:
    struct ListHash {
        std::size_t operator()(const std::vector<NodeId>& to) const {
            std::size_t h = to.size();
            for (NodeId n : to)
                h = h * 1000003U ^ n;
            return h;
        }
    };
    // Hashed: most lists are long and share long prefixes, which a sorted map compares
    // element by element at every level of the tree.
    std::unordered_map<std::vector<NodeId>, std::size_t, ListHash> ids_;
    std::vector<const std::vector<NodeId>*> lists_;
};

// (needs-ask, origin, landings) -> the callers of every class that got them, for one service
// and argument.
class Blocks {
public:
    explicit Blocks(const Lists& lists) : lists_(lists) {}
    void add(bool ask, const SourceRange& origin, std::size_t list,
             const std::vector<NodeId>& callers) {
        std::vector<NodeId>& to = blocks_[{ask, origin, list}];
        to.insert(to.end(), callers.begin(), callers.end());
    }
    // f(ask, origin, landings, callers) in the order of (ask, origin, landings).
    template <class F> void each(F&& f) {
        std::vector<std::pair<const Key*, std::vector<NodeId>*>> order;
        for (auto& [key, callers] : blocks_)
            order.emplace_back(&key, &callers);
        std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
            const auto& [askA, originA, listA] = *a.first;
            const auto& [askB, originB, listB] = *b.first;
            return std::tie(askA, originA, lists_.list(listA)) <
                   std::tie(askB, originB, lists_.list(listB));
        });
        for (auto& [key, callers] : order) {
            std::sort(callers->begin(), callers->end());
            f(std::get<0>(*key), std::get<1>(*key), lists_.list(std::get<2>(*key)), *callers);
        }
    }

private:
    using Key = std::tuple<bool, SourceRange, std::size_t>;
    const Lists& lists_;
    std::map<Key, std::vector<NodeId>> blocks_;
};

// The rpc edges of one (service, argument), as groups: one caller per class is evaluated
// (caller_classes.h), its landings are split by (needs-ask, deciding rule), and classes with
// the same landings under the same label share one group.
class RpcGroups {
public:
    RpcGroups(const model::Policy& p, Built& b, const rpc::Universe& u)
        : p_(p), b_(b), u_(u), walk_(b.graph.nodes().size()), class_(b.graph.nodes().size()) {
        for (std::size_t bit = 0; bit < 2; ++bit) {
            labelOf_[bit].assign(b.graph.nodes().size(), 0);
            removed_[bit].assign(b.graph.nodes().size(), 0);
        }
    }

    // A new service: its lists and walks are not those of the one before.
    void startService() {
        lists_ = Lists();
        common_.clear();
    }

    // shared: sharedWalks() of the classes (of this service, as startService() began it).
    void add(const std::string& service, const std::string& arg,
             const std::vector<std::vector<std::size_t>>& classes,
             const std::vector<std::size_t>& shared) {
        ServiceNature nature = serviceNature(p_, service);
        bool adminApi = isAdminApi(service);
        model::DataDirection direction = nature.direction;
        if (adminApi)
            direction =
                adminReadOnly(service) ? model::DataDirection::Pull : model::DataDirection::Push;
        Blocks blocks(lists_);
        if (adminApi) {
            // An Admin API call lands on its subject, not on the decision's target: a decision
            // that only its own caller is denied (a loopback, an ask list of itself alone)
            // would still land elsewhere. Each caller is evaluated as it is, alone.
            for (const rpc::Caller& c : u_.callers) {
                landings(service, arg, c, nature, true,
                         b_.evaluator->firstMatches(service, arg, c, u_), 0, u_.targets.size(),
                         class_, false);
                std::vector<NodeId> self{nodeOf(b_.graph, c.qube, c.disposable)};
                for (auto& [label, to] : class_.labels())
                    blocks.add(label.first, label.second, lists_.intern(std::move(to)), self);
                class_.clear();
            }
        } else {
            std::map<std::size_t, std::vector<std::size_t>> walks; // classes by shared walk
            for (std::size_t k = 0; k < classes.size(); ++k)
                walks[shared[k]].push_back(k);
            // A walk none of the argument's own rules reaches is the one for "" (ArgumentRules).
            rpc::ArgumentRules own(*b_.evaluator, service, arg);
            std::vector<bool> matter;
            std::vector<const std::vector<std::size_t>*> mine, all;
            for (const auto& entry : walks) {
                const std::vector<std::size_t>& ks = entry.second;
                matter.push_back(std::any_of(ks.begin(), ks.end(), [&](std::size_t k) {
                    return own.matter(u_.callers[classes[k].front()]);
                }));
                if (matter.back())
                    mine.push_back(&ks);
                all.push_back(&ks);
            }
            if (common_.empty() && std::count(matter.begin(), matter.end(), false) > 0) {
                rpc::WalkFirsts firsts(*b_.evaluator, service, "", u_);
                common_ = walkAll(service, "", nature, classes, all, firsts);
            }
            std::vector<std::vector<std::vector<Label>>> fresh;
            if (!mine.empty()) {
                rpc::WalkFirsts firsts(*b_.evaluator, service, arg, u_);
                fresh = walkAll(service, arg, nature, classes, mine, firsts);
            }
            std::size_t wi = 0, mi = 0;
            for (const auto& entry : walks) {
                const std::vector<std::size_t>& ks = entry.second;
                const auto& labels = matter[wi] ? fresh[mi++] : common_[wi];
                ++wi;
                for (std::size_t i = 0; i < ks.size(); ++i) {
                    std::vector<NodeId> members;
                    for (std::size_t c : classes[ks[i]])
                        members.push_back(
                            nodeOf(b_.graph, u_.callers[c].qube, u_.callers[c].disposable));
                    for (const Label& l : labels[i])
                        blocks.add(l.ask, l.origin, l.list, members);
                }
            }
        }
        blocks.each([&](bool ask, const SourceRange& origin, const std::vector<NodeId>& to,
                        const std::vector<NodeId>& callers) {
            EdgeGroup g;
            g.proto.kind = nature.kind;
            g.proto.needsAsk = ask;
            g.proto.service = service;
            g.proto.argument = arg;
            g.proto.origin = origin;
            g.proto.detail = (service.empty() ? "any other service" : service) + arg;
            if (direction != model::DataDirection::Pull) {
                g.from = callers;
                g.to = to;
                g.initiatorIsFrom = true;
                b_.graph.addGroup(g);
            }
            if (direction != model::DataDirection::Push) {
                g.from = to;
                g.to = callers;
                g.initiatorIsFrom = false;
                b_.graph.addGroup(std::move(g));
            }
        });
    }

private:
    struct Label {
        bool ask;
        SourceRange origin;
        std::size_t list; // Blocks::intern
    };
    struct Override {
        std::size_t bit;
        NodeId node;
        const rpc::Rule* rule;
    };

    // The walks of one argument (each the classes of a shared walk): for each, its classes'
    // labels. Past @dispvm a walk's landings read only its deciding rules and, where an ask
    // without target= decides, its ask list (outcome() resolves nothing else by the caller
    // there, and the caller's own default disposable is left open): walks alike in both
    // are landed once, and each then lays its classes' targets up to @dispvm over that.
    std::vector<std::vector<std::vector<Label>>>
    walkAll(const std::string& service, const std::string& arg, const ServiceNature& nature,
            const std::vector<std::vector<std::size_t>>& classes,
            const std::vector<const std::vector<std::size_t>*>& walks, rpc::WalkFirsts& firsts) {
        std::optional<std::size_t> dispvm = u_.index.dispvmTarget();
        auto split = static_cast<std::ptrdiff_t>(dispvm ? *dispvm + 1 : 0);
        // The distinct deciding rules past split: a caller whose own rules change nothing
        // there has its key's (WalkFirsts::Origin), found without reading them.
        struct Past {
            std::vector<const rpc::Rule*> first;
            bool asks = false;              // some ask without target= decides: the ask list counts
            std::vector<std::size_t> alike; // indices into `alike`
        };
        struct Alike {
            std::size_t rep;                            // an index into u_.callers
            std::size_t past;                           // an index into `pasts`
            std::optional<rpc::Evaluator::AskList> ask; // when past's asks
            std::vector<std::size_t> walks;             // indices into `walks`
        };
        std::vector<Past> pasts;
        std::vector<Alike> alike;
        std::unordered_map<std::size_t, std::vector<std::size_t>> byHash; // -> indices of pasts
        std::map<std::size_t, std::size_t> pastOfKey; // WalkFirsts key -> index of pasts
        auto pastOf = [&](const std::vector<const rpc::Rule*>& first) {
            std::size_t h = first.size();
            for (auto r = first.begin() + split; r != first.end(); ++r)
                h = h * 1000003U ^ std::hash<const rpc::Rule*>()(*r);
            std::vector<std::size_t>& candidates = byHash[h];
            for (std::size_t p : candidates)
                if (std::equal(first.begin() + split, first.end(), pasts[p].first.begin(),
                               pasts[p].first.end()))
                    return p;
            candidates.push_back(pasts.size());
            Past& fresh = pasts.emplace_back();
            fresh.first.assign(first.begin() + split, first.end());
            fresh.asks =
                std::any_of(fresh.first.begin(), fresh.first.end(), [](const rpc::Rule* r) {
                    return r && r->action == rpc::Rule::Action::Ask && !r->redirect;
                });
            return pasts.size() - 1;
        };
        std::vector<std::vector<const rpc::Rule*>> heads; // each walk's targets up to split
        for (std::size_t wi = 0; wi < walks.size(); ++wi) {
            std::size_t rep = classes[walks[wi]->front()].front();
            firsts.visit(rep, [&](const rpc::Evaluator::FirstTwo& ft,
                                  const rpc::WalkFirsts::Origin& origin) {
                heads.emplace_back(ft.first.begin(), ft.first.begin() + split);
                bool keys =
                    origin.key && (!origin.ownUpTo || *origin.ownUpTo < heads.back().size());
                std::size_t past;
                if (auto known = keys ? pastOfKey.find(*origin.key) : pastOfKey.end();
                    known != pastOfKey.end()) {
                    past = known->second;
                } else {
                    past = pastOf(ft.first);
                    if (keys)
                        pastOfKey.emplace(*origin.key, past);
                }
                std::optional<rpc::Evaluator::AskList> ask;
                if (pasts[past].asks)
                    ask = b_.evaluator->askList(service, arg, u_.callers[rep], nullptr, true);
                for (std::size_t a : pasts[past].alike) {
                    const std::optional<rpc::Evaluator::AskList>& x = alike[a].ask;
                    if (!ask || (x->dispvm == ask->dispvm && x->named == ask->named)) {
                        alike[a].walks.push_back(wi);
                        return;
                    }
                }
                pasts[past].alike.push_back(alike.size());
                alike.push_back({rep, past, std::move(ask), {wi}});
            });
        }
        std::vector<std::vector<std::vector<Label>>> out(walks.size());
        std::vector<const rpc::Rule*> first(u_.targets.size(), nullptr);
        for (const Alike& a : alike) {
            const std::vector<const rpc::Rule*>& past = pasts[a.past].first;
            std::copy(past.begin(), past.end(), first.begin() + split);
            landings(service, arg, u_.callers[a.rep], nature, false, first,
                     static_cast<std::size_t>(split), u_.targets.size(), walk_, true);
            std::vector<Label> labels;
            for (auto& [label, to] : walk_.labels()) {
                for (NodeId n : to)
                    labelOf_[label.first ? 1 : 0][n] = labels.size();
                labels.push_back({label.first, label.second, lists_.intern(std::move(to))});
            }
            for (std::size_t wi : a.walks)
                out[wi] = classLabels(service, arg, nature, classes, *walks[wi], heads[wi], labels);
            walk_.clear();
        }
        return out;
    }

    // The labels `base` with each override's node moved into the label of its rule. found(bit,
    // node): the index of the base label holding that landing, if any.
    template <class Found>
    std::vector<Label> overlay(const std::vector<Label>& base, const std::vector<Override>& moves,
                               Found&& found) {
        std::map<std::pair<bool, SourceRange>, std::vector<NodeId>> own;
        std::vector<std::size_t> changed;
        for (const Override& m : moves) {
            own[{m.bit == 1, m.rule->range}].push_back(m.node);
            if (std::optional<std::size_t> li = found(m.bit, m.node)) {
                removed_[m.bit][m.node] = 1;
                changed.push_back(*li);
            }
        }
        std::sort(changed.begin(), changed.end());
        std::vector<Label> out;
        for (std::size_t li = 0; li < base.size(); ++li) {
            const Label& l = base[li];
            auto extra = own.find({l.ask, l.origin});
            if (extra == own.end() && !std::binary_search(changed.begin(), changed.end(), li)) {
                out.push_back(l);
                continue;
            }
            std::vector<NodeId> to;
            for (NodeId n : lists_.list(l.list))
                if (!removed_[l.ask ? 1 : 0][n])
                    to.push_back(n);
            if (extra != own.end()) {
                // A few moved-in nodes, none of them in the list (it keeps the others of
                // their bit out): merged, not the whole list sorted again.
                std::vector<NodeId>& moved = extra->second;
                std::sort(moved.begin(), moved.end());
                auto middle = to.insert(to.end(), moved.begin(), moved.end());
                std::inplace_merge(to.begin(), middle, to.end());
                own.erase(extra);
            }
            if (!to.empty())
                out.push_back({l.ask, l.origin, lists_.intern(std::move(to))});
        }
        for (auto& [label, to] : own) {
            std::sort(to.begin(), to.end());
            out.push_back({label.first, label.second, lists_.intern(std::move(to))});
        }
        for (const Override& m : moves)
            removed_[m.bit][m.node] = 0;
        return out;
    }

    // The landings of the classes of a walk whose @dispvm target one rule decides: the
    // walk's with the targets up to @dispvm laid over them, the caller's own default
    // disposable still open.
    struct Head {
        std::vector<Label> labels;
        const rpc::Rule* ownDispvm[2] = {nullptr, nullptr}; // the first open landing per bit
        std::size_t ownDispvmAt[2] = {0, 0};
        std::vector<std::tuple<std::size_t, NodeId, std::size_t>> disposables; // (bit, node, at)
    };

    // The classes of one shared walk (caller_classes.h) differ only in default_dispvm. The
    // targets after @dispvm decide alike for all of them: their landings are made once, with
    // the caller's own default disposable left open. The targets up to @dispvm (which
    // precede every qube, so they come first) are laid over them once per rule deciding
    // @dispvm, and each class then resolves the open disposable, unless a target before it
    // landed there already. first: the walk's deciding rules up to @dispvm; labels: its
    // landings past it (walk_, walkAll). Returns each class's labels, in the order of ks.
    std::vector<std::vector<Label>>
    classLabels(const std::string& service, const std::string& arg, const ServiceNature& nature,
                const std::vector<std::vector<std::size_t>>& classes,
                const std::vector<std::size_t>& ks, const std::vector<const rpc::Rule*>& first,
                const std::vector<Label>& labels) {
        std::optional<std::size_t> dispvm = u_.index.dispvmTarget();
        std::size_t split = first.size();
        std::map<const rpc::Rule*, Head> heads; // by the rule deciding @dispvm
        std::vector<std::vector<Label>> out;
        for (std::size_t k : ks) {
            const rpc::Caller& c = u_.callers[classes[k].front()];
            const rpc::Rule* atDispvm = nullptr;
            if (dispvm)
                atDispvm = k == ks.front()
                               ? first[*dispvm]
                               : b_.evaluator->firstTwoFor(service, arg, c, u_, *dispvm).first;
            auto [it, fresh] = heads.try_emplace(atDispvm);
            if (fresh)
                it->second = headOf(service, arg, c, nature, first, split, atDispvm, labels);
            const Head& h = it->second;
            std::vector<Override> own;
            std::optional<std::size_t> dvm = b_.evaluator->defaultDispvmOf(c);
            if (dvm && (h.ownDispvm[0] || h.ownDispvm[1])) {
                NodeId n = nodeOf(b_.graph, *dvm, true);
                for (std::size_t bit = 0; bit < 2; ++bit) {
                    if (!h.ownDispvm[bit])
                        continue;
                    std::optional<std::size_t> at;
                    for (const auto& [b, node, ti] : h.disposables)
                        if (b == bit && node == n)
                            at = ti;
                    if (!at && walk_.origin[bit][n])
                        at = walk_.at[bit][n];
                    if (!at || *at > h.ownDispvmAt[bit])
                        own.push_back({bit, n, h.ownDispvm[bit]});
                }
            }
            auto held = [&](std::size_t bit, NodeId n) -> std::optional<std::size_t> {
                for (std::size_t li = 0; li < h.labels.size(); ++li) {
                    const std::vector<NodeId>& to = lists_.list(h.labels[li].list);
                    if (h.labels[li].ask == (bit == 1) &&
                        std::binary_search(to.begin(), to.end(), n))
                        return li;
                }
                return std::nullopt;
            };
            out.push_back(own.empty() ? h.labels : overlay(h.labels, own, held));
        }
        return out;
    }

    Head headOf(const std::string& service, const std::string& arg, const rpc::Caller& c,
                const ServiceNature& nature, const std::vector<const rpc::Rule*>& first,
                std::size_t split, const rpc::Rule* atDispvm, const std::vector<Label>& labels) {
        Head h;
        if (split) {
            std::vector<const rpc::Rule*> head(first.begin(),
                                               first.begin() + static_cast<std::ptrdiff_t>(split));
            head[split - 1] = atDispvm;
            landings(service, arg, c, nature, false, head, 0, split, class_, true);
        }
        std::vector<Override> moves;
        for (NodeId n : class_.touched)
            for (std::size_t bit = 0; bit < 2; ++bit)
                if (class_.origin[bit][n]) {
                    moves.push_back({bit, n, class_.origin[bit][n]});
                    if (b_.graph.nodes()[n].kind == Node::Kind::Disposables)
                        h.disposables.emplace_back(bit, n, class_.at[bit][n]);
                }
        h.labels =
            overlay(labels, moves, [&](std::size_t bit, NodeId n) -> std::optional<std::size_t> {
                if (!walk_.origin[bit][n])
                    return std::nullopt;
                return labelOf_[bit][n];
            });
        for (std::size_t bit = 0; bit < 2; ++bit) {
            const Landings& from = class_.ownDispvm[bit] ? class_ : walk_;
            h.ownDispvm[bit] = from.ownDispvm[bit];
            h.ownDispvmAt[bit] = from.ownDispvmAt[bit];
        }
        class_.clear();
        return h;
    }

    // Lands caller c's decisions of targets [begin, end) (first: the deciding rule of each)
    // in `out`, as if c could land on itself (its class's common answer; for the Admin API,
    // c's own answer). shared: leave the caller's own default disposable open (Landings::
    // ownDispvm), for every class of a shared walk.
    void landings(const std::string& service, const std::string& arg, const rpc::Caller& c,
                  const ServiceNature& nature, bool adminApi,
                  const std::vector<const rpc::Rule*>& first, std::size_t begin, std::size_t end,
                  Landings& out, bool shared) {
        std::optional<std::vector<rpc::Landing>> askCache;
        std::optional<rpc::Evaluator::AskList> askParts;
        // Every ask without target= offers the same list: walk it once.
        bool listDone = false, listHasDom0 = false;
        for (std::size_t ti = begin; ti < end; ++ti) {
            const rpc::Rule* r = first[ti];
            if (!r || r->action == rpc::Rule::Action::Deny)
                continue;
            // An ask without target= offers the list walked already (not empty, or it would
            // not have been walked): nothing new, and no copy of the list per target.
            if (listDone && !adminApi && r->action == rpc::Rule::Action::Ask && !r->redirect) {
                if (listHasDom0 && nature.dom0Hardened)
                    assume(service, *r);
                continue;
            }
            const rpc::Target& t = u_.targets[ti];
            // The common case, an allow without target= to a qube, lands on that qube: no
            // Decision to build (outcome would give {t.qube}, never a list).
            if (!adminApi && r->action == rpc::Rule::Action::Allow && !r->redirect &&
                t.kind == rpc::Target::Kind::Qube) {
                land(out, service, nature, *r, 0, nodeOf(b_.graph, t.qube, false), false, ti);
                continue;
            }
            std::size_t bit = r->action == rpc::Rule::Action::Ask ? 1 : 0;
            if (shared && !r->redirect && r->action == rpc::Rule::Action::Allow &&
                t.kind == rpc::Target::Kind::DispVM) {
                openOwnDispvm(out, *r, 0, ti);
                continue;
            }
            if (shared && r->redirect && r->redirect->kind == rpc::Token::Kind::DispVM) {
                openOwnDispvm(out, *r, bit, ti);
                continue;
            }
            if (shared && r->action == rpc::Rule::Action::Ask && !r->redirect) {
                if (!askParts)
                    askParts = b_.evaluator->askList(service, arg, c, nullptr, true);
                if (askParts->named.empty() && !askParts->dispvm)
                    continue; // no choice: denied
                listDone = true;
                for (const rpc::Landing& l : askParts->named)
                    listHasDom0 = land(out, service, nature, *r, 1,
                                       nodeOf(b_.graph, l.qube, l.disposable), true, ti) ||
                                  listHasDom0;
                if (askParts->dispvm)
                    openOwnDispvm(out, *r, 1, ti);
                continue;
            }
            rpc::Decision d =
                b_.evaluator->outcome(first[ti], service, arg, c, t, nullptr, askCache, !adminApi);
            if (d.result == rpc::Decision::Result::Deny)
                continue;
            bool list = d.askList && !adminApi;
            if (list && listDone) {
                if (listHasDom0 && nature.dom0Hardened)
                    assume(service, *d.rule);
                continue;
            }
            listDone = listDone || list;
            std::vector<rpc::Landing> landings = d.landings;
            if (adminApi) {
                // The Admin API runs in dom0 and acts on the qube the call names: that qube
                // is what the caller reads or controls (dom0 itself for a global call such
                // as admin.vm.List). qubesd in dom0 answers the call from its own records:
                // a read pulls from dom0, not from the subject; a change pushes into the
                // subject. The subject never acts on the caller.
                landings = adminReadOnly(service) ? std::vector<rpc::Landing>{{false, 0}}
                                                  : adminSubject(b_.system, c, t);
            }
            for (const rpc::Landing& l : landings)
                listHasDom0 = land(out, service, nature, *d.rule, bit,
                                   nodeOf(b_.graph, l.qube, l.disposable), list, ti) ||
                              listHasDom0;
        }
    }

    static void openOwnDispvm(Landings& out, const rpc::Rule& r, std::size_t bit, std::size_t ti) {
        if (out.ownDispvm[bit])
            return;
        out.ownDispvm[bit] = &r;
        out.ownDispvmAt[bit] = ti;
    }

    // Records landing `to` (bit 0: plain, bit 1: ask) decided by rule r at target ti, unless
    // an earlier target gave it already. The caller's own node stays: other callers of its
    // class land there; each caller leaves out its own node when the group is expanded.
    // Returns whether an ask list of the caller holds dom0 (left out, as Qubes' design
    // assumes).
    bool land(Landings& out, const std::string& service, const ServiceNature& nature,
              const rpc::Rule& r, std::size_t bit, NodeId to, bool list, std::size_t ti) {
        if (to == model::Policy::dom0 && nature.dom0Hardened) {
            assume(service, r);
            return list;
        }
        if (out.origin[bit][to])
            return false;
        if (!out.made[to])
            out.touched.push_back(to);
        out.made[to] = 1;
        out.origin[bit][to] = &r;
        out.at[bit][to] = ti;
        return false;
    }

    void assume(const std::string& service, const rpc::Rule& r) {
        b_.assumptions.emplace(service + " calls into dom0 are parsed defensively by dom0 "
                                         "(Qubes' design)",
                               r.range);
    }

    const model::Policy& p_;
    Built& b_;
    const rpc::Universe& u_;
    Lists lists_; // of the current service
    // The labels of the service's walks for an argument no rule names, in walk order.
    std::vector<std::vector<std::vector<Label>>> common_;
    Landings walk_, class_;                // a shared walk's landings; one class's own
    std::vector<std::size_t> labelOf_[2];  // [bit][node]: its label in the walk's (walkAll)
    std::vector<std::uint8_t> removed_[2]; // [bit][node]: a class took it from the walk's label
};

} // namespace

void addRpcEdges(const model::Policy& p, Built& b) {
    rpc::Universe u = rpc::universeOf(b.system, *b.evaluator);
    RpcGroups groups(p, b, u);
    for (const auto& [service, args] : u.services) {
        std::vector<std::vector<std::size_t>> classes =
            rpc::callerClasses(*b.evaluator, service, u);
        std::vector<std::size_t> shared = rpc::sharedWalks(*b.evaluator, service, u, classes);
        groups.startService();
        for (const std::string& arg : args)
            groups.add(service, arg, classes, shared);
    }
}

} // namespace bulkhead::analyzer
