// Z3 decides here: packets are a 128-bit space per address (IPv4 mapped into ::ffff:0:0/96,
// as packet_space.cpp does), and both sides are unions of ranges. The question is asked once
// per client's addresses, and once for every other source address: each query holds only
// that client's flows and the set elements its source can reach (the emitter's source map
// leads each client to its own chain), so the terms stay small however many clients the
// firewall has. Together the queries cover every packet, so the proof stays exact.
#include "bulkhead/analyzer/translation.h"

#include "address_space.h"

#include "bulkhead/compiler/net_addressing.h"

#include <z3++.h>

#include <algorithm>
#include <map>
#include <optional>

namespace bulkhead::analyzer {
namespace {

using model::NetNode;

struct CannotRead {
    std::string why;
};

U128 valueOf(const nft::Value& v) {
    U128 out = 0;
    for (std::uint8_t b : v.bytes)
        out = (out << 8) | b;
    return out;
}

class Encoder {
public:
    Encoder(const model::Policy& p, const nft::Ruleset& rs)
        : p_(p), rs_(rs), addressing_(p), src_(c_.bv_const("src", 128)),
          dst_(c_.bv_const("dst", 128)), proto_(c_.bv_const("proto", 8)),
          port_(c_.bv_const("port", 16)), thOther_(c_.bv_const("th_other", 16)),
          oifgroup_(c_.bv_const("oifgroup", 32)), anySrc_(src_), anyDst_(dst_),
          v4Src_(z3::concat(c_.bv_val(0xffff, 96), c_.bv_const("src4", 32))),
          v4Dst_(z3::concat(c_.bv_val(0xffff, 96), c_.bv_const("dst4", 32))) {}

    TranslationCheck check(model::QubeId firewall, std::uint64_t rlimit) {
        TranslationCheck out;
        out.compared = 1;
        try {
            indexRuleset();
            std::vector<Sender> senders = sendersOf(firewall);
            std::vector<IpPrefix> everyClient;
            for (std::size_t i = 0; i < senders.size(); ++i) {
                everyClient.insert(everyClient.end(), senders[i].addresses.begin(),
                                   senders[i].addresses.end());
                // Clients sharing one range (disposables of several templates) are asked once.
                bool asked =
                    std::any_of(senders.begin(), senders.begin() + static_cast<std::ptrdiff_t>(i),
                                [&](const auto& s) { return s.ranges == senders[i].ranges; });
                if (asked)
                    continue;
                // IPv4 addresses apart: those packets are IPv4 at both ends, so the query's
                // addresses are 32 bits wide.
                for (bool v4 : {true, false}) {
                    std::vector<IpPrefix> part;
                    for (const IpPrefix& a : senders[i].addresses)
                        if ((a.family == IpPrefix::Family::V4) == v4)
                            part.push_back(a);
                    if (!part.empty() &&
                        askFrom(out, part, nameOf(senders[i].node), v4, senders, rlimit))
                        return out;
                }
            }
            // Every other source: the policy permits nothing from there.
            AddressRanges others = AddressRanges(everyClient).complement();
            scope_ = &others;
            setFamily(false);
            ask(out, !inAny(src_, everyClient), c_.bool_val(false), "packets from no client",
                rlimit);
        } catch (const CannotRead& e) {
            out.differ = "cannot interpret the ruleset: " + e.why;
        }
        return out;
    }

private:
    struct Sender {
        NetNode node;
        std::vector<IpPrefix> addresses;
        AddressRanges ranges;
    };
    // The packets from one client's addresses of one family: every client with an address
    // there (several share the disposables range) may send them.
    bool askFrom(TranslationCheck& out, const std::vector<IpPrefix>& from, const std::string& name,
                 bool v4, const std::vector<Sender>& senders, std::uint64_t rlimit) {
        AddressRanges scope(from);
        setFamily(v4);
        z3::expr_vector expected(c_);
        for (const Sender& s : senders)
            if (overlap(s.ranges, scope))
                expected.push_back(inAny(src_, s.addresses) && allowedFrom(s.node));
        scope_ = &scope;
        return ask(out, inAny(src_, from), z3::mk_or(expected), "packets from " + name, rlimit);
    }

