// Repair hints: a minimum hitting set over escape paths, found by Z3 with lazily added cuts.
//
// A candidate set S of changes is applied to a copy of the policy, the graph is rebuilt and
// every violated assertion searched again. A path that remains adds the cut "one of this
// path's changes is chosen"; a requirement that breaks adds a no-good for the changes that
// break it. Z3 then picks the smallest set meeting every cut so far (ties broken by source
// position, so the answer is deterministic), until a set closes every path. Paths are never
// enumerated up front: with class edges there can be very many.
#include "repair.h"

#include "assertions.h"

#include <z3++.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

namespace bulkhead::analyzer {
namespace {

using model::EdgeKind;

// Each round rebuilds the graph; a policy needing more rounds gets no hint rather than a
// slow check. Each round takes up to kPathsPerRound paths per assertion, each avoiding the
// edges of the ones before, so that parallel edges (one per service) are cut in one round.
constexpr std::size_t kMaxRounds = 40;
constexpr std::size_t kPathsPerRound = 16;
// The search's work, counted in edges of rebuilt graphs (a requirements-only check counts an
// eighth of one): deterministic, unlike a timeout. A graph too large for four rebuilds gets
// no search at all, so a large policy's check is not slowed down.
constexpr std::size_t kWorkBudget = 40'000;
struct OutOfBudget {};

struct Change {
    enum class Kind : std::uint8_t { RemoveRpc, RemoveFlow, DenyRpc, DenyFlow };
    Kind kind = Kind::RemoveRpc;
    std::size_t index = 0; // Remove*: the rule or flow; DenyRpc: the rpc rule it goes before
    model::RpcRule rpc;    // DenyRpc
    model::NetFlow flow;   // DenyFlow
    SourceRange anchor;    // the statement removed, or the one the deny goes before
    std::string text;      // Deny*: the statement inserted
    bool deny() const { return kind == Kind::DenyRpc || kind == Kind::DenyFlow; }
};

// 0: a removal, 1: a deny of one service, 2: a deny of every service between two qubes.
std::uint64_t breadth(const Change& c) {
    if (!c.deny())
        return 0;
    return c.kind == Change::Kind::DenyRpc && c.rpc.spec.service == "*" ? 2 : 1;
}

// What can close one hop: removing its line, or a deny for it. Neither: a Qubes fact, or a
// hop from Qubes' shipped policy that no deny can name exactly.
struct HopCut {
    std::optional<std::size_t> removal;
    std::vector<std::size_t> denies;
};

// One path that remained: some hop of it must be closed.
using PathCut = std::vector<HopCut>;

// A set of changes that breaks one requirement (and every superset does too: removing allows
// and adding denies only take permissions away).
struct NoGood {
    std::size_t requirement = 0;
    std::vector<std::size_t> changes;
};

// The policy with a change set applied, and what the check says about it.
struct Probe {
    std::unique_ptr<model::Policy> policy; // the graph refers to it: never moves
    std::unique_ptr<Built> built;
    std::vector<std::vector<std::vector<Edge>>> paths; // by violated assertion; none: holds
    std::vector<std::size_t> broken;                   // requirements that held, not now
};

// What identifies an edge, and the label it shares with the other pairs of its group.
using LabelKey = std::tuple<EdgeKind, std::string, std::string, bool, SourceRange>;
using EdgeKey = std::tuple<NodeId, NodeId, NodeId, LabelKey>;
LabelKey labelOf(const Edge& e) {
    return {e.kind, e.service, e.argument, e.needsAsk, e.origin};
}
EdgeKey keyOf(const Edge& e) {
    return {e.from, e.to, e.initiator, labelOf(e)};
}

// Up to kPathsPerRound escape paths of an assertion, each avoiding every edge of the paths
// before it.
std::vector<std::vector<Edge>> pathsOf(const Checker& checker, const Graph& g,
                                       const model::Assertion& a) {
    EdgeFilter base = checker.usableFor(a);
    std::set<EdgeKey> used;
    std::set<LabelKey> usedLabels;
    EdgeFilter avoid;
    avoid.edge = [&](const Edge& e) { return base.edge(e) && used.count(keyOf(e)) == 0; };
    avoid.group = [&](const Edge& proto) {
        Use use = base.group(proto);
        return use != Use::None && usedLabels.count(labelOf(proto)) ? Use::Some : use;
    };
    std::vector<NodeId> from = checker.selectAll(a.from), to = checker.selectAll(a.to);
    std::vector<std::vector<Edge>> out;
    while (out.size() < kPathsPerRound) {
        std::optional<std::vector<Edge>> path = shortestPath(g, from, to, avoid);
        if (!path)
            break;
        for (const Edge& e : *path) {
            used.insert(keyOf(e));
            usedLabels.insert(labelOf(e));
        }
        out.push_back(std::move(*path));
    }
    return out;
}

// Can a deny name this service and argument? A service of Qubes' shipped policy may be
// spelled in a way the language does not accept (docs/language.md, sections 1 and 11).
bool writable(const std::string& service, const std::string& argument) {
    auto nameChar = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    };
    bool name = !service.empty() && std::isalpha(static_cast<unsigned char>(service[0])) &&
                service.back() != '-' && std::all_of(service.begin(), service.end(), nameChar);
    return name && std::all_of(argument.begin(), argument.end(),
                               [&](char c) { return nameChar(c) || c == '+'; });
}

std::string inlineServices(const std::vector<model::ServiceMatch>& matches) {
    std::string out;
    for (char c : matchesKey(matches))
        out += c == ' ' ? std::string(", ") : std::string(1, c);
    return out;
}

class Repairer {
public:
    Repairer(const model::Policy& p, const AnalysisOptions& o, Built& built,
             const std::vector<std::size_t>& violated)
        : p_(p), options_(o), built_(built), violated_(violated),
          rebuild_(built.graph.edgeCount()) {
        for (std::size_t i = 0; i < p.rpcRules.size(); ++i)
            rpcAt_.emplace(p.rpcRules[i].range, i);
        for (std::size_t i = 0; i < p.flows.size(); ++i)
            flowAt_.emplace(p.flows[i].range, i);
        DiagnosticSink scratch;
        AnalysisSummary summary;
        Checker check(p, built, scratch, summary, false);
        for (std::size_t r = 0; r < p.requirements.size(); ++r)
            if (check.requirementHolds(p.requirements[r]))
                kept_.push_back(r);
    }

