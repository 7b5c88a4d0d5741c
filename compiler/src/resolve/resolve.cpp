// The resolver's pass list, the policy header, trust levels and the name tables.
#include "bulkhead/compiler/resolve.h"

#include "bulkhead/compiler/qubes_facts.h"
#include "resolve/resolver.h"

#include <algorithm>

namespace bulkhead {

std::optional<model::Policy> resolve(std::span<const ast::File> files, FileId primary,
                                     const SourceManager& sources, DiagnosticSink& sink) {
    return resolver::Resolver(files, primary, sources, sink).run();
}

namespace resolver {

std::optional<model::Policy> Resolver::run() {
    std::size_t before = sink_.errorCount();
    for (const ast::File& f : files_)
        policy_.files.push_back(sources_.file(f.id).path);

    readHeader();
    declareTrust();     // levels before qubes: every qube names one
    declareNames();     // all names before any reference, so order of statements is free
    resolveNetworks();  // network objects may name each other
    resolveServices();  // services may name each other
    resolveQubes();     // properties need every qube and level declared
    checkNetvmCycles(); // needs every netvm resolved
    checkAddresses();   // needs every qube's ip
    resolveFlows();     // need qubes' netvms for the has-network check
    resolveRpcRules();
    resolveAssertions();
    resolveRequirements();

    if (sink_.errorCount() != before)
        return std::nullopt;
    return std::move(policy_);
}

void Resolver::readHeader() {
    // The header belongs in the file the user named first; any other one is a duplicate.
    std::vector<std::pair<const ast::PolicyHeader*, SourceRange>> headers;
    forEach<ast::PolicyHeader>([&](const ast::PolicyHeader& h, const ast::Statement& s) {
        headers.emplace_back(&h, s.range);
    });
    auto main = std::find_if(headers.begin(), headers.end(),
                             [&](const auto& h) { return h.second.file == primary_; });
    if (main == headers.end())
        main = headers.begin();
    if (main == headers.end()) {
        if (!files_.empty())
            sink_
                .report(DiagCode::MissingPolicyHeader, SourceRange{primary_, {1, 1}, {1, 1}},
                        "no policy header")
                .hint("start the policy with: policy \"NAME\";");
        return;
    }
    const ast::PolicyHeader& h = *main->first;
    policy_.name = h.name.value;
    policy_.nameRange = h.name.range;
    if (h.name.value.empty())
        sink_.report(DiagCode::MissingPolicyHeader, h.name.range, "the policy name is empty");
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        if (it == main)
            continue;
        sink_
            .report(DiagCode::DuplicatePolicyHeader, it->second,
                    "a second policy header; a policy has one name")
            .note(h.name.range, "the policy is named here")
            .hint("remove this line; imported files need no header");
    }
}

void Resolver::declareTrust() {
    std::vector<std::vector<model::LevelId>> below;
    std::map<std::string, const ast::Ident*, std::less<>> labelOwner;
    std::map<model::LevelId, SourceRange> labelGiven;

    auto declare = [&](const ast::TrustLevelDecl& decl) -> model::LevelId {
        auto found = std::find_if(levels_.begin(), levels_.end(), [&](const model::TrustLevel& l) {
            return l.name == decl.name.text;
        });
        model::LevelId id;
        if (found == levels_.end()) {
            levels_.push_back({decl.name.text, std::nullopt, decl.name.range});
            below.emplace_back();
            id = static_cast<model::LevelId>(levels_.size() - 1);
        } else {
            id = static_cast<model::LevelId>(found - levels_.begin());
        }
        if (!decl.label)
            return id;
        auto label = model::labelFromName(decl.label->text);
        if (!label) {
            std::vector<std::string> names;
            for (int i = 0; i < 8; ++i)
                names.emplace_back(model::labelName(static_cast<model::Label>(i)));
            auto d = sink_.report(DiagCode::UnknownLabel, decl.label->range,
                                  "'" + decl.label->text + "' is not a Qubes label");
            if (auto near = closestName(decl.label->text, names))
                d.hint("did you mean '" + *near + "'?");
            else
                d.hint("labels are red, orange, yellow, green, gray, blue, purple and black");
            return id;
        }
        model::TrustLevel& level = levels_[id];
        if (level.label && *level.label != *label) {
            sink_
                .report(DiagCode::LabelConflict, decl.label->range,
                        "trust level '" + level.name + "' already has label '" +
                            std::string(model::labelName(*level.label)) + "'")
                .note(labelGiven.at(id), "label given here");
            return id;
        }
        auto [it, inserted] = labelOwner.emplace(decl.label->text, &decl.name);
        if (!inserted && it->second->text != decl.name.text) {
            sink_
                .report(DiagCode::LabelConflict, decl.label->range,
                        "label '" + decl.label->text + "' already marks trust level '" +
                            it->second->text + "'")
                .note(it->second->range, "'" + it->second->text + "' declared here")
                .hint("each trust level needs its own colour, or users cannot tell them apart");
            return id;
        }
        level.label = label;
        labelGiven.emplace(id, decl.label->range);
        return id;
    };

    // Would adding lower < upper close a cycle? True when upper already lies below lower.
    auto reaches = [&](model::LevelId from, model::LevelId to) {
        std::vector<model::LevelId> stack{from};
        std::vector<bool> seen(levels_.size(), false);
        while (!stack.empty()) {
            model::LevelId cur = stack.back();
            stack.pop_back();
            if (cur == to)
                return true;
            if (seen[cur])
                continue;
            seen[cur] = true;
            for (model::LevelId b : below[cur])
                stack.push_back(b);
        }
        return false;
    };

    forEach<ast::TrustDecl>([&](const ast::TrustDecl& t, const ast::Statement&) {
        std::optional<model::LevelId> previous;
        const ast::TrustLevelDecl* previousDecl = nullptr;
        for (const ast::TrustLevelDecl& decl : t.chain) {
            model::LevelId id = declare(decl);
            if (previous) {
                if (*previous == id || reaches(*previous, id)) {
                    sink_
                        .report(DiagCode::TrustCycle, decl.name.range,
                                "'" + previousDecl->name.text + "' < '" + decl.name.text +
                                    "' makes the trust order a cycle")
                        .note(levels_[id].range, "'" + decl.name.text + "' first declared here")
                        .hint("trust levels must form an order: no level may sit above itself");
                } else {
                    below[id].push_back(*previous);
                }
            }
            previous = id;
            previousDecl = &decl;
        }
    });
    policy_.trust = model::TrustOrder(levels_, below);
}

void Resolver::declareNames() {
    // dom0 is implicit and always qube 0.
    model::Qube dom0;
    dom0.name = "dom0";
    dom0.kind = model::QubeKind::AdminVM;
    dom0.implicit = true;
    policy_.qubes.push_back(dom0);
    qubeDecls_.push_back(nullptr);
    qubeIndex_.emplace("dom0", model::Policy::dom0);

    // Qubes and network objects share one namespace: both are flow endpoints.
    auto firstEndpoint = [&](const std::string& name) -> SourceRange {
        if (auto q = qubeIndex_.find(name); q != qubeIndex_.end())
            return policy_.qubes[q->second].range;
        return policy_.networks[networkIndex_.at(name)].range;
    };
    auto endpointTaken = [&](const ast::Ident& name) {
        if (name.text == "dom0") {
            sink_.report(DiagCode::ReservedName, name.range, "'dom0' is declared implicitly")
                .hint("dom0 always exists; refer to it by name or as @adminvm");
            return true;
        }
        if (!qubeIndex_.count(name.text) && !networkIndex_.count(name.text))
            return false;
        sink_.report(DiagCode::DuplicateName, name.range, "'" + name.text + "' is declared twice")
            .note(firstEndpoint(name.text), "first declared here");
        return true;
    };

    forEach<ast::QubeDecl>([&](const ast::QubeDecl& q, const ast::Statement&) {
        if (auto why = qubes::invalidQubeNameReason(q.name.text)) {
            sink_.report(DiagCode::InvalidQubeName, q.name.range,
                         "'" + q.name.text + "' is not a valid qube name: " + *why);
            return;
        }
        if (endpointTaken(q.name))
            return;
        model::Qube qube;
        qube.name = q.name.text;
        qube.range = q.name.range;
        qubeIndex_.emplace(qube.name, static_cast<model::QubeId>(policy_.qubes.size()));
        policy_.qubes.push_back(std::move(qube));
        qubeDecls_.push_back(&q);
    });

    forEach<ast::NetworkDecl>([&](const ast::NetworkDecl& n, const ast::Statement&) {
        if (n.name.text == "none" || n.name.text == "default") {
            sink_
                .report(DiagCode::ReservedName, n.name.range,
                        "'" + n.name.text + "' is reserved and cannot name a network object")
                .hint("'none' and 'default' mean 'no qube' in Qubes; pick another name");
            return;
        }
        if (endpointTaken(n.name))
            return;
        networkIndex_.emplace(n.name.text, static_cast<model::NetworkId>(policy_.networks.size()));
        policy_.networks.push_back({n.name.text, {}, n.name.range});
        networkDecls_.push_back(&n);
    });

    forEach<ast::ServiceDecl>([&](const ast::ServiceDecl& d, const ast::Statement&) {
        static const std::string kProtocols[] = {"tcp", "udp", "icmp", "any"};
        if (std::find(std::begin(kProtocols), std::end(kProtocols), d.name.text) !=
            std::end(kProtocols)) {
            sink_.report(DiagCode::ReservedName, d.name.range,
                         "'" + d.name.text + "' is a protocol and cannot name a service");
            return;
        }
        if (auto it = serviceIndex_.find(d.name.text); it != serviceIndex_.end()) {
            sink_
                .report(DiagCode::DuplicateName, d.name.range,
                        "service '" + d.name.text + "' is declared twice")
                .note(policy_.services[it->second].range, "first declared here");
            return;
        }
        serviceIndex_.emplace(d.name.text, static_cast<model::ServiceId>(policy_.services.size()));
        policy_.services.push_back({d.name.text, {}, model::DataDirection::Both, d.name.range});
        serviceDecls_.push_back(&d);
    });

    forEach<ast::RpcServiceDecl>([&](const ast::RpcServiceDecl& d, const ast::Statement&) {
        if (auto it = rpcServiceIndex_.find(d.name.text); it != rpcServiceIndex_.end()) {
            sink_
                .report(DiagCode::DuplicateName, d.name.range,
                        "rpc-service '" + d.name.text + "' is declared twice")
                .note(policy_.rpcServices[it->second].range, "first declared here");
            return;
        }
        static const std::string kDirections[] = {"push", "pull", "both", "control"};
        auto found = std::find(std::begin(kDirections), std::end(kDirections), d.direction.text);
        if (found == std::end(kDirections)) {
            auto diag = sink_.report(DiagCode::UnknownDirection, d.direction.range,
                                     "'" + d.direction.text + "' is not a data direction");
            if (auto near = closestName(d.direction.text, kDirections))
                diag.hint("did you mean '" + *near + "'?");
            else
                diag.hint("directions are push, pull, both and control");
            return;
        }
        rpcServiceIndex_.emplace(d.name.text, policy_.rpcServices.size());
        policy_.rpcServices.push_back(
            {d.name.text, static_cast<model::DataDirection>(found - std::begin(kDirections)),
             d.name.range});
    });
}

std::vector<std::string> Resolver::qubeNames() const {
    std::vector<std::string> out;
    for (const auto& [name, id] : qubeIndex_)
        out.push_back(name);
    return out;
}

std::vector<std::string> Resolver::endpointNames() const {
    std::vector<std::string> out = qubeNames();
    for (const auto& [name, id] : networkIndex_)
        out.push_back(name);
    return out;
}

void Resolver::reportUnknown(const SourceRange& at, std::string_view what, const std::string& name,
                             std::span<const std::string> candidates) {
    auto d =
        sink_.report(DiagCode::UnknownName, at, "unknown " + std::string(what) + " '" + name + "'");
    if (auto near = closestName(name, candidates))
        d.hint("did you mean '" + *near + "'?");
}

std::optional<model::QubeId> Resolver::lookupQube(const ast::Ref& ref, std::string_view what) {
    if (auto it = qubeIndex_.find(ref.text); it != qubeIndex_.end())
        return it->second;
    if (auto n = networkIndex_.find(ref.text); n != networkIndex_.end()) {
        sink_
            .report(DiagCode::WrongKindOfName, ref.range,
                    "'" + ref.text + "' is a network object, not a qube")
            .note(policy_.networks[n->second].range, "declared here");
        return std::nullopt;
    }
    std::vector<std::string> names = qubeNames();
    reportUnknown(ref.range, what, ref.text, names);
    return std::nullopt;
}

std::optional<model::LevelId> Resolver::lookupLevel(const ast::Ident& name) {
    if (auto id = policy_.trust.find(name.text))
        return id;
    std::vector<std::string> names;
    for (const model::TrustLevel& l : levels_)
        names.push_back(l.name);
    reportUnknown(name.range, "trust level", name.text, names);
    return std::nullopt;
}

} // namespace resolver
} // namespace bulkhead
