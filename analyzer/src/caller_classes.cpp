#include "caller_classes.h"

#include <map>
#include <tuple>

namespace bulkhead::analyzer::rpc {

std::vector<std::vector<std::size_t>> callerClasses(const Evaluator& ev, const std::string& service,
                                                    const Universe& u) {
    std::vector<bool> named = ev.namedSources(service);
    // What sourceMatches and the @dispvm targets read of a caller. A named caller gets a key
    // of its own (its index), so it is alone in its class.
    using Key = std::tuple<std::size_t, bool, std::string, std::vector<std::string>,
                           std::optional<std::size_t>>;
    std::map<Key, std::size_t> classOf;
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t i = 0; i < u.callers.size(); ++i) {
        const Caller& c = u.callers[i];
        const SystemQube& q = ev.info(c);
        bool alone = !c.disposable && named[c.qube];
        Key key{alone ? i + 1 : 0, c.disposable, c.disposable ? std::string("DispVM") : q.type,
                q.tags, ev.defaultDispvmOf(c)};
        auto [it, fresh] = classOf.emplace(std::move(key), out.size());
        if (fresh)
            out.emplace_back();
        out[it->second].push_back(i);
    }
    return out;
}

} // namespace bulkhead::analyzer::rpc
