// The packet difference of two policies, side pair by side pair. Z3 finds a packet in the
// difference; the packet's cell (the elementary intervals of the protocol, port and address
// axes that hold it, cut where any flow of either policy begins or ends) is grown interval by
// interval while the box stays inside the difference and outside every class found before;
// the box is a class, it is blocked, and Z3 is asked again until the difference is empty.
#include "bulkhead/analyzer/net_diff.h"

#include "address_space.h"
#include "build_graph.h"
#include "packet_space.h"

#include <z3++.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace bulkhead::analyzer {
namespace {

// The address axis is searched rotated so that IPv4 (the mapped /96) comes first, as
// [0, 2^32), and every other address after it: all of IPv6 is one range, and a class
// spans both families only when it holds every address.
constexpr U128 kV4Base = U128(0xffff) << 32;
constexpr U128 kV4End = U128(1) << 32; // the first rotated address that is not IPv4
constexpr U128 kAddressMax = ~U128(0);
U128 rotate(U128 a) {
    return a - kV4Base;
}
U128 unrotate(U128 r) {
    return r + kV4Base;
}

// One side of a packet: a qube or disposables node by name, or the outside (any address).
struct Side {
    std::string name;
    bool outside = false;
    std::optional<Node> older, newer; // the node in each policy; empty where it does not exist
};

// An axis cut into elementary intervals: starts ascending, the first 0.
struct Axis {
    std::vector<U128> starts;
    U128 max = 0;
    U128 first(std::size_t i) const { return starts[i]; }
    U128 last(std::size_t i) const { return i + 1 < starts.size() ? starts[i + 1] - 1 : max; }
    std::size_t indexOf(U128 v) const {
        return static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), v) -
                                        starts.begin()) -
               1;
    }
    std::size_t size() const { return starts.size(); }
};

Axis axisOf(std::set<U128> cuts, U128 max) {
    cuts.insert(0);
    Axis a;
    a.max = max;
    for (U128 c : cuts)
        if (c <= max)
            a.starts.push_back(c);
    return a;
}

enum Dim : std::size_t { kProto, kPort, kSrc, kDst, kDims };

// A class: per axis, the elementary intervals [first, last] it spans.
using Box = std::array<std::pair<std::size_t, std::size_t>, kDims>;

std::string protocolName(unsigned p) {
    return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "ip protocol " + std::to_string(p);
}

std::string rangeText(const char* word, U128 lo, U128 hi, U128 full) {
    if (lo == 0 && hi >= full)
        return "";
    auto n = [](U128 v) { return std::to_string(static_cast<unsigned>(v)); };
    return lo == hi ? std::string(" ") + word + " " + n(lo)
                    : std::string(" ") + word + "s " + n(lo) + "-" + n(std::min(hi, full));
}

std::string addressRangeText(U128 lo, U128 hi) {
    if (lo == 0 && hi == kV4End - 1)
        return "0.0.0.0/0";
    if (lo == kV4End && hi == kAddressMax)
        return "any IPv6 address";
    U128 a = unrotate(lo), b = unrotate(hi);
    if (a <= b)
        if (std::optional<IpPrefix> p = prefixOfRange(a, b))
            return p->str();
    return hostOfMapped(a).str() + "-" + hostOfMapped(b).str();
}

class Differ {
public:
    Differ(const model::Policy& older, const model::Policy& newer, std::uint64_t rlimit,
           std::size_t maxClasses)
        : old_(older), new_(newer), maxClasses_(maxClasses), src_(ctx_.bv_const("src", 128)),
          dst_(ctx_.bv_const("dst", 128)), proto_(ctx_.bv_const("proto", 8)),
          port_(ctx_.bv_const("port", 16)), params_(ctx_) {
        params_.set("rlimit", static_cast<unsigned>(std::min<std::uint64_t>(rlimit, UINT32_MAX)));
    }

