#include "qrexec/loader.h"

#include "qrexec/paths.h"
#include "qrexec/python_text.h"
#include "qrexec/rule_line.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

namespace bulkhead::qrexec {
namespace {

bool isFilenameChar(char c) { // FILENAME_ALLOWED_CHARSET
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

} // namespace

Loader::Loader(QrexecPolicyLoad& out, const FileAccess& files, std::string_view legacyDir,
               std::uint32_t maxDepth, std::size_t maxIncludedBytes)
    // Qubes' legacy path is absolute; a relative one given here is taken from the cwd.
    : out_(out), files_(files), legacyDir_(files.absolute(legacyDir)), maxDepth_(maxDepth),
      includedBudget_(maxIncludedBytes) {}

void Loader::error(std::string file, std::uint32_t line, std::string message) {
    out_.errors.push_back({std::move(file), line, std::move(message)});
}

void Loader::directive(QrexecDirectiveKind kind, const Unit& from, std::uint32_t line,
                       std::string path, bool followed) {
    out_.directives.push_back({kind, from.file, line, std::move(path), followed});
}

std::string Loader::identity(Syntax syntax, const Scope& scope, std::string_view service,
                             std::string_view argument, const std::string& path) const {
    return std::string(syntax == Syntax::Current ? "current" : "legacy") + "\n" + scope.base +
           "\n" + std::string(service) + "\n" + std::string(argument) + "\n" + files_.resolve(path);
}

void Loader::addRule(QrexecRule rule, const std::string& file, std::uint32_t line,
                     const std::vector<QrexecInclusion>& via) {
    rule.file = file;
    rule.line = line;
    rule.via = via;
    out_.rules.push_back(std::move(rule));
}

std::vector<std::string> Loader::policyFiles(const std::string& dir,
                                             const std::vector<std::string>& names) {
    // Only regular *.policy files that are not hidden count; everything else (README,
    // *.rpmsave, include/) is skipped silently. Among those, one bad name fails it all.
    std::vector<std::string> out;
    for (const std::string& name : names) {
        if (name.starts_with('.') || !name.ends_with(".policy") ||
            !files_.isRegularFile(pathJoin(dir, name)))
            continue;
        if (!std::all_of(name.begin(), name.end(), isFilenameChar)) {
            std::string path = pathJoin(dir, name);
            error(path, 0, "invalid filename: " + path);
            continue;
        }
        out.push_back(name);
    }
    return out; // names come sorted, as Qubes sorts them
}

void Loader::loadPolicyDirs(const std::vector<std::string>& dirs) {
    std::set<std::string> seen;
    std::vector<std::pair<std::string, std::string>> chosen; // basename, directory
    for (const std::string& given : dirs) {
        std::string dir = pathNormalize(given);
        DirListing listing = files_.list(dir);
        if (listing.error) {
            error(listing.error->filename, 0, listing.error->loadMessage());
            continue;
        }
        for (std::string& name : policyFiles(dir, listing.names))
            if (seen.insert(name).second)
                chosen.emplace_back(std::move(name), dir);
    }
    std::sort(chosen.begin(), chosen.end());
    for (const auto& [name, dir] : chosen) {
        std::string path = pathJoin(dir, name);
        out_.files.push_back(path);
        Scope scope{dir};
        Unit unit;
        unit.file = path;
        unit.scope = &scope;
        FileRead read = files_.read(path);
        if (read.error) {
            error(read.error->filename, 0, read.error->loadMessage());
            continue;
        }
        reading_.push_back(identity(Syntax::Current, scope, "*", "*", path));
        parse(read.bytes, unit);
        reading_.pop_back();
    }
}

void Loader::loadText(std::string_view bytes, const std::string& file,
                      const std::string& policyDir) {
    Scope scope{policyDir.empty() ? std::string() : pathNormalize(policyDir)};
    Unit unit;
    unit.file = file;
    unit.scope = &scope;
    out_.files.push_back(file);
    reading_.push_back("text\n" + file);
    parse(bytes, unit);
    reading_.pop_back();
}

void Loader::parse(std::string_view bytes, const Unit& unit) {
    DecodedText text = decodeLines(bytes);
    for (const TextLine& line : text.lines) {
        if (unit.syntax == Syntax::Current)
            currentLine(line.text, line.number, unit);
        else
            legacyLine(line.text, line.number, unit);
    }
    // Python decodes as it reads, so the lines before the bad byte were taken already.
    if (text.decodeError)
        error(unit.file, text.decodeErrorLine, "UnicodeDecodeError: " + *text.decodeError);
}

void Loader::currentLine(std::string_view raw, std::uint32_t number, const Unit& unit) {
    std::string_view line = pythonStrip(raw);
    if (line.empty() || line.front() == '#') // no inline comments: '#' later is a word
        return;
    if (line.front() == '!') {
        std::vector<std::string> words = pythonSplit(line);
        const std::string& name = words.front();
        std::size_t params = words.size() - 1;
        bool known = name == "!include" || name == "!include-dir" || name == "!include-service" ||
                     name == "!compat-4.0";
        if (!known)
            return error(unit.file, number, "invalid directive");
        std::size_t wanted = name == "!include-service" ? 3 : name == "!compat-4.0" ? 0 : 1;
        if (params != wanted)
            return error(unit.file, number, "invalid number of params");
        if (name == "!include")
            include(unit, number, words[1]);
        else if (name == "!include-dir")
            includeDir(unit, number, words[1]);
        else if (name == "!include-service")
            includeService(unit, number, words[1], words[2], words[3]);
        else
            compat40(unit, number);
        return;
    }
    RuleParse parsed = ruleFromLine(line);
    if (!parsed.rule)
        return error(unit.file, number, std::move(parsed.error));
    addRule(std::move(*parsed.rule), unit.file, number, unit.via);
}

void Loader::legacyLine(std::string_view raw, std::uint32_t number, const Unit& unit) {
    std::string_view stripped = pythonStrip(raw);
    if (stripped.empty() || stripped.front() == '#')
        return;
    // R4.0 spellings, rewritten before anything else looks at the line.
    std::string line = replaceAll(std::string(stripped), "$include:", "!include ");
    line = replaceAll(std::move(line), "$", "@");
    line = replaceAll(std::move(line), ",", " ");
    if (line.front() == '!') {
        std::vector<std::string> words = pythonSplit(line);
        if (words.front() != "!include") // the only directive of the old syntax
            return error(unit.file, number, "invalid directive");
        if (words.size() != 2)
            return error(unit.file, number, "invalid number of params");
        legacyInclude(unit, number, words[1]);
        return;
    }
    RuleParse parsed = ruleFromServiceLine(unit.service, unit.argument, line);
    if (!parsed.rule)
        return error(unit.file, number, std::move(parsed.error));
    addRule(std::move(*parsed.rule), unit.file, number, unit.via);
}

void Loader::include(const Unit& from, std::uint32_t line, std::string_view word) {
    if (from.scope->base.empty())
        return directive(QrexecDirectiveKind::Include, from, line, std::string(word), false);
    std::string resolved = files_.resolve(pathJoin(from.scope->base, word));
    directive(QrexecDirectiveKind::Include, from, line, resolved, true);
    follow(from, line, QrexecDirectiveKind::Include, *from.scope, resolved, Syntax::Current, "*",
           "*");
}

void Loader::includeDir(const Unit& from, std::uint32_t line, std::string_view word) {
    if (from.scope->base.empty())
        return directive(QrexecDirectiveKind::IncludeDir, from, line, std::string(word), false);
    std::string dir = files_.resolve(pathJoin(from.scope->base, word));
    directive(QrexecDirectiveKind::IncludeDir, from, line, dir, true);
    if (!files_.isDirectory(dir))
        return error(from.file, line, "not a directory: " + dir);
    DirListing listing = files_.list(dir);
    if (listing.error)
        return error(listing.error->filename, 0, listing.error->loadMessage());
    for (const std::string& name : policyFiles(dir, listing.names))
        follow(from, line, QrexecDirectiveKind::IncludeDir, *from.scope, pathJoin(dir, name),
               Syntax::Current, "*", "*");
}

void Loader::includeService(const Unit& from, std::uint32_t line, std::string_view service,
                            std::string_view argument, std::string_view word) {
    // The service and argument are checked before the path is looked at.
    if (auto why = checkServiceAndArgument(service, argument))
        return error(from.file, line, std::move(*why));
    if (from.scope->base.empty())
        return directive(QrexecDirectiveKind::IncludeService, from, line, std::string(word), false);
    std::string resolved = files_.resolve(pathJoin(from.scope->base, word));
    directive(QrexecDirectiveKind::IncludeService, from, line, resolved, true);
    follow(from, line, QrexecDirectiveKind::IncludeService, *from.scope, resolved, Syntax::Legacy,
           service, argument);
}

void Loader::legacyInclude(const Unit& from, std::uint32_t line, std::string_view word) {
    // Same service and argument, same old syntax, resolved like any include in this scope.
    if (from.scope->base.empty())
        return directive(QrexecDirectiveKind::Include, from, line, std::string(word), false);
    std::string resolved = files_.resolve(pathJoin(from.scope->base, word));
    directive(QrexecDirectiveKind::Include, from, line, resolved, true);
    follow(from, line, QrexecDirectiveKind::Include, *from.scope, resolved, Syntax::Legacy,
           from.service, from.argument);
}

void Loader::follow(const Unit& from, std::uint32_t line, QrexecDirectiveKind kind,
                    const Scope& scope, const std::string& path, Syntax syntax,
                    std::string_view service, std::string_view argument) {
    if (!files_.isRegularFile(path))
        return error(from.file, line, "not a file: " + path);
    // Reading the same file the same way again, while it is still being read, repeats
    // forever: Qubes has no check and dies of Python's RecursionError.
    std::string key = identity(syntax, scope, service, argument, path);
    if (std::find(reading_.begin(), reading_.end(), key) != reading_.end())
        return error(from.file, line,
                     "include loop: " + path +
                         " is already being read; Qubes recurses until Python's RecursionError "
                         "(maximum recursion depth exceeded) and loads no policy");
    if (reading_.size() >= maxDepth_)
        return error(from.file, line,
                     "includes nested deeper than " + std::to_string(maxDepth_) +
                         " levels; Qubes fails with Python's RecursionError once its "
                         "recursion limit is reached");
    if (overBudget_)
        return; // reported once, at the directive that went over
    FileRead read = files_.read(path);
    if (read.error)
        return error(read.error->filename, 0, read.error->loadMessage());
    // A read costs its bytes once per level of nesting (each of its rules keeps the chain of
    // directives that brought it in), and a line at least, so empty files count too.
    std::size_t cost = (read.bytes.size() + 1) * (reading_.size() + 1);
    if (cost > includedBudget_) {
        overBudget_ = true;
        return error(from.file, line,
                     "includes expand the policy beyond the loader's limit (files included "
                     "again and again, each time in full): " +
                         path +
                         " is not read, nor any include after it; Qubes reads them all, "
                         "which may not end");
    }
    includedBudget_ -= cost;
    Unit unit;
    unit.file = path;
    unit.syntax = syntax;
    unit.service = std::string(service);
    unit.argument = std::string(argument);
    unit.via = from.via;
    unit.via.push_back({kind, from.file, line});
    unit.scope = &scope;
    reading_.push_back(std::move(key));
    parse(read.bytes, unit);
    reading_.pop_back();
}

} // namespace bulkhead::qrexec

namespace bulkhead {

namespace {

// The disk, or the caller's tree in memory (owned for the duration of one load).
struct FilesFor {
    explicit FilesFor(const QrexecFileTree* tree) {
        if (tree)
            memory = qrexec::memoryAccess(*tree);
    }
    const qrexec::FileAccess& get() const { return memory ? *memory : qrexec::diskAccess(); }
    std::unique_ptr<qrexec::FileAccess> memory;
};

} // namespace

QrexecPolicyLoad loadQrexecPolicy(const QrexecPolicyOptions& options) {
    QrexecPolicyLoad out;
    FilesFor files(options.files);
    qrexec::Loader(out, files.get(), options.legacyDir, options.maxIncludeDepth,
                   options.maxIncludedBytes)
        .loadPolicyDirs(options.policyDirs);
    return out;
}

QrexecPolicyLoad parseQrexecPolicyText(std::string_view text, const QrexecTextOptions& options) {
    QrexecPolicyLoad out;
    FilesFor files(options.files);
    qrexec::Loader(out, files.get(), options.legacyDir, options.maxIncludeDepth,
                   options.maxIncludedBytes)
        .loadText(text, options.file, options.policyDir);
    return out;
}

} // namespace bulkhead
