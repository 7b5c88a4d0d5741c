#include "bulkhead/compiler/format.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace bulkhead {
namespace {

constexpr std::size_t kMaxWidth = 100;
constexpr std::size_t kIndent = 4;

bool isQubeKind(const Token& t) {
    static const std::set<std::string_view> kKinds = {"template",   "qube",       "dispvm-template",
                                                      "disposable", "standalone", "netvm",
                                                      "firewall",   "usbvm",      "vpn"};
    return t.kind == Token::Kind::Word && kKinds.count(t.text);
}

bool is(const Token& t, std::string_view punct) {
    return t.kind == Token::Kind::Punct && t.text == punct;
}

bool needsSpace(const Token& prev, const Token& cur, bool rpcStatement) {
    if (is(cur, ";") || is(cur, ","))
        return false;
    if (is(cur, "/") || is(prev, "/") || is(cur, "-") || is(prev, "-"))
        return false;
    if (cur.kind == Token::Kind::RpcArg)
        return false;
    if (rpcStatement && (is(cur, "=") || is(prev, "=")))
        return false;
    return true;
}

class Printer {
public:
    std::string finish() {
        flush();
        while (!out_.empty() && out_.back() == '\n' && out_.size() >= 2 &&
               out_[out_.size() - 2] == '\n')
            out_.pop_back();
        return out_;
    }

    void blankLine() {
        flush();
        if (!out_.empty() && !out_.ends_with("\n\n"))
            out_ += "\n";
    }

    // Starts a new line at the given indent; the previous one ends.
    void newLine(std::size_t indent) {
        flush();
        indent_ = indent;
    }

    void word(const Token& t, const Token* prev, bool rpcStatement) {
        if (!line_.empty() && prev && needsSpace(*prev, t, rpcStatement))
            line_ += ' ';
        line_ += t.text;
    }

    void text(std::string_view s) { line_ += s; }

    // A comment after code stays on that line; the code continues on the next.
    void trailingComment(const Token& c, std::size_t continueIndent) {
        line_ += line_.empty() ? "" : "  ";
        line_ += trimmed(c.text);
        newLine(continueIndent);
    }

    void ownLineComment(const Token& c, std::size_t indent) {
        newLine(indent);
        line_ = trimmed(c.text);
        newLine(indent);
    }

    bool lineEmpty() const { return line_.empty(); }
    std::size_t width() const { return line_.empty() ? 0 : indent_ + line_.size(); }

private:
    static std::string trimmed(std::string_view s) {
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        return std::string(s);
    }

    void flush() {
        if (line_.empty())
            return;
        out_.append(indent_, ' ');
        out_ += line_;
        out_ += '\n';
        line_.clear();
    }

