#include "caller_classes.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace bulkhead::analyzer::rpc {

std::vector<std::vector<std::size_t>> callerClasses(const Evaluator& ev, const std::string& service,
                                                    const Universe& u) {
    std::vector<bool> named = ev.namedSources(service);
    // Only the tags and types some source of the service's rules names can make a rule match
    // one caller and not another: the rest of a caller's tags (and a type no rule names)
    // leave every decision as it is, so they stay out of the key.
    std::set<std::string> tags, types;
    for (const Rule& r : ev.rules()) {
        if (r.service != service && r.service != "*")
            continue;
        if (r.source.kind == Token::Kind::Tag)
            tags.insert(r.source.value);
        if (r.source.kind == Token::Kind::Type)
            types.insert(r.source.value);
    }
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
        std::string type = c.disposable ? std::string("DispVM") : q.type;
        if (!types.count(type))
            type.clear();
        std::vector<std::string> relevant;
        std::copy_if(q.tags.begin(), q.tags.end(), std::back_inserter(relevant),
                     [&](const std::string& t) { return tags.count(t) != 0; });
        Key key{alone ? i + 1 : 0, c.disposable, std::move(type), std::move(relevant),
                ev.defaultDispvmOf(c)};
        auto [it, fresh] = classOf.emplace(std::move(key), out.size());
        if (fresh)
            out.emplace_back();
        out[it->second].push_back(i);
    }
    return out;
}

} // namespace bulkhead::analyzer::rpc