    // IPv4 only: both addresses are ::ffff:0:0/96 plus 32 free bits, and every address
    // range is cut to that part, so no 128-bit term reaches the solver.
    void setFamily(bool v4) {
        v4Only_ = v4;
        src_ = v4 ? v4Src_ : anySrc_;
        dst_ = v4 ? v4Dst_ : anyDst_;
    }

    std::string nameOf(const NetNode& n) {
        return (n.disposables ? "@dispvm:" : "") + p_.qubes[n.qube].name;
    }

    static bool overlap(const AddressRanges& a, const AddressRanges& b) {
        return std::any_of(a.ranges().begin(), a.ranges().end(),
                           [&](const auto& r) { return b.overlaps(r.first, r.second); });
    }

    // One query, in a solver of its own: does any packet within `where` get another verdict
    // from the ruleset than from the policy? Sets out.differ and returns true when one does,
    // or when Z3 could not decide (then out.undecided: nothing is claimed).
    bool ask(TranslationCheck& out, const z3::expr& where, const z3::expr& expected,
             const std::string& who, std::uint64_t rlimit) {
        z3::expr actual = accepted();
        // Every term is a bit-vector comparison: simplified and bit-blasted to SAT directly,
        // which takes about a quarter less CPU per query than the general solver.
        z3::solver s =
            (z3::tactic(c_, "simplify") & z3::tactic(c_, "bit-blast") & z3::tactic(c_, "sat"))
                .mk_solver();
        z3::params params(c_);
        params.set("rlimit", static_cast<unsigned>(std::min<std::uint64_t>(rlimit, UINT32_MAX)));
        s.set(params);
        s.add(domain());
        s.add(where);
        s.add(expected != actual);
        z3::check_result r = s.check();
        switch (r) {
        case z3::unsat:
            return false;
        case z3::sat: {
            z3::model m = s.get_model();
            bool permits = m.eval(expected, true).is_true();
            out.differ = "packet " + describe(m) + ": the policy " +
                         (permits ? "permits it, the ruleset drops it"
                                  : "does not permit it, the ruleset accepts it");
            return true;
        }
        case z3::unknown:
            out.differ = "Z3 could not decide (" + s.reason_unknown() + ") for " + who;
            out.undecided = true;
            return true;
        }
        return false;
    }

    // ---- the packet space -------------------------------------------------------------
    z3::expr isV4(const z3::expr& a) {
        return v4Only_ ? c_.bool_val(true) : a.extract(127, 32) == c_.bv_val(0xffff, 96);
    }

    z3::expr constant(U128 v, unsigned width) {
        if (width <= 64)
            return c_.bv_val(static_cast<std::uint64_t>(v), width);
        return z3::concat(c_.bv_val(static_cast<std::uint64_t>(v >> 64), width - 64),
                          c_.bv_val(static_cast<std::uint64_t>(v), 64));
    }

    // New packets a client can send: one family on both ends, ICMP by family, ICMP types
    // fit a byte.
    z3::expr domain() {
        z3::expr icmp = proto_ == c_.bv_val(1, 8) || proto_ == c_.bv_val(58, 8);
        return isV4(src_) == isV4(dst_) && z3::implies(isV4(dst_), proto_ != c_.bv_val(58, 8)) &&
               z3::implies(!isV4(dst_), proto_ != c_.bv_val(1, 8)) &&
               z3::implies(icmp, z3::ule(port_, c_.bv_val(255, 16)));
    }

    // Adjacent and overlapping prefixes are merged first: a system's qubes are numbered one
    // after another, so its internal addresses are a few ranges, not one term per qube.
    z3::expr inAny(const z3::expr& x, const std::vector<IpPrefix>& ps) {
        z3::expr_vector v(c_);
        AddressRanges merged(ps);
        for (const AddressRanges::Range& r : merged.ranges())
            v.push_back(within(x, r.first, r.second, 128));
        return z3::mk_or(v);
    }

