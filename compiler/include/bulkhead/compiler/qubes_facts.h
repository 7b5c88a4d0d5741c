#pragma once
// Facts about Qubes OS that the front end checks against (see shared research notes).
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bulkhead::qubes {

// Why Qubes' validate_name would refuse the name, or nothing when it is valid.
std::optional<std::string> invalidQubeNameReason(std::string_view name);

// RPC services shipped with Qubes 4.2 (dom0 policy and agents), for typo detection.
std::span<const std::string> knownRpcServices();

// Qubes' qube classes, as @type: compares them.
std::span<const std::string> qubeClasses();

} // namespace bulkhead::qubes