    Repair run() {
        Repair out;
        const SourceRange where; // no place: each violation's own assertion
        if (rebuild_ * 4 > kWorkBudget) {
            out.reasons.push_back({where, "no repair hint: the graph (" + std::to_string(rebuild_) +
                                              " edges) is too large for the search"});
            return out;
        }
        try {
            for (bool narrow : {false, true}) {
                narrow_ = narrow;
                out = tier();
                if (out.status != Repair::Status::None)
                    return out;
            }
        } catch (const OutOfBudget&) {
            out = {};
            out.reasons.push_back(
                {where, "no repair hint: the search ran out of its budget of graph rebuilds"});
        }
        return out;
    }

private:
    Repair tier() {
        Repair out;
        for (std::size_t round = 0; round < kMaxRounds; ++round) {
            std::vector<std::size_t> chosen;
            std::vector<std::size_t> blocking;
            if (!solve(chosen, blocking))
                return none(blocking);
            Probe probe = check(chosen, true);
            bool closed = true;
            for (const auto& paths : probe.paths)
                for (const std::vector<Edge>& path : paths) {
                    cuts_.push_back(cutOf(path, *probe.built));
                    closed = false;
                }
            if (!probe.broken.empty()) {
                if (!blameSingles(chosen))
                    noGoods_.push_back(
                        {probe.broken.front(), shrunk(chosen, probe.broken.front())});
                closed = false;
            }
            if (closed) {
                out.status = Repair::Status::Found;
                out.fix = fixOf(chosen);
                return out;
            }
        }
        out.reasons.push_back({{},
                               "no repair hint: the search for one stopped after " +
                                   std::to_string(kMaxRounds) + " rounds"});
        return out;
    }