    // first <= x <= last, as one prefix test when the range is a prefix.
    z3::expr within(const z3::expr& x, U128 first, U128 last, unsigned width) {
        if (v4Only_ && width == 128) { // x is one of the IPv4 query's addresses
            constexpr U128 kV4First = U128(0xffff) << 32, kV4Last = kV4First | 0xffffffffu;
            if (last < kV4First || first > kV4Last)
                return c_.bool_val(false);
            return within(x.extract(31, 0), std::max(first, kV4First) - kV4First,
                          std::min(last, kV4Last) - kV4First, 32);
        }
        U128 span = last - first;
        if ((span & (span + 1)) == 0 && (first & span) == 0) {
            unsigned hostBits = 0;
            while (hostBits < width && ((span >> hostBits) & 1))
                ++hostBits;
            if (hostBits == width)
                return c_.bool_val(true);
            unsigned len = width - hostBits;
            return x.extract(width - 1, hostBits) == constant(first >> hostBits, len);
        }
        return z3::uge(x, constant(first, width)) && z3::ule(x, constant(last, width));
    }

    // ---- what the policy permits ------------------------------------------------------
    z3::expr serviceMatch(const model::ServiceMatch& m) {
        using P = model::Protocol;
        auto ports = [&]() {
            z3::expr_vector v(c_);
            for (const model::PortRange& r : m.ports)
                v.push_back(z3::uge(port_, c_.bv_val(r.low, 16)) &&
                            z3::ule(port_, c_.bv_val(r.high, 16)));
            return m.ports.empty() ? c_.bool_val(true) : z3::mk_or(v);
        };
        switch (m.protocol) {
        case P::Any:
            return c_.bool_val(true);
        case P::Tcp:
            return proto_ == c_.bv_val(6, 8) && ports();
        case P::Udp:
            return proto_ == c_.bv_val(17, 8) && ports();
        case P::Icmp:
            return z3::ite(isV4(dst_), proto_ == c_.bv_val(1, 8), proto_ == c_.bv_val(58, 8)) &&
                   ports();
        }
        return c_.bool_val(false);
    }

    z3::expr services(const std::vector<model::ServiceUse>& uses) {
        z3::expr_vector v(c_);
        for (const model::ServiceUse& u : uses)
            for (const model::ServiceMatch& m : u.matches)
                v.push_back(serviceMatch(m));
        return z3::mk_or(v);
    }

    z3::expr internal() {
        std::optional<z3::expr>& cached = internal_[v4Only_ ? 1 : 0];
        if (!cached)
            cached = inAny(dst_, addressing_.internal());
        return *cached;
    }

    // The flows each node sends, in policy order; worked out once, not once per client.
    const std::vector<std::size_t>& flowsFrom(const NetNode& k) {
        if (!flowsFrom_) {
            flowsFrom_.emplace();
            for (std::size_t i = 0; i < p_.flows.size(); ++i)
                for (const model::Endpoint& e : p_.flows[i].from)
                    for (const NetNode& n : addressing_.covered(e)) {
                        std::vector<std::size_t>& list = (*flowsFrom_)[n];
                        if (list.empty() || list.back() != i)
                            list.push_back(i);
                    }
        }
        static const std::vector<std::size_t> none;
        auto it = flowsFrom_->find(k);
        return it == flowsFrom_->end() ? none : it->second;
    }

    z3::expr destinations(const model::NetFlow& f, const NetNode& k) {
        z3::expr_vector v(c_);
        for (const model::Endpoint& e : f.to) {
            using K = model::Endpoint::Kind;
            if (e.kind == K::Network)
                v.push_back(inAny(dst_, p_.networks[e.network].prefixes) && !internal());
            else if (e.kind == K::Prefix)
                v.push_back(inAny(dst_, {e.prefix}) && !internal());
            else
                for (const NetNode& d : addressing_.covered(e))
                    if (d != k)
                        v.push_back(inAny(dst_, addressing_.addressesOf(d)));
        }
        return z3::mk_or(v);
    }

    // A packet from k is permitted when an allow matches it and no deny does.
    z3::expr permitted(const NetNode& k) {
        z3::expr_vector allow(c_), deny(c_);
        for (std::size_t i : flowsFrom(k)) {
            const model::NetFlow& f = p_.flows[i];
            (f.verdict == model::Verdict::Allow ? allow : deny)
                .push_back(services(f.services) && destinations(f, k));
        }
        return z3::mk_or(allow) && !z3::mk_or(deny);
    }

    static bool forwards(const model::Qube& q) {
        return q.kind == model::QubeKind::NetVM || q.kind == model::QubeKind::Firewall;
    }

    void downstream(model::QubeId forwarder, std::vector<NetNode>& out, int depth) {
        if (depth > 64)
            return;
        for (const NetNode& c : addressing_.clientsOf(forwarder)) {
            out.push_back(c);
            if (!c.disposables && forwards(p_.qubes[c.qube]))
                downstream(c.qube, out, depth + 1);
        }
    }

