#include "audit_fw_nft.h"

#include <algorithm>
#include <map>

namespace bulkhead::cli::fw {
namespace {

using nft::Field;

constexpr std::size_t kNoSite = static_cast<std::size_t>(-1);

Box universe() {
    Box b;
    b.srcHi = kAllV4;
    b.addrHi = kAllV4;
    return b;
}

U128 numberOf(const nft::Value& v) {
    U128 n = 0;
    for (std::size_t i = 8; i < 16; ++i)
        n = (n << 8) | v.bytes[i];
    return n;
}

bool isV4(const nft::Value& v) {
    return std::all_of(v.bytes.begin(), v.bytes.begin() + 12, [](std::uint8_t b) { return !b; });
}

// Does an interface name pattern ("vif*", "eth0") match a name of this kind? Nothing when it
// depends on which vif (a name like "vif12.0").
std::optional<bool> nameMatches(const std::string& pattern, bool vif,
                                const std::optional<std::string>& uplink) {
    bool wildcard = !pattern.empty() && pattern.back() == '*';
    std::string stem = wildcard ? pattern.substr(0, pattern.size() - 1) : pattern;
    if (vif) {
        if (wildcard && std::string_view("vif").starts_with(stem))
            return true; // "vif*", "v*", "*"
        if (stem.starts_with("vif"))
            return std::nullopt;
        return false;
    }
    if (!uplink)
        return pattern == "lo" ? std::optional<bool>(false) : std::nullopt;
    return wildcard ? uplink->starts_with(stem) : *uplink == pattern;
}

struct Unsupported {
    std::string why;
};

class Evaluator {
public:
    Evaluator(const nft::Ruleset& rs, FileId file, const SourceManager& sources,
              const NftContext& ctx, FirewallState& out)
        : rs_(rs), file_(file), sources_(sources), ctx_(ctx), out_(out) {
        for (U128 c : ctx.clients) {
            Box b = universe();
            b.addrLo = b.addrHi = c;
            downstream_.push_back(b);
        }
        downstream_ = backends::disjoint(downstream_);
        uplinkSide_ = complement(downstream_);
    }

    void run() {
        std::vector<Box> input;
        for (U128 c : ctx_.clients) {
            std::vector<Box> mine = clientPackets(c);
            input.insert(input.end(), mine.begin(), mine.end());
        }
        // nat prerouting: Qubes' DNS DNAT and users' port forwards.
        std::vector<Piece> plain;
        std::vector<std::pair<Box, nft::Dnat>> translated;
        for (const Box& b : input)
            plain.push_back({b, kNoSite});
        for (const nft::Chain* c : bases("prerouting", "nat")) {
            Outcome o = chain(*c, plain, 0);
            if (c->policy == "drop") {
                for (Piece& p : o.rest)
                    p.site = policySite(*c);
                o.drop.insert(o.drop.end(), o.rest.begin(), o.rest.end());
                o.rest.clear();
            }
            plain = std::move(o.rest);
            plain.insert(plain.end(), o.accept.begin(), o.accept.end());
            // A drop in a nat chain is as final as anywhere.
            out_.decision.dropped.insert(out_.decision.dropped.end(), o.drop.begin(), o.drop.end());
            for (auto& t : o.translated)
                translated.push_back(std::move(t));
        }
        decide(boxesOf(plain), nullptr);
        for (const auto& [b, dnat] : translated)
            decide({b}, &dnat);
    }

private:
    struct Outcome {
        std::vector<Piece> accept, drop, rest; // rest: falls through (return, end of chain)
        std::vector<std::pair<Box, nft::Dnat>> translated;
    };

    std::vector<const nft::Chain*> bases(const std::string& hook, const std::string& type) {
        std::vector<const nft::Chain*> out;
        for (const nft::Chain& c : rs_.chains)
            if (c.hook == hook && c.type == type && (c.family == "ip" || c.family == "inet"))
                out.push_back(&c);
        std::stable_sort(out.begin(), out.end(), [](const nft::Chain* a, const nft::Chain* b) {
            return a->priority < b->priority;
        });
        return out;
    }

