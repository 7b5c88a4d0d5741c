// bulkhead graph: the influence graph as Graphviz DOT (docs/graph.md), optionally rendered to
// SVG or PNG by Graphviz's dot, run without a shell.
#include "commands.h"
#include "loaded_policy.h"
#include "process.h"

#include "baseline.h"

#include "bulkhead/analyzer/analyzer.h"
#include "bulkhead/compiler/atomic_file.h"
#include "bulkhead/compiler/frontend.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <tuple>
#include <unistd.h>

namespace bulkhead::cli {
namespace {

// A DOT string: '\n' in the text becomes a centred line break, '\v' a left-justified one.
std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\v')
            out += "\\l";
        else {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
    }
    return out + "\"";
}

// Qubes' label colours (qubes-core-admin's defaults) and a readable text colour on each.
struct LabelColour {
    const char* fill;
    const char* font;
};
LabelColour labelColour(const std::string& label) {
    static const std::map<std::string, LabelColour> colours = {
        {"red", {"#cc0000", "white"}},    {"orange", {"#f57900", "black"}},
        {"yellow", {"#edd400", "black"}}, {"green", {"#73d216", "black"}},
        {"gray", {"#555753", "white"}},   {"blue", {"#3465a4", "white"}},
        {"purple", {"#75507b", "white"}}, {"black", {"#000000", "white"}},
    };
    auto it = colours.find(label);
    return it == colours.end() ? LabelColour{"#eeeeec", "black"} : it->second;
}

struct EdgeStyle {
    const char* name; // as the legend shows it
    const char* color;
    const char* style;
    const char* arrowhead;
};
// One style per kind (rpc split by ask); none of them red, which marks escape paths.
EdgeStyle edgeStyle(const std::string& kind, bool ask) {
    if (kind == "net")
        return {"net", "#204a87", "solid", "normal"};
    if (kind == "rpc")
        return ask ? EdgeStyle{"rpc ask", "#c17d11", "dashed", "open"}
                   : EdgeStyle{"rpc allow", "#4e9a06", "solid", "normal"};
    if (kind == "template")
        return {"template", "#888a85", "dotted", "empty"};
    if (kind == "dispvm-template")
        return {"dispvm-template", "#75507b", "dotted", "empty"};
    if (kind == "netvm")
        return {"netvm", "#2e3436", "solid", "none"};
    if (kind == "device")
        return {ask ? "device (ask)" : "device", "#8f5902", ask ? "dashed" : "solid", "dot"};
    return {ask ? "admin (ask)" : "admin", "#000000", ask ? "dashed,bold" : "bold", "diamond"};
}

// The services, two at most; a count only when there are more edges than services (several
// arguments or rules), never on a Qubes fact.
std::string edgeLabel(const analyzer::GraphEdge& e, std::size_t directions) {
    std::string out;
    std::size_t shown = std::min<std::size_t>(e.services.size(), 2);
    for (std::size_t i = 0; i < shown; ++i)
        out += (i ? ", " : "") + (e.services[i] == "*" ? std::string("other") : e.services[i]);
    if (e.services.size() > shown)
        out += " +" + std::to_string(e.services.size() - shown);
    if (!e.fact && e.count > e.services.size() * directions)
        out += (out.empty() ? "" : " ") + std::string("x") + std::to_string(e.count);
    return out;
}

std::string where(const SourceManager& sources, const SourceRange& r) {
    return sourceLine(sources, r, "");
}

using EdgeKey = std::tuple<std::string, std::string, std::string, bool>;
EdgeKey keyOf(const analyzer::GraphEdge& e) {
    return {e.from, e.to, e.kind, e.ask};
}

class DotWriter {
public:
    DotWriter(const analyzer::GraphView& view, bool all, std::ostream& out)
        : view_(view), all_(all), out_(out) {}