    // Who sends through the firewall, with the addresses its ruleset sees them by.
    std::vector<Sender> sendersOf(model::QubeId firewall) {
        std::vector<Sender> out;
        for (const NetNode& c : addressing_.clientsOf(firewall)) {
            std::vector<IpPrefix> addrs = addressing_.addressesOf(c);
            if (!addrs.empty())
                out.push_back({c, addrs, AddressRanges(addrs)});
        }
        return out;
    }

    // What the policy permits a client to send through the firewall: its own flows, and
    // for a forwarding client its clients' flows to outside the system.
    z3::expr allowedFrom(const NetNode& c) {
        z3::expr_vector forwarded(c_);
        if (!c.disposables && forwards(p_.qubes[c.qube])) {
            std::vector<NetNode> below;
            downstream(c.qube, below, 0);
            for (const NetNode& t : below)
                forwarded.push_back(permitted(t));
        }
        return permitted(c) || (!internal() && z3::mk_or(forwarded));
    }

    // ---- what the ruleset accepts -----------------------------------------------------
    enum class Source { No, V4, V6 };
    struct Term {
        z3::expr value;
        unsigned width;
        z3::expr guard;             // the protocol dependency nft adds for the field
        Source source = Source::No; // a source address: elements outside scope_ never match
    };

    Term term(nft::Field f) {
        using F = nft::Field;
        z3::expr t = c_.bool_val(true);
        z3::expr tcpOrUdp = proto_ == c_.bv_val(6, 8) || proto_ == c_.bv_val(17, 8);
        switch (f) {
        case F::IpSaddr:
            return {src_.extract(31, 0), 32, isV4(src_), Source::V4};
        case F::IpDaddr:
            return {dst_.extract(31, 0), 32, isV4(dst_)};
        case F::Ip6Saddr:
            return {src_, 128, !isV4(src_), Source::V6};
        case F::Ip6Daddr:
            return {dst_, 128, !isV4(dst_)};
        case F::L4Proto:
            return {proto_, 8, t};
        case F::ThDport: // other protocols have no port there: any value may be read
            return {z3::ite(tcpOrUdp, port_, thOther_), 16, t};
        case F::TcpDport:
            return {port_, 16, proto_ == c_.bv_val(6, 8)};
        case F::UdpDport:
            return {port_, 16, proto_ == c_.bv_val(17, 8)};
        case F::IcmpType:
            return {port_.extract(7, 0), 8, proto_ == c_.bv_val(1, 8) && isV4(dst_)};
        case F::Icmpv6Type:
            return {port_.extract(7, 0), 8, proto_ == c_.bv_val(58, 8) && !isV4(dst_)};
        case F::IifGroup: // what a client sends arrives on a group-2 interface
            return {c_.bv_val(2, 32), 32, t};
        case F::OifGroup:
            return {oifgroup_, 32, t};
        case F::CtState:    // matched on its own (matches())
        case F::IpProtocol: // the emitter writes none of these
        case F::Ip6Nexthdr:
        case F::IifName:
        case F::OifName:
        case F::Iif:
        case F::Oif:
            break;
        }
        throw CannotRead{std::string(nft::fieldName(f)) + " as a key"};
    }

    // False when the element's source addresses lie outside the query's scope: then it
    // cannot match any packet the query asks about, and leaving it out changes nothing.
    bool inScope(const std::vector<Term>& terms, const std::vector<nft::Interval>& key) {
        if (key.size() != terms.size())
            throw CannotRead{"a set key of another width"};
        for (std::size_t i = 0; i < terms.size(); ++i) {
            if (terms[i].source == Source::No)
                continue;
            U128 lo = valueOf(key[i].lo), hi = valueOf(key[i].hi);
            if (terms[i].source == Source::V4) {
                constexpr U128 kMapped = U128(0xffff) << 32;
                lo = kMapped | (lo & 0xffffffffu);
                hi = kMapped | (hi & 0xffffffffu);
            }
            if (lo <= hi && !scope_->overlaps(lo, hi))
                return false;
        }
        return true;
    }

