#pragma once
// Two rule lists side by side over every request class of one system: what translation
// validation and the audit's drift report both need.
#include "rpc_eval.h"

#include <functional>
#include <string>

namespace bulkhead::analyzer::rpc {

// Calls visit for each request (service+argument class, caller, target) whose decision
// differs between a and b (result, landings, or matched-or-not); stops when it returns
// false. Returns the number of requests compared.
std::size_t
walkDifferences(const System& sys, const Evaluator& a, const Evaluator& b,
                const std::function<bool(const std::string& service, const std::string& argument,
                                         const Caller& caller, const Target& target,
                                         const Decision& da, const Decision& db)>& visit);

std::string callerText(const System& sys, const Caller& c);
std::string targetText(const System& sys, const Target& t);
std::string decisionText(const System& sys, const Decision& d);

} // namespace bulkhead::analyzer::rpc
