// `bulkhead compile`: check, emit every backend's files, validate them (read back and
// compared with the model; nftables through a real kernel), then replace OUT as a whole.
// Nothing is written unless all of that passes.
#include "check_run.h"
#include "compile_outputs.h"

#include "bulkhead/compiler/atomic_dir.h"

#include <filesystem>
#include <fstream>
#include <ostream>

namespace bulkhead::cli {
namespace {

namespace fs = std::filesystem;

// An existing OUT must be one Bulkhead wrote: compile never replaces someone's directory.
bool ownedOutput(const std::string& out) {
    std::error_code ec;
    if (!fs::exists(out, ec))
        return true;
    std::ifstream manifest(fs::path(out) / "manifest.json");
    std::string text((std::istreambuf_iterator<char>(manifest)), {});
    return text.find("\"generator\": \"bulkhead\"") != std::string::npos;
}

} // namespace

int runCompile(const CompileOptions& options, std::ostream& out, std::ostream& err,
               const Terminal& terminal) {
    if (!backends::isQubesPolicyFileName(options.qrexecFileName)) {
        err << "bulkhead compile: --qrexec-file '" << options.qrexecFileName
            << "' is not a name Qubes reads from policy.d: use [0-9a-z_.-] and end it in "
               ".policy, e.g. 30-bulkhead.policy\n";
        return kBadInput;
    }
    if (!ownedOutput(options.outDir)) {
        err << "bulkhead compile: " << options.outDir
            << " exists and holds no Bulkhead manifest.json; refusing to replace it\n"
               "  = help: name a new directory, or one an earlier compile wrote\n";
        return kBadInput;
    }
    CheckRun run;
    int code = runCheckPhase(options.check, run, err, terminal);
    bool report = options.check.format != "text";
    if (code != kClean) {
        if (report)
            writeReport(out, options.check.format, "compile", code, run);
        err << "bulkhead compile: check did not pass; nothing was written\n";
        return code;
    }
    CompileOutputs outputs;
    try {
        outputs = buildOutputs(*run.frontend.policy, run, options);
    } catch (const backends::UnsafeValue& e) {
        err << "bulkhead compile: internal error: " << e.what() << "; nothing was written\n";
        return kInternalError;
    }
    for (const Validation& v : outputs.validations)
        if (v.result == "failed") {
            err << "bulkhead compile: internal error: " << v.name << " failed: " << v.detail
                << "\nnothing was written; please report this with the policy\n";
            return kInternalError;
        } else if (v.result == "unproven") {
            err << "bulkhead compile: could not prove: " << v.name << ": " << v.detail
                << "\nnothing was written\n";
            return kInternalError;
        } else if (v.result == "refused") {
            err << "bulkhead compile: " << v.name << ": " << v.detail << "\nnothing was written\n";
            return kBadInput;
        }
    if (std::string why = replaceDirectoryAtomically(options.outDir, outputs.files); !why.empty()) {
        err << "bulkhead compile: " << why << "; " << options.outDir << " is unchanged\n";
        return kInternalError;
    }
    if (report) {
        writeReport(out, options.check.format, "compile", kClean, run);
        return kClean;
    }
    out << "wrote " << outputs.files.size() << " files to " << options.outDir << ":";
    for (const Validation& v : outputs.validations)
        out << " " << v.name << " " << v.result << ";";
    out << "\n";
    return kClean;
}

} // namespace bulkhead::cli