    std::string out_;
    std::string line_;
    std::size_t indent_ = 0;
};

struct Range {
    std::size_t begin, end; // [begin, end)
};

// Tokens of one statement, with a comment on its last line included.
Range statementAt(const std::vector<Token>& toks, std::size_t i) {
    std::size_t j = i;
    int depth = 0;
    bool block = isQubeKind(toks[i]);
    for (; j < toks.size(); ++j) {
        const Token& t = toks[j];
        if (is(t, "{"))
            ++depth;
        else if (is(t, "}") && --depth == 0 && block) {
            std::size_t k = j + 1;
            while (k < toks.size() && toks[k].kind == Token::Kind::Comment)
                ++k;
            if (k < toks.size() && is(toks[k], ";"))
                j = k;
            break;
        } else if (is(t, ";") && depth == 0 && !block)
            break;
    }
    if (j >= toks.size())
        j = toks.size() - 1;
    std::size_t end = j + 1;
    while (end < toks.size() && toks[end].kind == Token::Kind::Comment &&
           toks[end].range.begin.line == toks[end - 1].range.end.line)
        ++end;
    return {i, end};
}

// Prints tokens [r.begin, r.end) as continuing lines; comments keep their attachment.
void printRun(Printer& p, const std::vector<Token>& toks, Range r, std::size_t indent,
              std::size_t contIndent, bool rpc, bool breakBeforeExcept) {
    const Token* prev = nullptr;
    bool inExcept = false;
    for (std::size_t k = r.begin; k < r.end; ++k) {
        const Token& t = toks[k];
        if (t.kind == Token::Kind::Comment) {
            bool trailing = k > 0 && toks[k - 1].range.end.line == t.range.begin.line;
            if (trailing)
                p.trailingComment(t, contIndent);
            else
                p.ownLineComment(t, p.lineEmpty() && !prev ? indent : contIndent);
            prev = nullptr;
            continue;
        }
        bool word = t.kind == Token::Kind::Word;
        if (breakBeforeExcept && word && t.text == "except" && prev) {
            p.newLine(contIndent);
            inExcept = true;
        } else if (p.lineEmpty() && prev == nullptr && k != r.begin) {
            p.newLine(contIndent);
        } else if (prev && p.width() + 1 + t.text.size() > kMaxWidth &&
                   (is(*prev, ",") || (word && t.text == "because"))) {
            // Too long: wrap after a list comma or before a waiver's reason.
            p.newLine(inExcept ? contIndent + kIndent : contIndent);
        }
        p.word(t, prev, rpc);
        prev = &t;
    }
}

std::size_t flatWidth(const std::vector<Token>& toks, Range r) {
    std::size_t w = 0;
    for (std::size_t k = r.begin; k < r.end; ++k)
        w += toks[k].text.size() + 1;
    return w;
}

bool hasComment(const std::vector<Token>& toks, Range r) {
    return std::any_of(toks.begin() + static_cast<std::ptrdiff_t>(r.begin),
                       toks.begin() + static_cast<std::ptrdiff_t>(r.end),
                       [](const Token& t) { return t.kind == Token::Kind::Comment; });
}

void printBlock(Printer& p, const std::vector<Token>& toks, Range r) {
    std::size_t open = r.begin;
    while (open < r.end && !is(toks[open], "{"))
        ++open;
    std::size_t close = open;
    while (close < r.end && !is(toks[close], "}"))
        ++close;
    if (open >= r.end || close >= r.end) { // cannot happen for parsed input; print flat
        printRun(p, toks, r, 0, kIndent, false, false);
        return;
    }
    // A comment on the line of '{' stays there.
    std::size_t afterOpen = open + 1;
    while (afterOpen < close && toks[afterOpen].kind == Token::Kind::Comment &&
           toks[afterOpen].range.begin.line == toks[open].range.end.line)
        ++afterOpen;
    Range header{r.begin, afterOpen};
    Range body{afterOpen, close};
    Range tail{close + 1, r.end}; // an optional ';' and comments
    bool flat = !hasComment(toks, {r.begin, close + 1}) &&
                flatWidth(toks, {r.begin, close + 1}) + 1 <= kMaxWidth;

    p.newLine(0);
    printRun(p, toks, header, 0, kIndent, false, false);
    if (flat) {
        body.begin = open + 1;
        const Token* prev = &toks[open];
        for (std::size_t k = body.begin; k < body.end; ++k) {
            p.word(toks[k], prev, false);
            prev = &toks[k];
        }
        p.text(body.begin == body.end ? "}" : " }");
    } else {
        // One property per line; a property ends at ';'.
        std::size_t k = body.begin;
        while (k < body.end) {
            std::size_t e = k;
            while (e < body.end && toks[e].kind == Token::Kind::Comment &&
                   !(e > 0 && toks[e - 1].range.end.line == toks[e].range.begin.line))
                ++e;
            if (e > k) { // leading comments of the next property, or of the block end
                for (std::size_t c = k; c < e; ++c)
                    p.ownLineComment(toks[c], kIndent);
                k = e;
                continue;
            }
            while (e < body.end && !is(toks[e], ";"))
                ++e;
            if (e < body.end)
                ++e;
            while (e < body.end && toks[e].kind == Token::Kind::Comment &&
                   toks[e].range.begin.line == toks[e - 1].range.end.line)
                ++e;
            p.newLine(kIndent);
            printRun(p, toks, {k, e}, kIndent, 2 * kIndent, false, false);
            k = e;
        }
        p.newLine(0);
        p.text("}");
    }
    for (std::size_t k = tail.begin; k < tail.end; ++k)
        if (toks[k].kind == Token::Kind::Comment)
            p.trailingComment(toks[k], 0);
    p.newLine(0);
}

} // namespace

std::string formatTokens(const std::vector<Token>& toks) {
    Printer p;
    std::uint32_t lastLine = 0;
    std::size_t i = 0;
    while (i < toks.size()) {
        const Token& first = toks[i];
        if (lastLine != 0 && first.range.begin.line > lastLine + 1)
            p.blankLine();
        if (first.kind == Token::Kind::Comment) {
            p.ownLineComment(first, 0);
            lastLine = first.range.end.line;
            ++i;
            continue;
        }
        Range r = statementAt(toks, i);
        if (isQubeKind(first)) {
            printBlock(p, toks, r);
        } else {
            bool rpc = first.kind == Token::Kind::Word && first.text == "rpc";
            bool assertion = first.kind == Token::Kind::Word && first.text == "assert";
            p.newLine(0);
            printRun(p, toks, r, 0, kIndent, rpc, assertion);
            p.newLine(0);
        }
        lastLine = toks[r.end - 1].range.end.line;
        i = r.end;
    }
    return p.finish();
}

bool sameTokens(const std::vector<Token>& a, const std::vector<Token>& b) {
    auto significant = [](const std::vector<Token>& v) {
        std::vector<std::pair<Token::Kind, std::string>> out;
        bool afterBrace = false; // the last token that is not a comment was '}'
        for (std::size_t k = 0; k < v.size(); ++k) {
            if (is(v[k], ";") && afterBrace) {
                afterBrace = false;
                continue;
            }
            if (v[k].kind != Token::Kind::Comment)
                afterBrace = is(v[k], "}");
            std::string text = v[k].text;
            if (v[k].kind == Token::Kind::Comment)
                while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
                    text.pop_back();
            out.emplace_back(v[k].kind, std::move(text));
        }
        return out;
    };
    return significant(a) == significant(b);
}

} // namespace bulkhead
