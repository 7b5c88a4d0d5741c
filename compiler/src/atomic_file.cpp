#include "bulkhead/compiler/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace bulkhead {

std::string writeFileAtomically(const std::string& path, std::string_view contents) {
    namespace fs = std::filesystem;
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string pattern = (dir / ("." + target.filename().string() + ".bulkhead-XXXXXX")).string();
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    int fd = mkstemp(name.data());
    if (fd < 0)
        return std::string("cannot create a temporary file in ") + dir.string() + ": " +
               std::strerror(errno);
    auto fail = [&](const char* what) {
        std::string why = std::string(what) + ": " + std::strerror(errno);
        close(fd);
        unlink(name.data());
        return why;
    };
    // Keep the mode of the file being replaced; new files get 0644.
    struct stat st {};
    mode_t mode = stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
    if (fchmod(fd, mode) != 0)
        return fail("chmod");
    std::size_t done = 0;
    while (done < contents.size()) {
        ssize_t n = write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail("write");
        done += static_cast<std::size_t>(n);
    }
    if (fsync(fd) != 0)
        return fail("fsync");
    if (close(fd) != 0) {
        std::string why = std::string("close: ") + std::strerror(errno);
        unlink(name.data());
        return why;
    }
    if (rename(name.data(), path.c_str()) != 0) {
        std::string why = std::string("rename: ") + std::strerror(errno);
        unlink(name.data());
        return why;
    }
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd); // the rename itself reaches the disk
        close(dfd);
    }
    return {};
}

} // namespace bulkhead