    NetComparison run() {
        NetComparison out;
        std::vector<Side> sides = sidesOf();
        try {
            for (const Side& a : sides)
                for (const Side& b : sides) {
                    if (&a == &b || (a.outside && b.outside))
                        continue;
                    comparePair(a, b, out);
                }
        } catch (const ProverUnknown& e) {
            out.unknown = e.reason;
        } catch (const z3::exception& e) {
            out.unknown = e.msg();
        }
        out.queries = queries_;
        return out;
    }

private:
    struct Relevant {
        const model::Policy* policy;
        std::vector<const model::NetFlow*> allows, denies;
    };

    std::vector<Side> sidesOf() const {
        std::map<std::string, Side> byName;
        for (const auto* p : {&old_, &new_}) {
            Graph g = nodesOf(*p);
            for (const Node& n : g.nodes()) {
                if (n.kind == Node::Kind::External)
                    continue;
                Side& s = byName[n.name];
                s.name = n.name;
                (p == &old_ ? s.older : s.newer) = n;
            }
        }
        std::vector<Side> out;
        for (auto& [name, s] : byName)
            out.push_back(std::move(s));
        Side outside;
        outside.name = "outside";
        outside.outside = true;
        out.push_back(std::move(outside));
        return out;
    }

    static const std::optional<Node>& nodeIn(const Side& s, const model::Policy& p,
                                             const model::Policy& older) {
        return &p == &older ? s.older : s.newer;
    }

    bool covers(const model::Policy& p, const Side& s, const std::vector<model::Endpoint>& list) {
        const std::optional<Node>& node = nodeIn(s, p, old_);
        for (const model::Endpoint& e : list) {
            bool external =
                e.kind == model::Endpoint::Kind::Network || e.kind == model::Endpoint::Kind::Prefix;
            if (s.outside ? external : node && endpointCovers(p, e, *node))
                return true;
        }
        return false;
    }

    Relevant relevant(const model::Policy& p, const Side& a, const Side& b) {
        Relevant r{&p, {}, {}};
        for (const model::NetFlow& f : p.flows)
            if (covers(p, a, f.from) && covers(p, b, f.to))
                (f.verdict == model::Verdict::Allow ? r.allows : r.denies).push_back(&f);
        return r;
    }

    // ---- the encoding (the semantics of packet_space.cpp: a deny wins over every allow) ----
    z3::expr constant(U128 v, unsigned width) {
        if (width <= 64)
            return ctx_.bv_val(static_cast<std::uint64_t>(v), width);
        return z3::concat(ctx_.bv_val(static_cast<std::uint64_t>(v >> 64), width - 64),
                          ctx_.bv_val(static_cast<std::uint64_t>(v), 64));
    }

    z3::expr between(const z3::expr& x, U128 lo, U128 hi, unsigned width) {
        return z3::uge(x, constant(lo, width)) && z3::ule(x, constant(hi, width));
    }

    z3::expr in(const z3::expr& var, const IpPrefix& p) {
        return between(var, mappedFirst(p), mappedLast(p), 128);
    }

    z3::expr serviceTerm(const std::vector<model::ServiceUse>& uses) {
        z3::expr_vector any(ctx_);
        for (const model::ServiceUse& u : uses)
            for (const model::ServiceMatch& m : u.matches) {
                using P = model::Protocol;
                if (m.protocol == P::Any) {
                    any.push_back(ctx_.bool_val(true));
                    continue;
                }
                unsigned number = m.protocol == P::Tcp ? 6 : m.protocol == P::Udp ? 17 : 1;
                z3::expr_vector ports(ctx_);
                for (const model::PortRange& r : m.ports)
                    ports.push_back(between(port_, r.low, r.high, 16));
                z3::expr p = proto_ == ctx_.bv_val(number, 8);
                any.push_back(m.ports.empty() ? p : p && z3::mk_or(ports));
            }
        return z3::mk_or(any);
    }

