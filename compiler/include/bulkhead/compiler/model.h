#pragma once
// The resolved policy: every name bound, every value checked, every element pointing at the
// source that states it. Immutable once built; the analyzer and the backends consume it.
#include "bulkhead/compiler/address.h"
#include "bulkhead/compiler/source.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::model {

using QubeId = std::uint32_t;
using LevelId = std::uint32_t;
using NetworkId = std::uint32_t;
using ServiceId = std::uint32_t;

enum class Label : std::uint8_t { Red, Orange, Yellow, Green, Gray, Blue, Purple, Black };
std::string_view labelName(Label l);
std::optional<Label> labelFromName(std::string_view name);

struct TrustLevel {
    std::string name;
    std::optional<Label> label;
    SourceRange range;
};

// A partial order over levels (several `trust` chains may share levels); dom0 sits above all.
class TrustOrder {
public:
    TrustOrder() = default;
    // below[i] lists the levels directly below level i. The relation must be acyclic.
    TrustOrder(std::vector<TrustLevel> levels, const std::vector<std::vector<LevelId>>& below);
    const std::vector<TrustLevel>& levels() const { return levels_; }
    std::optional<LevelId> find(std::string_view name) const;
    bool lessOrEqual(LevelId a, LevelId b) const;
    bool less(LevelId a, LevelId b) const { return a != b && lessOrEqual(a, b); }

private:
    std::vector<TrustLevel> levels_;
    std::vector<std::vector<bool>> leq_; // reflexive-transitive closure
};

enum class QubeKind : std::uint8_t {
    AdminVM, // dom0, implicit
    Template,
    AppVM,
    DispVMTemplate,
    DispVM, // a named disposable
    Standalone,
    NetVM,
    Firewall,
    UsbVM,
    Vpn,
};
std::string_view kindKeyword(QubeKind k); // the DSL keyword ("qube", "dispvm-template", ...)
std::string_view qubesClass(QubeKind k);  // Qubes' class name ("AppVM", "TemplateVM", ...)
bool providesNetwork(QubeKind k);
bool isTemplateBased(QubeKind k);

struct Qube {
    std::string name;
    QubeKind kind = QubeKind::AppVM;
    std::optional<LevelId> trust; // empty only for dom0, which is above every level
    std::optional<QubeId> templ;
    std::optional<QubeId> netvm;
    std::optional<QubeId> defaultDispvm;
    std::vector<IpPrefix> addresses; // host addresses, sorted
    std::vector<std::string> tags;   // sorted, unique
    SourceRange range;
    bool implicit = false; // dom0
};

struct NetworkObject {
    std::string name;
    std::vector<IpPrefix> prefixes; // flattened, masked, sorted, unique
    SourceRange range;
};

enum class Protocol : std::uint8_t { Tcp, Udp, Icmp, Any };
std::string_view protocolName(Protocol p);

struct PortRange {
    std::uint16_t low = 0;
    std::uint16_t high = 0;
    auto operator<=>(const PortRange&) const = default;
};

// One protocol with its ports (tcp/udp) or types (icmp); an empty list means all of them.
struct ServiceMatch {
    Protocol protocol = Protocol::Any;
    std::vector<PortRange> ports;
    SourceRange range;
};

enum class DataDirection : std::uint8_t { Push, Pull, Both, Control };
std::string_view directionName(DataDirection d);

struct Service {
    std::string name;
    std::vector<ServiceMatch> matches; // flattened through referenced services
    DataDirection direction = DataDirection::Both;
    SourceRange range;
};

// A service as a flow names it: a declared service, or an inline protocol spec.
struct ServiceUse {
    std::optional<ServiceId> service;
    std::vector<ServiceMatch> matches;
    SourceRange range;
};

struct Endpoint {
    enum class Kind : std::uint8_t { Qube, Network, Prefix, Tag };
    Kind kind = Kind::Qube;
    QubeId qube = 0;
    NetworkId network = 0;
    IpPrefix prefix;
    std::string tag;
    SourceRange range;
};

enum class Verdict : std::uint8_t { Allow, Deny };

struct NetFlow {
    Verdict verdict = Verdict::Allow;
    std::vector<Endpoint> from;
    std::vector<Endpoint> to;
    std::vector<ServiceUse> services;
    SourceRange range;
};

