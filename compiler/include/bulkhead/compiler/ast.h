#pragma once
// The syntax tree: what the text says, with a source range on every node, before any name
// is resolved. Produced by parse.h, consumed by resolve.h. No ANTLR type appears here.
#include "bulkhead/compiler/source.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bulkhead::ast {

struct Ident {
    std::string text;
    SourceRange range;
};

struct StringLit {
    std::string value; // escapes already decoded
    SourceRange range;
};

// One word in a position that may hold several kinds of thing: a name, an address literal,
// a Qubes token such as @anyvm, or '*'. The resolver decides what it denotes.
struct Ref {
    enum class Kind { Name, Address, Token, Star };
    Kind kind = Kind::Name;
    std::string text;
    SourceRange range;
};

struct PortItem {
    std::string low; // digits as written; range-checked by the resolver
    std::optional<std::string> high;
    SourceRange range;
};

// "https", "tcp/443", "udp/1000-2000,3000", "icmp/8", "any"
struct ServiceItem {
    Ident name;
    std::vector<PortItem> ports;
    bool hasSlash = false;
    SourceRange range;
};

struct PolicyHeader {
    StringLit name;
};
struct Import {
    StringLit path;
};

struct TrustLevelDecl {
    Ident name;
    std::optional<Ident> label;
};
struct TrustDecl {
    std::vector<TrustLevelDecl> chain; // lowest first
};

struct NetworkDecl {
    Ident name;
    std::vector<Ref> items;
};

struct ServiceDecl {
    Ident name;
    std::vector<ServiceItem> items;
    std::optional<Ident> direction;
};

struct RpcServiceDecl {
    Ident name;
    Ident direction;
};

struct Property {
    Ident name;
    std::vector<Ref> values;
    SourceRange range;
};

struct QubeDecl {
    Ident kind; // the keyword as written: qube, template, netvm, ...
    Ident name;
    std::vector<Property> properties;
};

struct FlowRule {
    bool deny = false;
    std::vector<Ref> from;
    std::vector<Ref> to;
    std::vector<ServiceItem> services;
};

struct RpcServiceRef {
    Ref service;                   // Name or Star
    std::optional<Ident> argument; // "+", "+foo"; absent means any argument
    SourceRange range;
};

struct RpcParam {
    Ident key;
    Ref value;
    SourceRange range;
};

struct RpcRule {
    RpcServiceRef service;
    std::vector<Ref> from;
    std::vector<Ref> to;
    Ident action; // allow, deny, ask
    std::vector<RpcParam> params;
};

struct Selector {
    enum class Kind { Name, Token, Trust };
    Kind kind = Kind::Name;
    std::string comparator; // "", "<", "<=", ">", ">=" (Trust only)
    Ref ref;
    SourceRange range;
};

struct Waiver {
    enum class Kind { Rpc, Edge };
    Kind kind = Kind::Rpc;
    Ident edgeKind; // "rpc" for Rpc waivers
    std::optional<RpcServiceRef> service;
    std::vector<Ref> rpcFrom, rpcTo;   // Rpc waivers
    std::optional<Selector> from, to;  // Edge waivers
    std::vector<ServiceItem> services; // Edge waivers (net)
    SourceRange range;
};

struct ExceptClause {
    std::vector<Waiver> waivers;
    std::optional<StringLit> because;
    SourceRange range;
};

struct NoPathAssertion {
    std::vector<Selector> from;
    std::vector<Selector> to;
    std::vector<Ident> via; // empty: every edge kind
    std::vector<ExceptClause> excepts;
};

struct NoNetworkAssertion {
    std::vector<Selector> subjects;
};

struct NetRequirement {
    std::vector<Ref> from;
    std::vector<Ref> to;
    std::vector<ServiceItem> services;
};

struct RpcRequirement {
    RpcServiceRef service;
    std::vector<Ref> from;
    std::vector<Ref> to;
};

using StatementNode = std::variant<PolicyHeader, Import, TrustDecl, NetworkDecl, ServiceDecl,
                                   RpcServiceDecl, QubeDecl, FlowRule, RpcRule, NoPathAssertion,
                                   NoNetworkAssertion, NetRequirement, RpcRequirement>;

struct Statement {
    StatementNode node;
    SourceRange range;
};

struct File {
    FileId id = 0;
    std::vector<Statement> statements;
};

} // namespace bulkhead::ast
