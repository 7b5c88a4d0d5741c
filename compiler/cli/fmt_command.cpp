#include "commands.h"

#include "bulkhead/compiler/atomic_file.h"
#include "bulkhead/compiler/format.h"
#include "bulkhead/compiler/frontend.h"

#include <ostream>

namespace bulkhead::cli {

int runFmt(const FmtOptions& options, std::ostream& out, std::ostream& err,
           const Terminal& terminal) {
    SourceManager sources;
    DiagnosticSink sink;
    struct Pending {
        std::string path;
        std::string text;
        bool changed;
    };
    std::vector<Pending> pending;

    for (const std::string& path : options.files) {
        auto id = readSourceFile(path, sources, sink, SourceRange{});
        if (!id)
            continue;
        ParsedFile parsed = parseFile(sources, *id, sink);
        if (!parsed.ok)
            continue;
        std::string formatted = formatTokens(parsed.tokens);
        // Check our own work: the output must parse to the same tokens and comments.
        DiagnosticSink recheck;
        FileId again = sources.add(path + " (formatted)", formatted);
        ParsedFile reparsed = parseFile(sources, again, recheck);
        if (!reparsed.ok || !sameTokens(parsed.tokens, reparsed.tokens)) {
            err << "bulkhead: internal error: formatting " << path
                << " would change its meaning; nothing was written\n";
            return kInternalError;
        }
        bool changed = formatted != sources.file(*id).text;
        pending.push_back({path, std::move(formatted), changed});
    }

    std::vector<Diagnostic> diags = sink.sorted();
    renderDiagnostics(err, sources, diags, {terminal.color});
    if (sink.hasErrors()) {
        err << "bulkhead: nothing was formatted: fix the errors first\n";
        return kBadInput;
    }

    int status = kClean;
    for (const Pending& p : pending) {
        if (options.toStdout) {
            out << p.text;
        } else if (options.check) {
            if (p.changed) {
                out << p.path << ": not formatted\n";
                status = kFindings;
            }
        } else if (p.changed) {
            if (std::string why = writeFileAtomically(p.path, p.text); !why.empty()) {
                err << "bulkhead: cannot write " << p.path << ": " << why << "\n";
                return kBadInput;
            }
            out << "formatted " << p.path << "\n";
        }
    }
    return status;
}

} // namespace bulkhead::cli
