#include "bulkhead/compiler/deployed_system.h"

#include <nlohmann/json.hpp>

#include <sstream>
#include <unordered_map>

namespace bulkhead::deployed {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::optional<std::string> field(const std::string& v) {
    if (v == "-" || v.empty() || v == "None")
        return std::nullopt;
    return v;
}

bool truth(const std::string& v) {
    return v == "True" || v == "true" || v == "1";
}

// The line where each JSON string (as written, escapes undecoded) first appears, in one pass.
// A search of the text per entry was quadratic: 60,000 qubes took 96 s.
std::unordered_map<std::string_view, std::uint32_t> firstLines(std::string_view text) {
    std::unordered_map<std::string_view, std::uint32_t> out;
    std::uint32_t line = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n')
            ++line;
        if (text[i] != '"')
            continue;
        std::size_t start = ++i;
        for (; i < text.size() && text[i] != '"'; ++i)
            if (text[i] == '\\')
                ++i; // an escaped character, perhaps a quote
        std::size_t end = std::min(i, text.size());
        out.emplace(text.substr(start, end - start), line);
    }
    return out;
}

} // namespace

std::vector<Qube> parseInventory(FileId file, const SourceManager& sources, DiagnosticSink& sink) {
    std::vector<Qube> out;
    const SourceFile& f = sources.file(file);
    static const char* kFields[] = {"NAME",
                                    "CLASS",
                                    "LABEL",
                                    "TEMPLATE",
                                    "NETVM",
                                    "IP",
                                    "TAGS",
                                    "DEFAULT_DISPVM",
                                    "TEMPLATE_FOR_DISPVMS",
                                    "PROVIDES_NETWORK"};
    for (std::uint32_t line = 1; line <= f.lineStarts.size(); ++line) {
        std::string text(f.line(line));
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        if (text.empty() || text.starts_with('#'))
            continue;
        auto width = static_cast<std::uint32_t>(std::max<std::size_t>(text.size(), 1));
        SourceRange at{file, {line, 1}, {line, width}};
        std::vector<std::string> v = split(text, '|');
        if (v.size() != std::size(kFields)) {
            sink.report(DiagCode::BadInventory, at,
                        "expected " + std::to_string(std::size(kFields)) +
                            " fields separated by '|', found " + std::to_string(v.size()))
                .hint("write it with qvm-ls --raw-data --fields NAME,CLASS,LABEL,TEMPLATE,NETVM,"
                      "IP,TAGS,DEFAULT_DISPVM,TEMPLATE_FOR_DISPVMS,PROVIDES_NETWORK");
            continue;
        }
        Qube q;
        q.name = v[0];
        q.klass = v[1];
        q.label = v[2];
        q.templ = field(v[3]);
        q.netvm = field(v[4]);
        q.ip = field(v[5]);
        if (auto tags = field(v[6]))
            q.tags = split(*tags, ',');
        q.defaultDispvm = field(v[7]);
        q.templateForDispvms = truth(v[8]);
        q.providesNetwork = truth(v[9]);
        q.range = at;
        out.push_back(std::move(q));
    }
    return out;
}

namespace {

// One property of a GetSystemInfo entry when present with the JSON type Qubes writes (null
// is Qubes' unset value). Another type is reported and refused, not guessed; nlohmann's
// value() would throw instead (fuzz_inventory found that crash).
struct EntryReader {
    const nlohmann::json& entry;
    const std::string& qube;
    SourceRange range;
    DiagnosticSink& sink;
    bool ok = true;

    const nlohmann::json* get(const char* key, nlohmann::json::value_t type, const char* what) {
        auto it = entry.find(key);
        if (it == entry.end() || it->is_null())
            return nullptr;
        if (it->type() == type)
            return &*it;
        sink.report(DiagCode::BadInventory, range, "'" + qube + "': \"" + key + "\" is not " + what)
            .hint("give the output of internal.GetSystemInfo unchanged");
        ok = false;
        return nullptr;
    }
};

} // namespace

std::vector<Qube> parseSystemInfo(FileId file, const SourceManager& sources, DiagnosticSink& sink) {
    std::vector<Qube> out;
    const SourceFile& f = sources.file(file);
    nlohmann::json doc = nlohmann::json::parse(f.text, nullptr, false);
    SourceRange whole{file, {1, 1}, {1, 1}};
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("domains") ||
        !doc["domains"].is_object()) {
        sink.report(DiagCode::BadInventory, whole,
                    "not Qubes system info: expected a JSON object with \"domains\"")
            .hint("in dom0: qrexec-client-vm dom0 internal.GetSystemInfo, or the admin API");
        return out;
    }
    // Each entry points at the line where its name first appears.
    std::unordered_map<std::string_view, std::uint32_t> lines = firstLines(f.text);
    auto lineOf = [&](const std::string& name) {
        auto it = lines.find(name);
        std::uint32_t line = it == lines.end() ? 1 : it->second;
        return SourceRange{file, {line, 1}, {line, 1}};
    };
    for (const auto& [name, d] : doc["domains"].items()) {
        Qube q;
        q.name = name;
        q.range = lineOf(name);
        if (!d.is_object()) {
            sink.report(DiagCode::BadInventory, q.range,
                        "the entry of '" + name + "' is not an object");
            continue;
        }
        using T = nlohmann::json::value_t;
        EntryReader r{d, name, q.range, sink};
        const nlohmann::json* v = nullptr;
        q.klass = (v = r.get("type", T::string, "a string")) ? v->get<std::string>() : "AppVM";
        q.label = (v = r.get("label", T::string, "a string")) ? v->get<std::string>() : "red";
        if ((v = r.get("tags", T::array, "an array")))
            for (const auto& t : *v)
                if (t.is_string())
                    q.tags.push_back(t.get<std::string>());
        if ((v = r.get("default_dispvm", T::string, "a qube name or null")))
            q.defaultDispvm = v->get<std::string>();
        v = r.get("template_for_dispvms", T::boolean, "true or false");
        q.templateForDispvms = v && v->get<bool>();
        q.uuid = (v = r.get("uuid", T::string, "a string")) ? v->get<std::string>() : "";
        if (r.ok)
            out.push_back(std::move(q));
    }
    return out;
}

} // namespace bulkhead::deployed
