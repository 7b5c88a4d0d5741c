#pragma once
// The parser: the only code that sees ANTLR. Text in, syntax tree and token list out.
#include "bulkhead/compiler/ast.h"
#include "bulkhead/compiler/diagnostics.h"

#include <string>
#include <vector>

namespace bulkhead {

// Tokens as the formatter needs them: every token of the file, comments included.
struct Token {
    enum class Kind { Word, Number, Address, QubesToken, RpcArg, String, Comment, Punct };
    Kind kind = Kind::Word;
    std::string text;
    SourceRange range;
};

struct ParsedFile {
    ast::File ast;
    std::vector<Token> tokens;
    bool ok = false; // no lexical or syntax error
};

// Parses one file already in the source manager; every error goes to the sink.
ParsedFile parseFile(const SourceManager& sources, FileId file, DiagnosticSink& sink);

struct ParserVersions {
    std::string tool;    // the ANTLR tool that generated the parser
    std::string runtime; // the ANTLR C++ runtime linked in
};
ParserVersions parserVersions();

} // namespace bulkhead
