// Qubes: kinds, properties, templates, netvms, addresses.
#include "resolve/resolver.h"

#include <algorithm>
#include <array>

namespace bulkhead::resolver {
namespace {

using model::QubeKind;

std::optional<QubeKind> kindFromKeyword(std::string_view k) {
    static constexpr std::pair<std::string_view, QubeKind> kKinds[] = {
        {"template", QubeKind::Template},
        {"qube", QubeKind::AppVM},
        {"dispvm-template", QubeKind::DispVMTemplate},
        {"disposable", QubeKind::DispVM},
        {"standalone", QubeKind::Standalone},
        {"netvm", QubeKind::NetVM},
        {"firewall", QubeKind::Firewall},
        {"usbvm", QubeKind::UsbVM},
        {"vpn", QubeKind::Vpn},
    };
    for (auto [name, kind] : kKinds)
        if (name == k)
            return kind;
    return std::nullopt;
}

const std::array<std::string, 6> kProperties = {"template", "trust", "netvm",
                                                "ip",       "tags",  "default_dispvm"};

std::string article(QubeKind k) {
    std::string_view word = model::kindKeyword(k);
    bool vowel = std::string_view("aeiou").find(word.front()) != std::string_view::npos;
    return std::string(vowel ? "an " : "a ") + std::string(word);
}

} // namespace

void Resolver::resolveQubes() {
    // Kinds first: template and netvm checks look at the kind of the named qube.
    for (model::QubeId id = 1; id < policy_.qubes.size(); ++id)
        policy_.qubes[id].kind =
            kindFromKeyword(qubeDecls_[id]->kind.text).value_or(QubeKind::AppVM);

    for (model::QubeId id = 1; id < policy_.qubes.size(); ++id) {
        const ast::QubeDecl& decl = *qubeDecls_[id];
        model::Qube& qube = policy_.qubes[id];
        std::map<std::string, const ast::Property*, std::less<>> seen;

        for (const ast::Property& prop : decl.properties) {
            const std::string& key = prop.name.text;
            if (std::find(kProperties.begin(), kProperties.end(), key) == kProperties.end()) {
                auto d = sink_.report(DiagCode::UnknownProperty, prop.name.range,
                                      "'" + key + "' is not a qube property");
                if (auto near = closestName(key, kProperties))
                    d.hint("did you mean '" + *near + "'?");
                else
                    d.hint("properties are template, trust, netvm, ip, tags and default_dispvm");
                continue;
            }
            if (auto [it, inserted] = seen.emplace(key, &prop); !inserted) {
                sink_
                    .report(DiagCode::DuplicateProperty, prop.name.range,
                            "'" + key + "' is given twice for qube '" + qube.name + "'")
                    .note(it->second->name.range, "first given here");
                continue;
            }
            auto single = [&](std::string_view form) -> const ast::Ref* {
                if (prop.values.size() == 1 && prop.values[0].kind == ast::Ref::Kind::Name)
                    return &prop.values[0];
                sink_.report(DiagCode::BadPropertyValue, prop.range,
                             "'" + key + "' takes " + std::string(form));
                return nullptr;
            };

            if (key == "template") {
                if (!model::isTemplateBased(qube.kind)) {
                    sink_
                        .report(DiagCode::PropertyNotAllowed, prop.name.range,
                                article(qube.kind) + " has no template")
                        .hint(qube.kind == QubeKind::Template
                                  ? "templates are the root of their qubes' file systems"
                                  : "a standalone qube owns its root file system");
                    continue;
                }
                const ast::Ref* v = single("one template name");
                if (!v)
                    continue;
                auto t = lookupQube(*v, "template");
                if (!t)
                    continue;
                QubeKind tk = policy_.qubes[*t].kind;
                // Service qubes may be named disposables of a dispvm-template.
                bool service = model::providesNetwork(qube.kind) || qube.kind == QubeKind::UsbVM;
                bool ok =
                    qube.kind == QubeKind::DispVM
                        ? tk == QubeKind::DispVMTemplate
                        : tk == QubeKind::Template || (service && tk == QubeKind::DispVMTemplate);
                if (!ok) {
                    sink_
                        .report(DiagCode::NotATemplate, v->range,
                                "'" + v->text + "' is " + article(tk) + ", not " +
                                    (qube.kind == QubeKind::DispVM ? "a dispvm-template"
                                                                   : "a template"))
                        .note(policy_.qubes[*t].range, "declared here")
                        .hint(qube.kind == QubeKind::DispVM
                                  ? "a disposable starts from a dispvm-template"
                                  : "name a qube declared as 'template NAME { ... }'");
                    continue;
                }
                qube.templ = t;
            } else if (key == "trust") {
                const ast::Ref* v = single("one trust level");
                if (!v)
                    continue;
                qube.trust = lookupLevel(ast::Ident{v->text, v->range});
            } else if (key == "netvm") {
                const ast::Ref* v = single("one qube name, or none");
                if (!v || v->text == "none")
                    continue;
                badNetvm_.insert(id); // until it resolves
                auto n = lookupQube(*v, "netvm");
                if (!n)
                    continue;
                if (!model::providesNetwork(policy_.qubes[*n].kind)) {
                    sink_
                        .report(DiagCode::NetvmNotProvider, v->range,
                                "'" + v->text + "' is " + article(policy_.qubes[*n].kind) +
                                    " and does not provide network")
                        .hint("a netvm is declared as netvm, firewall or vpn");
                    continue;
                }
                qube.netvm = n;
                badNetvm_.erase(id);
            } else if (key == "default_dispvm") {
                const ast::Ref* v = single("one dispvm-template name, or none");
                if (!v || v->text == "none")
                    continue;
                auto n = lookupQube(*v, "dispvm-template");
                if (!n)
                    continue;
                if (policy_.qubes[*n].kind != QubeKind::DispVMTemplate) {
                    sink_
                        .report(DiagCode::NotADispvmTemplate, v->range,
                                "'" + v->text + "' is " + article(policy_.qubes[*n].kind) +
                                    ", not a dispvm-template")
                        .note(policy_.qubes[*n].range, "declared here");
                    continue;
                }
                qube.defaultDispvm = n;
            } else if (key == "tags") {
                for (const ast::Ref& v : prop.values) {
                    if (v.kind != ast::Ref::Kind::Name) {
                        sink_.report(DiagCode::BadPropertyValue, v.range,
                                     "a tag is a name such as 'work-vpn'");
                        continue;
                    }
                    qube.tags.push_back(v.text);
                }
                std::sort(qube.tags.begin(), qube.tags.end());
                qube.tags.erase(std::unique(qube.tags.begin(), qube.tags.end()), qube.tags.end());
            } else if (key == "ip") {
                bool have4 = false, have6 = false;
                for (const ast::Ref& v : prop.values) {
                    if (v.kind != ast::Ref::Kind::Address) {
                        sink_.report(DiagCode::BadPropertyValue, v.range,
                                     "'ip' takes addresses, such as 10.137.0.10");
                        continue;
                    }
                    AddressParse parsed = parseAddress(v.text);
                    if (!parsed.prefix) {
                        sink_.report(DiagCode::InvalidAddress, v.range, parsed.error);
                        continue;
                    }
                    if (!parsed.prefix->isHost()) {
                        sink_.report(DiagCode::QubeAddressIsPrefix, v.range,
                                     "a qube's ip is one address, not the prefix " + v.text);
                        continue;
                    }
                    bool& have = parsed.prefix->family == IpPrefix::Family::V4 ? have4 : have6;
                    if (have) {
                        sink_.report(DiagCode::BadPropertyValue, v.range,
                                     "a qube has at most one IPv4 and one IPv6 address");
                        continue;
                    }
                    have = true;
                    qube.addresses.push_back(*parsed.prefix);
                }
                std::sort(qube.addresses.begin(), qube.addresses.end());
            }
        }

        if (!seen.count("trust"))
            sink_
                .report(DiagCode::MissingTrust, decl.name.range,
                        "qube '" + qube.name + "' has no trust level")
                .hint("add 'trust LEVEL;' to its block");
        if (model::isTemplateBased(qube.kind) && !seen.count("template"))
            sink_
                .report(DiagCode::MissingTemplate, decl.name.range,
                        article(qube.kind) + " needs a template: qube '" + qube.name + "'")
                .hint(qube.kind == QubeKind::DispVM ? "add 'template DISPVM-TEMPLATE;'"
                                                    : "add 'template TEMPLATE;'");
    }

    // A disposable carries its dispvm-template's tags: Qubes copies them when it creates it
    // (qubes/vm/dispvm.py: self.tags.update(template.tags)).
    for (model::Qube& qube : policy_.qubes) {
        if (!qube.templ || policy_.qubes[*qube.templ].kind != QubeKind::DispVMTemplate)
            continue;
        const std::vector<std::string>& inherited = policy_.qubes[*qube.templ].tags;
        qube.tags.insert(qube.tags.end(), inherited.begin(), inherited.end());
        std::sort(qube.tags.begin(), qube.tags.end());
        qube.tags.erase(std::unique(qube.tags.begin(), qube.tags.end()), qube.tags.end());
    }

    if (policy_.trust.levels().empty() && policy_.qubes.size() > 1)
        sink_
            .report(DiagCode::NoTrustLevels, qubeDecls_[1]->name.range,
                    "qubes are declared but no trust levels")
            .hint("declare the levels first, lowest first: trust low = red < high = black;");
}

void Resolver::checkNetvmCycles() {
    // Each qube has at most one netvm, so a cycle is found by walking the chain.
    std::vector<int> state(policy_.qubes.size(), 0); // 0 new, 1 on the walk, 2 done
    for (model::QubeId start = 0; start < policy_.qubes.size(); ++start) {
        std::vector<model::QubeId> walk;
        model::QubeId cur = start;
        while (state[cur] == 0) {
            state[cur] = 1;
            walk.push_back(cur);
            if (!policy_.qubes[cur].netvm)
                break;
            cur = *policy_.qubes[cur].netvm;
        }
        if (state[cur] == 1 && policy_.qubes[cur].netvm &&
            std::find(walk.begin(), walk.end(), cur) != walk.end()) {
            auto from = std::find(walk.begin(), walk.end(), cur);
            std::string path;
            for (auto it = from; it != walk.end(); ++it)
                path += policy_.qubes[*it].name + " -> ";
            path += policy_.qubes[cur].name;
            model::QubeId report = *std::min_element(from, walk.end());
            sink_.report(DiagCode::NetvmCycle, policy_.qubes[report].range, "netvm cycle: " + path)
                .hint("one qube in the cycle must take its network from outside it, or none");
        }
        for (model::QubeId q : walk)
            state[q] = 2;
    }
}

void Resolver::checkAddresses() {
    std::map<IpPrefix, model::QubeId> owner;
    for (model::QubeId id = 1; id < policy_.qubes.size(); ++id) {
        for (const IpPrefix& a : policy_.qubes[id].addresses) {
            auto [it, inserted] = owner.emplace(a, id);
            if (inserted)
                continue;
            // Point at the ip property of the later qube.
            SourceRange at = policy_.qubes[id].range;
            for (const ast::Property& p : qubeDecls_[id]->properties)
                if (p.name.text == "ip")
                    at = p.range;
            sink_
                .report(DiagCode::DuplicateAddress, at,
                        "qubes '" + policy_.qubes[it->second].name + "' and '" +
                            policy_.qubes[id].name + "' both have address " + a.str())
                .note(policy_.qubes[it->second].range,
                      "'" + policy_.qubes[it->second].name + "' declared here");
        }
    }
}

} // namespace bulkhead::resolver
