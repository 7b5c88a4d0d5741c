#pragma once
// Shared state of the resolver passes. Internal to compiler/; resolve.h is the interface.
#include "bulkhead/compiler/ast.h"
#include "bulkhead/compiler/diagnostics.h"
#include "bulkhead/compiler/model.h"

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace bulkhead::resolver {

// The column a qrexec token stands in decides which tokens Qubes accepts there.
enum class RpcColumn { Source, Target, Redirect };

class Resolver {
public:
    Resolver(std::span<const ast::File> files, FileId primary, const SourceManager& sources,
             DiagnosticSink& sink)
        : files_(files), primary_(primary), sources_(sources), sink_(sink) {}

    std::optional<model::Policy> run();

private:
    // Passes, in the order run() calls them.
    void readHeader();
    void declareTrust();
    void declareNames();
    void resolveNetworks();
    void resolveServices();
    void resolveQubes();
    void checkNetvmCycles();
    void checkAddresses();
    void resolveFlows();
    void resolveRpcRules();
    void resolveAssertions();
    void resolveRequirements();

    // Lookups that report unknown names with a did-you-mean hint.
    std::optional<model::QubeId> lookupQube(const ast::Ref& ref, std::string_view what);
    std::optional<model::LevelId> lookupLevel(const ast::Ident& name);
    void reportUnknown(const SourceRange& at, std::string_view what, const std::string& name,
                       std::span<const std::string> candidates);
    std::vector<std::string> qubeNames() const;
    std::vector<std::string> endpointNames() const;

    // Network pieces shared by flows, waivers and requirements.
    std::optional<model::Endpoint> endpoint(const ast::Ref& ref);
    std::vector<model::Endpoint> endpoints(const std::vector<ast::Ref>& refs);
    std::optional<model::ServiceUse> serviceUse(const ast::ServiceItem& item);
    std::vector<model::ServiceUse> serviceUses(const std::vector<ast::ServiceItem>& items);
    std::optional<model::ServiceMatch> protocolMatch(const ast::ServiceItem& item);
    std::optional<model::PortRange> portRange(const ast::PortItem& port, unsigned max,
                                              std::string_view unit);

    // qrexec pieces shared by rules, waivers and requirements.
    std::optional<model::RpcServiceSpec> rpcService(const ast::RpcServiceRef& ref);
    std::optional<model::RpcToken> rpcToken(const ast::Ref& ref, RpcColumn column);
    std::vector<model::RpcToken> rpcTokens(const std::vector<ast::Ref>& refs, RpcColumn column);

    // Assertion pieces.
    std::optional<model::Selector> selector(const ast::Selector& sel, bool qubesOnly);
    std::vector<model::Selector> selectors(const std::vector<ast::Selector>& sels, bool qubesOnly);
    std::optional<model::Waiver> waiver(const ast::Waiver& w);
    std::optional<model::EdgeKind> edgeKind(const ast::Ident& name);

    template <class Node, class F> void forEach(F&& f) const {
        for (const ast::File& file : files_)
            for (const ast::Statement& s : file.statements)
                if (auto* node = std::get_if<Node>(&s.node))
                    f(*node, s);
    }

    std::span<const ast::File> files_;
    FileId primary_;
    const SourceManager& sources_;
    DiagnosticSink& sink_;
    model::Policy policy_;

    // Declarations by name, pointing at their syntax.
    std::vector<model::TrustLevel> levels_;
    std::map<std::string, model::QubeId, std::less<>> qubeIndex_;
    std::map<std::string, model::NetworkId, std::less<>> networkIndex_;
    std::map<std::string, model::ServiceId, std::less<>> serviceIndex_;
    std::map<std::string, std::size_t, std::less<>> rpcServiceIndex_;
    // By undeclared service name: the Qubes service it is likely a misspelling of. A large
    // policy names the same few services in thousands of rules: one search per name.
    std::map<std::string, std::optional<std::string>, std::less<>> misspelledService_;
    std::vector<const ast::QubeDecl*> qubeDecls_;       // by QubeId; dom0 has none
    std::vector<const ast::NetworkDecl*> networkDecls_; // by NetworkId
    std::vector<const ast::ServiceDecl*> serviceDecls_; // by ServiceId
    // Qubes whose netvm was named but did not resolve: later checks that depend on their
    // network stay quiet instead of repeating the first error.
    std::set<model::QubeId> badNetvm_;
};

} // namespace bulkhead::resolver
