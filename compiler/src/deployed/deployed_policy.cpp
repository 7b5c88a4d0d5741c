#include "bulkhead/compiler/deployed_system.h"

#include <algorithm>
#include <map>

namespace bulkhead::deployed {
namespace {

using model::QubeKind;

QubeKind kindOf(const Qube& q) {
    if (q.klass == "TemplateVM")
        return QubeKind::Template;
    if (q.klass == "StandaloneVM")
        return QubeKind::Standalone;
    if (q.klass == "DispVM")
        return QubeKind::DispVM;
    if (q.templateForDispvms)
        return QubeKind::DispVMTemplate;
    if (q.providesNetwork)
        return q.netvm ? QubeKind::Firewall : QubeKind::NetVM;
    return QubeKind::AppVM;
}

class Builder {
public:
    Builder(const std::vector<Qube>& qubes, DiagnosticSink& sink,
            const std::vector<std::pair<model::Label, model::Label>>& order)
        : in_(qubes), sink_(sink), order_(order) {}

    PolicyBuild run(const std::vector<std::pair<QrexecRule, SourceRange>>& rules) {
        PolicyBuild out;
        model::Policy p;
        p.name = "deployed system";
        std::vector<model::TrustLevel> levels;
        std::vector<std::vector<model::LevelId>> below;
        for (std::uint8_t i = 0; i <= static_cast<std::uint8_t>(model::Label::Black); ++i) {
            auto label = static_cast<model::Label>(i);
            levels.push_back({std::string(model::labelName(label)), label, {}});
            if (order_.empty())
                below.push_back(i == 0 ? std::vector<model::LevelId>{}
                                       : std::vector<model::LevelId>{model::LevelId(i - 1)});
            else
                below.emplace_back();
        }
        for (const auto& [lower, higher] : order_)
            below[static_cast<std::size_t>(higher)].push_back(static_cast<model::LevelId>(lower));
        p.trust = model::TrustOrder(levels, below);

        model::Qube dom0;
        dom0.name = "dom0";
        dom0.kind = QubeKind::AdminVM;
        dom0.implicit = true;
        p.qubes.push_back(dom0);
        std::vector<const Qube*> sorted;
        for (const Qube& q : in_) {
            if (q.klass == "AdminVM") {
                p.qubes[0].tags = q.tags;
                p.qubes[0].range = q.range;
                uuids_[q.uuid] = 0;
                continue;
            }
            sorted.push_back(&q);
        }
        std::sort(sorted.begin(), sorted.end(),
                  [](const Qube* a, const Qube* b) { return a->name < b->name; });
        for (const Qube* q : sorted) {
            ids_[q->name] = static_cast<model::QubeId>(p.qubes.size());
            if (!q->uuid.empty())
                uuids_[q->uuid] = static_cast<model::QubeId>(p.qubes.size());
            model::Qube m;
            m.name = q->name;
            m.kind = kindOf(*q);
            std::optional<model::Label> label = model::labelFromName(q->label);
            if (!label)
                sink_
                    .report(DiagCode::BadInventory, q->range,
                            "'" + q->label + "' is not a Qubes label")
                    .hint("red, orange, yellow, green, gray, blue, purple or black");
            m.trust = static_cast<model::LevelId>(label.value_or(model::Label::Red));
            m.tags = q->tags;
            std::sort(m.tags.begin(), m.tags.end());
            m.tags.erase(std::unique(m.tags.begin(), m.tags.end()), m.tags.end());
            if (q->ip) {
                AddressParse a = parseAddress(*q->ip);
                if (a.prefix)
                    m.addresses.push_back(*a.prefix);
                else
                    sink_.report(DiagCode::BadInventory, q->range,
                                 "IP '" + *q->ip + "': " + a.error);
            }
            m.range = q->range;
            p.qubes.push_back(std::move(m));
        }
        ids_["dom0"] = 0;
        for (const Qube* q : sorted) {
            model::Qube& m = p.qubes[ids_.at(q->name)];
            m.templ = ref(q->templ, *q, "template");
            m.netvm = ref(q->netvm, *q, "netvm");
            m.defaultDispvm = ref(q->defaultDispvm, *q, "default_dispvm");
        }
        // The outside world, for the uplink of each net qube.
        model::NetworkObject internet;
        internet.name = "internet";
        internet.prefixes = {*parseAddress("0.0.0.0/0").prefix, *parseAddress("::/0").prefix};
        p.networks.push_back(internet);

        for (const auto& [r, range] : rules)
            if (std::optional<model::RpcRule> m = ruleOf(p, r, range, out))
                p.rpcRules.push_back(std::move(*m));
        if (!sink_.hasErrors())
            out.policy = std::move(p);
        return out;
    }

private:
    std::optional<model::QubeId> ref(const std::optional<std::string>& name, const Qube& q,
                                     const char* what) {
        if (!name)
            return std::nullopt;
        auto it = ids_.find(*name);
        if (it == ids_.end()) {
            sink_.report(DiagCode::BadInventory, q.range,
                         std::string(what) + " '" + *name + "' of '" + q.name +
                             "' is not in the inventory");
            return std::nullopt;
        }
        return it->second;
    }