// A qrexec source/target token, already checked against the column it stands in.
struct RpcToken {
    enum class Kind : std::uint8_t {
        Qube,      // a declared qube, dom0 included
        AdminVM,   // @adminvm
        AnyVM,     // @anyvm
        Wildcard,  // *
        Default,   // @default
        DispVM,    // @dispvm
        DispVMOf,  // @dispvm:NAME
        DispVMTag, // @dispvm:@tag:T
        Tag,       // @tag:T
        Type,      // @type:T
    };
    Kind kind = Kind::Qube;
    QubeId qube = 0;   // Qube, DispVMOf
    std::string value; // Tag, Type, DispVMTag
    SourceRange range;
};

struct RpcServiceSpec {
    std::string service;                 // "*" for every service
    std::optional<std::string> argument; // "+", "+arg"; empty means any argument ("*")
    SourceRange range;
};

enum class RpcAction : std::uint8_t { Allow, Deny, Ask };
std::string_view actionName(RpcAction a);

struct RpcRule {
    RpcServiceSpec spec;
    std::vector<RpcToken> from;
    std::vector<RpcToken> to;
    RpcAction action = RpcAction::Deny;
    std::optional<RpcToken> target;        // target=
    std::optional<RpcToken> defaultTarget; // default_target=
    std::optional<std::string> user;
    std::optional<bool> notify;
    std::optional<bool> autostart;
    SourceRange range;
};

struct RpcServiceDecl {
    std::string name;
    DataDirection direction = DataDirection::Both;
    SourceRange range;
};

enum class EdgeKind : std::uint8_t { Net, Rpc, Template, DispvmTemplate, Netvm, Device, Admin };
std::string_view edgeKindName(EdgeKind k);
std::optional<EdgeKind> edgeKindFromName(std::string_view name);

enum class Comparator : std::uint8_t { Equal, Less, LessEqual, Greater, GreaterEqual };

struct Selector {
    enum class Kind : std::uint8_t { Qube, Network, Trust, Tag, Type, AnyVM, DispVMOf };
    Kind kind = Kind::Qube;
    Comparator comparator = Comparator::Equal; // Trust
    LevelId level = 0;                         // Trust
    QubeId qube = 0;                           // Qube, DispVMOf
    NetworkId network = 0;                     // Network
    std::string value;                         // Tag, Type
    SourceRange range;
};

struct Waiver {
    EdgeKind kind = EdgeKind::Rpc;
    std::optional<RpcServiceSpec> service; // Rpc
    std::vector<RpcToken> rpcFrom, rpcTo;  // Rpc; empty means any
    std::optional<Selector> from, to;      // other kinds; empty means any
    std::vector<ServiceUse> services;      // Net; empty means any
    std::string reason;
    SourceRange range;
};

struct Assertion {
    enum class Kind : std::uint8_t { NoPath, NoNetwork };
    Kind kind = Kind::NoPath;
    std::vector<Selector> from; // NoNetwork: the subjects
    std::vector<Selector> to;
    std::vector<EdgeKind> via; // empty means every kind
    std::vector<Waiver> waivers;
    SourceRange range;
};

struct Requirement {
    enum class Kind : std::uint8_t { Net, Rpc };
    Kind kind = Kind::Net;
    std::vector<Endpoint> from, to;     // Net
    std::vector<ServiceUse> services;   // Net
    std::optional<RpcServiceSpec> spec; // Rpc
    std::vector<RpcToken> rpcFrom, rpcTo;
    SourceRange range;
};

struct Policy {
    std::string name;
    SourceRange nameRange;
    std::vector<std::string> files; // every file read, in load order
    TrustOrder trust;
    std::vector<Qube> qubes; // qubes[0] is dom0
    std::vector<NetworkObject> networks;
    std::vector<Service> services;
    std::vector<RpcServiceDecl> rpcServices;
    std::vector<NetFlow> flows;    // in source order
    std::vector<RpcRule> rpcRules; // in source order: Qubes' first match
    std::vector<Assertion> assertions;
    std::vector<Requirement> requirements;

    static constexpr QubeId dom0 = 0;
    std::optional<QubeId> findQube(std::string_view qubeName) const;
};

// A qrexec token in Qubes' own spelling: "work", "@anyvm", "@dispvm:dvm", "@tag:x".
std::string tokenText(const Policy& policy, const RpcToken& token);

// The qubes a selector stands for (Network selectors stand for none).
std::vector<QubeId> selectQubes(const Policy& policy, const Selector& selector);

// Qubes' class of a qube: a service qube based on a dispvm-template is a DispVM.
std::string_view qubesClassOf(const Policy& policy, QubeId qube);

// A canonical, location-free description: two policies with the same meaning describe the
// same, whatever their layout or comments. Used by fmt's meaning check and `check --show-model`.
std::string describe(const Policy& policy);

} // namespace bulkhead::model
