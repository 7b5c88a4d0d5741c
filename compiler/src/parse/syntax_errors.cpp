#include "parse/syntax_errors.h"

#include "parse/utf8.h"

#include <BulkheadLexer.h>
#include <BulkheadParser.h>

#include <set>

namespace bulkhead {
namespace {

using L = bulkhead_grammar::BulkheadLexer;

constexpr std::size_t kMaxErrors = 50;

// Keywords that the `name` rule also accepts: when a name is expected, listing them is noise.
bool isSoftKeyword(std::size_t type) {
    switch (type) {
    case L::TEMPLATE:
    case L::QUBE:
    case L::DISPVM_TEMPLATE:
    case L::DISPOSABLE:
    case L::STANDALONE:
    case L::NETVM:
    case L::FIREWALL:
    case L::USBVM:
    case L::VPN:
    case L::NETWORK:
    case L::SERVICE:
    case L::RPC:
    case L::RPC_SERVICE:
    case L::DATA:
    case L::PATH:
    case L::HAS:
        return true;
    default:
        return false;
    }
}

std::string describeToken(const antlr4::dfa::Vocabulary& vocab, std::size_t type) {
    switch (type) {
    case antlr4::Token::EOF:
        return "end of file";
    case L::NAME:
        return "a name";
    case L::INT:
        return "a number";
    case L::IPV4:
        return "an IPv4 address";
    case L::IPV6:
        return "an IPv6 address";
    case L::QUBES_TOKEN:
        return "a Qubes token such as @anyvm";
    case L::RPCARG:
        return "an argument such as +name";
    case L::STRING:
        return "a string";
    default:
        break;
    }
    std::string literal = vocab.getLiteralName(type);
    return literal.empty() ? vocab.getSymbolicName(type) : literal;
}

std::string describeExpected(const antlr4::dfa::Vocabulary& vocab,
                             const antlr4::misc::IntervalSet& expected) {
    std::set<std::size_t> types;
    for (ssize_t t : expected.toList())
        types.insert(static_cast<std::size_t>(t));
    static const std::size_t kStatementStarts[] = {L::POLICY,  L::IMPORT, L::TRUST, L::NETWORK,
                                                   L::SERVICE, L::QUBE,   L::ALLOW, L::RPC,
                                                   L::ASSERT,  L::REQUIRE};
    bool statement = true;
    for (std::size_t t : kStatementStarts)
        statement = statement && types.count(t);
    if (statement)
        return "a statement (policy, import, trust, network, service, rpc-service, a qube "
               "kind, allow, deny, rpc, assert or require)";
    if (types.count(L::NAME))
        std::erase_if(types, isSoftKeyword);
    std::vector<std::string> parts;
    for (std::size_t t : types)
        parts.push_back(describeToken(vocab, t));
    std::string out;
    const std::size_t shown = std::min<std::size_t>(parts.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) {
        if (i > 0)
            out += i + 1 == parts.size() ? " or " : ", ";
        out += parts[i];
    }
    if (parts.size() > shown)
        out += ", ...";
    return out;
}

std::string quoteToken(const antlr4::Token* t) {
    if (t->getType() == antlr4::Token::EOF)
        return "end of file";
    std::string text = t->getText();
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return "'" + text + "'";
}

} // namespace

void SyntaxErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                                      size_t line, size_t charPositionInLine,
                                      const std::string& msg, std::exception_ptr) {
    ++errors_;
    if (line == lastLine_ || errors_ > kMaxErrors)
        return;
    lastLine_ = line;
    SourceRange at;
    at.file = file_;
    at.begin = {static_cast<std::uint32_t>(line),
                static_cast<std::uint32_t>(charPositionInLine) + 1};
    at.end = at.begin;
    if (offending && offending->getType() != antlr4::Token::EOF) {
        std::uint32_t width = static_cast<std::uint32_t>(utf8CodePoints(offending->getText()));
        at.end.column = at.begin.column + (width > 0 ? width - 1 : 0);
    }

    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (!parser || !offending) {
        sink_.report(DiagCode::SyntaxError, at, msg);
        return;
    }
    if (offending->getType() == L::INVALID_CHAR) {
        std::string c = offending->getText();
        auto d = sink_.report(DiagCode::InvalidCharacter, at, "invalid character '" + c + "'");
        if (c == "_")
            d.hint("names start with a letter (Qubes' rule: [a-zA-Z][a-zA-Z0-9_.-]*)");
        else if (static_cast<unsigned char>(c[0]) >= 0x80)
            d.hint("names, keywords and addresses are ASCII; other text belongs in \"strings\"");
        else if (c == "!")
            d.hint("Bulkhead is not Qubes' policy.d syntax; see docs/language.md");
        return;
    }
    if (offending->getType() == L::UNTERMINATED_STRING) {
        sink_.report(DiagCode::UnterminatedString, at, "string is not closed on this line")
            .hint("add the closing \" before the end of the line");
        return;
    }

    antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
    std::string wanted = describeExpected(parser->getVocabulary(), expected);
    antlr4::Token* previous = parser->getTokenStream()->LT(-1);

    // A statement missing its ';' is reported where the ';' belongs, not on the next line.
    if (expected.contains(static_cast<size_t>(L::SEMI)) && previous &&
        previous->getType() != antlr4::Token::EOF && previous->getLine() < offending->getLine()) {
        SourceRange after = at;
        after.begin.line = static_cast<std::uint32_t>(previous->getLine());
        after.begin.column = static_cast<std::uint32_t>(previous->getCharPositionInLine()) + 1 +
                             static_cast<std::uint32_t>(utf8CodePoints(previous->getText()));
        after.end = after.begin;
        sink_
            .report(DiagCode::SyntaxError, after,
                    "expected " + wanted + " after " + quoteToken(previous))
            .hint("every statement ends with ';'");
        return;
    }
    auto d = sink_.report(DiagCode::SyntaxError, at,
                          "unexpected " + quoteToken(offending) + "; expected " + wanted);
    if (offending->getType() == L::STRING && expected.contains(static_cast<size_t>(L::NAME)))
        d.hint("names are written without quotes");
    else if (offending->getType() == L::EQ && expected.contains(static_cast<size_t>(L::ARROW)))
        d.hint("flows are written with '->'");
}

} // namespace bulkhead
