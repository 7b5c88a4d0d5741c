// Qubes' VMToken classes (qrexec/policy/parser.py): which words are tokens, and in which
// columns each may stand. Qubes encodes the columns as class inheritance; here they are a
// bit set per token (qubes-formats.md §1.4).
#include "bulkhead/compiler/qrexec_policy.h"

#include "qrexec/python_text.h"

#include <array>

namespace bulkhead {
namespace {

enum ColumnBit : unsigned {
    kSource = 1u << 0,
    kTarget = 1u << 1,
    kRedirect = 1u << 2,
    kIntended = 1u << 3,
};

struct Spelling {
    std::string_view text;
    QrexecTokenKind kind;
    unsigned columns;
};

constexpr std::array<Spelling, 5> kExact = {{
    {"*", QrexecTokenKind::Wildcard, kSource | kTarget},
    {"@adminvm", QrexecTokenKind::AdminVm, kSource | kTarget | kRedirect | kIntended},
    {"@anyvm", QrexecTokenKind::AnyVm, kSource | kTarget},
    {"@default", QrexecTokenKind::Default, kTarget | kIntended},
    {"@dispvm", QrexecTokenKind::DispVm, kTarget | kRedirect | kIntended},
}};

// Tried in this order, as Qubes registers its prefix classes; "@dispvm:@tag:x" is reached
// only because "@dispvm:" passes on a value that starts with '@'.
constexpr std::array<Spelling, 4> kPrefixed = {{
    {"@type:", QrexecTokenKind::Type, kSource | kTarget},
    {"@tag:", QrexecTokenKind::Tag, kSource | kTarget},
    {"@dispvm:", QrexecTokenKind::DispVmTemplate, kSource | kTarget | kRedirect | kIntended},
    {"@dispvm:@tag:", QrexecTokenKind::DispVmTag, kSource | kTarget},
}};

constexpr std::string_view kUuidPrefix = "uuid:";
constexpr std::string_view kDom0Uuid = "00000000-0000-0000-0000-000000000000";

unsigned bitFor(QrexecColumn column) {
    switch (column) {
    case QrexecColumn::Source:
        return kSource;
    case QrexecColumn::Target:
        return kTarget;
    case QrexecColumn::Redirect:
        return kRedirect;
    case QrexecColumn::IntendedTarget:
        return kIntended;
    }
    return 0;
}

// Qubes prints the class name in lower case.
std::string_view columnName(QrexecColumn column) {
    switch (column) {
    case QrexecColumn::Source:
        return "source";
    case QrexecColumn::Target:
        return "target";
    case QrexecColumn::Redirect:
        return "redirect";
    case QrexecColumn::IntendedTarget:
        return "intendedtarget";
    }
    return "";
}

} // namespace

std::string QrexecToken::text() const {
    switch (kind) {
    case QrexecTokenKind::Name:
        return value;
    case QrexecTokenKind::Uuid:
        return std::string(kUuidPrefix) + value;
    default:
        break;
    }
    for (const Spelling& s : kExact)
        if (s.kind == kind)
            return std::string(s.text);
    for (const Spelling& s : kPrefixed)
        if (s.kind == kind)
            return std::string(s.text) + value;
    return value;
}

bool QrexecToken::isDom0() const {
    return kind == QrexecTokenKind::AdminVm || (kind == QrexecTokenKind::Name && value == "dom0") ||
           (kind == QrexecTokenKind::Uuid && value == kDom0Uuid);
}

QrexecTokenParse parseQrexecToken(std::string_view text, QrexecColumn column) {
    QrexecTokenParse out;
    if (text.empty()) { // only reachable through target= and default_target=
        out.error = "invalid empty " + std::string(columnName(column)) + " token";
        return out;
    }
    // A word that is neither '*' nor '@...' is a name, accepted everywhere unchecked.
    if (text != "*" && text.front() != '@') {
        if (text.starts_with(kUuidPrefix))
            out.token = QrexecToken{QrexecTokenKind::Uuid, std::string(text.substr(5))};
        else
            out.token = QrexecToken{QrexecTokenKind::Name, std::string(text)};
        return out;
    }
    unsigned bit = bitFor(column);
    for (const Spelling& s : kExact) {
        if ((s.columns & bit) && text == s.text) {
            out.token = QrexecToken{s.kind, ""};
            return out;
        }
    }
    for (const Spelling& s : kPrefixed) {
        if (!(s.columns & bit) || !text.starts_with(s.text))
            continue;
        std::string_view value = text.substr(s.text.size());
        if (value.empty()) {
            out.error =
                "invalid empty " + std::string(s.text) + " token: " + qrexec::pythonRepr(text);
            return out;
        }
        if (value.front() == '@')
            continue; // a longer prefix may take it; if none does, the token is invalid
        out.token = QrexecToken{s.kind, std::string(value)};
        return out;
    }
    out.error =
        "invalid " + std::string(columnName(column)) + " token: " + qrexec::pythonRepr(text);
    return out;
}

} // namespace bulkhead
