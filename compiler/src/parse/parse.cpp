// ANTLR parse tree -> Bulkhead syntax tree. The only file that includes generated headers.
#include "bulkhead/compiler/parse.h"

#include "parse/syntax_errors.h"
#include "parse/utf8.h"

#include <BulkheadLexer.h>
#include <BulkheadParser.h>
#include <antlr4-runtime.h>

namespace bulkhead {
namespace {

using P = bulkhead_grammar::BulkheadParser;
using L = bulkhead_grammar::BulkheadLexer;

// Token positions: ANTLR counts code points from 0; we show 1-based columns.
SourceRange tokenRange(FileId file, const antlr4::Token* token) {
    SourceRange r;
    r.file = file;
    r.begin.line = static_cast<std::uint32_t>(token->getLine());
    r.begin.column = static_cast<std::uint32_t>(token->getCharPositionInLine()) + 1;
    std::size_t width = token->getStopIndex() >= token->getStartIndex()
                            ? token->getStopIndex() - token->getStartIndex() + 1
                            : 1;
    r.end = r.begin;
    r.end.column = r.begin.column + static_cast<std::uint32_t>(width) - 1;
    return r;
}

class Builder {
public:
    Builder(FileId file, DiagnosticSink& sink) : file_(file), sink_(sink) {}

    ast::File build(P::FileContext* ctx) {
        ast::File out;
        out.id = file_;
        for (P::StatementContext* s : ctx->statement())
            out.statements.push_back(statement(s));
        return out;
    }

private:
    FileId file_;
    DiagnosticSink& sink_;

    SourceRange range(antlr4::ParserRuleContext* ctx) const {
        SourceRange begin = tokenRange(file_, ctx->getStart());
        SourceRange end = tokenRange(file_, ctx->getStop() ? ctx->getStop() : ctx->getStart());
        return cover(begin, end);
    }
    SourceRange range(antlr4::tree::TerminalNode* node) const {
        return tokenRange(file_, node->getSymbol());
    }

    ast::Ident ident(P::NameContext* ctx) const { return {ctx->getText(), range(ctx)}; }
    ast::Ident ident(antlr4::Token* token) const {
        return {token->getText(), tokenRange(file_, token)};
    }

    ast::StringLit string(antlr4::tree::TerminalNode* node) {
        std::string raw = node->getText();
        ast::StringLit out;
        out.range = range(node);
        // Strip the quotes; decode \" and \\ and refuse the rest.
        for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
            if (raw[i] != '\\') {
                out.value += raw[i];
                continue;
            }
            char next = raw[i + 1];
            if (next == '"' || next == '\\') {
                out.value += next;
                ++i;
                continue;
            }
            SourceRange at = out.range;
            at.begin.column += static_cast<std::uint32_t>(utf8CodePoints(raw.substr(0, i)));
            at.end = at.begin;
            at.end.column += 1;
            sink_.report(DiagCode::InvalidEscape, at, "invalid escape in string")
                .hint("only \\\" and \\\\ are escapes; write other characters as they are");
        }
        return out;
    }

    ast::Ref ref(P::NameContext* ctx) const {
        return {ast::Ref::Kind::Name, ctx->getText(), range(ctx)};
    }
    ast::Ref ref(P::AddressContext* ctx) const {
        return {ast::Ref::Kind::Address, ctx->getText(), range(ctx)};
    }
    ast::Ref ref(antlr4::tree::TerminalNode* node, ast::Ref::Kind kind) const {
        return {kind, node->getText(), range(node)};
    }

    ast::Ref ref(P::NetItemContext* ctx) const {
        return ctx->address() ? ref(ctx->address()) : ref(ctx->name());
    }
    ast::Ref ref(P::PropertyValueContext* ctx) const {
        if (ctx->address())
            return ref(ctx->address());
        if (ctx->QUBES_TOKEN())
            return ref(ctx->QUBES_TOKEN(), ast::Ref::Kind::Token);
        return ref(ctx->name());
    }
    ast::Ref ref(P::EndpointContext* ctx) const {
        if (ctx->address())
            return ref(ctx->address());
        if (ctx->QUBES_TOKEN())
            return ref(ctx->QUBES_TOKEN(), ast::Ref::Kind::Token);
        return ref(ctx->name());
    }
    ast::Ref ref(P::RpcEndpointContext* ctx) const {
        if (ctx->QUBES_TOKEN())
            return ref(ctx->QUBES_TOKEN(), ast::Ref::Kind::Token);
        if (ctx->STAR())
            return ref(ctx->STAR(), ast::Ref::Kind::Star);
        return ref(ctx->name());
    }

    std::vector<ast::Ref> refs(P::EndpointListContext* ctx) const {
        std::vector<ast::Ref> out;
        for (auto* e : ctx->endpoint())
            out.push_back(ref(e));
        return out;
    }
    std::vector<ast::Ref> refs(P::RpcEndpointListContext* ctx) const {
        std::vector<ast::Ref> out;
        for (auto* e : ctx->rpcEndpoint())
            out.push_back(ref(e));
        return out;
    }

