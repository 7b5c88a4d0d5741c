#include "bulkhead/compiler/frontend.h"

#include "bulkhead/compiler/resolve.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace bulkhead {
namespace fs = std::filesystem;

std::optional<FileId> readSourceFile(const std::string& path, SourceManager& sources,
                                     DiagnosticSink& sink, const SourceRange& requestedAt,
                                     const FrontendLimits& limits) {
    auto fail = [&](const std::string& why) {
        sink.report(DiagCode::CannotReadFile, requestedAt, "cannot read '" + path + "': " + why);
        return std::nullopt;
    };
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec)
        return fail(ec.message());
    if (fs::is_directory(status))
        return fail("it is a directory");
    if (!fs::is_regular_file(status))
        return fail("it is not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(std::strerror(errno));
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limits.maxFileBytes) {
            sink.report(DiagCode::InputTooLarge, requestedAt,
                        "'" + path + "' is larger than " +
                            std::to_string(limits.maxFileBytes >> 20) + " MiB");
            return std::nullopt;
        }
    }
    if (in.bad())
        return fail(std::strerror(errno));
    return sources.add(path, std::move(text));
}

namespace {

class Loader {
public:
    Loader(SourceManager& sources, DiagnosticSink& sink, const FrontendLimits& limits,
           const FileReader& reader)
        : sources_(sources), sink_(sink), limits_(limits), reader_(reader) {}

    std::optional<FileId> primary() const { return primary_; }

    void load(const std::string& path, const SourceRange& requestedAt) {
        std::error_code ec;
        fs::path canonical = fs::weakly_canonical(path, ec);
        if (ec) {
            sink_.report(DiagCode::CannotReadFile, requestedAt,
                         "cannot read '" + path + "': " + ec.message());
            return;
        }
        std::string key = canonical.string();
        if (done_.count(key))
            return;
        for (std::size_t i = 0; i < active_.size(); ++i) {
            if (active_[i].first != key)
                continue;
            std::string chain;
            for (std::size_t j = i; j < active_.size(); ++j)
                chain += active_[j].second + " -> ";
            chain += path;
            sink_.report(DiagCode::ImportCycle, requestedAt, "import cycle: " + chain)
                .hint("imports must form a tree; move what both files need into a third");
            return;
        }
        if (done_.size() + active_.size() >= limits_.maxFiles) {
            sink_.report(DiagCode::InputTooLarge, requestedAt,
                         "more than " + std::to_string(limits_.maxFiles) + " files imported");
            return;
        }
        auto id = reader_ ? readWithReader(path, requestedAt)
                          : readSourceFile(path, sources_, sink_, requestedAt, limits_);
        if (!id)
            return;
        if (!primary_)
            primary_ = id; // the first file read is the first root
        active_.emplace_back(key, path);
        ParsedFile parsed = parseFile(sources_, *id, sink_);
        fs::path dir = fs::path(path).parent_path();
        for (const ast::Statement& s : parsed.ast.statements) {
            if (!parsed.ok)
                break; // a path with a bad escape is not a path the user wrote
            if (auto* imp = std::get_if<ast::Import>(&s.node)) {
                fs::path target = imp->path.value;
                if (imp->path.value.empty()) {
                    sink_.report(DiagCode::CannotReadFile, imp->path.range,
                                 "import of an empty path");
                    continue;
                }
                if (target.is_relative())
                    target = (dir / target).lexically_normal();
                load(target.string(), imp->path.range);
            }
        }
        active_.pop_back();
        done_.insert(key);
        // Nothing after the front end reads a file's tokens (fmt parses files itself), and
        // they are the largest part of it: only the tree is kept, until resolve().
        asts_.push_back(std::move(parsed.ast));
    }

    // In load order: imports before their importer.
    std::vector<ast::File> take() { return std::move(asts_); }

private:
    std::optional<FileId> readWithReader(const std::string& path, const SourceRange& requestedAt) {
        FileText t = reader_(path);
        if (!t.text) {
            sink_.report(DiagCode::CannotReadFile, requestedAt,
                         "cannot read '" + t.shownAs + "': " + t.error);
            return std::nullopt;
        }
        if (t.text->size() > limits_.maxFileBytes) {
            sink_.report(DiagCode::InputTooLarge, requestedAt,
                         "'" + t.shownAs + "' is larger than " +
                             std::to_string(limits_.maxFileBytes >> 20) + " MiB");
            return std::nullopt;
        }
        return sources_.add(t.shownAs, std::move(*t.text));
    }

    SourceManager& sources_;
    DiagnosticSink& sink_;
    const FrontendLimits& limits_;
    const FileReader& reader_;
    std::vector<std::pair<std::string, std::string>> active_; // canonical, as shown
    std::set<std::string> done_;
    std::vector<ast::File> asts_;
    std::optional<FileId> primary_;
};

} // namespace

FrontendResult runFrontend(std::span<const std::string> roots, SourceManager& sources,
                           DiagnosticSink& sink, const FrontendLimits& limits,
                           const FileReader& reader) {
    Loader loader(sources, sink, limits, reader);
    for (const std::string& root : roots)
        loader.load(root, SourceRange{});
    FrontendResult result;
    std::vector<ast::File> asts = loader.take();
    if (sink.hasErrors())
        return result;
    result.policy = resolve(asts, loader.primary().value_or(0), sources, sink);
    return result;
}

} // namespace bulkhead