    // The changes of a set that break a requirement on their own, each excluded for good (a
    // no-good of one); false when none does, and only the set together breaks one.
    bool blameSingles(const std::vector<std::size_t>& chosen) {
        bool found = false;
        for (std::size_t c : chosen) {
            if (!alone_.insert(c).second)
                continue; // checked before: its no-goods, if any, are in place
            for (std::size_t r : check({c}, false).broken) {
                noGoods_.push_back({r, {c}});
                found = true;
            }
        }
        return found;
    }

    // A subset of a set that breaks a requirement, no change of which can be left out and
    // the requirement still break: a no-good of the whole set excludes only its supersets,
    // and a search whose sets broke a requirement together took a round per set (40 rounds
    // without a hint on workstation variants with five violations, tests/fuzz/README.md).
    std::vector<std::size_t> shrunk(std::vector<std::size_t> set, std::size_t requirement) {
        for (std::size_t i = set.size(); i-- > 0;) {
            std::vector<std::size_t> without = set;
            without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
            std::vector<std::size_t> broken = check(without, false).broken;
            if (std::find(broken.begin(), broken.end(), requirement) != broken.end())
                set = std::move(without);
        }
        return set;
    }

    // The policy with the changes applied: removed lines dropped, denies in place.
    std::unique_ptr<model::Policy> applied(const std::vector<std::size_t>& chosen) const {
        auto out = std::make_unique<model::Policy>(p_);
        std::vector<bool> dropRpc(p_.rpcRules.size()), dropFlow(p_.flows.size());
        std::vector<std::vector<const model::RpcRule*>> before(p_.rpcRules.size() + 1);
        std::vector<model::NetFlow> denies;
        for (std::size_t c : chosen) {
            const Change& ch = changes_[c];
            switch (ch.kind) {
            case Change::Kind::RemoveRpc:
                dropRpc[ch.index] = true;
                break;
            case Change::Kind::RemoveFlow:
                dropFlow[ch.index] = true;
                break;
            case Change::Kind::DenyRpc:
                before[ch.index].push_back(&ch.rpc);
                break;
            case Change::Kind::DenyFlow:
                denies.push_back(ch.flow);
                break;
            }
        }
        out->rpcRules.clear();
        for (std::size_t i = 0; i <= p_.rpcRules.size(); ++i) {
            for (const model::RpcRule* r : before[i])
                out->rpcRules.push_back(*r);
            if (i < p_.rpcRules.size() && !dropRpc[i])
                out->rpcRules.push_back(p_.rpcRules[i]);
        }
        out->flows.clear();
        for (std::size_t i = 0; i < p_.flows.size(); ++i)
            if (!dropFlow[i])
                out->flows.push_back(p_.flows[i]);
        out->flows.insert(out->flows.end(), denies.begin(), denies.end());
        return out;
    }

    // paths: search the violated assertions too (else only the requirements).
    Probe check(const std::vector<std::size_t>& chosen, bool paths) const {
        work_ += paths ? rebuild_ : rebuild_ / 8 + 1;
        if (work_ > kWorkBudget)
            throw OutOfBudget{};
        Probe probe;
        probe.policy = applied(chosen);
        const model::Policy& q = *probe.policy;
        if (paths) {
            probe.built = buildGraph(q, options_);
        } else {
            // Requirements need the evaluator and the packet space, not the edges.
            probe.built = std::make_unique<Built>();
            probe.built->graph = nodesOf(q);
            probe.built->system = systemOf(q);
            probe.built->evaluator =
                std::make_unique<rpc::Evaluator>(probe.built->system, rulesOf(q, options_));
            probe.built->packets =
                std::make_unique<PacketSpace>(q, probe.built->graph, options_.rlimit);
            probe.built->graph.seal();
        }
        DiagnosticSink scratch;
        AnalysisSummary summary;
        Checker checker(q, *probe.built, scratch, summary, false);
        if (paths)
            for (std::size_t k : violated_)
                probe.paths.push_back(pathsOf(checker, probe.built->graph, q.assertions[k]));
        for (std::size_t r : kept_)
            if (!checker.requirementHolds(q.requirements[r]))
                probe.broken.push_back(r);
        return probe;
    }

