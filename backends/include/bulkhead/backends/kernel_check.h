#pragma once
// The kernel check: load emitted nftables rulesets into a real kernel, inside a network
// namespace that exists only for the check, and read the result back as `nft -j list
// ruleset` JSON. libnftables stays private to the backends library.
//
// A child process is forked; it unshares a network namespace (as root), or a user namespace
// plus a network namespace (unprivileged), loads the inputs for real, reports over a pipe and
// exits, which destroys the namespace. The host's ruleset is never touched. The child uses
// only its own memory and libnftables before _exit, so a multi-threaded caller is fine (glibc
// makes malloc and stdio usable after fork). See docs/architecture.md "The kernel check".
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::backends {

// One nftables file. logicalName is what errors show (`sys-firewall/bulkhead.nft:12:5: ...`).
struct NftInput {
    std::string logicalName;
    std::string text;
};

// Qubes' base tables (qubes-antispoof.nft, qubes-ipv4.nft, qubes-ipv6.nft from R4.2's
// qubes-core-agent-linux, see backends/qubes-nft/README.md), embedded at build time, in the
// order a net qube loads them at boot. Logical names are "qubes/<file>".
std::vector<NftInput> qubesBaseTables();

enum class KernelCheckMode {
    None,             // no namespace was entered (namespaceUnavailable, or the child failed early)
    RootNetns,        // unshare(CLONE_NEWNET) with the caller's privileges
    UserNetns,        // unshare(CLONE_NEWUSER | CLONE_NEWNET), every input in one batch
    UserNetnsChunked, // the same, and at least one input was loaded in chunks (see below)
};
// "none", "root netns", "user netns", "user netns, chunked": for manifests and messages.
const char* kernelCheckModeName(KernelCheckMode mode);

struct KernelCheckOptions {
    // The whole check (fork to exit) must finish in this time, or the child is killed.
    std::chrono::milliseconds timeout{60'000};
    // Skip the plain network namespace and go straight to the unprivileged path, even as
    // root (to test that path, or to mimic a user's machine).
    bool forceUserNamespace = false;
    // Read back `nft -j list ruleset` once everything loaded.
    bool listRuleset = true;
    // List it as `nft -j -n` does (protocols, ICMP types and ct states as numbers, so readers
    // need no name tables); false: as plain `nft -j list ruleset` prints it in a net qube.
    bool numericListing = true;
    // Chunked loading (user namespace only): the first chunk size, in bytes of statement
    // text. A chunk the kernel still refuses with EMSGSIZE is halved, down to one statement.
    std::size_t chunkBytes = 64 * 1024;
};

// How one input fared.
struct NftLoadReport {
    std::string logicalName;
    bool ok = false;
    std::size_t chunks = 1; // > 1 when it was loaded in chunks
    std::string errors;     // nft's messages, naming logicalName:line:col
    double milliseconds = 0;
};

struct KernelCheckResult {
    enum class Status {
        Loaded,               // every input loaded; rulesetJson holds the final state
        Rejected,             // an input failed to load (the last entry of loads); later ones
                              // were not tried
        NamespaceUnavailable, // neither unshare worked; reason says why. Nothing was loaded.
        Failed,               // the check itself broke: timeout, crash, pipe; reason says why
    };
    Status status = Status::Failed;
    KernelCheckMode mode = KernelCheckMode::None;
    std::string reason;               // for NamespaceUnavailable and Failed
    std::vector<NftLoadReport> loads; // base tables then rulesets, as far as they got
    std::string rulesetJson;          // `nft -j [-n] list ruleset` when Loaded and listRuleset
    double milliseconds = 0;          // the whole check, fork to reap
    bool loaded() const { return status == Status::Loaded; }
    // Every failed load's errors, one after another.
    std::string errors() const;
};

// Loads baseTables, then each ruleset, each as one nft transaction, stopping at the first
// that fails. Never throws for a ruleset problem; a failure to fork or pipe is Failed.
KernelCheckResult checkInThrowAwayNamespace(const std::vector<NftInput>& baseTables,
                                            const std::vector<NftInput>& rulesets,
                                            const KernelCheckOptions& options = {});

// A top-level statement of an nftables file, as chunked loading splits it: it starts at the
// beginning of a line and ends at a newline outside braces, quotes and comments (a
// `table … { … }` block is one statement; `add element … { … }` is one statement).
struct NftStatement {
    std::size_t firstLine = 1; // 1-based
    std::string_view text;     // whole lines, including the final newline when there is one
};
// Blank and comment-only lines are not statements. Lines ending in a backslash continue.
std::vector<NftStatement> splitTopLevelStatements(std::string_view text);

} // namespace bulkhead::backends
