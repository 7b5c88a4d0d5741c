#pragma once
// Checks every assertion and requirement of a policy on its built graph.
#include "build_graph.h"
#include "certificate.h"

#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace bulkhead::analyzer {

class Checker {
public:
    // checkWaivers: report waivers that match no edge. Only meaningful with Qubes' baseline:
    // without it, a waiver for a path the defaults open has nothing to match.
    Checker(const model::Policy& policy, Built& built, DiagnosticSink& sink,
            AnalysisSummary& summary, bool checkWaivers);
    void run();

    std::vector<NodeId> select(const model::Selector& s) const;
    std::vector<NodeId> selectAll(const std::vector<model::Selector>& ss) const; // sorted
    const model::Waiver* waiverFor(const model::Assertion& a, const Edge& e) const;
    bool waives(const model::Waiver& w, const Edge& e) const;
    // The part of waives() that reads an edge's label only (not its nodes), and the part
    // that reads its initiator or responder; waives() is both.
    bool waivesLabel(const model::Waiver& w, const Edge& e) const;
    bool coversInitiator(const model::Waiver& w, NodeId n) const;
    bool coversResponder(const model::Waiver& w, NodeId n) const;
    // The edges assertion a may use: its via kinds, not waived.
    EdgeFilter usableFor(const model::Assertion& a) const;
    // The shortest escape path of an `assert no path`; empty when it holds.
    std::optional<std::vector<Edge>> witness(const model::Assertion& a) const;
    // Checks one requirement (reporting to the sink as run() does); true when it holds.
    bool requirementHolds(const model::Requirement& r);

    // After run(): each violated `assert no path`, by index, with its BH1001 diagnostic.
    struct Violation {
        std::size_t assertion;
        DiagBuilder diagnostic;
    };
    const std::vector<Violation>& violations() const { return violations_; }

private:
    void noPath(const model::Assertion& a);
    void noNetwork(const model::Assertion& a);
    void requirement(const model::Requirement& r);
    void reportUnusedWaivers(const model::Assertion& a);
    void reportPath(const model::Assertion& a, const std::vector<Edge>& path);
    bool waiverUsed(const model::Assertion& a, const model::Waiver& w) const;
    bool tokenCovers(const model::RpcToken& t, NodeId n) const;
    bool selectorCovers(const model::Selector& s, NodeId n) const;
    std::string direction(NodeId from, NodeId to) const;

    const model::Policy& policy_;
    Built& built_;
    const Graph& g_;
    DiagnosticSink& sink_;
    AnalysisSummary& summary_;
    bool checkWaivers_;
    mutable std::map<const model::Selector*, std::vector<NodeId>> selected_; // sorted nodes
    std::vector<Violation> violations_;
    Certifier certifier_;
    // NoPath assertions still to come, by filterName: the certifier's encoding for a name is
    // freed after its last one.
    std::map<std::string, std::size_t> certificatesLeft_;
    static std::optional<std::string> filterName(const model::Assertion& a);
};

} // namespace bulkhead::analyzer