    PathCut cutOf(const std::vector<Edge>& path, const Built& b) {
        PathCut cut;
        for (const Edge& e : path) {
            HopCut hop;
            if (e.originText.empty()) {
                if (e.kind == EdgeKind::Net) {
                    auto it = flowAt_.find(e.origin);
                    if (it != flowAt_.end()) {
                        hop.removal = removal(Change::Kind::RemoveFlow, it->second);
                        if (auto d = denyFlow(e, it->second, b))
                            hop.denies.push_back(*d);
                    }
                } else {
                    auto it = rpcAt_.find(e.origin);
                    if (it != rpcAt_.end() &&
                        p_.rpcRules[it->second].action != model::RpcAction::Deny)
                        hop.removal = removal(Change::Kind::RemoveRpc, it->second);
                    hop.denies = denyRpc(e, b);
                }
            }
            cut.push_back(hop);
        }
        return cut;
    }

    std::size_t removal(Change::Kind kind, std::size_t index) {
        auto key = std::make_tuple(kind, index, std::string());
        auto it = known_.find(key);
        if (it != known_.end())
            return it->second;
        Change c;
        c.kind = kind;
        c.index = index;
        c.anchor =
            kind == Change::Kind::RemoveRpc ? p_.rpcRules[index].range : p_.flows[index].range;
        return add(std::move(c), key);
    }

    std::size_t add(Change c, const std::tuple<Change::Kind, std::size_t, std::string>& key) {
        std::size_t id = changes_.size();
        changes_.push_back(std::move(c));
        known_.emplace(key, id);
        return id;
    }

    // `deny FROM -> TO : SERVICE;` for a net hop, when both ends can be named exactly.
    std::optional<std::size_t> denyFlow(const Edge& e, std::size_t flow, const Built& b) {
        std::optional<model::Endpoint> from = endpointOf(b.graph.nodes()[e.initiator]);
        std::optional<model::Endpoint> to = endpointOf(b.graph.nodes()[e.responder]);
        if (!from || !to)
            return std::nullopt;
        const model::NetFlow& f = p_.flows[flow];
        auto use = std::find_if(f.services.begin(), f.services.end(), [&](const auto& u) {
            return u.service == e.netService && matchesKey(u.matches) == e.netMatches;
        });
        if (use == f.services.end())
            return std::nullopt;
        Change c;
        c.kind = Change::Kind::DenyFlow;
        c.index = flow;
        c.flow.verdict = model::Verdict::Deny;
        c.flow.from = {*from};
        c.flow.to = {*to};
        c.flow.services = {*use};
        c.anchor = f.range;
        c.text = "deny " + endpointText(*from) + " -> " + endpointText(*to) + " : " +
                 (use->service ? p_.services[*use->service].name : inlineServices(use->matches)) +
                 ";";
        return addDeny(std::move(c));
    }

    std::optional<model::Endpoint> endpointOf(const Node& n) const {
        model::Endpoint e;
        switch (n.kind) {
        case Node::Kind::Qube:
            e.kind = model::Endpoint::Kind::Qube;
            e.qube = n.qube;
            return e;
        case Node::Kind::External:
            if (n.network) {
                e.kind = model::Endpoint::Kind::Network;
                e.network = *n.network;
                return e;
            }
            if (n.prefixes.size() != 1)
                return std::nullopt;
            e.kind = model::Endpoint::Kind::Prefix;
            e.prefix = n.prefixes.front();
            return e;
        case Node::Kind::Disposables:
            return std::nullopt; // disposables started at run time have no name to deny
        }
        return std::nullopt;
    }

    std::string endpointText(const model::Endpoint& e) const {
        switch (e.kind) {
        case model::Endpoint::Kind::Qube:
            return p_.qubes[e.qube].name;
        case model::Endpoint::Kind::Network:
            return p_.networks[e.network].name;
        case model::Endpoint::Kind::Prefix:
            return e.prefix.str();
        case model::Endpoint::Kind::Tag:
            return "@tag:" + e.tag;
        }
        return {};
    }

