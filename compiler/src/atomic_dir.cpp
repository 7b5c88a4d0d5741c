#include "bulkhead/compiler/atomic_dir.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

std::string errnoText(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

void syncPath(const fs::path& p) {
    int fd = open(p.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

std::string writeFile(const fs::path& path, const TreeFile& f) {
    int fd =
        open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, f.executable ? 0755 : 0644);
    if (fd < 0)
        return errnoText("cannot create " + path.string());
    // The umask must not change what the manifest promises.
    if (fchmod(fd, f.executable ? 0755 : 0644) != 0) {
        close(fd);
        return errnoText("chmod " + path.string());
    }
    std::size_t done = 0;
    while (done < f.contents.size()) {
        ssize_t n = write(fd, f.contents.data() + done, f.contents.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return errnoText("write " + path.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return errnoText("fsync " + path.string());
    return {};
}

// Relative paths only, without "..": the tree stays inside its directory.
bool safeRelative(const std::string& rel) {
    fs::path p(rel);
    if (rel.empty() || p.is_absolute())
        return false;
    for (const fs::path& part : p)
        if (part == ".." || part == ".")
            return false;
    return true;
}

} // namespace

std::string replaceDirectoryAtomically(const std::string& dir,
                                       const std::map<std::string, TreeFile>& files) {
    fs::path target = fs::path(dir).lexically_normal();
    if (target.filename().empty())
        target = target.parent_path();
    fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string prefix = "." + target.filename().string() + ".bulkhead-";
    // A run killed mid-write (SIGKILL, power loss) leaves its staging tree; it was never
    // swapped in, so it is garbage now.
    std::error_code scan;
    for (const auto& e : fs::directory_iterator(parent, scan))
        if (e.path().filename().string().starts_with(prefix) && e.is_directory()) {
            std::error_code ec;
            fs::remove_all(e.path(), ec);
        }
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (!mkdtemp(name.data()))
        return errnoText("cannot create a temporary directory in " + parent.string());
    fs::path staging(name.data());
    auto fail = [&](std::string why) {
        std::error_code ec;
        fs::remove_all(staging, ec);
        return why;
    };
    if (chmod(staging.c_str(), 0755) != 0)
        return fail(errnoText("chmod " + staging.string()));
    for (const auto& [rel, file] : files) {
        if (!safeRelative(rel))
            return fail("refusing to write outside the output directory: " + rel);
        fs::path path = staging / rel;
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec)
            return fail("cannot create " + path.parent_path().string() + ": " + ec.message());
        if (std::string why = writeFile(path, file); !why.empty())
            return fail(why);
    }
    // Directories too, deepest first, so every name reaches the disk before the swap.
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(staging); it != fs::end(it); ++it)
        if (it->is_directory())
            dirs.push_back(it->path());
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
        syncPath(*it);
    syncPath(staging);

    struct stat st {};
    if (lstat(target.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return fail(target.string() + " exists and is not a directory");
        if (syscall(SYS_renameat2, AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(),
                    RENAME_EXCHANGE) != 0)
            return fail(errnoText("cannot swap " + target.string() + " for the new output"));
        syncPath(parent);
        std::error_code ec;
        fs::remove_all(staging, ec); // now the old tree; the new one is in place whatever happens
        return {};
    }
    if (rename(staging.c_str(), target.c_str()) != 0)
        return fail(errnoText("cannot rename the new output to " + target.string()));
    syncPath(parent);
    return {};
}

} // namespace bulkhead
