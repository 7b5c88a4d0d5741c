#include "commands.h"
#include "loaded_policy.h"

#include "baseline.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/frontend.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <ostream>
#include <sstream>

namespace bulkhead::cli {
namespace {

std::string where(const SourceManager& sources, const SourceRange& r) {
    return sourceLine(sources, r, "(a Qubes fact)");
}

struct Query {
    std::string from, to, service, argument;
};

// "A -> B [SERVICE[+ARG]]", as one word or several ('->' must be quoted in a shell).
std::optional<Query> parseQuery(const std::vector<std::string>& words) {
    std::string joined;
    for (const std::string& w : words)
        joined += w + " ";
    std::size_t arrow = joined.find("->");
    if (arrow == std::string::npos)
        return std::nullopt;
    std::istringstream left(joined.substr(0, arrow)), right(joined.substr(arrow + 2));
    Query q;
    std::string extra;
    if (!(left >> q.from) || (left >> extra) || !(right >> q.to))
        return std::nullopt;
    if (right >> q.service) {
        if (auto plus = q.service.find('+'); plus != std::string::npos) {
            q.argument = q.service.substr(plus);
            q.service.resize(plus);
        }
        if (right >> extra)
            return std::nullopt;
    }
    return q;
}

// One question answered on `out`; throws std::invalid_argument for a bad one.
void answer(const Query& q, const analyzer::Analysis& a, const SourceManager& sources,
            std::ostream& out) {
    std::string proto = q.service.substr(0, q.service.find('/'));
    bool packet = q.service.find('/') != std::string::npos &&
                  (proto == "tcp" || proto == "udp" || proto == "icmp");
    if (packet) {
        std::string portText = q.service.substr(proto.size() + 1);
        unsigned long port = 0;
        try {
            port = std::stoul(portText);
        } catch (const std::exception&) {
            port = 70000;
        }
        if (port > 65535 || portText.find_first_not_of("0123456789") != std::string::npos)
            throw std::invalid_argument("port must be a number 0-65535, not " + portText);
        analyzer::NetDecision d =
            a.decideNet(q.from, q.to, proto, static_cast<std::uint16_t>(port));
        out << q.service << " from " << q.from << " to " << q.to << ": "
            << (d.permitted ? "permitted" : "not permitted") << "\n";
        for (const SourceRange& r : d.allows)
            out << "  allowed by " << where(sources, r) << "\n";
        for (const SourceRange& r : d.denies)
            out << "  denied by " << where(sources, r) << " (a deny wins over every allow)\n";
        if (d.allows.empty())
            out << "  no allow flow matches it: everything not allowed is denied\n";
        return;
    }
    if (!q.service.empty()) {
        analyzer::RpcDecision d = a.decide(q.service, q.argument, q.from, q.to);
        out << q.service << q.argument << " from " << q.from << " to " << q.to << ": " << d.result;
        if (d.result == "deny")
            out << " (" << d.reason << ")";
        else {
            out << " ->";
            for (const std::string& t : d.targets)
                out << " " << t;
            if (d.result == "ask")
                out << " (the user chooses)";
        }
        out << "\n";
        if (d.rule)
            out << "  decided by " << where(sources, *d.rule) << "\n";
        if (!d.beaten.empty()) {
            out << "  also matching, never reached (first match wins):\n";
            for (const SourceRange& r : d.beaten)
                out << "    " << where(sources, r) << "\n";
        }
        return;
    }
    std::vector<analyzer::Hop> hops = a.path(q.from, q.to);
    if (hops.empty()) {
        out << "no path from " << q.from << " to " << q.to << " over any kind of edge\n";
        analyzer::BlockReport why = a.blockers(q.from, q.to);
        out << "  " << q.from << " reaches " << why.reached.size()
            << (why.reached.size() == 1 ? " node:" : " nodes:");
        for (const std::string& n : why.reached)
            out << " " << n;
        out << "\n";
        if (!why.blockers.empty())
            out << "  their direct requests to " << q.to << " are refused by:\n";
        for (const analyzer::Blocker& b : why.blockers)
            out << "    " << (b.rule ? where(sources, *b.rule) : "no matching rule (Qubes denies)")
                << "\n      " << b.requests
                << (b.requests == 1 ? " request class" : " request classes") << ", e.g. "
                << b.example << "\n";
        return;
    }
    out << q.from << " reaches " << q.to << " in " << hops.size()
        << (hops.size() == 1 ? " hop" : " hops") << " (shortest, no waivers):\n";
    for (std::size_t i = 0; i < hops.size(); ++i) {
        const analyzer::Hop& h = hops[i];
        out << "  " << i + 1 << ". " << h.from << " => " << h.to << " [" << h.kind << "] "
            << h.detail << "\n     " << where(sources, h.origin) << "\n";
    }
}

// Every net edge with its witness packet, one JSON object a line (docs/cli.md).
void printNetWitnesses(const analyzer::Analysis& a, const SourceManager& sources,
                       std::ostream& out) {
    for (const analyzer::NetWitness& w : a.netWitnesses()) {
        nlohmann::ordered_json j;
        j["from"] = w.from;
        j["to"] = w.to;
        j["sender"] = w.sender;
        j["receiver"] = w.receiver;
        j["source"] = w.source;
        j["destination"] = w.destination;
        j["protocol"] = w.protocol;
        j["port"] = w.port;
        j["detail"] = w.detail;
        j["flow"] = where(sources, w.origin);
        out << j.dump() << "\n";
    }
}

} // namespace

int runExplain(const ExplainOptions& options, std::ostream& out, std::ostream& err,
               const Terminal& terminal) {
    const char* usage = "bulkhead explain: expected 'SOURCE -> TARGET [SERVICE[+ARG]]' after the "
                        "policy files (quote '->' in a shell)\n";
    std::vector<Query> queries;
    if (options.netWitnesses) {
        if (!options.batch.empty() || !options.query.empty()) {
            err << "bulkhead explain: --net-witnesses takes no question\n";
            return kBadInput;
        }
    } else if (!options.batch.empty()) {
        if (!options.query.empty()) {
            err << "bulkhead explain: --batch takes the questions from its file only\n";
            return kBadInput;
        }
        std::ifstream file;
        if (options.batch != "-") {
            file.open(options.batch);
            if (!file) {
                err << "bulkhead explain: cannot read " << options.batch << "\n";
                return kBadInput;
            }
        }
        std::istream& in = options.batch == "-" ? std::cin : file;
        std::string line;
        for (std::size_t number = 1; std::getline(in, line); ++number) {
            std::size_t start = line.find_first_not_of(" \t\r");
            if (start == std::string::npos || line[start] == '#')
                continue;
            std::istringstream words(line);
            std::vector<std::string> split;
            for (std::string w; words >> w;)
                split.push_back(w);
            auto q = parseQuery(split);
            if (!q) {
                err << options.batch << ":" << number << ": " << usage;
                return kBadInput;
            }
            queries.push_back(*q);
        }
    } else if (auto q = parseQuery(options.query)) {
        queries.push_back(*q);
    } else {
        err << usage;
        return kBadInput;
    }
    LoadedPolicy loaded;
    if (int code = loadPolicy(options.files,
                              {options.baselineDirs, options.baselineLegacy, options.noBaseline},
                              loaded, err, terminal);
        code != kClean)
        return code;
    const SourceManager& sources = loaded.sources;
    const std::unique_ptr<analyzer::Analysis>& a = loaded.analysis;
    if (options.netWitnesses) {
        printNetWitnesses(*a, sources, out);
        return kClean;
    }
    try {
        for (const Query& q : queries)
            answer(q, *a, sources, out);
    } catch (const std::invalid_argument& e) {
        err << "bulkhead explain: " << e.what() << "\n";
        return kBadInput;
    }
    return kClean;
}

} // namespace bulkhead::cli
