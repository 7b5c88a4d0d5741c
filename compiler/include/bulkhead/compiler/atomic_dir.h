#pragma once
// A whole output directory replaced in one step: the new tree is written beside it (every
// file and directory fsynced), then swapped in with one rename (renameat2 RENAME_EXCHANGE
// when the directory exists). A crash leaves the old tree or the new one, never a mix; the
// staging tree a killed run leaves beside it is removed by the next run.
#include <map>
#include <string>

namespace bulkhead {

struct TreeFile {
    std::string contents;
    bool executable = false;
};

// files: relative path → contents. Returns an empty string on success, else why it failed;
// on failure the existing directory is untouched and nothing new is left behind.
std::string replaceDirectoryAtomically(const std::string& dir,
                                       const std::map<std::string, TreeFile>& files);

} // namespace bulkhead
