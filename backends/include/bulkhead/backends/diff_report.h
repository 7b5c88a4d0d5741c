#pragma once
// What `bulkhead diff` prints: the changes as text, as JSON (docs/diff-schema.json,
// versioned by diff_version) or as SARIF 2.1.0 (one result per change, anchored to the new
// policy's lines, or the old one's when the change only has those).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace bulkhead::backends {

inline constexpr int kDiffVersion = 1;

struct DiffPlace {
    std::string file; // as shown ("REV:path" for a file read from git)
    std::uint32_t line = 0, column = 0;
};

struct DiffChange {
    std::string severity; // error (opened low -> high), warning (opened high -> low), note
    std::string kind;     // rpc, net, escape-path, qube
    std::string text;
    std::string example;                 // a concrete request or packet; may be empty
    std::vector<DiffPlace> older, newer; // the deciding lines on each side
};

struct DiffReport {
    std::vector<DiffChange> changes; // errors, then warnings, then notes
    int exitCode = 0;
    std::string toolVersion;
    std::string baseline;      // empty: none
    std::string revision;      // --git: the old side's files are "REV:path"
    std::size_t netPairs = 0;  // node pairs whose packets Z3 compared
    std::size_t z3Queries = 0; // checks it took (equivalence, classes, their growth)
};

void writeDiffText(std::ostream& out, const DiffReport& report);
void writeDiffJson(std::ostream& out, const DiffReport& report);
void writeDiffSarif(std::ostream& out, const DiffReport& report);

} // namespace bulkhead::backends
