#pragma once
// One rule line to a QrexecRule, with the checks (and the order of the checks) of Qubes'
// Rule class, so the first problem found is the one Qubes reports (qubes-formats.md §1.3,
// §1.6, §1.10). The caller fills in file, line and via.
#include "bulkhead/compiler/qrexec_policy.h"

#include <optional>
#include <string>
#include <string_view>

namespace bulkhead::qrexec {

struct RuleParse {
    std::optional<QrexecRule> rule;
    std::string error; // Qubes' message when rule is empty
};

// validate_service_and_argument: "*" stands for any. Returns Qubes' message, or nothing.
std::optional<std::string> checkServiceAndArgument(std::string_view service,
                                                   std::string_view argument);

// Rule.from_line: `SERVICE ARGUMENT SOURCE TARGET ACTION [PARAMS]`, already stripped.
RuleParse ruleFromLine(std::string_view line);

// Rule.from_line_service: the old R4.0 `SOURCE TARGET ACTION[,PARAMS]` for a service and
// argument that were checked already ("*" for any).
RuleParse ruleFromServiceLine(std::string_view service, std::string_view argument,
                              std::string_view line);

} // namespace bulkhead::qrexec