    // The pieces of a chain by source address. Every packet audit follows comes from one
    // client (clientPackets), so a piece meets only the pieces of its own source (and any
    // with a source range): the forward hook tests those pairs, not all of them.
    class BySource {
    public:
        explicit BySource(const std::vector<Piece>& pieces) : pieces_(pieces) {
            for (std::size_t i = 0; i < pieces.size(); ++i) {
                const Box& b = pieces[i].box;
                (b.srcLo == b.srcHi ? single_[b.srcLo] : wide_).push_back(i);
            }
        }
        // f(piece) for every piece overlapping box, in the order of the pieces.
        template <class F> void meet(const Box& box, F&& f) const {
            std::vector<std::size_t> candidates;
            if (box.srcLo != box.srcHi) {
                for (std::size_t i = 0; i < pieces_.size(); ++i)
                    candidates.push_back(i);
            } else {
                auto it = single_.find(box.srcLo);
                if (it != single_.end())
                    candidates = it->second;
                if (!wide_.empty()) {
                    candidates.insert(candidates.end(), wide_.begin(), wide_.end());
                    std::sort(candidates.begin(), candidates.end());
                }
            }
            for (std::size_t i : candidates)
                if (backends::overlaps(box, pieces_[i].box))
                    f(pieces_[i]);
        }

    private:
        const std::vector<Piece>& pieces_;
        std::map<U128, std::vector<std::size_t>> single_; // ascending indices
        std::vector<std::size_t> wide_;
    };

    // The forward hook over these packets (after dnat, when given: its destination is what
    // the filter sees, the report keeps what the client sent).
    void decide(const std::vector<Box>& packets, const nft::Dnat* dnat) {
        std::vector<Box> seen = packets;
        if (dnat)
            for (Box& b : seen) {
                b.addrLo = b.addrHi = ipv4Value(dnat->address.bytes, true);
                if (dnat->port)
                    b.portLo = b.portHi = *dnat->port;
            }
        std::vector<Piece> accepted;
        for (const Box& b : seen)
            accepted.push_back({b, noChainSite()});
        for (const nft::Chain* c : bases("forward", "filter")) {
            std::vector<Piece> in;
            for (const Box& b : seen)
                in.push_back({b, kNoSite});
            Outcome o = chain(*c, in, 0);
            std::size_t policy = policySite(*c);
            for (Piece& p : o.rest)
                p.site = policy;
            (c->policy == "drop" ? o.drop : o.accept)
                .insert((c->policy == "drop" ? o.drop : o.accept).end(), o.rest.begin(),
                        o.rest.end());
            std::vector<Piece> next;
            BySource accepts(o.accept), drops(o.drop);
            for (const Piece& a : accepted) {
                accepts.meet(a.box, [&](const Piece& x) {
                    next.push_back({meet(a.box, x.box), prefer(a.site, x.site)});
                });
                drops.meet(a.box, [&](const Piece& x) {
                    dropped_.push_back({meet(a.box, x.box), x.site});
                });
            }
            accepted = std::move(next);
        }
        auto back = [&](std::vector<Piece>& pieces) {
            if (!dnat)
                return;
            // The translated destination is one address (and port): each piece stands for
            // all of the original box's destinations (decide() gets one box with a dnat).
            const Box& orig = packets.front();
            for (Piece& p : pieces) {
                p.box.addrLo = orig.addrLo;
                p.box.addrHi = orig.addrHi;
                if (dnat->port) {
                    p.box.portLo = orig.portLo;
                    p.box.portHi = orig.portHi;
                }
            }
        };
        back(accepted);
        back(dropped_);
        out_.decision.accepted.insert(out_.decision.accepted.end(), accepted.begin(),
                                      accepted.end());
        out_.decision.dropped.insert(out_.decision.dropped.end(), dropped_.begin(), dropped_.end());
        dropped_.clear();
    }