    ast::ServiceItem serviceItem(P::ServiceItemContext* ctx) const {
        ast::ServiceItem item;
        item.name = ident(ctx->name());
        item.hasSlash = ctx->SLASH() != nullptr;
        item.range = range(ctx);
        for (P::PortItemContext* p : ctx->portItem()) {
            ast::PortItem port;
            port.low = p->INT(0)->getText();
            if (p->INT().size() > 1)
                port.high = p->INT(1)->getText();
            port.range = range(p);
            item.ports.push_back(std::move(port));
        }
        return item;
    }
    std::vector<ast::ServiceItem> services(P::ServiceListContext* ctx) const {
        std::vector<ast::ServiceItem> out;
        for (auto* s : ctx->serviceItem())
            out.push_back(serviceItem(s));
        return out;
    }

    ast::RpcServiceRef rpcService(P::RpcServiceContext* ctx) const {
        ast::RpcServiceRef out;
        out.service = ctx->STAR() ? ref(ctx->STAR(), ast::Ref::Kind::Star) : ref(ctx->name());
        if (ctx->RPCARG())
            out.argument = ast::Ident{ctx->RPCARG()->getText(), range(ctx->RPCARG())};
        out.range = range(ctx);
        return out;
    }

    ast::Selector selector(P::SelectorContext* ctx) const {
        ast::Selector out;
        out.range = range(ctx);
        if (auto* t = dynamic_cast<P::TrustSelectorContext*>(ctx)) {
            out.kind = ast::Selector::Kind::Trust;
            if (t->comparator())
                out.comparator = t->comparator()->getText();
            out.ref = ref(t->name());
        } else if (auto* n = dynamic_cast<P::NameSelectorContext*>(ctx)) {
            out.kind = ast::Selector::Kind::Name;
            out.ref = ref(n->name());
        } else if (auto* k = dynamic_cast<P::TokenSelectorContext*>(ctx)) {
            out.kind = ast::Selector::Kind::Token;
            out.ref = ref(k->QUBES_TOKEN(), ast::Ref::Kind::Token);
        }
        return out;
    }
    std::vector<ast::Selector> selectors(P::SelectorListContext* ctx) const {
        std::vector<ast::Selector> out;
        for (auto* s : ctx->selector())
            out.push_back(selector(s));
        return out;
    }

    ast::Waiver waiver(P::WaiverContext* ctx) const {
        ast::Waiver out;
        out.range = range(ctx);
        if (auto* r = dynamic_cast<P::RpcWaiverContext*>(ctx)) {
            out.kind = ast::Waiver::Kind::Rpc;
            out.edgeKind = {"rpc", range(r->RPC())};
            out.service = rpcService(r->rpcService());
            if (r->rpcEndpointList().size() == 2) {
                out.rpcFrom = refs(r->rpcEndpointList(0));
                out.rpcTo = refs(r->rpcEndpointList(1));
            }
        } else if (auto* e = dynamic_cast<P::EdgeWaiverContext*>(ctx)) {
            out.kind = ast::Waiver::Kind::Edge;
            out.edgeKind = ident(e->kind);
            out.from = selector(e->selector(0));
            if (e->selector().size() > 1)
                out.to = selector(e->selector(1));
            if (e->serviceList())
                out.services = services(e->serviceList());
        }
        return out;
    }