    std::optional<model::RpcToken> token(const QrexecToken& t, const SourceRange& at,
                                         PolicyBuild& out) {
        using K = model::RpcToken::Kind;
        model::RpcToken m;
        m.range = at;
        auto qube = [&](const std::string& name) -> std::optional<model::QubeId> {
            auto it = ids_.find(name);
            if (it != ids_.end())
                return it->second;
            out.unknownNames.emplace_back(at, name);
            return std::nullopt;
        };
        switch (t.kind) {
        case QrexecTokenKind::Name: {
            auto q = qube(t.value);
            if (!q)
                return std::nullopt;
            m.kind = K::Qube;
            m.qube = *q;
            return m;
        }
        case QrexecTokenKind::Uuid: {
            auto it = uuids_.find(t.value);
            if (it == uuids_.end()) {
                out.unknownNames.emplace_back(at, "uuid:" + t.value);
                return std::nullopt;
            }
            m.kind = K::Qube;
            m.qube = it->second;
            return m;
        }
        case QrexecTokenKind::Wildcard:
            m.kind = K::Wildcard;
            return m;
        case QrexecTokenKind::AdminVm:
            m.kind = K::AdminVM;
            return m;
        case QrexecTokenKind::AnyVm:
            m.kind = K::AnyVM;
            return m;
        case QrexecTokenKind::Default:
            m.kind = K::Default;
            return m;
        case QrexecTokenKind::DispVm:
            m.kind = K::DispVM;
            return m;
        case QrexecTokenKind::DispVmTemplate: {
            auto q = qube(t.value);
            if (!q)
                return std::nullopt;
            m.kind = K::DispVMOf;
            m.qube = *q;
            return m;
        }
        case QrexecTokenKind::DispVmTag:
            m.kind = K::DispVMTag;
            m.value = t.value;
            return m;
        case QrexecTokenKind::Tag:
            m.kind = K::Tag;
            m.value = t.value;
            return m;
        case QrexecTokenKind::Type:
            m.kind = K::Type;
            m.value = t.value;
            return m;
        }
        return std::nullopt;
    }

    std::optional<model::RpcRule> ruleOf(const model::Policy&, const QrexecRule& r,
                                         const SourceRange& at, PolicyBuild& out) {
        model::RpcRule m;
        m.spec.service = r.service;
        m.spec.argument = r.argument;
        m.spec.range = at;
        auto from = token(r.source, at, out), to = token(r.target, at, out);
        if (!from || !to)
            return std::nullopt; // a name the system does not have: the rule never matches
        m.from = {*from};
        m.to = {*to};
        m.action = r.action == QrexecAction::Allow ? model::RpcAction::Allow
                   : r.action == QrexecAction::Ask ? model::RpcAction::Ask
                                                   : model::RpcAction::Deny;
        if (r.redirect) {
            m.target = token(*r.redirect, at, out);
            if (!m.target)
                return std::nullopt;
        }
        if (r.defaultTarget) {
            m.defaultTarget = token(*r.defaultTarget, at, out);
            if (!m.defaultTarget)
                return std::nullopt;
        }
        m.user = r.user;
        m.notify = r.notify;
        m.autostart = r.autostart;
        m.range = at;
        return m;
    }

    const std::vector<Qube>& in_;
    DiagnosticSink& sink_;
    const std::vector<std::pair<model::Label, model::Label>>& order_;
    std::map<std::string, model::QubeId> ids_, uuids_;
};

} // namespace

PolicyBuild buildPolicy(const std::vector<Qube>& qubes,
                        const std::vector<std::pair<QrexecRule, SourceRange>>& rules,
                        DiagnosticSink& sink,
                        const std::vector<std::pair<model::Label, model::Label>>& labelOrder) {
    return Builder(qubes, sink, labelOrder).run(rules);
}

std::optional<std::vector<std::pair<model::Label, model::Label>>>
parseLabelOrder(FileId file, const SourceManager& sources, DiagnosticSink& sink) {
    const SourceFile& f = sources.file(file);
    std::vector<std::pair<model::Label, model::Label>> pairs;
    bool ok = true;
    for (std::uint32_t line = 1; line <= f.lineStarts.size(); ++line) {
        std::string text(f.line(line));
        if (auto hash = text.find('#'); hash != std::string::npos)
            text.erase(hash);
        std::optional<model::Label> prev;
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t lt = text.find('<', start);
            std::string word =
                text.substr(start, lt == std::string::npos ? std::string::npos : lt - start);
            auto b = word.find_first_not_of(" \t\r"), e = word.find_last_not_of(" \t\r");
            word = b == std::string::npos ? "" : word.substr(b, e - b + 1);
            auto column = static_cast<std::uint32_t>(start + 1);
            if (!word.empty() || lt != std::string::npos || prev) {
                std::optional<model::Label> label = model::labelFromName(word);
                if (!label) {
                    sink.report(DiagCode::BadInventory, {file, {line, column}, {line, column}},
                                "'" + word + "' is not a Qubes label")
                        .hint("labels, lowest trust first: red < orange < yellow < green < "
                              "gray < blue < purple < black");
                    ok = false;
                    break;
                }
                if (prev)
                    pairs.emplace_back(*prev, *label);
                prev = label;
            }
            if (lt == std::string::npos)
                break;
            start = lt + 1;
        }
    }
    // A cycle would make two labels each above the other: close the relation and look.
    bool below[8][8] = {};
    for (const auto& [lo, hi] : pairs)
        below[static_cast<int>(lo)][static_cast<int>(hi)] = true;
    for (int k = 0; k < 8; ++k)
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 8; ++j)
                below[i][j] = below[i][j] || (below[i][k] && below[k][j]);
    for (int x = 0; x < 8; ++x)
        if (below[x][x]) {
            sink.report(DiagCode::BadInventory, {file, {1, 1}, {1, 1}},
                        "the label order has a cycle through '" +
                            std::string(model::labelName(static_cast<model::Label>(x))) + "'")
                .hint("each line lists labels from lowest to highest trust");
            return std::nullopt;
        }
    if (!ok)
        return std::nullopt;
    return pairs;
}

} // namespace bulkhead::deployed
