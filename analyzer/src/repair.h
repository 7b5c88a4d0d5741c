#pragma once
// Repair hints (docs/semantics.md, "Repair hints"): the fewest changes to the policy's own
// rules that close the escape paths of every violated `assert no path` at once while every
// requirement that held still holds. A change removes an allow or ask line of the policy, or
// (only when removals alone cannot do it) inserts a narrow deny for one hop. Qubes facts and
// the lines of Qubes' shipped policy are never changed.
#include "assertions.h"
#include "build_graph.h"

#include <string>
#include <vector>

namespace bulkhead::analyzer {

struct Repair {
    enum class Status : std::uint8_t { Found, None, GaveUp };
    Status status = Status::GaveUp;
    DiagFix fix; // Found: the changes, applied together
    // None: why no change set exists (the requirements that block it, or the unchangeable
    // path); GaveUp: what stopped the search. A note without a place is about every
    // violated assertion.
    std::vector<DiagNote> reasons;
};

// violated: indexes into policy.assertions of the violated `assert no path`s. built: the
// policy's graph, as the check saw it. Z3 picks a smallest change set against cuts taken
// lazily from the paths that remain; each candidate set is applied to a copy of the policy
// and checked by rebuilding the graph, so a Found repair is one the check accepts.
Repair findRepair(const model::Policy& policy, const AnalysisOptions& options, Built& built,
                  const std::vector<std::size_t>& violated);

// Finds the repair of the check's violations and adds it to each BH1001: a fix, or notes
// saying why there is none.
void reportRepair(const model::Policy& policy, const AnalysisOptions& options, Built& built,
                  const std::vector<Checker::Violation>& violations);

} // namespace bulkhead::analyzer
