#pragma once
// Paths and file access the way Qubes' Python code does them (pathlib and open()), so the
// paths in rules and messages are the ones Qubes prints, and OS errors read like Python's.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::qrexec {

// str(pathlib.PurePosixPath(p)): "." parts, repeated and trailing slashes go; ".." stays.
std::string pathNormalize(std::string_view p);
// str(PurePosixPath(dir) / name): an absolute name replaces dir.
std::string pathJoin(std::string_view dir, std::string_view name);
// str(Path(p).resolve()): absolute, symlinks followed; a missing tail is kept as written.
std::string pathResolve(std::string_view p);

bool isRegularFile(const std::string& p); // Path.is_file(): follows symlinks
bool isDirectory(const std::string& p);   // Path.is_dir()

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
DirListing listDirectory(const std::string& dir);

struct FileRead {
    std::string bytes;
    std::optional<OsError> error;
};
FileRead readWholeFile(const std::string& path);

} // namespace bulkhead::qrexec