    // `rpc SERVICE CALLER -> TARGETS deny;` for an rpc hop: the requests of the caller that
    // land where the hop lands (the landing's own name when that suffices), placed before the
    // first line of the policy that matches one of them, so it decides them whatever else
    // the repair removes. And `rpc * CALLER -> TARGETS deny;` before the first rpc line: one
    // line for every service between the two.
    std::vector<std::size_t> denyRpc(const Edge& e, const Built& b) {
        const Node& caller = b.graph.nodes()[e.initiator];
        const Node& landing = b.graph.nodes()[e.responder];
        if (caller.kind != Node::Kind::Qube || caller.qube == model::Policy::dom0 ||
            landing.kind == Node::Kind::External || !writable(e.service, e.argument) ||
            e.service.starts_with("admin."))
            return {}; // the Admin API lands on its subject, not on the target
        rpc::Landing where{landing.kind == Node::Kind::Disposables, landing.qube};
        rpc::Caller who{caller.qube, false};
        rpc::Universe u = rpc::universeOf(b.system, *b.evaluator);
        std::vector<rpc::Target> targets;
        for (const rpc::Target& t : u.targets) {
            rpc::Decision d = b.evaluator->evaluate(e.service, e.argument, who, t);
            if (d.result != rpc::Decision::Result::Deny &&
                std::find(d.landings.begin(), d.landings.end(), where) != d.landings.end())
                targets.push_back(t);
        }
        rpc::Target direct = where.disposable ? rpc::Target{rpc::Target::Kind::DispVMOf, where.qube}
                                              : rpc::Target{rpc::Target::Kind::Qube, where.qube};
        if (std::find(targets.begin(), targets.end(), direct) != targets.end())
            targets = {direct};
        if (targets.empty())
            return {};
        Change c;
        c.kind = Change::Kind::DenyRpc;
        c.index = firstUserMatch(e, who, targets);
        c.anchor = c.index < p_.rpcRules.size() ? p_.rpcRules[c.index].range
                                                : p_.assertions[violated_.front()].range;
        c.rpc.spec.service = e.service;
        if (!e.argument.empty())
            c.rpc.spec.argument = e.argument;
        c.rpc.from = {tokenOf({rpc::Target::Kind::Qube, caller.qube})};
        c.rpc.action = model::RpcAction::Deny;
        std::string to;
        for (const rpc::Target& t : targets) {
            c.rpc.to.push_back(tokenOf(t));
            to += (to.empty() ? "" : ", ") + model::tokenText(p_, c.rpc.to.back());
        }
        c.text = "rpc " + e.service + e.argument + " " + caller.name + " -> " + to + " deny;";
        Change all = c;
        all.index = 0;
        all.anchor = p_.rpcRules.empty() ? c.anchor : p_.rpcRules.front().range;
        all.rpc.spec.service = "*";
        all.rpc.spec.argument.reset();
        all.text = "rpc * " + caller.name + " -> " + to + " deny;";
        std::vector<std::size_t> out{addDeny(std::move(c))};
        out.push_back(addDeny(std::move(all)));
        return out;
    }

    // The first line of the policy (not the baseline's) that matches one of the requests in
    // the policy as written; past the last line when none does.
    std::size_t firstUserMatch(const Edge& e, const rpc::Caller& who,
                               const std::vector<rpc::Target>& targets) const {
        std::size_t first = p_.rpcRules.size();
        for (const rpc::Target& t : targets)
            for (const rpc::Rule* r : built_.evaluator->matching(e.service, e.argument, who, t)) {
                auto it = rpcAt_.find(r->range);
                if (it != rpcAt_.end()) {
                    first = std::min(first, it->second);
                    break;
                }
            }
        // No line of the policy matches: any place among its rpc lines decides first.
        return first == p_.rpcRules.size() && !p_.rpcRules.empty() ? 0 : first;
    }

