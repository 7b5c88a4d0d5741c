// Small accessors and printers of the public qrexec types.
#include "bulkhead/compiler/qrexec_policy.h"

namespace bulkhead {

std::string_view qrexecActionName(QrexecAction action) {
    switch (action) {
    case QrexecAction::Allow:
        return "allow";
    case QrexecAction::Deny:
        return "deny";
    case QrexecAction::Ask:
        return "ask";
    }
    return "";
}

std::string_view qrexecDirectiveName(QrexecDirectiveKind kind) {
    switch (kind) {
    case QrexecDirectiveKind::Include:
        return "!include";
    case QrexecDirectiveKind::IncludeDir:
        return "!include-dir";
    case QrexecDirectiveKind::IncludeService:
        return "!include-service";
    case QrexecDirectiveKind::Compat40:
        return "!compat-4.0";
    }
    return "";
}

// Defaults of Qubes' Deny, Allow and Ask constructors (qubes-formats.md §1.6).
bool QrexecRule::effectiveNotify() const {
    return notify.value_or(action == QrexecAction::Deny);
}

bool QrexecRule::effectiveAutostart() const {
    return autostart.value_or(true);
}

std::string QrexecRule::location() const {
    return file + ":" + std::to_string(line);
}

std::string formatQrexecRule(const QrexecRule& rule) {
    std::string out = rule.service + "\t" + rule.argument.value_or("*") + "\t" +
                      rule.source.text() + "\t" + rule.target.text() + "\t" +
                      std::string(qrexecActionName(rule.action));
    if (rule.redirect)
        out += " target=" + rule.redirect->text();
    if (rule.defaultTarget)
        out += " default_target=" + rule.defaultTarget->text();
    if (rule.user)
        out += " user=" + *rule.user;
    if (rule.notify)
        out += std::string(" notify=") + (*rule.notify ? "yes" : "no");
    if (rule.autostart)
        out += std::string(" autostart=") + (*rule.autostart ? "yes" : "no");
    return out;
}

std::string QrexecError::render() const {
    if (line == 0)
        return message;
    return file + ":" + std::to_string(line) + ": " + message;
}

} // namespace bulkhead
