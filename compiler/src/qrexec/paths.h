#pragma once
// Paths and file access the way Qubes' Python code does them (pathlib and open()), so the
// paths in rules and messages are the ones Qubes prints, and OS errors read like Python's.
#include "bulkhead/compiler/qrexec_policy.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::qrexec {

// str(pathlib.PurePosixPath(p)): "." parts, repeated and trailing slashes go; ".." stays.
std::string pathNormalize(std::string_view p);
// str(PurePosixPath(dir) / name): an absolute name replaces dir.
std::string pathJoin(std::string_view dir, std::string_view name);

// An OSError as Qubes turns it into AccessDenied:
// "failed to load F file: [Errno N] STRERROR: 'F'".
struct OsError {
    int code = 0;
    std::string filename;
    std::string loadMessage() const;
};

struct DirListing {
    std::vector<std::string> names; // sorted (Qubes iterates in directory order)
    std::optional<OsError> error;
};

struct FileRead {
    std::string bytes;
    std::optional<OsError> error;
};

// Everything the loader asks of a file system. The disk, as Python's pathlib and open() see
// it; or a tree in memory (tests, the fuzzer), where nothing on disk is touched.
class FileAccess {
public:
    virtual ~FileAccess() = default;
    virtual std::string absolute(std::string_view p) const = 0; // os.path.abspath-like
    // str(Path(p).resolve()): absolute, symlinks followed; a missing tail kept as written.
    virtual std::string resolve(std::string_view p) const = 0;
    virtual bool isRegularFile(const std::string& p) const = 0; // Path.is_file()
    virtual bool isDirectory(const std::string& p) const = 0;   // Path.is_dir()
    virtual DirListing list(const std::string& dir) const = 0;
    virtual FileRead read(const std::string& path) const = 0;
};

const FileAccess& diskAccess();
// Paths in the tree are absolute (a relative one is taken from "/"); directories are implied
// by the paths of the files under them; there are no symlinks, so resolving is lexical.
std::unique_ptr<FileAccess> memoryAccess(const QrexecFileTree& tree);

} // namespace bulkhead::qrexec