    z3::expr sideTerm(const model::Policy& p, const Side& s,
                      const std::vector<model::Endpoint>& list, const z3::expr& var) {
        if (!s.outside)
            return ctx_.bool_val(true); // relevant() kept only flows that name the node
        z3::expr_vector v(ctx_);
        for (const model::Endpoint& e : list) {
            if (e.kind == model::Endpoint::Kind::Network)
                for (const IpPrefix& x : p.networks[e.network].prefixes)
                    v.push_back(in(var, x));
            else if (e.kind == model::Endpoint::Kind::Prefix)
                v.push_back(in(var, e.prefix));
        }
        return z3::mk_or(v);
    }

    z3::expr flowTerm(const model::Policy& p, const model::NetFlow& f, const Side& a,
                      const Side& b) {
        return serviceTerm(f.services) && sideTerm(p, a, f.from, src_) &&
               sideTerm(p, b, f.to, dst_);
    }

    z3::expr permitted(const Relevant& r, const Side& a, const Side& b) {
        z3::expr_vector allow(ctx_), deny(ctx_);
        for (const model::NetFlow* f : r.allows)
            allow.push_back(flowTerm(*r.policy, *f, a, b));
        for (const model::NetFlow* f : r.denies)
            deny.push_back(flowTerm(*r.policy, *f, a, b));
        return z3::mk_or(allow) && !z3::mk_or(deny);
    }

    // Packets one can send: a port only for tcp and udp, an ICMP type fits a byte.
    z3::expr domain() {
        z3::expr p = proto_;
        z3::expr carriesPort = p == ctx_.bv_val(6, 8) || p == ctx_.bv_val(17, 8);
        return z3::implies(p == ctx_.bv_val(1, 8), z3::ule(port_, ctx_.bv_val(255, 16))) &&
               z3::implies(!carriesPort && p != ctx_.bv_val(1, 8), port_ == ctx_.bv_val(0, 16));
    }

    // ---- the axes -----------------------------------------------------------------------
    void addPrefixCuts(const IpPrefix& x, std::set<U128>& cuts) {
        cuts.insert(rotate(mappedFirst(x)));
        U128 end = rotate(mappedLast(x));
        if (end != kAddressMax)
            cuts.insert(end + 1);
    }

    void addFlowCuts(const Relevant& r, std::set<U128>& ports, std::set<U128>& src,
                     std::set<U128>& dst) {
        for (const auto* list : {&r.allows, &r.denies})
            for (const model::NetFlow* f : *list) {
                for (const model::ServiceUse& u : f->services)
                    for (const model::ServiceMatch& m : u.matches)
                        for (const model::PortRange& pr : m.ports) {
                            ports.insert(pr.low);
                            ports.insert(U128(pr.high) + 1);
                        }
                for (auto [endpoints, cuts] : {std::pair{&f->from, &src}, {&f->to, &dst}})
                    for (const model::Endpoint& e : *endpoints) {
                        if (e.kind == model::Endpoint::Kind::Network)
                            for (const IpPrefix& x : r.policy->networks[e.network].prefixes)
                                addPrefixCuts(x, *cuts);
                        else if (e.kind == model::Endpoint::Kind::Prefix)
                            addPrefixCuts(e.prefix, *cuts);
                    }
            }
    }

    // ---- boxes --------------------------------------------------------------------------
    z3::expr addressRange(const z3::expr& var, U128 lo, U128 hi) {
        U128 first = unrotate(lo), last = unrotate(hi);
        if (first <= last)
            return between(var, first, last, 128);
        return z3::uge(var, constant(first, 128)) || z3::ule(var, constant(last, 128));
    }

    z3::expr boxTerm(const Box& box) {
        z3::expr out = ctx_.bool_val(true);
        for (std::size_t d = 0; d < kDims; ++d) {
            if (!active_[d])
                continue;
            const Axis& ax = axes_[d];
            U128 lo = ax.first(box[d].first), hi = ax.last(box[d].second);
            if (d == kProto)
                out = out && between(proto_, lo, hi, 8);
            else if (d == kPort)
                out = out && between(port_, lo, hi, 16);
            else // a rotated range: one or two ranges of plain addresses, no subtraction
                out = out && addressRange(d == kSrc ? src_ : dst_, lo, hi);
        }
        return out;
    }