    z3::expr member(const std::vector<Term>& terms, const std::vector<nft::Interval>& key) {
        if (key.size() != terms.size())
            throw CannotRead{"a set key of another width"};
        z3::expr_vector v(c_);
        for (std::size_t i = 0; i < terms.size(); ++i) {
            unsigned w = terms[i].width;
            U128 mask = w >= 128 ? ~U128(0) : (U128(1) << w) - 1;
            z3::expr lo = constant(valueOf(key[i].lo) & mask, w);
            z3::expr hi = constant(valueOf(key[i].hi) & mask, w);
            v.push_back(z3::uge(terms[i].value, lo) && z3::ule(terms[i].value, hi));
        }
        return z3::mk_and(v);
    }

    // Chains and sets of table inet bulkhead by name (the ruleset's own lookups scan).
    void indexRuleset() {
        for (const nft::Chain& ch : rs_.chains)
            if (ch.family == "inet" && ch.table == "bulkhead")
                chains_.emplace(ch.name, &ch);
        for (const nft::Set& set : rs_.sets)
            if (set.family == "inet" && set.table == "bulkhead")
                sets_.emplace(set.name, &set);
    }

    const nft::Set& setOf(const std::string& name) {
        auto it = sets_.find(name);
        const nft::Set* s = it == sets_.end() ? nullptr : it->second;
        if (!s)
            throw CannotRead{"set @" + name + " is not in table inet bulkhead"};
        return *s;
    }

    z3::expr matches(const nft::Match& m) {
        if (m.fields.size() == 1 && m.fields[0] == nft::Field::CtState) {
            // Only new connections are in question (replies follow their connection).
            bool listsNew = std::any_of(m.ctStates.begin(), m.ctStates.end(),
                                        [](std::uint32_t b) { return (b & 8u) != 0; });
            return c_.bool_val(listsNew != m.negated);
        }
        std::vector<Term> terms;
        z3::expr_vector guards(c_);
        for (nft::Field f : m.fields) {
            terms.push_back(term(f));
            guards.push_back(terms.back().guard);
        }
        z3::expr_vector any(c_);
        const std::vector<nft::Element>& elements = m.set ? setOf(*m.set).elements : m.literal;
        if (terms.size() == 1) {
            // One field: the elements as merged ranges (a set of every qube's address is
            // then a few comparisons).
            std::vector<AddressRanges::Range> ranges;
            unsigned w = terms[0].width;
            U128 mask = w >= 128 ? ~U128(0) : (U128(1) << w) - 1;
            for (const nft::Element& e : elements) {
                U128 lo = valueOf(e.key[0].lo) & mask, hi = valueOf(e.key[0].hi) & mask;
                if (inScope(terms, e.key) && lo <= hi) // an empty interval holds nothing
                    ranges.emplace_back(lo, hi);
            }
            AddressRanges merged(std::move(ranges));
            for (const AddressRanges::Range& r : merged.ranges())
                any.push_back(within(terms[0].value, r.first, r.second, w));
        } else {
            for (const nft::Element& e : elements)
                if (inScope(terms, e.key))
                    any.push_back(member(terms, e.key));
        }
        z3::expr hit = z3::mk_or(any);
        return z3::mk_and(guards) && (m.negated ? !hit : hit);
    }

    struct Outcome {
        z3::expr accept, drop; // neither: the packet falls through (returns)
    };

    Outcome verdict(const nft::Verdict& v, const Outcome& next, int depth) {
        using K = nft::Verdict::Kind;
        switch (v.kind) {
        case K::Accept:
            return {c_.bool_val(true), c_.bool_val(false)};
        case K::Drop:
        case K::Reject:
            return {c_.bool_val(false), c_.bool_val(true)};
        case K::Return:
            return {c_.bool_val(false), c_.bool_val(false)};
        case K::Continue:
            return next;
        case K::Jump: {
            Outcome sub = chain(v.target, depth + 1);
            z3::expr falls = !sub.accept && !sub.drop;
            return {sub.accept || (falls && next.accept), sub.drop || (falls && next.drop)};
        }
        case K::Goto:
            return chain(v.target, depth + 1);
        }
        return next;
    }

