#include "qrexec/rule_line.h"

#include "qrexec/python_text.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

namespace bulkhead::qrexec {
namespace {

bool isRpcNameChar(char32_t c) { // RPCNAME_ALLOWED_CHARSET
    return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') ||
           c == U'+' || c == U'-' || c == U'.' || c == U'_';
}

// The characters of s outside the RPC name set (minus '+' for services), each once and
// sorted by code point, as Qubes' get_invalid_characters lists them.
std::vector<std::string> invalidCharacters(std::string_view s, bool plusAllowed) {
    std::map<char32_t, std::string> found;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t at = i;
        char32_t c = nextCodePoint(s, i);
        if (!isRpcNameChar(c) || (c == U'+' && !plusAllowed))
            found.emplace(c, std::string(s.substr(at, i - at)));
    }
    std::vector<std::string> out;
    for (auto& [c, text] : found)
        out.push_back(std::move(text));
    return out;
}

std::optional<QrexecAction> actionNamed(std::string_view word) {
    if (word == "allow")
        return QrexecAction::Allow;
    if (word == "deny")
        return QrexecAction::Deny;
    if (word == "ask")
        return QrexecAction::Ask;
    return std::nullopt; // case matters: ALLOW is invalid
}

// The keyword arguments each action class's __init__ takes; anything else is a TypeError.
bool acceptsParameter(QrexecAction action, std::string_view key) {
    if (key == "notify")
        return true;
    if (action == QrexecAction::Deny)
        return false;
    if (key == "target" || key == "user" || key == "autostart")
        return true;
    return action == QrexecAction::Ask && key == "default_target";
}

std::string_view className(QrexecAction action) {
    switch (action) {
    case QrexecAction::Allow:
        return "Allow";
    case QrexecAction::Deny:
        return "Deny";
    case QrexecAction::Ask:
        return "Ask";
    }
    return "";
}

RuleParse fail(std::string message) {
    RuleParse out;
    out.error = std::move(message);
    return out;
}

// Rule.__init__, check by check in Qubes' order.
RuleParse buildRule(std::string_view service, std::string_view argument, std::string_view source,
                    std::string_view target, std::string_view actionWord,
                    const std::vector<std::string>& params) {
    if (auto why = checkServiceAndArgument(service, argument))
        return fail(*why);
    QrexecRule rule;
    rule.service = std::string(service);
    if (argument != "*")
        rule.argument = std::string(argument);

    QrexecTokenParse src = parseQrexecToken(source, QrexecColumn::Source);
    if (!src.token)
        return fail(src.error);
    rule.source = *src.token;
    QrexecTokenParse tgt = parseQrexecToken(target, QrexecColumn::Target);
    if (!tgt.token)
        return fail(tgt.error);
    rule.target = *tgt.token;

    std::optional<QrexecAction> action = actionNamed(actionWord);
    if (!action)
        return fail("invalid action: " + std::string(actionWord));
    rule.action = *action;

    // Split on the first '='; a key may not come twice.
    std::map<std::string, std::string, std::less<>> values;
    for (const std::string& param : params) {
        std::size_t eq = param.find('=');
        if (eq == std::string::npos)
            return fail("invalid action parameter syntax: " + pythonRepr(param));
        std::string key = param.substr(0, eq);
        if (values.count(key))
            return fail("parameter given twice: " + pythonRepr(key));
        values.emplace(std::move(key), param.substr(eq + 1));
    }
    // The yes/no check runs before the action sees its parameters.
    for (std::string_view key : {"notify", "autostart"}) {
        auto it = values.find(key);
        if (it == values.end())
            continue;
        if (it->second != "yes" && it->second != "no")
            return fail(pythonRepr(key) + " is " + pythonRepr(it->second) +
                        ", but can be only 'yes' or 'no'");
        (key == "notify" ? rule.notify : rule.autostart) = it->second == "yes";
    }
    for (const auto& [key, value] : values)
        if (!acceptsParameter(rule.action, key))
            return fail("invalid parameters for action " + std::string(className(rule.action)) +
                        ": " + pythonList(params));
    if (auto it = values.find("target"); it != values.end()) {
        QrexecTokenParse redirect = parseQrexecToken(it->second, QrexecColumn::Redirect);
        if (!redirect.token)
            return fail(redirect.error);
        rule.redirect = *redirect.token;
    }
    if (auto it = values.find("default_target"); it != values.end()) {
        QrexecTokenParse redirect = parseQrexecToken(it->second, QrexecColumn::Redirect);
        if (!redirect.token)
            return fail(redirect.error);
        rule.defaultTarget = *redirect.token;
    }
    if (auto it = values.find("user"); it != values.end())
        rule.user = it->second;

    if (rule.target.kind == QrexecTokenKind::Default && rule.action == QrexecAction::Allow &&
        !rule.redirect)
        return fail("allow action for @default rule must specify target= option");
    RuleParse out;
    out.rule = std::move(rule);
    return out;
}

} // namespace

std::optional<std::string> checkServiceAndArgument(std::string_view service,
                                                   std::string_view argument) {
    if (service != "*") {
        std::vector<std::string> bad = invalidCharacters(service, false);
        if (!bad.empty())
            return "service " + pythonRepr(service) +
                   " contains invalid characters: " + pythonTuple(bad);
    }
    if (argument != "*") {
        std::vector<std::string> bad = invalidCharacters(argument, true);
        if (!bad.empty())
            return "argument " + pythonRepr(argument) +
                   " contains invalid characters: " + pythonTuple(bad);
        if (!argument.starts_with('+'))
            return "argument " + pythonRepr(argument) + " does not start with +";
        if (service == "*")
            return std::string("only * argument allowed for * service");
    }
    return std::nullopt;
}

RuleParse ruleFromLine(std::string_view line) {
    std::vector<std::string> f = pythonSplit(line);
    if (f.size() < 5)
        return fail("wrong number of fields");
    std::vector<std::string> params(f.begin() + 5, f.end());
    return buildRule(f[0], f[1], f[2], f[3], f[4], params);
}

RuleParse ruleFromServiceLine(std::string_view service, std::string_view argument,
                              std::string_view line) {
    std::vector<std::string> f = pythonSplit(line);
    if (f.size() < 2)
        return fail("wrong number of fields");
    // ACTION,PARAM,... : every word after the two tokens is split on commas.
    std::vector<std::string> words;
    for (std::size_t k = 2; k < f.size(); ++k) {
        std::string_view rest = f[k];
        for (;;) {
            std::size_t comma = rest.find(',');
            words.emplace_back(rest.substr(0, comma));
            if (comma == std::string_view::npos)
                break;
            rest.remove_prefix(comma + 1);
        }
    }
    if (words.empty())
        return fail("wrong number of fields");
    std::vector<std::string> params(words.begin() + 1, words.end());
    return buildRule(service, argument, f[0], f[1], words[0], params);
}

} // namespace bulkhead::qrexec