    z3::check_result check(z3::solver& s) {
        ++queries_;
        z3::check_result r = s.check();
        if (r == z3::unknown)
            throw ProverUnknown{s.reason_unknown()};
        return r;
    }

    // Is every sendable packet of the box in the difference, and in no class found before?
    // checker holds the domain; each question is pushed and popped.
    bool inside(z3::solver& checker, const Box& box, const z3::expr& difference,
                const z3::expr_vector& found) {
        checker.push();
        checker.add(boxTerm(box) && (!difference || z3::mk_or(found)));
        bool in = check(checker) == z3::unsat;
        checker.pop();
        return in;
    }

    // An address range stays within one family: IPv4 ranges and IPv6 ranges read apart.
    bool oneFamily(const Box& box, Dim d) const {
        if (d != kSrc && d != kDst)
            return true;
        return (axes_[d].first(box[d].first) < kV4End) == (axes_[d].last(box[d].second) < kV4End);
    }

    Box grow(Box box, z3::solver& checker, const z3::expr& difference,
             const z3::expr_vector& found) {
        for (Dim d : {kPort, kSrc, kDst, kProto}) {
            if (!active_[d])
                continue;
            // Across protocols only with every port: otherwise the box would hold ports the
            // other protocols do not carry, and read wrong.
            if (d == kProto &&
                (box[kPort].first != 0 || box[kPort].second + 1 != axes_[kPort].size()))
                continue;
            while (box[d].first > 0) {
                Box wider = box;
                --wider[d].first;
                if (!oneFamily(wider, d) || !inside(checker, wider, difference, found))
                    break;
                box = wider;
            }
            while (box[d].second + 1 < axes_[d].size()) {
                Box wider = box;
                ++wider[d].second;
                if (!oneFamily(wider, d) || !inside(checker, wider, difference, found))
                    break;
                box = wider;
            }
        }
        return box;
    }

    // ---- one class in words -------------------------------------------------------------
    struct Point {
        unsigned proto = 0, port = 0;
        U128 src = 0, dst = 0; // original (not rotated) addresses
    };

    static std::optional<U128> firstSendable(U128 from, U128 to) {
        U128 c = from;
        for (int i = 0; i < 8; ++i) {
            IpPrefix host = hostOfMapped(unrotate(c));
            const IpPrefix* hit = nullptr;
            for (const IpPrefix& bad : unsendableAddresses(host.family))
                if (bad.contains(host))
                    hit = &bad;
            if (!hit)
                return unrotate(c);
            U128 next = rotate(mappedLast(*hit)) + 1;
            if (next <= c || next > to)
                return std::nullopt;
            c = next;
        }
        return std::nullopt;
    }

    // A sendable address of the rotated range, IPv4 first; else its first address.
    static U128 exampleAddress(U128 lo, U128 hi) {
        if (lo < kV4End)
            if (auto a = firstSendable(lo, std::min(hi, kV4End - 1)))
                return *a;
        if (hi >= kV4End)
            if (auto a = firstSendable(std::max(lo, kV4End), hi))
                return *a;
        return unrotate(lo);
    }

    Point exampleOf(const Box& box) {
        Point p;
        U128 protoLo = axes_[kProto].first(box[kProto].first);
        U128 protoHi = axes_[kProto].last(box[kProto].second);
        p.proto = static_cast<unsigned>(protoLo);
        for (unsigned preferred : {6u, 17u, 1u})
            if (protoLo <= preferred && preferred <= protoHi) {
                p.proto = preferred;
                break;
            }
        auto portLo = static_cast<unsigned>(axes_[kPort].first(box[kPort].first));
        auto portHi = static_cast<unsigned>(axes_[kPort].last(box[kPort].second));
        if (p.proto == 6 || p.proto == 17)
            p.port = portLo == 0 && portHi > 0 ? 1 : portLo;
        else if (p.proto == 1)
            p.port = portLo;
        for (Dim d : {kSrc, kDst})
            if (active_[d]) {
                U128 a = exampleAddress(axes_[d].first(box[d].first), axes_[d].last(box[d].second));
                (d == kSrc ? p.src : p.dst) = a;
            }
        return p;
    }