    void write(const std::string& title, const std::vector<std::string>& escapes) {
        out_ << "digraph " << quote(title) << " {\n"
             << "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, newrank=true, "
                "nodesep=0.3, ranksep=0.9, labelloc=t, labeljust=l, label="
             << quote(graphLabel(title, escapes)) << "];\n"
             << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
                "fontsize=10, penwidth=1];\n"
             << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
        writeNodes();
        writeEdges();
        writeLegend();
        out_ << "}\n";
    }

private:
    static std::string graphLabel(const std::string& title, const std::vector<std::string>& esc) {
        std::string label = title + "\v";
        for (std::size_t i = 0; i < esc.size(); ++i)
            label += "escape " + std::to_string(i + 1) + " (bold red): " + esc[i] + "\v";
        if (esc.empty())
            label += "no escape path: every assertion holds\v";
        return label;
    }

    void writeNode(const analyzer::GraphNode& n, const std::string& indent) {
        if (n.kind == "external") {
            out_ << indent << quote(n.name)
                 << " [shape=ellipse, style=filled, fillcolor=\"#ffffff\", color=\"#555753\"];\n";
            return;
        }
        LabelColour c = n.cls == "AdminVM" ? labelColour("black") : labelColour(n.label);
        std::string shape = n.cls == "AdminVM"      ? "doubleoctagon"
                            : n.cls == "TemplateVM" ? "box3d"
                            : n.providesNetwork     ? "hexagon"
                                                    : "box";
        std::string style = n.kind == "disposables" ? "rounded,filled,dashed"
                            : shape == "box"        ? "rounded,filled"
                                                    : "filled";
        std::string label = n.name + "\n" + (n.trust.empty() ? n.cls : n.trust);
        out_ << indent << quote(n.name) << " [label=" << quote(label) << ", shape=" << shape
             << ", style=" << quote(style) << ", fillcolor=" << quote(c.fill)
             << ", fontcolor=" << quote(c.font) << "];\n";
    }

    void writeCluster(const std::string& netvm, const std::string& indent,
                      std::set<std::string>& done) {
        if (!done.insert(netvm).second)
            return;
        out_ << indent << "subgraph " << quote("cluster_netvm_" + netvm) << " {\n"
             << indent << "  label=" << quote("netvm " + netvm) << "; style=\"rounded,dashed\"; "
             << "color=\"#888a85\"; fontsize=9;\n";
        writeNode(*byName_.at(netvm), indent + "  ");
        for (const std::string& client : clients_[netvm]) {
            if (clients_.count(client))
                writeCluster(client, indent + "  ", done);
            else
                writeNode(*byName_.at(client), indent + "  ");
        }
        out_ << indent << "}\n";
    }

    void writeNodes() {
        for (const analyzer::GraphNode& n : view_.nodes) {
            byName_[n.name] = &n;
            if (!n.netvm.empty())
                clients_[n.netvm].push_back(n.name); // nodes are sorted: so are the clients
        }
        std::set<std::string> done;
        bool externals = false;
        for (const analyzer::GraphNode& n : view_.nodes) {
            if (n.kind == "external") {
                externals = true;
            } else if (n.netvm.empty()) {
                if (clients_.count(n.name))
                    writeCluster(n.name, "  ", done);
                else
                    writeNode(n, "  ");
            }
        }
        if (!externals)
            return;
        out_ << "  subgraph \"cluster_external\" {\n"
             << "    label=\"outside the system\"; style=\"rounded,dashed\"; color=\"#888a85\"; "
                "fontsize=9;\n";
        for (const analyzer::GraphNode& n : view_.nodes)
            if (n.kind == "external")
                writeNode(n, "    ");
        out_ << "  }\n";
    }