    Outcome chain(const std::string& name, int depth) {
        if (depth > 16)
            throw CannotRead{"jumps deeper than 16 chains (a loop?) at " + name};
        auto found = chains_.find(name);
        const nft::Chain* ch = found == chains_.end() ? nullptr : found->second;
        if (!ch)
            throw CannotRead{"chain " + name + " is not in table inet bulkhead"};
        Outcome out{c_.bool_val(false), c_.bool_val(false)};
        for (auto it = ch->rules.rbegin(); it != ch->rules.rend(); ++it) {
            const nft::Rule& r = *it;
            if (!r.unsupported.empty())
                throw CannotRead{"a rule of chain " + name + ": " + r.unsupported};
            z3::expr_vector ms(c_);
            for (const nft::Match& m : r.matches)
                ms.push_back(matches(m));
            z3::expr when = z3::mk_and(ms);
            Outcome then = out;
            if (r.vmap) {
                const nft::Set& map = setOf(*r.vmap->set);
                std::vector<Term> terms;
                z3::expr_vector guards(c_);
                for (nft::Field f : r.vmap->fields) {
                    terms.push_back(term(f));
                    guards.push_back(terms.back().guard);
                }
                for (const nft::Element& e : map.elements) {
                    if (!e.data)
                        throw CannotRead{"map @" + map.name + " without verdicts"};
                    if (!inScope(terms, e.key))
                        continue;
                    Outcome hit = verdict(*e.data, out, depth);
                    z3::expr in = z3::mk_and(guards) && member(terms, e.key);
                    then = {z3::ite(in, hit.accept, then.accept), z3::ite(in, hit.drop, then.drop)};
                }
            } else if (r.verdict) {
                then = verdict(*r.verdict, out, depth);
            }
            out = {z3::ite(when, then.accept, out.accept), z3::ite(when, then.drop, out.drop)};
        }
        return out;
    }

    z3::expr accepted() {
        std::vector<const nft::Chain*> bases;
        for (const nft::Chain& ch : rs_.chains)
            if (ch.family == "inet" && ch.table == "bulkhead" && ch.hook == "forward")
                bases.push_back(&ch);
        if (bases.size() != 1)
            throw CannotRead{"table inet bulkhead has " + std::to_string(bases.size()) +
                             " forward base chains, not one"};
        Outcome o = chain(bases[0]->name, 0);
        bool policyAccepts = bases[0]->policy == "accept";
        return o.accept || (!o.accept && !o.drop && c_.bool_val(policyAccepts));
    }

    std::string describe(const z3::model& m) {
        auto num = [&](const z3::expr& e) { return m.eval(e, true).get_numeral_uint64(); };
        auto address = [&](const z3::expr& a) {
            U128 hi = num(a.extract(127, 64)), lo = num(a.extract(63, 0));
            return hostOfMapped((hi << 64) | lo).str();
        };
        std::uint64_t pr = num(proto_), po = num(port_);
        std::string what = pr == 6                 ? "tcp port " + std::to_string(po)
                           : pr == 17              ? "udp port " + std::to_string(po)
                           : (pr == 1 || pr == 58) ? "icmp type " + std::to_string(po)
                                                   : "ip protocol " + std::to_string(pr);
        return address(src_) + " -> " + address(dst_) + " " + what;
    }

    const model::Policy& p_;
    const nft::Ruleset& rs_;
    model::NetAddressing addressing_;
    z3::context c_;
    z3::expr src_, dst_, proto_, port_, thOther_, oifgroup_;
    z3::expr anySrc_, anyDst_, v4Src_, v4Dst_; // what src_ and dst_ are, by query family
    bool v4Only_ = false;
    std::optional<std::map<NetNode, std::vector<std::size_t>>> flowsFrom_;
    std::map<std::string, const nft::Chain*, std::less<>> chains_;
    std::map<std::string, const nft::Set*, std::less<>> sets_;
    std::optional<z3::expr> internal_[2];  // for queries of any family, of IPv4 only
    const AddressRanges* scope_ = nullptr; // the source addresses the current query asks about
};

} // namespace

TranslationCheck checkNftTranslation(const model::Policy& policy, const std::string& firewallQube,
                                     const nft::Ruleset& ruleset, std::uint64_t rlimit) {
    std::optional<model::QubeId> fw = policy.findQube(firewallQube);
    if (!fw) {
        TranslationCheck out;
        out.differ = "no qube named " + firewallQube;
        return out;
    }
    return Encoder(policy, ruleset).check(*fw, rlimit);
}

} // namespace bulkhead::analyzer