    // The network objects of either policy that hold an address, for the reader.
    std::string networksHolding(U128 address) const {
        std::set<std::string> names;
        for (const auto* p : {&new_, &old_})
            for (const model::NetworkObject& n : p->networks)
                for (const IpPrefix& x : n.prefixes)
                    if (mappedFirst(x) <= address && address <= mappedLast(x))
                        names.insert(n.name);
        std::string out;
        for (const std::string& n : names)
            out += (out.empty() ? " (" : ", ") + n;
        return out.empty() ? "" : out + ")";
    }

    std::string sideText(const Side& s, const Box& box, Dim d, const Point& p, bool example) {
        if (!s.outside)
            return s.name;
        U128 address = d == kSrc ? p.src : p.dst;
        std::string where =
            example ? hostOfMapped(address).str()
                    : addressRangeText(axes_[d].first(box[d].first), axes_[d].last(box[d].second));
        return where + networksHolding(address);
    }

    std::string serviceText(const Box& box) {
        U128 protoLo = axes_[kProto].first(box[kProto].first);
        U128 protoHi = axes_[kProto].last(box[kProto].second);
        U128 portLo = axes_[kPort].first(box[kPort].first);
        U128 portHi = axes_[kPort].last(box[kPort].second);
        if (protoLo == protoHi) {
            auto proto = static_cast<unsigned>(protoLo);
            if (proto == 6 || proto == 17)
                return protocolName(proto) + rangeText("port", portLo, portHi, 65535);
            if (proto == 1)
                return "icmp" + rangeText("type", portLo, portHi, 255);
            return protocolName(proto);
        }
        if (protoLo == 0 && protoHi == 255)
            return "any protocol";
        return "ip protocols " + std::to_string(static_cast<unsigned>(protoLo)) + "-" +
               std::to_string(static_cast<unsigned>(protoHi));
    }

    std::string packetText(const Point& p, const Side& a, const Side& b, const Box& box) {
        std::string out = protocolName(p.proto);
        if (p.proto == 6 || p.proto == 17)
            out += " port " + std::to_string(p.port);
        else if (p.proto == 1)
            out += " type " + std::to_string(p.port);
        return out + " from " + sideText(a, box, kSrc, p, true) + " to " +
               sideText(b, box, kDst, p, true);
    }

    // The lines deciding the example in one policy: the allows that match it when it is
    // permitted, else the denies that match it.
    std::vector<SourceRange> decidingLines(const Relevant& r, const Side& a, const Side& b,
                                           const Point& p, bool permitted) {
        z3::expr_vector vars(ctx_), values(ctx_);
        for (auto [var, value] : {std::pair{src_, constant(p.src, 128)},
                                  {dst_, constant(p.dst, 128)},
                                  {proto_, constant(p.proto, 8)},
                                  {port_, constant(p.port, 16)}}) {
            vars.push_back(var);
            values.push_back(value);
        }
        std::vector<SourceRange> out;
        for (const model::NetFlow* f : permitted ? r.allows : r.denies) {
            z3::expr e = flowTerm(*r.policy, *f, a, b);
            if (e.substitute(vars, values).simplify().is_true())
                out.push_back(f->range);
        }
        return out;
    }