    // The rule that decides a packet accepted by every base chain: a rule over a policy,
    // and the later chain's over an earlier one's (Qubes' per-qube rules come after its
    // base table's).
    std::size_t prefer(std::size_t earlier, std::size_t later) const {
        if (later == kNoSite)
            return earlier;
        if (earlier == kNoSite || out_.sites[earlier].policy)
            return later;
        return out_.sites[later].policy ? earlier : later;
    }

    std::size_t noChainSite() {
        if (noChain_ == kNoSite) {
            Site s;
            s.range = rangeAt(file_, sources_, 0);
            s.where = "no forward chain";
            s.text = "no filter chain on the forward hook: the kernel forwards";
            s.policy = true;
            noChain_ = addSite(std::move(s));
        }
        return noChain_;
    }

    std::size_t policySite(const nft::Chain& c) {
        std::string key = c.family + " " + c.table + " " + c.name;
        auto it = policies_.find(key);
        if (it != policies_.end())
            return it->second;
        Site s;
        s.range = rangeAt(file_, sources_, c.offset);
        s.where = key + ", policy";
        s.text = "policy " + c.policy;
        s.policy = true;
        return policies_[key] = addSite(std::move(s));
    }

    std::size_t ruleSite(const nft::Chain& c, const nft::Rule& r) {
        auto it = rules_.find(&r);
        if (it != rules_.end())
            return it->second;
        Site s;
        s.range = rangeAt(file_, sources_, r.offset);
        s.where =
            c.family + " " + c.table + " " + c.name + ", rule handle " + std::to_string(r.handle);
        s.text = r.text;
        std::size_t id = addSite(std::move(s));
        // Per-qube chains and the users' own chains are rule lists someone wrote; the
        // closing reject Qubes adds to every per-qube chain is its policy, not a rule.
        bool closing = c.name.starts_with("qbs-") && &r == &c.rules.back() && r.matches.empty() &&
                       r.verdict && r.verdict->kind == nft::Verdict::Kind::Reject;
        if ((c.name.starts_with("qbs-") || c.name.starts_with("custom-")) && !closing)
            out_.shadowCandidates.push_back(id);
        return rules_[&r] = id;
    }

    std::size_t addSite(Site s) {
        out_.sites.push_back(std::move(s));
        out_.uses.emplace_back();
        return out_.sites.size() - 1;
    }

    std::vector<Box> complement(const std::vector<Box>& region) const {
        std::vector<Piece> all{{universe(), 0}};
        return boxesOf(subtractAll(all, region));
    }

