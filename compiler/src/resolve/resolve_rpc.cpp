// qrexec rules: services, Qubes tokens by column, actions and their parameters.
// Column rules follow Qubes' parser (qubes-formats.md §1.4, §1.6).
#include "bulkhead/compiler/qubes_facts.h"
#include "resolve/resolver.h"

#include <algorithm>
#include <regex>

namespace bulkhead::resolver {
namespace {

using Kind = model::RpcToken::Kind;

const std::vector<std::string> kTokens = {"@adminvm", "@anyvm", "@default", "@dispvm",
                                          "@dispvm:", "@tag:",  "@type:"};

std::string_view columnName(RpcColumn c) {
    switch (c) {
    case RpcColumn::Source:
        return "source";
    case RpcColumn::Target:
        return "target";
    case RpcColumn::Redirect:
        return "target= / default_target=";
    }
    return "target";
}

// Which columns accept each token kind (qubes-formats.md §1.4).
bool allowedIn(Kind kind, RpcColumn column) {
    switch (kind) {
    case Kind::Qube:
    case Kind::AdminVM:
    case Kind::DispVMOf:
        return true;
    case Kind::Wildcard:
    case Kind::AnyVM:
    case Kind::Tag:
    case Kind::Type:
    case Kind::DispVMTag:
        return column != RpcColumn::Redirect;
    case Kind::Default:
        return column == RpcColumn::Target;
    case Kind::DispVM:
        return column != RpcColumn::Source;
    }
    return false;
}

bool validTagValue(std::string_view v) {
    static const std::regex kTag("[A-Za-z0-9_.-]+");
    return std::regex_match(v.begin(), v.end(), kTag);
}

} // namespace

std::optional<model::RpcServiceSpec> Resolver::rpcService(const ast::RpcServiceRef& ref) {
    model::RpcServiceSpec spec;
    spec.range = ref.range;
    spec.service = ref.service.kind == ast::Ref::Kind::Star ? "*" : ref.service.text;
    if (ref.argument)
        spec.argument = ref.argument->text;
    if (spec.service == "*" && spec.argument) {
        sink_
            .report(DiagCode::InvalidRpcService, ref.argument->range,
                    "only * argument allowed for * service")
            .hint("Qubes refuses an argument on the * service; drop '" + ref.argument->text + "'");
        return std::nullopt;
    }
    if (spec.service != "*" && !rpcServiceIndex_.count(spec.service)) {
        auto [hint, fresh] = misspelledService_.try_emplace(spec.service);
        if (fresh) {
            auto known = qubes::knownRpcServices();
            bool isKnown = std::find(known.begin(), known.end(), spec.service) != known.end();
            if (!isKnown && !spec.service.starts_with("admin."))
                hint->second = closestName(spec.service, known, 2);
        }
        if (const std::optional<std::string>& near = hint->second)
            sink_
                .report(DiagCode::LikelyMisspelledService, ref.service.range,
                        "'" + spec.service + "' is not a Qubes service, and '" + *near + "' is")
                .hint("did you mean '" + *near +
                      "'? For a service of your own, declare it: "
                      "rpc-service " +
                      spec.service + " data both;");
    }
    return spec;
}

std::optional<model::RpcToken> Resolver::rpcToken(const ast::Ref& ref, RpcColumn column) {
    model::RpcToken token;
    token.range = ref.range;
    const std::string& t = ref.text;

    auto valued = [&](std::string_view prefix, Kind kind) -> bool {
        token.kind = kind;
        token.value = t.substr(prefix.size());
        if (token.value.empty()) {
            sink_.report(DiagCode::InvalidTokenValue, ref.range,
                         "invalid empty " + std::string(prefix) + " token: '" + t + "'");
            return false;
        }
        return true;
    };

    if (ref.kind == ast::Ref::Kind::Star) {
        token.kind = Kind::Wildcard;
    } else if (ref.kind == ast::Ref::Kind::Name) {
        auto id = lookupQube(ref, "qube");
        if (!id)
            return std::nullopt;
        token.kind = Kind::Qube;
        token.qube = *id;
    } else if (t == "@adminvm") {
        token.kind = Kind::AdminVM;
    } else if (t == "@anyvm") {
        token.kind = Kind::AnyVM;
    } else if (t == "@default") {
        token.kind = Kind::Default;
    } else if (t == "@dispvm") {
        token.kind = Kind::DispVM;
    } else if (t.starts_with("@dispvm:@tag:")) {
        if (!valued("@dispvm:@tag:", Kind::DispVMTag))
            return std::nullopt;
    } else if (t.starts_with("@dispvm:")) {
        if (!valued("@dispvm:", Kind::DispVMOf))
            return std::nullopt;
        ast::Ref name{ast::Ref::Kind::Name, token.value, ref.range};
        auto id = lookupQube(name, "dispvm-template");
        if (!id)
            return std::nullopt;
        if (policy_.qubes[*id].kind != model::QubeKind::DispVMTemplate) {
            sink_
                .report(DiagCode::NotADispvmTemplate, ref.range,
                        "'" + token.value + "' is not a dispvm-template, so '" + t +
                            "' is refused by Qubes at call time")
                .note(policy_.qubes[*id].range, "declared here");
            return std::nullopt;
        }
        token.qube = *id;
    } else if (t.starts_with("@tag:")) {
        if (!valued("@tag:", Kind::Tag))
            return std::nullopt;
    } else if (t.starts_with("@type:")) {
        if (!valued("@type:", Kind::Type))
            return std::nullopt;
        auto classes = qubes::qubeClasses();
        if (std::find(classes.begin(), classes.end(), token.value) == classes.end()) {
            auto d = sink_.report(DiagCode::InvalidTokenValue, ref.range,
                                  "'" + token.value + "' is not a Qubes qube class, so '" + t +
                                      "' matches nothing");
            if (auto near = closestName(token.value, classes))
                d.hint("did you mean '@type:" + *near + "'?");
            else
                d.hint("classes are AdminVM, AppVM, DispVM, RemoteVM, StandaloneVM, TemplateVM");
            return std::nullopt;
        }
    } else {
        auto d =
            sink_.report(DiagCode::UnknownToken, ref.range, "'" + t + "' is not a Qubes token");
        std::string head =
            t.substr(0, t.find(':') == std::string::npos ? t.size() : t.find(':') + 1);
        if (auto near = closestName(head, kTokens))
            d.hint("did you mean '" + *near + "'?");
        else
            d.hint("tokens are @adminvm, @anyvm, @default, @dispvm, @dispvm:NAME, @tag:NAME and "
                   "@type:CLASS");
        return std::nullopt;
    }

    if ((token.kind == Kind::Tag || token.kind == Kind::DispVMTag) && !validTagValue(token.value)) {
        sink_.report(DiagCode::InvalidTokenValue, ref.range,
                     "'" + token.value + "' is not a valid tag name");
        return std::nullopt;
    }
    if (!allowedIn(token.kind, column)) {
        sink_
            .report(DiagCode::TokenNotAllowedHere, ref.range,
                    "invalid " + std::string(columnName(column)) + " token: '" + t + "'")
            .hint(column == RpcColumn::Redirect
                      ? "a redirect names one qube, @adminvm, @dispvm or @dispvm:NAME"
                  : column == RpcColumn::Source
                      ? "a source is a qube, @adminvm, @anyvm, *, @tag:, @type: or @dispvm:NAME"
                      : "Qubes refuses this token here");
        return std::nullopt;
    }
    if (column == RpcColumn::Source &&
        (token.kind == Kind::DispVMOf || token.kind == Kind::DispVMTag))
        sink_
            .report(DiagCode::SourceNeverMatches, ref.range,
                    "'" + t +
                        "' as a source parses but never matches: calls come from a "
                        "disposable's own name (disp1234)")
            .hint("name the disposables by a tag they carry, or use @anyvm");
    return token;
}

std::vector<model::RpcToken> Resolver::rpcTokens(const std::vector<ast::Ref>& refs,
                                                 RpcColumn column) {
    std::vector<model::RpcToken> out;
    for (const ast::Ref& r : refs)
        if (auto t = rpcToken(r, column))
            out.push_back(std::move(*t));
    return out;
}

void Resolver::resolveRpcRules() {
    static const std::vector<std::string> kParams = {"target", "default_target", "user", "notify",
                                                     "autostart"};
    forEach<ast::RpcRule>([&](const ast::RpcRule& r, const ast::Statement& s) {
        model::RpcRule rule;
        rule.range = s.range;
        auto spec = rpcService(r.service);
        rule.from = rpcTokens(r.from, RpcColumn::Source);
        rule.to = rpcTokens(r.to, RpcColumn::Target);
        rule.action = r.action.text == "allow" ? model::RpcAction::Allow
                      : r.action.text == "ask" ? model::RpcAction::Ask
                                               : model::RpcAction::Deny;

        std::map<std::string, const ast::RpcParam*, std::less<>> seen;
        for (const ast::RpcParam& p : r.params) {
            const std::string& key = p.key.text;
            bool known = std::find(kParams.begin(), kParams.end(), key) != kParams.end();
            bool takes = key == "notify" ||
                         (rule.action != model::RpcAction::Deny &&
                          (key != "default_target" || rule.action == model::RpcAction::Ask));
            if (!known || !takes) {
                auto d = sink_.report(DiagCode::UnknownRpcParam, p.key.range,
                                      "'" + key + "' is not a parameter of " + r.action.text);
                if (!known) {
                    if (auto near = closestName(key, kParams))
                        d.hint("did you mean '" + *near + "'?");
                } else {
                    d.hint(rule.action == model::RpcAction::Deny
                               ? "deny takes only notify="
                               : "default_target= belongs to ask");
                }
                continue;
            }
            if (auto [it, inserted] = seen.emplace(key, &p); !inserted) {
                sink_
                    .report(DiagCode::DuplicateRpcParam, p.key.range,
                            "parameter given twice: '" + key + "'")
                    .note(it->second->range, "first given here");
                continue;
            }
            if (key == "notify" || key == "autostart") {
                if (p.value.text != "yes" && p.value.text != "no") {
                    sink_.report(DiagCode::BadRpcParamValue, p.value.range,
                                 "'" + key + "' is '" + p.value.text +
                                     "', but can be only 'yes' or 'no'");
                    continue;
                }
                (key == "notify" ? rule.notify : rule.autostart) = p.value.text == "yes";
            } else if (key == "user") {
                static const std::regex kUser("[a-z_][a-z0-9_-]*");
                if (p.value.kind != ast::Ref::Kind::Name ||
                    !std::regex_match(p.value.text, kUser)) {
                    sink_
                        .report(DiagCode::BadRpcParamValue, p.value.range,
                                "'" + p.value.text + "' is not a user name")
                        .hint("a user name such as root or user");
                    continue;
                }
                rule.user = p.value.text;
            } else {
                auto t = rpcToken(p.value, RpcColumn::Redirect);
                if (t)
                    (key == "target" ? rule.target : rule.defaultTarget) = std::move(*t);
            }
        }

        if (rule.action != model::RpcAction::Deny && !rule.target)
            for (const model::RpcToken& from : rule.from)
                for (const model::RpcToken& to : rule.to)
                    if (from.kind == Kind::Qube && to.kind == Kind::Qube && from.qube == to.qube)
                        sink_
                            .report(DiagCode::LoopbackCall, to.range,
                                    "a call from '" + policy_.qubes[to.qube].name +
                                        "' to itself: Qubes denies it (loopback qrexec "
                                        "connection not supported)")
                            .hint("remove '" + policy_.qubes[to.qube].name +
                                  "' from the targets; a qube runs its own services directly");
        if (rule.action == model::RpcAction::Allow && !rule.target)
            for (const model::RpcToken& t : rule.to)
                if (t.kind == Kind::Default)
                    sink_
                        .report(DiagCode::AllowDefaultNeedsTarget, t.range,
                                "allow action for @default rule must specify target= option")
                        .hint("a call without a target has nowhere to go unless the rule "
                              "names one");
        if (spec)
            rule.spec = std::move(*spec);
        policy_.rpcRules.push_back(std::move(rule));
    });
}

} // namespace bulkhead::resolver