    void writeEdges() {
        std::map<EdgeKey, std::vector<std::size_t>> escapes; // hop key -> escape numbers
        for (std::size_t i = 0; i < view_.witnesses.size(); ++i)
            for (const analyzer::GraphEdge& h : view_.witnesses[i].hops) {
                auto& list = escapes[keyOf(h)];
                if (list.empty() || list.back() != i + 1)
                    list.push_back(i + 1);
            }
        std::map<EdgeKey, const analyzer::GraphEdge*> index;
        for (const analyzer::GraphEdge& e : view_.edges)
            index[keyOf(e)] = &e;
        std::set<EdgeKey> written;
        for (const analyzer::GraphEdge& e : view_.edges) {
            EdgeKey key = keyOf(e);
            auto esc = escapes.find(key);
            bool escape = esc != escapes.end();
            // dom0 controls every qube: an edge out of it adds nothing a reader needs.
            if (!all_ && !escape && e.from == "dom0") {
                ++hiddenAdmin_;
                continue;
            }
            if (written.count(key))
                continue;
            // The same kind both ways with the same services: one edge with two heads.
            EdgeKey back{e.to, e.from, e.kind, e.ask};
            auto rev = index.find(back);
            bool both = !escape && rev != index.end() && !escapes.count(back) &&
                        rev->second->services == e.services;
            EdgeStyle s = edgeStyle(e.kind, e.ask);
            analyzer::GraphEdge drawn = e;
            if (both) {
                written.insert(back);
                drawn.count += rev->second->count;
            }
            std::string label = edgeLabel(drawn, both ? 2 : 1);
            if (escape) {
                std::string which;
                for (std::size_t n : esc->second)
                    which += (which.empty() ? "" : ",") + std::to_string(n);
                label = "escape " + which + (label.empty() ? "" : ": " + label);
            }
            out_ << "  " << quote(e.from) << " -> " << quote(e.to) << " [";
            if (escape)
                out_ << "color=\"#ef2929\", fontcolor=\"#a40000\", penwidth=3.5, style=bold";
            else
                out_ << "color=" << quote(s.color) << ", fontcolor=" << quote(s.color)
                     << ", style=" << quote(s.style);
            out_ << ", arrowhead="
                 << (std::string(s.arrowhead) == "none" && !both ? "normal" : s.arrowhead);
            if (both)
                out_ << ", dir=both, arrowtail=" << s.arrowhead;
            if (e.kind == "template" || e.kind == "dispvm-template")
                out_ << ", weight=3";
            if (!label.empty())
                out_ << ", label=" << quote(label);
            out_ << ", tooltip="
                 << quote(e.from + (both ? " <=> " : " => ") + e.to + " [" + s.name + "]")
                 << "];\n";
        }
    }

    void writeLegend() {
        out_ << "  subgraph \"cluster_legend\" {\n"
             << "    label=\"legend\"; style=rounded; color=\"#888a85\"; fontsize=9;\n"
             << "    node [shape=point, width=0.05, label=\"\"];\n";
        const std::vector<std::pair<std::string, bool>> kinds = {{"net", false},
                                                                 {"rpc", false},
                                                                 {"rpc", true},
                                                                 {"template", false},
                                                                 {"dispvm-template", false},
                                                                 {"netvm", false},
                                                                 {"device", false},
                                                                 {"admin", false}};
        for (std::size_t i = 0; i < kinds.size(); ++i) {
            EdgeStyle s = edgeStyle(kinds[i].first, kinds[i].second);
            std::string a = "legend_a" + std::to_string(i), b = "legend_b" + std::to_string(i);
            out_ << "    " << a << "; " << b << ";\n    " << a << " -> " << b
                 << " [color=" << quote(s.color) << ", fontcolor=" << quote(s.color)
                 << ", style=" << quote(s.style)
                 << ", arrowhead=" << (std::string(s.arrowhead) == "none" ? "normal" : s.arrowhead)
                 << ", label=" << quote(s.name) << "];\n";
        }
        out_ << "    legend_ea; legend_eb;\n    legend_ea -> legend_eb [color=\"#ef2929\", "
                "fontcolor=\"#a40000\", penwidth=3.5, style=bold, label=\"escape path\"];\n";
        // Trust levels with their labels, and what is left out.
        std::map<std::string, std::string> levels;
        for (const analyzer::GraphNode& n : view_.nodes)
            if (!n.trust.empty())
                levels[n.trust] = n.label;
        std::string table = "<<TABLE BORDER=\"0\" CELLSPACING=\"2\"><TR><TD>trust</TD></TR>";
        for (const auto& [level, label] : levels) {
            LabelColour c = labelColour(label);
            table += std::string("<TR><TD BGCOLOR=\"") + c.fill + "\"><FONT COLOR=\"" + c.font +
                     "\">" + level + (label.empty() ? "" : " (" + label + ")") +
                     "</FONT></TD></TR>";
        }
        if (hiddenAdmin_ > 0)
            table += "<TR><TD>dom0 controls every qube:<BR/>its " + std::to_string(hiddenAdmin_) +
                     " edges out are not drawn<BR/>(--all draws them)</TD></TR>";
        table += "</TABLE>>";
        out_ << "    legend_trust [shape=plaintext, width=1, fontsize=9, label=" << table
             << "];\n  }\n";
    }