    // Restricts a box to one field's interval: several boxes (th dport: tcp and udp), none
    // when no packet of the context has it.
    std::vector<Box> restrict(const Box& in, Field f, const nft::Interval& iv) const {
        Box b = in;
        auto clamp = [](U128& lo, U128& hi, U128 l, U128 h) {
            lo = std::max(lo, l);
            hi = std::min(hi, h);
            return lo <= hi;
        };
        auto num = [](unsigned& lo, unsigned& hi, U128 l, U128 h) {
            lo = std::max<unsigned>(lo, static_cast<unsigned>(std::min<U128>(l, 0xffffffffu)));
            hi = std::min<unsigned>(hi, static_cast<unsigned>(std::min<U128>(h, 0xffffffffu)));
            return lo <= hi;
        };
        U128 lo = numberOf(iv.lo), hi = numberOf(iv.hi);
        auto proto = [&](unsigned p) {
            return num(b.protoLo, b.protoHi, p, p) && num(b.portLo, b.portHi, lo, hi);
        };
        switch (f) {
        case Field::IpSaddr:
        case Field::IpDaddr: {
            if (!isV4(iv.lo) || !isV4(iv.hi))
                return {};
            U128 l = ipv4Value(iv.lo.bytes, true), h = ipv4Value(iv.hi.bytes, true);
            bool ok = f == Field::IpSaddr ? clamp(b.srcLo, b.srcHi, l, h)
                                          : clamp(b.addrLo, b.addrHi, l, h);
            return ok ? std::vector<Box>{b} : std::vector<Box>{};
        }
        case Field::Ip6Saddr:
        case Field::Ip6Daddr:
        case Field::Icmpv6Type:
        case Field::Ip6Nexthdr:
            return {}; // an IPv4 packet has none of these
        case Field::L4Proto:
        case Field::IpProtocol:
            return num(b.protoLo, b.protoHi, lo, hi) ? std::vector<Box>{b} : std::vector<Box>{};
        case Field::TcpDport:
            return proto(6) ? std::vector<Box>{b} : std::vector<Box>{};
        case Field::UdpDport:
            return proto(17) ? std::vector<Box>{b} : std::vector<Box>{};
        case Field::IcmpType:
            return proto(1) ? std::vector<Box>{b} : std::vector<Box>{};
        case Field::ThDport: {
            std::vector<Box> out;
            for (unsigned p : {6u, 17u}) {
                b = in;
                if (proto(p))
                    out.push_back(b);
            }
            return out;
        }
        case Field::IifGroup:
            return lo <= 2 && 2 <= hi ? std::vector<Box>{b} : std::vector<Box>{};
        case Field::OifGroup: {
            std::vector<Box> out;
            const std::vector<Box>* sides[] = {&uplinkSide_, &downstream_};
            for (unsigned g = 1; g <= 2; ++g)
                if (lo <= g && g <= hi)
                    for (const Box& side : *sides[g - 1])
                        if (backends::overlaps(b, side)) {
                            Box m = b;
                            clamp(m.addrLo, m.addrHi, side.addrLo, side.addrHi);
                            out.push_back(m);
                        }
            return out;
        }
        case Field::IifName:
        case Field::OifName:
        case Field::Iif:
        case Field::Oif: {
            if (iv.lo != iv.hi)
                throw Unsupported{"a range of interface names"};
            return names(b, f, {nft::nameOf(iv.lo)});
        }
        case Field::CtState:
            break;
        }
        throw Unsupported{std::string(nft::fieldName(f)) + " in a set"};
    }

    // The packets of box b whose interface (in or out) has one of these names.
    std::vector<Box> names(const Box& b, Field f, const std::vector<std::string>& list) const {
        bool in = f == Field::IifName || f == Field::Iif;
        std::vector<Box> out;
        for (const std::string& n : list) {
            if (in) {
                std::optional<bool> m = nameMatches(n, true, ctx_.uplink);
                if (!m)
                    throw Unsupported{"interface " + n + " (which vif is whose)"};
                if (*m)
                    return {b};
                continue;
            }
            for (bool vif : {true, false}) {
                std::optional<bool> m = nameMatches(n, vif, ctx_.uplink);
                if (!m)
                    throw Unsupported{"interface " + n +
                                      (vif ? " (which vif is whose)" : " (the uplink's name)")};
                if (*m)
                    for (const Box& side : vif ? downstream_ : uplinkSide_)
                        if (backends::overlaps(b, side)) {
                            Box x = b;
                            x.addrLo = std::max(x.addrLo, side.addrLo);
                            x.addrHi = std::min(x.addrHi, side.addrHi);
                            out.push_back(x);
                        }
            }
        }
        return backends::disjoint(out);
    }

