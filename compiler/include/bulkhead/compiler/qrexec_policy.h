#pragma once
// Qubes' qrexec policy (the R4.1+ policy.d format), read exactly as qubes-core-qrexec's
// parser reads it: the same files in the same order, every rule with the file:line Qubes
// shows, and every error with Qubes' own message text. It knows nothing of the Bulkhead
// language, so the analyzer (baseline policy), the audit command and the backends share it.
// What is read and why: docs/qrexec-import.md (shared research qubes-formats.md §1).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

// Where Qubes looks, in this order (/run wins a basename clash).
inline constexpr std::string_view kQrexecRuntimePolicyDir = "/run/qubes/policy.d";
inline constexpr std::string_view kQrexecPolicyDir = "/etc/qubes/policy.d";
// The R4.0 per-service directory that !compat-4.0 reads (hard-coded in Qubes).
inline constexpr std::string_view kQrexecLegacyPolicyDir = "/etc/qubes-rpc/policy";

enum class QrexecTokenKind {
    Name,           // a qube name, taken as written (dom0 too: Qubes keeps it a literal)
    Uuid,           // uuid:UUID, also a literal to the parser
    Wildcard,       // *            every qube, dom0 included
    AdminVm,        // @adminvm
    AnyVm,          // @anyvm       every qube but dom0
    Default,        // @default
    DispVm,         // @dispvm
    DispVmTemplate, // @dispvm:NAME
    DispVmTag,      // @dispvm:@tag:TAG
    Tag,            // @tag:TAG
    Type,           // @type:TYPE
};

struct QrexecToken {
    QrexecTokenKind kind = QrexecTokenKind::Name;
    // The name, the UUID (without "uuid:"), NAME, TAG or TYPE; empty for the plain keywords.
    std::string value;

    std::string text() const; // as written in the policy
    // True for @adminvm, dom0 and uuid:00000000-0000-0000-0000-000000000000 (Qubes' is_dom0).
    bool isDom0() const;
    friend bool operator==(const QrexecToken&, const QrexecToken&) = default;
};

// The four places a token may appear; each accepts a different set (qubes-formats.md §1.4).
enum class QrexecColumn {
    Source,         // third field
    Target,         // fourth field
    Redirect,       // target= and default_target=
    IntendedTarget, // what a caller asks for
};

struct QrexecTokenParse {
    std::optional<QrexecToken> token;
    // Qubes' message when token is empty, e.g. "invalid source token: '@default'".
    std::string error;
};
QrexecTokenParse parseQrexecToken(std::string_view text, QrexecColumn column);

enum class QrexecAction { Allow, Deny, Ask };
std::string_view qrexecActionName(QrexecAction action);

enum class QrexecDirectiveKind { Include, IncludeDir, IncludeService, Compat40 };
std::string_view qrexecDirectiveName(QrexecDirectiveKind kind); // "!include", ...

// One step of the way a rule came into the policy: the directive and where it was written.
struct QrexecInclusion {
    QrexecDirectiveKind directive = QrexecDirectiveKind::Include;
    std::string file;
    std::uint32_t line = 0;
};

struct QrexecRule {
    std::string service = "*";           // "*" for any service
    std::optional<std::string> argument; // nullopt for "*"; else it starts with '+'
    QrexecToken source;
    QrexecToken target;
    QrexecAction action = QrexecAction::Deny;
    // Parameters as written; nullopt when absent (see the effective* helpers for defaults).
    std::optional<QrexecToken> redirect;      // target=
    std::optional<QrexecToken> defaultTarget; // default_target= (ask only)
    std::optional<std::string> user;          // user=; empty means the default user
    std::optional<bool> notify;
    std::optional<bool> autostart;

    // Where Qubes says the rule is: the file's path as Qubes builds it and the 1-based line.
    // Line 0 only for the two deny rules !compat-4.0 appends after an argument file.
    std::string file;
    std::uint32_t line = 0;
    // The directives that led here, outermost first; empty for a rule in a policy.d file.
    std::vector<QrexecInclusion> via;
    bool compatImplicitDeny = false; // appended by !compat-4.0, not written anywhere

