#include "cli.h"

#include "commands.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/parse.h"

#include <CLI/CLI.hpp>

#include <ostream>

namespace bulkhead::cli {

std::string versionText() {
    ParserVersions p = parserVersions();
    return std::string("bulkhead ") + BULKHEAD_VERSION + " (ANTLR tool " + p.tool + ", runtime " +
           p.runtime + "; " + analyzer::proverVersion() + ")";
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const Terminal& terminal) {
    CLI::App app{"Bulkhead: a security policy compiler and auditor for Qubes OS", "bulkhead"};
    app.require_subcommand(1);
    app.set_version_flag("--version", versionText());
    std::string color = "auto";
    app.add_option("--color", color, "colour in diagnostics: auto, always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}));

    CheckOptions check;
    CLI::App* checkCmd = app.add_subcommand(
        "check", "parse, resolve and prove policies; exit 0 clean, 1 findings, 2 bad input, 3 "
                 "could not prove");
    checkCmd->add_option("files", check.files, "policy files (*.bh); together one policy")
        ->required();
    checkCmd->add_flag("--each", check.each,
                       "check each file as a policy of its own (for pre-commit, which passes "
                       "every staged file); exit with the worst result");
    checkCmd->add_flag("--show-model", check.showModel,
                       "print the checked policy (its canonical description)");
    checkCmd->add_option("--baseline", check.baselineDirs,
                         "Qubes policy.d directory evaluated after the policy's rules (repeat "
                         "for /run before /etc); default: dom0's own when present");
    checkCmd->add_option("--baseline-legacy", check.baselineLegacy,
                         "the R4.0 directory that !compat-4.0 reads (default "
                         "/etc/qubes-rpc/policy)");
    checkCmd->add_flag("--no-baseline", check.noBaseline,
                       "check without Qubes' shipped policy (the report says so)");
    checkCmd->add_option("--severity", check.severities,
                         "ID=LEVEL: change a finding's severity (error, warning, note, off), "
                         "e.g. BH1104=off or rule-shadowed-same=error; input errors stay errors");

    checkCmd
        ->add_option("--format", check.format,
                     "text (diagnostics on stderr), json or sarif (one document on stdout)")
        ->check(CLI::IsMember({"text", "json", "sarif"}));
    checkCmd->footer("Exit: 0 clean, 1 findings, 2 bad input, 3 could not prove.\n"
                     "Example: bulkhead check --baseline /etc/qubes/policy.d "
                     "policies/workstation.bh");

    ExplainOptions explain;
    CLI::App* explainCmd = app.add_subcommand(
        "explain", "why a request is decided as it is, or how one qube reaches another");
    // '->' looks like an option to CLI11: take every other word as it comes.
    explainCmd->allow_extras();
    explainCmd->footer("Words: POLICY.bh... SOURCE '->' TARGET [SERVICE[+ARG] | PROTO/PORT]\n"
                       "(none with --batch or --net-witnesses)\n"
                       "A packet's TARGET may be one address (8.8.8.8, 10.137.0.10).\n"
                       "Exit: 0 answered, 2 bad input, 3 could not prove.\n"
                       "Example: bulkhead explain policies/workstation.bh personal '->' vault "
                       "qubes.Filecopy");
    explainCmd->add_option("--baseline", explain.baselineDirs, "as for check");
    explainCmd->add_option("--baseline-legacy", explain.baselineLegacy, "as for check");
    explainCmd->add_flag("--no-baseline", explain.noBaseline, "as for check");
    explainCmd->add_option("--batch", explain.batch,
                           "answer the questions in FILE ('-': standard input), one "
                           "'SOURCE -> TARGET [SERVICE | PROTO/PORT]' a line, in order");
    explainCmd->add_flag("--net-witnesses", explain.netWitnesses,
                         "print every net edge with its witness packet, one JSON object a line");

    CompileOptions compile;
    CLI::App* compileCmd = app.add_subcommand(
        "compile", "check, then write the qrexec policy.d file, nftables rulesets and "
                   "qvm-firewall rules; nothing is written unless every check passes");
    compileCmd->add_option("files", compile.check.files, "policy files (*.bh)")->required();
    compileCmd
        ->add_option("-o,--output", compile.outDir,
                     "output directory, replaced as a whole (a new one, or one an "
                     "earlier compile wrote)")
        ->required();
    compileCmd->add_option("--qrexec-file", compile.qrexecFileName,
                           "name of the policy.d file (default 30-bulkhead.policy)");
    compileCmd->add_option("--baseline", compile.check.baselineDirs, "as for check");
    compileCmd->add_option("--baseline-legacy", compile.check.baselineLegacy, "as for check");
    compileCmd->add_flag("--no-baseline", compile.check.noBaseline, "as for check");
    compileCmd->add_option("--severity", compile.check.severities, "as for check");
    compileCmd->add_option("--format", compile.check.format, "as for check")
        ->check(CLI::IsMember({"text", "json", "sarif"}));
    compileCmd->add_flag("--no-kernel-check", compile.noKernelCheck,
                         "do not load the rulesets into a throw-away network namespace, nor "
                         "prove what the kernel read back (the manifest says both were "
                         "skipped); needed where no namespace can be made");
    compileCmd->add_option("--test-break-emitter", compile.breakForTesting)
        ->group("") // hidden: tests damage an emitter to prove validation catches it
        ->check(CLI::IsMember({"qrexec", "nft"}));
    compileCmd->footer("Exit: 0 written, 1 check found problems, 2 bad input, 3 a validation "
                       "failed (a compiler bug; nothing written).\n"
                       "Example: bulkhead compile policies/workstation.bh -o out/");

    AuditOptions audit;
    CLI::App* auditCmd = app.add_subcommand(
        "audit", "escape paths, rule findings and Qubes' silent gaps in a deployed system");
    auditCmd
        ->add_option("--policy-dir", audit.policyDirs,
                     "a qrexec policy.d directory as deployed (repeat to layer: the first "
                     "holding a file name wins it, like /run/qubes/policy.d over /etc)")
        ->required();
    auditCmd->add_option("--legacy-dir", audit.legacyDir,
                         "the R4.0 directory !compat-4.0 reads (default /etc/qubes-rpc/policy)");
    auditCmd->add_option("--inventory", audit.inventory,
                         "qvm-ls --raw-data --fields NAME,CLASS,LABEL,TEMPLATE,NETVM,IP,TAGS,"
                         "DEFAULT_DISPVM,TEMPLATE_FOR_DISPVMS,PROVIDES_NETWORK output");
    auditCmd->add_option("--system-info", audit.systemInfo,
                         "internal.GetSystemInfo JSON (no templates, netvms or addresses)");
    auditCmd->add_option("--intent", audit.intent,
                         "the policy (*.bh) this system should follow: report drift, each "
                         "difference with a concrete request (repeat for several files)");
    auditCmd->add_option("--qrexec-file", audit.qrexecFileName,
                         "the policy.d file name the policy compiles to (default "
                         "30-bulkhead.policy); drift compares the deployed files with that "
                         "file replaced by the compiled rules");
    auditCmd->add_option("--labels", audit.labels,
                         "a file ordering the labels as trust, lowest first, one chain a line "
                         "(`red < yellow < black`); default red < orange < yellow < green < "
                         "gray < blue < purple < black");
    auditCmd->add_option("--nft-ruleset", audit.nftRulesets,
                         "QUBE=FILE: `nft -j list ruleset` run in net qube QUBE; its clients' "
                         "network flows come from it (repeat for each net qube)");
    auditCmd->add_option("--qvm-firewall", audit.qvmFirewalls,
                         "QUBE=FILE: `qvm-firewall QUBE --raw` from dom0 (repeat for each "
                         "qube); used where the net qube's ruleset is not given");
    auditCmd->add_option("--severity", audit.severities, "as for check");
    auditCmd->add_option("--format", audit.format, "as for check")
        ->check(CLI::IsMember({"text", "json", "sarif"}));
    auditCmd->footer("Exit: 0 clean, 1 findings, 2 bad input (every Qubes parse error is shown), "
                     "3 could not prove.\nExample: bulkhead audit --policy-dir policy.d "
                     "--inventory qubes.txt");

    DiffOptions diff;
    CLI::App* diffCmd = app.add_subcommand(
        "diff", "what a change to a policy means: requests and flows opened or closed, escape "
                "paths added or removed");
    diffCmd
        ->add_option("paths", diff.paths,
                     "OLD NEW: two policies, each a file or a directory of *.bh files; "
                     "with --git: the new policy's files or directories")
        ->required();
    diffCmd
        ->add_option("--git", diff.gitRevision,
                     "compare the given paths as of git revision REV (old) with the "
                     "working tree (new)")
        ->option_text("REV");
    diffCmd->add_option("--baseline", diff.baselineDirs, "as for check");
    diffCmd->add_option("--baseline-legacy", diff.baselineLegacy, "as for check");
    diffCmd->add_flag("--no-baseline", diff.noBaseline, "as for check");
    diffCmd->add_option("--format", diff.format, "text, json or sarif (one document on stdout)")
        ->check(CLI::IsMember({"text", "json", "sarif"}));
    diffCmd->footer("Exit: 0 nothing opens an escape, 1 a change opens a way from lower to "
                    "higher trust or a new escape path, 2 bad input, 3 could not prove.\n"
                    "Examples: bulkhead diff old/workstation.bh policies/workstation.bh\n"
                    "          bulkhead diff --git origin/main policies/");

    FmtOptions fmt;
    CLI::App* fmtCmd =
        app.add_subcommand("fmt", "rewrite policy files in the canonical layout, keeping comments");
    fmtCmd->add_option("files", fmt.files, "policy files to format")->required();
    fmtCmd->add_flag("--check", fmt.check,
                     "write nothing; exit 1 and name the files that are not formatted");
    fmtCmd->add_flag("--stdout", fmt.toStdout, "print the formatted text instead of writing");
    fmtCmd->footer("Exit: 0 formatted (or already canonical), 1 --check found unformatted "
                   "files, 2 bad input.\nExample: bulkhead fmt --check policies/*.bh");

    GraphOptions graph;
    CLI::App* graphCmd = app.add_subcommand(
        "graph", "draw the influence graph (Graphviz DOT, or SVG/PNG through dot) with the "
                 "escape paths of violated assertions in bold red");
    graphCmd->add_option("files", graph.files, "policy files (*.bh)")->required();
    graphCmd->add_option("--baseline", graph.baselineDirs, "as for check");
    graphCmd->add_option("--baseline-legacy", graph.baselineLegacy, "as for check");
    graphCmd->add_flag("--no-baseline", graph.noBaseline, "as for check");
    graphCmd->add_option("-o,--output", graph.output,
                         "write to FILE (atomically) instead of standard output");
    auto* svg = graphCmd->add_flag_callback(
        "--svg", [&graph] { graph.format = "svg"; }, "render to SVG with Graphviz's dot");
    auto* png = graphCmd->add_flag_callback(
        "--png", [&graph] { graph.format = "png"; }, "render to PNG with Graphviz's dot");
    svg->excludes(png);
    graphCmd->add_flag(
        "--all", graph.all,
        "also draw the edges out of dom0 (it controls every qube; left out by default)");
    graphCmd->footer("Exit: 0 written, 2 bad input, 3 could not prove or dot failed.\n"
                     "Example: bulkhead graph policies/workstation.bh --svg -o workstation.svg");

    std::vector<std::string> argv = args;
    std::reverse(argv.begin(), argv.end()); // CLI11 takes the arguments last-first
    try {
        app.parse(argv);
    } catch (const CLI::CallForHelp& e) {
        app.exit(e, out, err);
        return kClean;
    } catch (const CLI::CallForAllHelp& e) {
        app.exit(e, out, err);
        return kClean;
    } catch (const CLI::CallForVersion& e) {
        app.exit(e, out, err);
        return kClean;
    } catch (const CLI::ParseError& e) {
        app.exit(e, out, err);
        return kBadInput;
    }

    Terminal term = terminal;
    if (color == "always")
        term.color = true;
    else if (color == "never")
        term.color = false;

    try {
        if (checkCmd->parsed())
            return check.each ? runCheckEach(check, out, err, term)
                              : runCheck(check, out, err, term);
        if (explainCmd->parsed()) {
            // Leading *.bh words are the policy; the rest is the question.
            for (const std::string& w : explainCmd->remaining())
                (explain.query.empty() && w.ends_with(".bh") ? explain.files : explain.query)
                    .push_back(w);
            if (explain.files.empty()) {
                err << "bulkhead explain: name the policy file(s) first\n";
                return kBadInput;
            }
            return runExplain(explain, out, err, term);
        }
        if (compileCmd->parsed())
            return runCompile(compile, out, err, term);
        if (auditCmd->parsed())
            return runAudit(audit, out, err, term);
        if (diffCmd->parsed())
            return runDiff(diff, out, err, term);
        if (fmtCmd->parsed())
            return runFmt(fmt, out, err, term);
        if (graphCmd->parsed())
            return runGraph(graph, out, err, term);
    } catch (const std::exception& e) {
        err << "bulkhead: internal error: " << e.what() << "\n";
        return kInternalError;
    }
    return kBadInput;
}

} // namespace bulkhead::cli
