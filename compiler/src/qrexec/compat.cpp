// !compat-4.0: the R4.0 per-service files of the legacy directory, read in old syntax in
// Qubes' order, with the deny rules R4.0 left implicit (parser_compat.py;
// qubes-formats.md §1.7).
#include "qrexec/loader.h"

#include "qrexec/paths.h"
#include "qrexec/rule_line.h"

#include <algorithm>
#include <array>
#include <map>

namespace bulkhead::qrexec {
namespace {

bool isRpcNameChar(char c) { // RPCNAME_ALLOWED_CHARSET, '+' included
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.' || c == '_';
}

// pathlib's suffix: from the last '.', unless the name starts or ends there.
std::string_view suffixOf(std::string_view name) {
    std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size())
        return {};
    return name.substr(dot);
}

// Specific arguments in string order, then "*": the generic file comes last.
struct ArgumentOrder {
    bool operator()(const std::string& a, const std::string& b) const {
        if (a == "*" || b == "*")
            return b == "*" && a != "*";
        return a < b;
    }
};

} // namespace

void Loader::compat40(const Unit& from, std::uint32_t line) {
    // No "!compat-4.0 is not recursive" case here: legacy files are read in old syntax,
    // where !compat-4.0 is just an invalid directive.
    if (from.scope->base.empty())
        return directive(QrexecDirectiveKind::Compat40, from, line, legacyDir_, false);
    directive(QrexecDirectiveKind::Compat40, from, line, legacyDir_, true);
    DirListing listing = files_.list(legacyDir_);
    if (listing.error) // a missing /etc/qubes-rpc/policy fails the whole policy
        return error(listing.error->filename, 0, listing.error->loadMessage());

    // SERVICE or SERVICE+ARGUMENT; editor and rpm leftovers, dotfiles and other names are
    // skipped (only logged by Qubes).
    std::map<std::string, std::map<std::string, std::string, ArgumentOrder>> files;
    static constexpr std::array<std::string_view, 3> kIgnoredSuffixes = {".rpmsave", ".rpmnew",
                                                                         ".swp"};
    for (const std::string& name : listing.names) {
        std::string path = pathJoin(legacyDir_, name);
        if (!files_.isRegularFile(path))
            continue;
        if (std::find(kIgnoredSuffixes.begin(), kIgnoredSuffixes.end(), suffixOf(name)) !=
            kIgnoredSuffixes.end())
            continue;
        if (name.starts_with('.') || !std::all_of(name.begin(), name.end(), isRpcNameChar))
            continue;
        std::size_t plus = name.find('+');
        std::string service = name.substr(0, plus);
        std::string argument = plus == std::string::npos ? "*" : name.substr(plus);
        files[service][argument] = path;
    }

    Scope scope{legacyDir_}; // includes inside legacy files resolve against it
    for (const auto& [service, arguments] : files) {
        for (const auto& [argument, path] : arguments) {
            if (auto why = checkServiceAndArgument(service, argument)) {
                error(from.file, line, std::move(*why));
                continue;
            }
            follow(from, line, QrexecDirectiveKind::Compat40, scope, files_.resolve(path),
                   Syntax::Legacy, service, argument);
            if (argument == "*")
                continue; // a generic file falls through to later rules
            std::vector<QrexecInclusion> via = from.via;
            via.push_back({QrexecDirectiveKind::Compat40, from.file, line});
            for (std::string_view text : {"@anyvm @anyvm deny", "@anyvm @adminvm deny"}) {
                RuleParse deny = ruleFromServiceLine(service, argument, text);
                deny.rule->compatImplicitDeny = true;
                addRule(std::move(*deny.rule), path, 0, via);
            }
        }
    }
}

} // namespace bulkhead::qrexec