    // ---- one pair of sides --------------------------------------------------------------
    void comparePair(const Side& a, const Side& b, NetComparison& out) {
        Relevant ro = relevant(old_, a, b), rn = relevant(new_, a, b);
        if (ro.allows.empty() && rn.allows.empty())
            return; // neither permits anything between them
        ++out.pairs;
        std::set<U128> ports{1, 256}, src, dst;
        addFlowCuts(ro, ports, src, dst);
        addFlowCuts(rn, ports, src, dst);
        src.insert(kV4End);
        dst.insert(kV4End);
        axes_[kProto] = axisOf({1, 2, 6, 7, 17, 18}, 255);
        axes_[kPort] = axisOf(ports, 65535);
        axes_[kSrc] = axisOf(src, kAddressMax);
        axes_[kDst] = axisOf(dst, kAddressMax);
        active_ = {true, true, a.outside, b.outside};

        z3::expr po = permitted(ro, a, b), pn = permitted(rn, a, b);
        for (bool opened : {true, false}) {
            NetDifference diff;
            diff.from = a.name;
            diff.to = b.name;
            diff.fromOutside = a.outside;
            diff.toOutside = b.outside;
            diff.opened = opened;
            z3::expr difference = opened ? pn && !po : po && !pn;
            z3::solver finder(ctx_, z3::solver::simple());
            finder.set(params_);
            finder.add(domain() && difference);
            z3::solver checker(ctx_, z3::solver::simple());
            checker.set(params_);
            checker.add(domain());
            z3::expr_vector found(ctx_);
            while (check(finder) == z3::sat) {
                if (diff.classes.size() == maxClasses_) {
                    diff.truncated = true;
                    break;
                }
                z3::model m = finder.get_model();
                auto num = [&](const z3::expr& e) {
                    z3::expr v = m.eval(e, true);
                    if (v.get_sort().bv_size() <= 64)
                        return U128(v.get_numeral_uint64());
                    U128 hi = m.eval(e.extract(127, 64), true).get_numeral_uint64();
                    U128 lo = m.eval(e.extract(63, 0), true).get_numeral_uint64();
                    return (hi << 64) | lo;
                };
                Box box;
                U128 at[kDims] = {num(proto_), num(port_), rotate(num(src_)), rotate(num(dst_))};
                for (std::size_t d = 0; d < kDims; ++d) {
                    std::size_t i = active_[d] ? axes_[d].indexOf(at[d]) : 0;
                    box[d] = {i, i};
                }
                box = grow(box, checker, difference, found);
                z3::expr term = boxTerm(box);
                found.push_back(term);
                finder.add(!term);

                Point p = exampleOf(box);
                PacketClass c;
                c.text = serviceText(box) + " from " + sideText(a, box, kSrc, p, false) + " to " +
                         sideText(b, box, kDst, p, false);
                c.example = packetText(p, a, b, box);
                c.oldLines = decidingLines(ro, a, b, p, !opened);
                c.newLines = decidingLines(rn, a, b, p, opened);
                keys_.push_back(sortKey(box));
                diff.classes.push_back(std::move(c));
            }
            sortClasses(diff);
            if (!diff.classes.empty())
                out.differences.push_back(std::move(diff));
        }
    }

    // Classes in packet order (protocol, port, source, destination), not in the order the
    // solver happened to find them.
    std::array<U128, kDims> sortKey(const Box& box) const {
        std::array<U128, kDims> k{};
        for (std::size_t d = 0; d < kDims; ++d)
            k[d] = active_[d] ? axes_[d].first(box[d].first) : 0;
        return k;
    }

    void sortClasses(NetDifference& diff) {
        std::vector<std::size_t> order(diff.classes.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(),
                  [&](std::size_t x, std::size_t y) { return keys_[x] < keys_[y]; });
        std::vector<PacketClass> sorted;
        for (std::size_t i : order)
            sorted.push_back(std::move(diff.classes[i]));
        diff.classes = std::move(sorted);
        keys_.clear();
    }

    const model::Policy& old_;
    const model::Policy& new_;
    std::size_t maxClasses_;
    z3::context ctx_;
    z3::expr src_, dst_, proto_, port_;
    z3::params params_;
    std::array<Axis, kDims> axes_;
    std::array<bool, kDims> active_{};
    std::vector<std::array<U128, kDims>> keys_; // the current difference's classes
    std::size_t queries_ = 0;
};

} // namespace

NetComparison compareNetFlows(const model::Policy& older, const model::Policy& newer,
                              std::uint64_t rlimit, std::size_t maxClasses) {
    return Differ(older, newer, rlimit, maxClasses).run();
}

} // namespace bulkhead::analyzer