    ast::StatementNode node(P::StatementContext* s) {
        if (auto* c = s->policyHeader())
            return ast::PolicyHeader{string(c->STRING())};
        if (auto* c = s->importStmt())
            return ast::Import{string(c->STRING())};
        if (auto* c = s->trustDecl()) {
            ast::TrustDecl d;
            for (P::TrustLevelContext* l : c->trustLevel()) {
                ast::TrustLevelDecl level{ident(l->name(0)), std::nullopt};
                if (l->label)
                    level.label = ident(l->label);
                d.chain.push_back(std::move(level));
            }
            return d;
        }
        if (auto* c = s->networkDecl()) {
            ast::NetworkDecl d{ident(c->name()), {}};
            for (auto* item : c->netItem())
                d.items.push_back(ref(item));
            return d;
        }
        if (auto* c = s->serviceDecl()) {
            ast::ServiceDecl d{ident(c->name(0)), {}, std::nullopt};
            for (auto* item : c->serviceItem())
                d.items.push_back(serviceItem(item));
            if (c->direction)
                d.direction = ident(c->direction);
            return d;
        }
        if (auto* c = s->rpcServiceDecl())
            return ast::RpcServiceDecl{ident(c->name(0)), ident(c->direction)};
        if (auto* c = s->qubeDecl()) {
            ast::QubeDecl d{{c->qubeKind()->getText(), range(c->qubeKind())}, ident(c->name()), {}};
            for (P::PropertyContext* p : c->property()) {
                ast::Property prop{
                    {p->propertyName()->getText(), range(p->propertyName())}, {}, range(p)};
                for (auto* v : p->propertyValue())
                    prop.values.push_back(ref(v));
                d.properties.push_back(std::move(prop));
            }
            return d;
        }
        if (auto* c = s->flowRule()) {
            return ast::FlowRule{c->action->getType() == L::DENY, refs(c->endpointList(0)),
                                 refs(c->endpointList(1)), services(c->serviceList())};
        }
        if (auto* c = s->rpcRule()) {
            ast::RpcRule d;
            d.service = rpcService(c->rpcService());
            d.from = refs(c->rpcEndpointList(0));
            d.to = refs(c->rpcEndpointList(1));
            d.action = ident(c->action);
            for (P::RpcParamContext* p : c->rpcParam())
                d.params.push_back({ident(p->key),
                                    p->value ? ref(p->value) : ref(p->NO(), ast::Ref::Kind::Name),
                                    range(p)});
            return d;
        }
        if (auto* c = dynamic_cast<P::NoPathAssertionContext*>(s->assertion())) {
            ast::NoPathAssertion d;
            d.from = selectors(c->selectorList(0));
            d.to = selectors(c->selectorList(1));
            if (c->edgeKindList())
                for (auto* n : c->edgeKindList()->name())
                    d.via.push_back(ident(n));
            for (P::ExceptClauseContext* e : c->exceptClause()) {
                ast::ExceptClause clause;
                clause.range = range(e);
                for (auto* w : e->waiver())
                    clause.waivers.push_back(waiver(w));
                if (e->STRING())
                    clause.because = string(e->STRING());
                d.excepts.push_back(std::move(clause));
            }
            return d;
        }
        if (auto* c = dynamic_cast<P::NoNetworkAssertionContext*>(s->assertion()))
            return ast::NoNetworkAssertion{selectors(c->selectorList())};
        if (auto* c = dynamic_cast<P::RpcRequirementContext*>(s->requirement()))
            return ast::RpcRequirement{rpcService(c->rpcService()), refs(c->rpcEndpointList(0)),
                                       refs(c->rpcEndpointList(1))};
        if (auto* c = dynamic_cast<P::NetRequirementContext*>(s->requirement()))
            return ast::NetRequirement{refs(c->endpointList(0)), refs(c->endpointList(1)),
                                       services(c->serviceList())};
        throw std::logic_error("parse: a statement kind the builder does not know");
    }

    ast::Statement statement(P::StatementContext* s) { return {node(s), range(s)}; }
};

Token::Kind tokenKind(std::size_t type) {
    switch (type) {
    case L::INT:
        return Token::Kind::Number;
    case L::IPV4:
    case L::IPV6:
        return Token::Kind::Address;
    case L::QUBES_TOKEN:
        return Token::Kind::QubesToken;
    case L::RPCARG:
        return Token::Kind::RpcArg;
    case L::STRING:
    case L::UNTERMINATED_STRING:
        return Token::Kind::String;
    case L::COMMENT:
        return Token::Kind::Comment;
    case L::NAME:
        return Token::Kind::Word;
    default:
        break;
    }
    return type >= L::POLICY && type <= L::HAS ? Token::Kind::Word : Token::Kind::Punct;
}

} // namespace

ParsedFile parseFile(const SourceManager& sources, FileId file, DiagnosticSink& sink) {
    ParsedFile out;
    out.ast.id = file;
    const std::string& text = sources.file(file).text;
    if (auto bad = findInvalidUtf8(text)) {
        SourceRange at{file, {bad->line, bad->column}, {bad->line, bad->column}};
        sink.report(DiagCode::InvalidUtf8, at, "the file is not valid UTF-8")
            .hint("save the policy as UTF-8");
        return out;
    }

    antlr4::ANTLRInputStream input(text);
    L lexer(&input);
    antlr4::CommonTokenStream stream(&lexer);
    P parser(&stream);
    SyntaxErrorListener listener(file, sink);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);

    P::FileContext* tree = parser.file();

    stream.fill();
    for (antlr4::Token* t : stream.getTokens()) {
        if (t->getType() == antlr4::Token::EOF)
            continue;
        out.tokens.push_back({tokenKind(t->getType()), t->getText(), tokenRange(file, t)});
    }
    if (listener.errors() > 0)
        return out;

    std::size_t before = sink.errorCount();
    out.ast = Builder(file, sink).build(tree);
    out.ok = sink.errorCount() == before;
    return out;
}

ParserVersions parserVersions() {
    return {BULKHEAD_ANTLR_TOOL_VERSION, antlr4::RuntimeMetaData::VERSION};
}

} // namespace bulkhead
