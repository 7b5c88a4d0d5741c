#pragma once
// What `bulkhead diff` compares: each side is a list of files or directories (a directory
// stands for its *.bh files, sorted, as one policy), read from the working tree or, with
// --git REV, as of a git revision through `git show REV:path` (no shell; REV is checked).
#include "bulkhead/compiler/frontend.h"

#include <string>
#include <vector>

namespace bulkhead::cli {

struct PolicyInput {
    std::vector<std::string> roots; // the files, in order
    FileReader reader;              // empty: the file system
};

// Files as given; a directory becomes its *.bh files. False with a message when a path is
// neither, or a directory holds no policy file.
bool workingTreeInput(const std::vector<std::string>& paths, PolicyInput& out, std::string& error);

// The same paths as of git revision rev: diagnostics name files "REV:path". False with a
// message for a revision that is not one, outside a git repository, or without git.
bool gitInput(const std::string& rev, const std::vector<std::string>& paths, PolicyInput& out,
              std::string& error);

} // namespace bulkhead::cli