    bool anyService() const { return service == "*"; }
    bool effectiveNotify() const;    // Qubes' default: yes for deny, no for allow and ask
    bool effectiveAutostart() const; // Qubes' default: yes
    std::string location() const;    // "FILE:LINE"
};

// The rule as one policy.d line: fields joined by a tab, parameters in a fixed order.
std::string formatQrexecRule(const QrexecRule& rule);

struct QrexecError {
    std::string file;       // the file the error is in, or the path it is about
    std::uint32_t line = 0; // 0: a load-level error, which Qubes reports without a position
    std::string message;    // Qubes' text, e.g. "wrong number of fields"
    // As Qubes logs it: "FILE:LINE: message" for a syntax error, the message alone otherwise.
    std::string render() const;
};

// A directive the loader met (syntax-checked); `path` is what it resolved to.
struct QrexecDirectiveUse {
    QrexecDirectiveKind kind = QrexecDirectiveKind::Include;
    std::string file;
    std::uint32_t line = 0;
    // The resolved file or directory (the legacy directory for !compat-4.0); as written
    // when not followed.
    std::string path;
    bool followed = false; // false when the text was parsed without a policy directory
};

struct QrexecPolicyLoad {
    std::vector<QrexecRule> rules;   // evaluation order: Qubes takes the first match
    std::vector<QrexecError> errors; // in the order Qubes meets them
    std::vector<std::string> files;  // the policy.d files read, in order
    std::vector<QrexecDirectiveUse> directives;

    // Any error makes Qubes refuse the whole policy: every call is denied (fail-closed).
    // Qubes stops at the first error; the loader goes on so one run shows them all.
    bool refused() const { return !errors.empty(); }
};

// A policy tree in memory: absolute path -> the file's bytes. Directories are implied by the
// paths of the files under them and there are no symlinks. Loading from one touches nothing
// on disk (tests, the fuzzer); every path and message reads as it would on disk.
using QrexecFileTree = std::map<std::string, std::string>;

struct QrexecPolicyOptions {
    // Read in this order; the first directory holding a basename wins it.
    std::vector<std::string> policyDirs{std::string(kQrexecRuntimePolicyDir),
                                        std::string(kQrexecPolicyDir)};
    std::string legacyDir{kQrexecLegacyPolicyDir};
    // Qubes has no loop check and dies of RecursionError; the loader reports a loop (or
    // nesting deeper than this) as an error at the directive instead.
    std::uint32_t maxIncludeDepth = 64;
    // Qubes reads a file again at every directive that names it, so a few files that each
    // include the next twice expand exponentially within that depth (Qubes would never
    // finish): the loader reads at most this many bytes through directives (each counted
    // once per level of nesting it is read at), then reports it.
    std::size_t maxIncludedBytes = std::size_t{64} << 20;
    const QrexecFileTree* files = nullptr; // set: read from this tree, not from the disk
};

QrexecPolicyLoad loadQrexecPolicy(const QrexecPolicyOptions& options = {});

struct QrexecTextOptions {
    std::string file = "<buffer>"; // the path rules and errors carry
    // The directory !include* resolve against, as if the text were a file there. Empty: the
    // directives are checked but not followed, and nothing on disk is touched.
    std::string policyDir;
    std::string legacyDir{kQrexecLegacyPolicyDir};
    std::uint32_t maxIncludeDepth = 64;
    std::size_t maxIncludedBytes = std::size_t{64} << 20; // as QrexecPolicyOptions
    const QrexecFileTree* files = nullptr; // set: directives follow into this tree only
};

// One policy file's text in memory (the bytes of the file: UTF-8, any line endings).
QrexecPolicyLoad parseQrexecPolicyText(std::string_view text,
                                       const QrexecTextOptions& options = {});

} // namespace bulkhead
