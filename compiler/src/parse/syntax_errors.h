#pragma once
// Turns ANTLR's syntax errors into Bulkhead diagnostics with readable expectations.
#include "bulkhead/compiler/diagnostics.h"

#include <antlr4-runtime.h>

namespace bulkhead {

class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
    SyntaxErrorListener(FileId file, DiagnosticSink& sink) : file_(file), sink_(sink) {}

    void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                     size_t charPositionInLine, const std::string& msg,
                     std::exception_ptr e) override;

    std::size_t errors() const { return errors_; }

private:
    FileId file_;
    DiagnosticSink& sink_;
    std::size_t errors_ = 0;
    std::size_t lastLine_ = 0; // ANTLR's recovery cascades: one error per line is enough
};

} // namespace bulkhead