    // The packets a match accepts, as disjoint boxes.
    std::vector<Box> matchBoxes(const nft::Match& m, const nft::Chain& c) {
        if (m.fields.size() == 1 && m.fields[0] == Field::CtState) {
            bool isNew = std::any_of(m.ctStates.begin(), m.ctStates.end(),
                                     [](std::uint32_t s) { return (s & 8) != 0; });
            return isNew != m.negated ? std::vector<Box>{universe()} : std::vector<Box>{};
        }
        std::vector<Box> hit;
        if (!m.names.empty()) {
            hit = names(universe(), m.fields[0], m.names);
        } else {
            const std::vector<nft::Element>* elements = &m.literal;
            if (m.set) {
                const nft::Set* s = rs_.findSet(c.family, c.table, *m.set);
                if (!s)
                    throw Unsupported{"set @" + *m.set + " is not in the ruleset"};
                elements = &s->elements;
            }
            for (const nft::Element& e : *elements) {
                if (e.key.size() != m.fields.size())
                    throw Unsupported{"an element that does not fit its key"};
                std::vector<Box> boxes{universe()};
                for (std::size_t i = 0; i < e.key.size(); ++i) {
                    std::vector<Box> next;
                    for (const Box& b : boxes) {
                        std::vector<Box> r = restrict(b, m.fields[i], e.key[i]);
                        next.insert(next.end(), r.begin(), r.end());
                    }
                    boxes = std::move(next);
                }
                hit.insert(hit.end(), boxes.begin(), boxes.end());
            }
            hit = backends::disjoint(hit);
        }
        if (!m.negated)
            return hit;
        if (m.fields.size() != 1)
            throw Unsupported{"a negated concatenation"};
        // != keeps the field's protocol dependency: `tcp dport != 22` is tcp.
        std::vector<Box> dependency;
        Field f = m.fields[0];
        nft::Interval all{nft::numberValue(0), nft::numberValue(65535)};
        if (f == Field::TcpDport || f == Field::UdpDport || f == Field::ThDport ||
            f == Field::IcmpType)
            dependency = restrict(universe(), f, all);
        else if (f == Field::Ip6Saddr || f == Field::Ip6Daddr || f == Field::Icmpv6Type ||
                 f == Field::Ip6Nexthdr)
            return {};
        else
            dependency = {universe()};
        std::vector<Piece> dep;
        for (const Box& b : dependency)
            dep.push_back({b, 0});
        return boxesOf(subtractAll(dep, hit));
    }

    std::vector<Box> ruleBoxes(const nft::Rule& r, const nft::Chain& c) {
        if (!r.unsupported.empty())
            throw Unsupported{r.unsupported};
        std::vector<Box> region{universe()};
        for (const nft::Match& m : r.matches) {
            std::vector<Box> mb = matchBoxes(m, c);
            std::vector<Piece> pr;
            for (const Box& b : region)
                pr.push_back({b, 0});
            region = boxesOf(intersect(pr, mb));
            if (region.empty())
                break;
        }
        return region;
    }

    Outcome chain(const nft::Chain& c, std::vector<Piece> rest, int depth) {
        Outcome o;
        if (depth > 16) {
            // The kernel refuses deeper jumps; a loop would never load.
            unmodelled(policySite(c), "jumps nested deeper than the kernel allows");
            o.rest = std::move(rest);
            return o;
        }
        const std::vector<Piece> entering = rest;
        for (const nft::Rule& r : c.rules) {
            std::size_t site = ruleSite(c, r);
            std::vector<Box> region;
            try {
                region = ruleBoxes(r, c);
            } catch (const Unsupported& u) {
                if (!rest.empty())
                    unmodelled(site, u.why);
                continue; // treated as not matching; reported
            }
            if (!out_.uses[site].couldMatch) {
                std::vector<Piece> could = intersect(entering, region);
                out_.uses[site].couldMatch = !could.empty();
                if (!could.empty())
                    out_.uses[site].example = could.front().box;
            }
            if (rest.empty())
                continue;
            out_.uses[site].reached = true;
            std::vector<Piece> hit = intersect(rest, region);
            if (hit.empty())
                continue;
            out_.uses[site].matched = true;
            if (r.dnat) {
                if (c.type != "nat") {
                    unmodelled(site, "dnat outside a nat chain");
                    continue;
                }
                rest = subtractAll(rest, region);
                for (Piece& p : hit)
                    o.translated.push_back({p.box, *r.dnat});
                continue;
            }
            if (r.vmap) {
                rest = subtractAll(rest, region);
                std::vector<Piece> left = hit;
                try {
                    const nft::Set* map = rs_.findSet(c.family, c.table, *r.vmap->set);
                    if (!map)
                        throw Unsupported{"map @" + *r.vmap->set + " is not in the ruleset"};
                    for (const nft::Element& e : map->elements) {
                        nft::Match single = *r.vmap;
                        single.set.reset();
                        single.literal = {{e.key, std::nullopt}};
                        std::vector<Box> eb = matchBoxes(single, c);
                        std::vector<Piece> part = intersect(left, eb);
                        left = subtractAll(left, eb);
                        if (!part.empty() && e.data)
                            apply(*e.data, c, site, part, o, rest, depth);
                    }
                } catch (const Unsupported& u) {
                    unmodelled(site, u.why);
                }
                rest.insert(rest.end(), left.begin(), left.end());
                continue;
            }
            if (!r.verdict) // counter, log: the packet goes on to the next rule
                continue;
            rest = subtractAll(rest, region);
            apply(*r.verdict, c, site, hit, o, rest, depth);
        }
        o.rest.insert(o.rest.end(), rest.begin(), rest.end());
        return o;
    }

