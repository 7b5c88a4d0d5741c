#include "bulkhead/compiler/model.h"

#include <algorithm>
#include <array>
#include <sstream>

namespace bulkhead::model {
namespace {

constexpr std::array<std::string_view, 8> kLabels = {"red",  "orange", "yellow", "green",
                                                     "gray", "blue",   "purple", "black"};
constexpr std::array<std::string_view, 7> kEdgeKinds = {
    "net", "rpc", "template", "dispvm-template", "netvm", "device", "admin"};

} // namespace

std::string_view labelName(Label l) {
    return kLabels.at(static_cast<std::size_t>(l));
}

std::optional<Label> labelFromName(std::string_view name) {
    for (std::size_t i = 0; i < kLabels.size(); ++i)
        if (kLabels[i] == name)
            return static_cast<Label>(i);
    return std::nullopt;
}

TrustOrder::TrustOrder(std::vector<TrustLevel> levels,
                       const std::vector<std::vector<LevelId>>& below)
    : levels_(std::move(levels)), leq_(levels_.size(), std::vector<bool>(levels_.size(), false)) {
    // leq_[a][b]: a <= b. Walk down from each level; the caller guarantees no cycle.
    for (std::size_t top = 0; top < levels_.size(); ++top) {
        std::vector<LevelId> stack{static_cast<LevelId>(top)};
        while (!stack.empty()) {
            LevelId cur = stack.back();
            stack.pop_back();
            if (leq_[cur][top])
                continue;
            leq_[cur][top] = true;
            for (LevelId b : below.at(cur))
                stack.push_back(b);
        }
    }
}

std::optional<LevelId> TrustOrder::find(std::string_view name) const {
    for (std::size_t i = 0; i < levels_.size(); ++i)
        if (levels_[i].name == name)
            return static_cast<LevelId>(i);
    return std::nullopt;
}

bool TrustOrder::lessOrEqual(LevelId a, LevelId b) const {
    return leq_.at(a).at(b);
}

std::string_view kindKeyword(QubeKind k) {
    switch (k) {
    case QubeKind::AdminVM:
        return "dom0";
    case QubeKind::Template:
        return "template";
    case QubeKind::AppVM:
        return "qube";
    case QubeKind::DispVMTemplate:
        return "dispvm-template";
    case QubeKind::DispVM:
        return "disposable";
    case QubeKind::Standalone:
        return "standalone";
    case QubeKind::NetVM:
        return "netvm";
    case QubeKind::Firewall:
        return "firewall";
    case QubeKind::UsbVM:
        return "usbvm";
    case QubeKind::Vpn:
        return "vpn";
    }
    return "qube";
}

std::string_view qubesClass(QubeKind k) {
    switch (k) {
    case QubeKind::AdminVM:
        return "AdminVM";
    case QubeKind::Template:
        return "TemplateVM";
    case QubeKind::DispVM:
        return "DispVM";
    case QubeKind::Standalone:
        return "StandaloneVM";
    default:
        return "AppVM";
    }
}

bool providesNetwork(QubeKind k) {
    return k == QubeKind::NetVM || k == QubeKind::Firewall || k == QubeKind::Vpn;
}

bool isTemplateBased(QubeKind k) {
    return k != QubeKind::AdminVM && k != QubeKind::Template && k != QubeKind::Standalone;
}

std::string_view protocolName(Protocol p) {
    switch (p) {
    case Protocol::Tcp:
        return "tcp";
    case Protocol::Udp:
        return "udp";
    case Protocol::Icmp:
        return "icmp";
    case Protocol::Any:
        return "any";
    }
    return "any";
}

std::string_view directionName(DataDirection d) {
    switch (d) {
    case DataDirection::Push:
        return "push";
    case DataDirection::Pull:
        return "pull";
    case DataDirection::Both:
        return "both";
    case DataDirection::Control:
        return "control";
    }
    return "both";
}

std::string_view actionName(RpcAction a) {
    switch (a) {
    case RpcAction::Allow:
        return "allow";
    case RpcAction::Deny:
        return "deny";
    case RpcAction::Ask:
        return "ask";
    }
    return "deny";
}

std::string_view edgeKindName(EdgeKind k) {
    return kEdgeKinds.at(static_cast<std::size_t>(k));
}

std::optional<EdgeKind> edgeKindFromName(std::string_view name) {
    for (std::size_t i = 0; i < kEdgeKinds.size(); ++i)
        if (kEdgeKinds[i] == name)
            return static_cast<EdgeKind>(i);
    return std::nullopt;
}

std::optional<QubeId> Policy::findQube(std::string_view qubeName) const {
    for (std::size_t i = 0; i < qubes.size(); ++i)
        if (qubes[i].name == qubeName)
            return static_cast<QubeId>(i);
    return std::nullopt;
}

std::string_view qubesClassOf(const Policy& policy, QubeId id) {
    const Qube& q = policy.qubes.at(id);
    if (q.templ && policy.qubes.at(*q.templ).kind == QubeKind::DispVMTemplate)
        return "DispVM";
    return qubesClass(q.kind);
}

std::string tokenText(const Policy& p, const RpcToken& t) {
    using K = RpcToken::Kind;
    switch (t.kind) {
    case K::Qube:
        return p.qubes[t.qube].name;
    case K::AdminVM:
        return "@adminvm";
    case K::AnyVM:
        return "@anyvm";
    case K::Wildcard:
        return "*";
    case K::Default:
        return "@default";
    case K::DispVM:
        return "@dispvm";
    case K::DispVMOf:
        return "@dispvm:" + p.qubes[t.qube].name;
    case K::DispVMTag:
        return "@dispvm:@tag:" + t.value;
    case K::Tag:
        return "@tag:" + t.value;
    case K::Type:
        return "@type:" + t.value;
    }
    return "";
}

std::vector<QubeId> selectQubes(const Policy& policy, const Selector& s) {
    std::vector<QubeId> out;
    for (QubeId id = 0; id < policy.qubes.size(); ++id) {
        const Qube& q = policy.qubes[id];
        bool in = false;
        switch (s.kind) {
        case Selector::Kind::Qube:
            in = id == s.qube;
            break;
        case Selector::Kind::Network:
            break;
        case Selector::Kind::Trust:
            if (!q.trust) { // dom0 is above every level
                in =
                    s.comparator == Comparator::Greater || s.comparator == Comparator::GreaterEqual;
                break;
            }
            switch (s.comparator) {
            case Comparator::Equal:
                in = *q.trust == s.level;
                break;
            case Comparator::Less:
                in = policy.trust.less(*q.trust, s.level);
                break;
            case Comparator::LessEqual:
                in = policy.trust.lessOrEqual(*q.trust, s.level);
                break;
            case Comparator::Greater:
                in = policy.trust.less(s.level, *q.trust);
                break;
            case Comparator::GreaterEqual:
                in = policy.trust.lessOrEqual(s.level, *q.trust);
                break;
            }
            break;
        case Selector::Kind::Tag:
            in = std::binary_search(q.tags.begin(), q.tags.end(), s.value);
            break;
        case Selector::Kind::Type:
            in = qubesClassOf(policy, id) == s.value;
            break;
        case Selector::Kind::AnyVM:
            in = id != Policy::dom0;
            break;
        case Selector::Kind::DispVMOf:
            in = q.kind == QubeKind::DispVM && q.templ == s.qube;
            break;
        }
        if (in)
            out.push_back(id);
    }
    return out;
}

} // namespace bulkhead::model
