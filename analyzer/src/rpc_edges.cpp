#include "rpc_edges.h"

#include "caller_classes.h"
#include "service_kb.h"

#include <algorithm>
#include <map>
#include <tuple>

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

// The rpc edges of one (service, argument), as groups: one caller per class is evaluated
// (caller_classes.h), its landings are split by (needs-ask, deciding rule), and classes with
// the same landings under the same label share one group.
class RpcGroups {
public:
    RpcGroups(const model::Policy& p, Built& b, const rpc::Universe& u)
        : p_(p), b_(b), u_(u), made_(b.graph.nodes().size(), 0),
          origin_(2, std::vector<const rpc::Rule*>(b.graph.nodes().size(), nullptr)) {}

    // shared: sharedWalks() of the classes.
    void add(const std::string& service, const std::string& arg,
             const std::vector<std::vector<std::size_t>>& classes,
             const std::vector<std::size_t>& shared) {
        ServiceNature nature = serviceNature(p_, service);
        bool adminApi = isAdminApi(service);
        model::DataDirection direction = nature.direction;
        if (adminApi)
            direction =
                adminReadOnly(service) ? model::DataDirection::Pull : model::DataDirection::Push;
        // An Admin API call lands on its subject, not on the decision's target: a decision
        // that only its own caller is denied (a loopback, an ask list of itself alone) would
        // still land elsewhere. Each caller is evaluated as it is, alone.
        std::vector<std::vector<std::size_t>> alone;
        if (adminApi)
            for (std::size_t i = 0; i < u_.callers.size(); ++i)
                alone.push_back({i});
        // (needs-ask, origin, landings) -> the callers of every class that got them.
        std::map<std::tuple<bool, SourceRange, std::vector<NodeId>>, std::vector<NodeId>> blocks;
        std::map<std::size_t, std::vector<const rpc::Rule*>> walks; // by shared class
        const std::vector<std::vector<std::size_t>>& walked = adminApi ? alone : classes;
        for (std::size_t k = 0; k < walked.size(); ++k) {
            const std::vector<std::size_t>& members = walked[k];
            const rpc::Caller& rep = u_.callers[members.front()];
            landings(service, arg, rep, nature, adminApi,
                     adminApi ? b_.evaluator->firstMatches(service, arg, rep, u_)
                              : sharedFirst(service, arg, rep, walks, shared[k]));
            std::map<std::pair<bool, SourceRange>, std::vector<NodeId>> byLabel;
            for (NodeId to : touched_) {
                for (std::size_t bit = 0; bit < 2; ++bit)
                    if (origin_[bit][to])
                        byLabel[{bit == 1, origin_[bit][to]->range}].push_back(to);
                made_[to] = 0;
                origin_[0][to] = origin_[1][to] = nullptr;
            }
            touched_.clear();
            for (auto& [label, to] : byLabel) {
                std::sort(to.begin(), to.end());
                std::vector<NodeId>& callers = blocks[{label.first, label.second, std::move(to)}];
                for (std::size_t i : members)
                    callers.push_back(
                        nodeOf(b_.graph, u_.callers[i].qube, u_.callers[i].disposable));
            }
        }
        for (auto& [key, callers] : blocks) {
            std::sort(callers.begin(), callers.end());
            EdgeGroup g;
            g.proto.kind = nature.kind;
            g.proto.needsAsk = std::get<0>(key);
            g.proto.service = service;
            g.proto.argument = arg;
            g.proto.origin = std::get<1>(key);
            g.proto.detail = (service.empty() ? "any other service" : service) + arg;
            const std::vector<NodeId>& to = std::get<2>(key);
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
        }
    }

private:
    // The landings of caller c as if it could land on itself (its class's common answer;
    // for the Admin API, c's own answer),
    // each (landing, needs-ask) with the rule of the first target that gives it, which is the
    // edge seal() kept when every caller was evaluated. Bit 0: plain, bit 1: ask.
    // The first matches of caller c from the walk of its shared class (made by the first
    // class of it, which comes first), with the @dispvm target redone for c.
    std::vector<const rpc::Rule*>
    sharedFirst(const std::string& service, const std::string& arg, const rpc::Caller& c,
                std::map<std::size_t, std::vector<const rpc::Rule*>>& walks, std::size_t shared) {
        auto [it, fresh] = walks.try_emplace(shared);
        if (fresh) {
            it->second = b_.evaluator->firstMatches(service, arg, c, u_);
            return it->second;
        }
        std::vector<const rpc::Rule*> first = it->second;
        if (auto dispvm = u_.index.dispvmTarget())
            first[*dispvm] = b_.evaluator->firstTwoFor(service, arg, c, u_, *dispvm).first;
        return first;
    }

    void landings(const std::string& service, const std::string& arg, const rpc::Caller& c,
                  const ServiceNature& nature, bool adminApi,
                  const std::vector<const rpc::Rule*>& first) {
        std::optional<std::vector<rpc::Landing>> askCache;
        // Every ask without target= offers the same list: walk it once.
        bool listDone = false, listHasDom0 = false;
        for (std::size_t ti = 0; ti < u_.targets.size(); ++ti) {
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
                land(service, nature, *r, 0, nodeOf(b_.graph, t.qube, false), false);
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
            std::size_t bit = d.result == rpc::Decision::Result::Ask ? 1 : 0;
            for (const rpc::Landing& l : landings)
                listHasDom0 = land(service, nature, *d.rule, bit,
                                   nodeOf(b_.graph, l.qube, l.disposable), list) ||
                              listHasDom0;
        }
    }

    // Records landing `to` (bit 0: plain, bit 1: ask) decided by rule r, unless an earlier
    // target gave it already. The caller's own node stays: other callers of its class land
    // there; each caller leaves out its own node when the group is expanded. Returns whether
    // an ask list of the caller holds dom0 (left out, as Qubes' design assumes).
    bool land(const std::string& service, const ServiceNature& nature, const rpc::Rule& r,
              std::size_t bit, NodeId to, bool list) {
        if (to == model::Policy::dom0 && nature.dom0Hardened) {
            assume(service, r);
            return list;
        }
        if (origin_[bit][to])
            return false;
        if (!made_[to])
            touched_.push_back(to);
        made_[to] = 1;
        origin_[bit][to] = &r;
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
    std::vector<std::uint8_t> made_;                    // by node: has a landing
    std::vector<std::vector<const rpc::Rule*>> origin_; // [bit][node]: the deciding rule
    std::vector<NodeId> touched_;
};

} // namespace

void addRpcEdges(const model::Policy& p, Built& b) {
    rpc::Universe u = rpc::universeOf(b.system, *b.evaluator);
    RpcGroups groups(p, b, u);
    for (const auto& [service, args] : u.services) {
        std::vector<std::vector<std::size_t>> classes =
            rpc::callerClasses(*b.evaluator, service, u);
        std::vector<std::size_t> shared = rpc::sharedWalks(*b.evaluator, service, u, classes);
        for (const std::string& arg : args)
            groups.add(service, arg, classes, shared);
    }
}

} // namespace bulkhead::analyzer
