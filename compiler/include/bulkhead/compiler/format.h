#pragma once
// `bulkhead fmt`: one canonical layout, comments kept where they were, idempotent.
#include "bulkhead/compiler/parse.h"

#include <string>
#include <vector>

namespace bulkhead {

// Lays out the tokens of a file that parsed without error. Only white space changes (and
// a redundant ';' after a qube block is dropped), so the meaning cannot change.
std::string formatTokens(const std::vector<Token>& tokens);

// True when two token lists are the same program: same tokens and comments in the same
// order, ignoring positions and a ';' directly after '}'. fmt checks its own output with it.
bool sameTokens(const std::vector<Token>& a, const std::vector<Token>& b);

} // namespace bulkhead