    static model::RpcToken tokenOf(const rpc::Target& t) {
        using K = model::RpcToken::Kind;
        model::RpcToken out;
        out.qube = static_cast<model::QubeId>(t.qube);
        switch (t.kind) {
        case rpc::Target::Kind::Qube:
            out.kind = K::Qube;
            break;
        case rpc::Target::Kind::AdminVM:
            out.kind = K::AdminVM;
            break;
        case rpc::Target::Kind::Default:
            out.kind = K::Default;
            break;
        case rpc::Target::Kind::DispVM:
            out.kind = K::DispVM;
            break;
        case rpc::Target::Kind::DispVMOf:
            out.kind = K::DispVMOf;
            break;
        }
        return out;
    }

    std::size_t addDeny(Change c) {
        auto key = std::make_tuple(c.kind, c.index, c.text);
        auto it = known_.find(key);
        if (it != known_.end())
            return it->second;
        return add(std::move(c), key);
    }

    // A smallest change set meeting every cut and no-good so far; false when there is none,
    // with the requirements whose no-goods take part in the conflict.
    bool solve(std::vector<std::size_t>& chosen, std::vector<std::size_t>& blocking) {
        z3::context ctx;
        std::vector<z3::expr> var;
        for (std::size_t c = 0; c < changes_.size(); ++c)
            var.push_back(ctx.bool_const(("c" + std::to_string(c)).c_str()));
        z3::expr_vector hard(ctx);
        for (const PathCut& cut : cuts_) {
            z3::expr_vector any(ctx);
            for (const HopCut& h : cut) {
                if (h.removal)
                    any.push_back(var[*h.removal]);
                if (narrow_)
                    for (std::size_t d : h.denies)
                        any.push_back(var[d]);
            }
            hard.push_back(z3::mk_or(any));
        }
        // Removals only, until they are shown not to suffice.
        if (!narrow_)
            for (std::size_t c = 0; c < changes_.size(); ++c)
                if (changes_[c].deny())
                    hard.push_back(!var[c]);
        std::map<std::size_t, z3::expr> guard;
        z3::expr_vector guarded(ctx), guards(ctx);
        for (const NoGood& g : noGoods_) {
            auto it = guard.find(g.requirement);
            if (it == guard.end()) {
                it = guard
                         .emplace(g.requirement,
                                  ctx.bool_const(("r" + std::to_string(g.requirement)).c_str()))
                         .first;
                guards.push_back(it->second);
            }
            z3::expr_vector all(ctx);
            for (std::size_t c : g.changes)
                all.push_back(var[c]);
            guarded.push_back(z3::implies(it->second, !z3::mk_and(all)));
        }
        z3::solver feasible(ctx);
        feasible.add(hard);
        feasible.add(guarded);
        if (feasible.check(guards) == z3::unsat) {
            z3::expr_vector core = feasible.unsat_core();
            for (const auto& [r, g] : guard)
                for (int i = 0; i < static_cast<int>(core.size()); ++i)
                    if (z3::eq(core[i], g))
                        blocking.push_back(r);
            return false;
        }
        z3::optimize opt(ctx);
        opt.add(hard);
        opt.add(guarded);
        for (int i = 0; i < static_cast<int>(guards.size()); ++i)
            opt.add(guards[i]);
        // Fewest changes; then the narrowest (a removal, a deny of one service, a deny of
        // every service); then the earliest lines (determinism). One MaxSAT objective: a
        // change costs more than all breadth and position parts together, a breadth step more
        // than all position parts.
        std::vector<std::size_t> order(changes_.size());
        for (std::size_t c = 0; c < order.size(); ++c)
            order[c] = c;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return std::tie(changes_[a].anchor, changes_[a].text) <
                   std::tie(changes_[b].anchor, changes_[b].text);
        });
        std::uint64_t n = order.size();
        std::uint64_t positions = n * (n + 1) / 2;
        std::uint64_t perStep = positions + 1;
        std::uint64_t perChange = 2 * n * perStep + positions + 1;
        for (std::size_t rank = 0; rank < order.size(); ++rank) {
            std::uint64_t weight = perChange + breadth(changes_[order[rank]]) * perStep + rank + 1;
            opt.add_soft(!var[order[rank]], std::to_string(weight).c_str());
        }
        if (opt.check() != z3::sat)
            return false; // not reached: the same constraints were satisfiable above
        z3::model m = opt.get_model();
        for (std::size_t c : order)
            if (m.eval(var[c], true).is_true())
                chosen.push_back(c);
        return true;
    }

    Repair none(const std::vector<std::size_t>& blocking) const {
        Repair out;
        out.status = Repair::Status::None;
        if (!blocking.empty()) {
            for (std::size_t r : blocking)
                out.reasons.push_back(
                    {p_.requirements[r].range,
                     std::string("no repair hint: every way to close the escape path ") +
                         (narrow_ ? "(removing lines or adding denies)" : "by removing lines") +
                         " breaks this requirement"});
            return out;
        }
        out.reasons.push_back(
            {{},
             narrow_ ? "no repair hint: a hop of the escape path is a Qubes fact (template, "
                       "netvm, dom0's control) or a call no deny can name exactly; no change "
                       "to the policy's rules closes it"
                     : "no repair hint by removing lines: a hop of the escape path is a Qubes "
                       "fact or a line of Qubes' shipped policy"});
        return out;
    }

    DiagFix fixOf(const std::vector<std::size_t>& chosen) const {
        DiagFix fix;
        std::size_t removals = 0, denies = 0;
        for (std::size_t c : chosen) {
            const Change& ch = changes_[c];
            if (ch.deny())
                ++denies;
            else
                ++removals;
            DiagEdit edit;
            edit.range = ch.anchor;
            if (ch.deny())
                edit.insert = ch.text;
            fix.edits.push_back(std::move(edit));
        }
        std::stable_sort(fix.edits.begin(), fix.edits.end(),
                         [](const DiagEdit& a, const DiagEdit& b) { return a.range < b.range; });
        std::string what =
            removals ? "remove " + std::to_string(removals) + (removals == 1 ? " line" : " lines")
                     : "";
        if (denies)
            what += (what.empty() ? "insert " : " and insert ") + std::to_string(denies) +
                    (denies == 1 ? " deny" : " denies");
        fix.description =
            what + ": the fewest changes that close " +
            (violated_.size() == 1 ? std::string("this escape path")
                                   : "the escape paths of all " + std::to_string(violated_.size()) +
                                         " violated assertions") +
            (kept_.empty() ? "" : " and keep every requirement that holds");
        return fix;
    }

    const model::Policy& p_;
    const AnalysisOptions& options_;
    Built& built_;
    const std::vector<std::size_t>& violated_;
    std::vector<std::size_t> kept_; // requirements that hold in the policy as written
    std::map<SourceRange, std::size_t> rpcAt_, flowAt_;
    std::vector<Change> changes_;
    std::map<std::tuple<Change::Kind, std::size_t, std::string>, std::size_t> known_;
    std::vector<PathCut> cuts_;
    std::vector<NoGood> noGoods_;
    std::set<std::size_t> alone_; // changes checked on their own against the requirements
    bool narrow_ = false;
    std::size_t rebuild_;          // what one rebuild costs: the graph's edges
    mutable std::size_t work_ = 0; // spent so far
};

} // namespace

Repair findRepair(const model::Policy& policy, const AnalysisOptions& options, Built& built,
                  const std::vector<std::size_t>& violated) {
    if (violated.empty())
        return {};
    try {
        return Repairer(policy, options, built, violated).run();
    } catch (const ProverUnknown& e) {
        Repair out;
        out.reasons.push_back(
            {{}, "no repair hint: Z3 gave up on a changed policy (" + e.reason + ")"});
        return out;
    }
}

void reportRepair(const model::Policy& policy, const AnalysisOptions& options, Built& built,
                  const std::vector<Checker::Violation>& violations) {
    std::vector<std::size_t> violated;
    for (const Checker::Violation& v : violations)
        violated.push_back(v.assertion);
    Repair repair = findRepair(policy, options, built, violated);
    for (Checker::Violation v : violations) {
        if (repair.status == Repair::Status::Found)
            v.diagnostic.fix(repair.fix);
        for (const DiagNote& n : repair.reasons)
            v.diagnostic.note(n.range.valid() ? n.range : policy.assertions[v.assertion].range,
                              n.message);
    }
}

} // namespace bulkhead::analyzer