    void apply(const nft::Verdict& v, const nft::Chain& c, std::size_t site, std::vector<Piece> hit,
               Outcome& o, std::vector<Piece>& rest, int depth) {
        using K = nft::Verdict::Kind;
        for (Piece& p : hit)
            p.site = site;
        switch (v.kind) {
        case K::Accept:
            o.accept.insert(o.accept.end(), hit.begin(), hit.end());
            return;
        case K::Drop:
        case K::Reject:
            o.drop.insert(o.drop.end(), hit.begin(), hit.end());
            return;
        case K::Return:
            o.rest.insert(o.rest.end(), hit.begin(), hit.end());
            return;
        case K::Continue:
            rest.insert(rest.end(), hit.begin(), hit.end());
            return;
        case K::Jump:
        case K::Goto: {
            const nft::Chain* target = rs_.findChain(c.family, c.table, v.target);
            if (!target) {
                unmodelled(site, "chain " + v.target + " is not in the ruleset");
                rest.insert(rest.end(), hit.begin(), hit.end());
                return;
            }
            Outcome sub = chain(*target, hit, depth + 1);
            o.accept.insert(o.accept.end(), sub.accept.begin(), sub.accept.end());
            o.drop.insert(o.drop.end(), sub.drop.begin(), sub.drop.end());
            for (auto& t : sub.translated)
                o.translated.push_back(std::move(t));
            // After a jump the packet comes back to the next rule; after a goto, to the
            // chain that called this one.
            std::vector<Piece>& back = v.kind == K::Jump ? rest : o.rest;
            back.insert(back.end(), sub.rest.begin(), sub.rest.end());
            return;
        }
        }
    }

    void unmodelled(std::size_t site, const std::string& why) {
        for (const Unmodelled& u : out_.unmodelled)
            if (u.site == site && u.why == why)
                return;
        out_.unmodelled.push_back({site, why});
    }

    const nft::Ruleset& rs_;
    FileId file_;
    const SourceManager& sources_;
    const NftContext& ctx_;
    FirewallState& out_;
    std::vector<Box> downstream_, uplinkSide_;
    std::vector<Piece> dropped_;
    std::map<std::string, std::size_t> policies_;
    std::map<const nft::Rule*, std::size_t> rules_;
    std::size_t noChain_ = kNoSite;
};

} // namespace

SourceRange rangeAt(FileId file, const SourceManager& sources, std::size_t offset) {
    const SourceFile& f = sources.file(file);
    auto it = std::upper_bound(f.lineStarts.begin(), f.lineStarts.end(), offset);
    auto line = static_cast<std::uint32_t>(it - f.lineStarts.begin());
    auto column = static_cast<std::uint32_t>(offset - f.lineStarts[line - 1] + 1);
    return {file, {line, column}, {line, column}};
}

FirewallState evaluateNft(const nft::Ruleset& ruleset, FileId file, const SourceManager& sources,
                          const std::string& firewallQube, const NftContext& context) {
    FirewallState out;
    out.file = sources.file(file).path;
    out.firewallQube = firewallQube;
    Evaluator(ruleset, file, sources, context, out).run();
    return out;
}

} // namespace bulkhead::cli::fw