    const analyzer::GraphView& view_;
    bool all_;
    std::ostream& out_;
    std::map<std::string, const analyzer::GraphNode*> byName_;
    std::map<std::string, std::vector<std::string>> clients_;
    std::size_t hiddenAdmin_ = 0;
};

// Runs `dot -TFORMAT FILE` (no shell); its standard output is the result.
bool runDot(const std::string& format, const std::string& dot, std::string& result,
            std::string& error) {
    char path[] = "/tmp/bulkhead-graph-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        error = std::string("cannot make a temporary file: ") + std::strerror(errno);
        return false;
    }
    bool written = ::write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
    ::close(fd);
    if (!written) {
        ::unlink(path);
        error = "cannot write a temporary file";
        return false;
    }
    ProcessResult dotRun = runProcess({"dot", "-T" + format, path});
    ::unlink(path);
    if (dotRun.spawnError) {
        error = "cannot run Graphviz's dot (install graphviz): " + *dotRun.spawnError;
        return false;
    }
    if (dotRun.exitCode != 0) {
        error = "Graphviz's dot failed: " + dotRun.err;
        return false;
    }
    result = std::move(dotRun.out);
    return true;
}

} // namespace

int runGraph(const GraphOptions& options, std::ostream& out, std::ostream& err,
             const Terminal& terminal) {
    LoadedPolicy loaded;
    if (int code = loadPolicy(options.files,
                              {options.baselineDirs, options.baselineLegacy, options.noBaseline},
                              loaded, err, terminal);
        code != kClean)
        return code;
    const SourceManager& sources = loaded.sources;
    const std::unique_ptr<analyzer::Analysis>& a = loaded.analysis;
    const FrontendResult& result = loaded.frontend;
    analyzer::GraphView view = a->graphView();
    std::vector<std::string> escapes;
    for (const analyzer::GraphWitness& w : view.witnesses) {
        std::string hops = w.hops.front().from;
        for (const analyzer::GraphEdge& h : w.hops)
            hops += " => " + h.to;
        escapes.push_back(hops + "   (" + where(sources, w.assertion) + ")");
    }
    std::string title = "policy " + result.policy->name + ": influence graph, baseline: " +
                        (loaded.options.haveBaseline ? loaded.options.baselineDescription : "none");
    std::ostringstream dot;
    DotWriter(view, options.all, dot).write(title, escapes);

    std::string bytes = dot.str();
    if (!options.format.empty()) {
        std::string rendered, why;
        if (!runDot(options.format, bytes, rendered, why)) {
            err << "bulkhead graph: " << why << "\n";
            return kInternalError;
        }
        bytes = std::move(rendered);
    }
    if (options.output.empty() || options.output == "-") {
        out << bytes;
        return kClean;
    }
    if (std::string why = writeFileAtomically(options.output, bytes); !why.empty()) {
        err << "bulkhead graph: cannot write " << options.output << ": " << why << "\n";
        return kBadInput;
    }
    return kClean;
}

} // namespace bulkhead::cli
