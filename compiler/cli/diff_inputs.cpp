#include "diff_inputs.h"

#include "process.h"

#include <algorithm>
#include <filesystem>

namespace bulkhead::cli {
namespace fs = std::filesystem;
namespace {

bool isPolicyFile(const fs::path& p) {
    return p.extension() == ".bh";
}

std::string firstLine(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.starts_with("fatal: "))
        line = line.substr(7);
    return line;
}

// The directory git runs in for a path: the directory itself, or the file's.
std::string gitDirFor(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
        return path;
    std::string parent = fs::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

// A revision is one word git reads as a revision, never as an option or a path.
bool validRevision(const std::string& rev, std::string& error) {
    if (rev.empty() || rev.starts_with("-")) {
        error = "--git takes a revision (a branch, tag or commit), not '" + rev + "'";
        return false;
    }
    for (char c : rev)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ' || c == ':') {
            error = "--git: '" + rev +
                    "' is not a revision name (no spaces, colons or "
                    "control characters)";
            return false;
        }
    return true;
}

} // namespace

bool workingTreeInput(const std::vector<std::string>& paths, PolicyInput& out, std::string& error) {
    for (const std::string& p : paths) {
        std::error_code ec;
        if (!fs::is_directory(p, ec)) {
            out.roots.push_back(p);
            continue;
        }
        std::vector<std::string> found;
        for (const fs::directory_entry& e : fs::directory_iterator(p, ec))
            if (isPolicyFile(e.path()) && e.is_regular_file(ec))
                found.push_back((fs::path(p) / e.path().filename()).string());
        if (ec) {
            error = "cannot read directory '" + p + "': " + ec.message();
            return false;
        }
        if (found.empty()) {
            error = "directory '" + p + "' holds no *.bh file";
            return false;
        }
        std::sort(found.begin(), found.end());
        out.roots.insert(out.roots.end(), found.begin(), found.end());
    }
    return true;
}

bool gitInput(const std::string& rev, const std::vector<std::string>& paths, PolicyInput& out,
              std::string& error) {
    if (!validRevision(rev, error))
        return false;
    std::string where = gitDirFor(paths.empty() ? "." : paths.front());
    ProcessResult repo = runProcess({"git", "-C", where, "rev-parse", "--git-dir"});
    if (repo.spawnError) {
        error = "--git needs git on PATH: " + *repo.spawnError;
        return false;
    }
    if (repo.exitCode != 0) {
        error = "--git: '" + where + "' is not in a git repository (" + firstLine(repo.err) + ")";
        return false;
    }
    ProcessResult commit = runProcess({"git", "-C", where, "rev-parse", "--verify", "--quiet",
                                       "--end-of-options", rev + "^{commit}"});
    if (commit.exitCode != 0) {
        error = "--git: unknown revision '" + rev +
                "' (try a branch, tag or commit; fetch it "
                "first if it is a remote's)";
        return false;
    }
    for (const std::string& p : paths) {
        std::error_code ec;
        if (!fs::is_directory(p, ec)) {
            out.roots.push_back(p);
            continue;
        }
        // Entries of the directory at rev: "MODE TYPE OBJECT\tNAME", NUL-terminated.
        ProcessResult tree = runProcess({"git", "-C", p, "ls-tree", "-z", rev, "./"});
        if (tree.exitCode != 0) {
            error = "--git: cannot list '" + p + "' at " + rev + ": " + firstLine(tree.err);
            return false;
        }
        std::vector<std::string> found;
        for (std::size_t at = 0; at < tree.out.size();) {
            std::size_t end = tree.out.find('\0', at);
            std::string entry = tree.out.substr(at, end - at);
            at = end == std::string::npos ? tree.out.size() : end + 1;
            std::size_t tab = entry.find('\t');
            if (tab == std::string::npos || entry.find(" blob ") == std::string::npos)
                continue;
            std::string name = entry.substr(tab + 1);
            if (isPolicyFile(name) && name.find('/') == std::string::npos)
                found.push_back((fs::path(p) / name).string());
        }
        std::sort(found.begin(), found.end());
        out.roots.insert(out.roots.end(), found.begin(), found.end());
    }
    if (out.roots.empty()) {
        error = "--git: no *.bh file at " + rev + " in the paths given";
        return false;
    }
    out.reader = [rev](const std::string& path) {
        FileText t;
        t.shownAs = rev + ":" + path;
        fs::path file(path);
        std::string dir = file.parent_path().string();
        ProcessResult show = runProcess(
            {"git", "-C", dir.empty() ? "." : dir, "show", rev + ":./" + file.filename().string()});
        if (show.spawnError)
            t.error = "cannot run git: " + *show.spawnError;
        else if (show.exitCode != 0)
            t.error = firstLine(show.err);
        else
            t.text = std::move(show.out);
        return t;
    };
    return true;
}

} // namespace bulkhead::cli
