#include "qrexec/paths.h"

#include "qrexec/python_text.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace bulkhead::qrexec {
namespace fs = std::filesystem;

std::string pathNormalize(std::string_view p) {
    bool absolute = !p.empty() && p.front() == '/';
    std::string out = absolute ? "/" : "";
    std::size_t i = 0;
    while (i < p.size()) {
        std::size_t slash = p.find('/', i);
        std::string_view part = p.substr(i, slash == std::string_view::npos ? slash : slash - i);
        if (!part.empty() && part != ".") {
            if (!out.empty() && out.back() != '/')
                out += '/';
            out.append(part);
        }
        if (slash == std::string_view::npos)
            break;
        i = slash + 1;
    }
    return out.empty() ? "." : out;
}

std::string pathJoin(std::string_view dir, std::string_view name) {
    if (!name.empty() && name.front() == '/')
        return pathNormalize(name);
    return pathNormalize(std::string(dir) + "/" + std::string(name));
}

std::string OsError::loadMessage() const {
    // Python's OSError text: "[Errno N] strerror(N): 'filename'".
    return "failed to load " + filename + " file: [Errno " + std::to_string(code) + "] " +
           std::generic_category().message(code) + ": " + pythonRepr(filename);
}

namespace {

class DiskAccess final : public FileAccess {
public:
    std::string absolute(std::string_view p) const override {
        std::error_code ec;
        fs::path a = fs::absolute(std::string(p), ec);
        return pathNormalize(ec ? std::string(p) : a.string());
    }

    std::string resolve(std::string_view p) const override {
        std::error_code ec;
        fs::path absolute = fs::absolute(fs::path(std::string(p)), ec);
        if (ec)
            return pathNormalize(p);
        fs::path resolved = fs::weakly_canonical(absolute, ec);
        if (ec) // a symlink loop: Python keeps such a path as it is
            resolved = absolute.lexically_normal();
        return pathNormalize(resolved.string());
    }

    bool isRegularFile(const std::string& p) const override {
        std::error_code ec;
        return fs::is_regular_file(fs::status(p, ec));
    }

    bool isDirectory(const std::string& p) const override {
        std::error_code ec;
        return fs::is_directory(fs::status(p, ec));
    }

    DirListing list(const std::string& dir) const override {
        DirListing out;
        DIR* d = opendir(dir.c_str());
        if (!d) {
            out.error = OsError{errno, dir};
            return out;
        }
        while (const dirent* e = readdir(d)) {
            std::string_view name = e->d_name;
            if (name != "." && name != "..")
                out.names.emplace_back(name);
        }
        closedir(d);
        std::sort(out.names.begin(), out.names.end());
        return out;
    }

    FileRead read(const std::string& path) const override {
        FileRead out;
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) {
            out.error = OsError{errno, path};
            return out;
        }
        char buf[65536];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
            out.bytes.append(buf, n);
        if (std::ferror(f))
            out.error = OsError{errno, path};
        std::fclose(f);
        return out;
    }
};

} // namespace

const FileAccess& diskAccess() {
    static const DiskAccess disk;
    return disk;
}

} // namespace bulkhead::qrexec
