#pragma once
// One function per subcommand.
#include "cli.h"

#include <string>
#include <vector>

namespace bulkhead::cli {

struct CheckOptions {
    std::vector<std::string> files;
    bool showModel = false;
    std::vector<std::string> baselineDirs;
    std::string baselineLegacy;
    bool noBaseline = false;
    std::vector<std::string> severities; // "BH1104=off", "rule-shadowed-same=error"
    std::string format = "text";         // text (stderr), json or sarif (stdout)
    bool each = false;                   // each file its own policy (runCheckEach)
};
int runCheck(const CheckOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal);
// Each file checked as a policy of its own; the exit code is the worst (highest) of them.
int runCheckEach(const CheckOptions& options, std::ostream& out, std::ostream& err,
                 const Terminal& terminal);

struct ExplainOptions {
    std::vector<std::string> files; // the policy (*.bh)
    std::vector<std::string> query; // SOURCE -> TARGET [SERVICE[+ARG]]
    std::string batch;              // a file of questions, one a line ("-": standard input)
    bool netWitnesses = false;      // print every net edge's witness packet (JSON lines)
    std::vector<std::string> baselineDirs;
    std::string baselineLegacy;
    bool noBaseline = false;
};
int runExplain(const ExplainOptions& options, std::ostream& out, std::ostream& err,
               const Terminal& terminal);

struct CompileOptions {
    CheckOptions check;
    std::string outDir;
    std::string qrexecFileName = "30-bulkhead.policy";
    bool noKernelCheck = false;
    std::string breakForTesting; // test-only: "qrexec" or "nft" damages that emitter
};
int runCompile(const CompileOptions& options, std::ostream& out, std::ostream& err,
               const Terminal& terminal);

struct AuditOptions {
    std::vector<std::string> policyDirs; // layered like /run/qubes/policy.d over /etc/...
    std::string legacyDir;               // !compat-4.0's directory
    std::string inventory;               // qvm-ls --raw-data
    std::string systemInfo;              // internal.GetSystemInfo JSON
    std::vector<std::string> intent;     // the policy (*.bh) the system should follow: drift
    std::string qrexecFileName = "30-bulkhead.policy"; // where its compiled rules live
    std::string labels; // a file with the label order, replacing Qubes' default chain
    std::vector<std::string> nftRulesets;  // QUBE=FILE: `nft -j list ruleset` in QUBE
    std::vector<std::string> qvmFirewalls; // QUBE=FILE: `qvm-firewall QUBE --raw` in dom0
    std::vector<std::string> severities;
    std::string format = "text";
};
int runAudit(const AuditOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal);

struct DiffOptions {
    // OLD NEW (each a file or a directory of *.bh files); with --git REV, the paths of the
    // new policy, compared with the same paths as of REV.
    std::vector<std::string> paths;
    std::string gitRevision;
    std::vector<std::string> baselineDirs;
    std::string baselineLegacy;
    bool noBaseline = false;
    std::string format = "text"; // text, json or sarif
};
int runDiff(const DiffOptions& options, std::ostream& out, std::ostream& err,
            const Terminal& terminal);

struct FmtOptions {
    std::vector<std::string> files;
    bool check = false;
    bool toStdout = false;
};
int runFmt(const FmtOptions& options, std::ostream& out, std::ostream& err,
           const Terminal& terminal);

struct GraphOptions {
    std::vector<std::string> files;
    std::vector<std::string> baselineDirs;
    std::string baselineLegacy;
    bool noBaseline = false;
    std::string output; // "" or "-": standard output
    std::string format; // "": DOT; "svg" or "png": rendered by Graphviz's dot
    bool all = false;   // also draw dom0's control edges to every qube
};
int runGraph(const GraphOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal);

} // namespace bulkhead::cli
