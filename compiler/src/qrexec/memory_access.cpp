// A policy tree held in memory, read the way the disk is read: the same listings, the same
// Python OSError texts for a missing file or a directory opened as one.
#include "qrexec/paths.h"

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::qrexec {
namespace {

// Lexical: with no symlinks, ".." removes the part before it ("/.." stays "/").
std::string lexicalAbsolute(std::string_view p) {
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i <= p.size()) {
        std::size_t slash = p.find('/', i);
        std::size_t stop = slash == std::string_view::npos ? p.size() : slash;
        std::string_view part = p.substr(i, stop - i);
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = stop + 1;
    }
    std::string out;
    for (std::string_view part : parts)
        out.append("/").append(part);
    return out.empty() ? "/" : out;
}

class MemoryAccess final : public FileAccess {
public:
    explicit MemoryAccess(const QrexecFileTree& tree) {
        for (const auto& [path, bytes] : tree)
            files_.emplace(lexicalAbsolute(path), bytes);
    }

    std::string absolute(std::string_view p) const override { return lexicalAbsolute(p); }
    std::string resolve(std::string_view p) const override { return lexicalAbsolute(p); }

    bool isRegularFile(const std::string& p) const override {
        return files_.contains(lexicalAbsolute(p));
    }

    bool isDirectory(const std::string& p) const override {
        std::string dir = lexicalAbsolute(p);
        if (dir == "/")
            return true;
        auto next = files_.lower_bound(dir + "/");
        return next != files_.end() && next->first.starts_with(dir + "/");
    }

    DirListing list(const std::string& dir) const override {
        DirListing out;
        if (!isDirectory(dir)) {
            out.error = OsError{isRegularFile(dir) ? ENOTDIR : ENOENT, dir};
            return out;
        }
        std::string prefix = lexicalAbsolute(dir);
        if (prefix != "/")
            prefix += "/";
        std::set<std::string> names; // a subdirectory shows once, however many files it holds
        for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
            if (!it->first.starts_with(prefix))
                break;
            std::string_view rest = std::string_view(it->first).substr(prefix.size());
            names.emplace(rest.substr(0, rest.find('/')));
        }
        out.names.assign(names.begin(), names.end());
        return out;
    }

    FileRead read(const std::string& path) const override {
        FileRead out;
        auto it = files_.find(lexicalAbsolute(path));
        if (it != files_.end())
            out.bytes = it->second;
        else
            out.error = OsError{isDirectory(path) ? EISDIR : ENOENT, path};
        return out;
    }

private:
    std::map<std::string, std::string> files_;
};

} // namespace

std::unique_ptr<FileAccess> memoryAccess(const QrexecFileTree& tree) {
    return std::make_unique<MemoryAccess>(tree);
}

} // namespace bulkhead::qrexec
