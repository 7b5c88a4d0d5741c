// The DSL front end on arbitrary bytes: parse, resolve, and format what parses.
#include "bulkhead/compiler/format.h"
#include "bulkhead/compiler/parse.h"
#include "bulkhead/compiler/resolve.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace bulkhead;
    SourceManager sources;
    DiagnosticSink sink;
    FileId id = sources.add("fuzz.bh", std::string(reinterpret_cast<const char*>(data), size));
    ParsedFile parsed = parseFile(sources, id, sink);
    if (!parsed.ok)
        return 0;
    // fmt's own guarantee: its output parses back to the same tokens.
    std::string formatted = formatTokens(parsed.tokens);
    DiagnosticSink again;
    FileId re = sources.add("fuzz-formatted.bh", formatted);
    ParsedFile reparsed = parseFile(sources, re, again);
    if (!reparsed.ok || !sameTokens(parsed.tokens, reparsed.tokens))
        __builtin_trap();
    std::vector<ast::File> files{parsed.ast};
    (void)resolve(files, id, sources, sink);
    return 0;
}
