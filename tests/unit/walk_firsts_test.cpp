// A caller some rule names is matched in two steps (caller_classes.h, WalkFirsts): the rules
// of every caller of its key without its name, walked once per key, then the caller's own
// rules laid over them. On random systems and rules, both steps together must give for every
// caller, service, argument and target the same deciding rule and the same next rule of
// another line as Evaluator::firstTwoMatches, which walks the caller's rules in one go.
#include "caller_classes.h"
#include "rpc_system_support.h"

#include <doctest/doctest.h>

#include <random>

using namespace bulkhead::analyzer::rpc;

namespace {

System randomSystem(std::mt19937& rng) {
    auto coin = [&](unsigned percent) {
        return std::uniform_int_distribution<unsigned>(0, 99)(rng) < percent;
    };
    System sys;
    bulkhead::test::addQube(sys, "dom0", "AdminVM", {});
    bulkhead::test::addQube(sys, "dvm-a", "AppVM", {"g"}, {}, true); // 1
    bulkhead::test::addQube(sys, "dvm-b", "AppVM", {}, {}, true);    // 2
    const std::vector<std::string> types = {"AppVM", "AppVM", "StandaloneVM", "TemplateVM"};
    for (std::size_t i = 0; i < 8; ++i) {
        std::vector<std::string> tags;
        for (const char* t : {"g", "x", "y"})
            if (coin(40))
                tags.push_back(t);
        std::optional<std::size_t> dvm;
        if (coin(70))
            dvm = coin(50) ? 1 : 2;
        bulkhead::test::addQube(sys, "q" + std::to_string(i), types[rng() % types.size()],
                                std::move(tags), dvm);
    }
    return sys;
}

std::vector<Rule> randomRules(std::mt19937& rng) {
    // Names come often, and the same few, so that callers are named by several rules.
    const std::vector<std::string> sources = {
        "q0", "q1", "q2", "q0", "q1", "@anyvm", "*", "@tag:g", "@tag:x", "@type:AppVM", "@adminvm"};
    const std::vector<std::string> targets = {"q0",
                                              "q1",
                                              "q3",
                                              "dom0",
                                              "@anyvm",
                                              "*",
                                              "@adminvm",
                                              "@tag:g",
                                              "@tag:y",
                                              "@type:AppVM",
                                              "@default",
                                              "@dispvm",
                                              "@dispvm:dvm-a",
                                              "@dispvm:@tag:g"};
    auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
    std::vector<Rule> out;
    std::uint32_t line = 1;
    std::size_t n = 4 + rng() % 20;
    for (std::size_t i = 0; i < n; ++i) {
        Rule r;
        r.service = rng() % 5 == 0 ? "*" : "my.S";
        if (rng() % 4 == 0)
            r.argument = "+a";
        r.source = parseToken(pick(sources));
        r.target = parseToken(pick(targets));
        r.action = static_cast<Rule::Action>(rng() % 3);
        // Some rules share a line with the one before (a line of several sources or targets
        // gives several rules): "next" skips the rest of the deciding line.
        if (i == 0 || rng() % 3 != 0)
            ++line;
        r.range.begin.line = line;
        r.range.end.line = line;
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace

// f(ev, u, service, argument) for every service and argument of 300 random systems and
// policies.
template <class F> void onRandomPolicies(F&& f) {
    for (unsigned seed = 1; seed <= 300; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        System sys = randomSystem(rng);
        Evaluator ev(sys, randomRules(rng));
        Universe u = universeOf(sys, ev);
        for (const auto& [service, args] : u.services)
            for (const std::string& arg : args)
                f(ev, u, service, arg);
    }
}

TEST_CASE("a named caller's matches laid over its key's are the matches walked in one go") {
    std::size_t compared = 0, differing = 0, ownChanges = 0;
    onRandomPolicies([&](const Evaluator& ev, const Universe& u, const std::string& service,
                         const std::string& arg) {
        WalkFirsts firsts(ev, service, arg, u);
        for (std::size_t i = 0; i < u.callers.size(); ++i) {
            CAPTURE(i);
            Evaluator::FirstTwo whole = ev.firstTwoMatches(service, arg, u.callers[i], u);
            WalkFirsts::Origin origin;
            Evaluator::FirstTwo split = firsts.of(i, &origin);
            CHECK(split.first == whole.first);
            CHECK(split.next == whole.next);
            // The test means something only where the caller's own rules count.
            Evaluator::FirstTwo byClass = ev.firstTwoByClass(service, arg, u.callers[i], u);
            differing += byClass.first != whole.first || byClass.next != whole.next;
            ++compared;
            // Origin: past ownUpTo (and but for @dispvm) the answer is the key's; at
            // ownUpTo the caller's own rules changed it.
            CHECK(origin.key.has_value() == (u.callers[i].qube != 0));
            if (!origin.key)
                continue;
            std::size_t dispvm = *u.index.dispvmTarget();
            for (std::size_t ti = 0; ti < u.targets.size(); ++ti) {
                if (ti == dispvm || (origin.ownUpTo && ti <= *origin.ownUpTo))
                    continue;
                CHECK(split.first[ti] == byClass.first[ti]);
                CHECK(split.next[ti] == byClass.next[ti]);
            }
            if (origin.ownUpTo && *origin.ownUpTo != dispvm) {
                std::size_t at = *origin.ownUpTo;
                CHECK((split.first[at] != byClass.first[at] || split.next[at] != byClass.next[at]));
                ++ownChanges;
            }
        }
    });
    CHECK(compared > 5000);
    CHECK(differing > 500);
    CHECK(ownChanges > 300);
}

TEST_CASE("a caller no rule of an argument matches is decided for it as for no argument") {
    // ArgumentRules (caller_classes.h): the walks of such callers are the "" ones, in the
    // graph's rpc edges and in the rule findings alike.
    std::size_t same = 0, matter = 0, differing = 0;
    onRandomPolicies([&](const Evaluator& ev, const Universe& u, const std::string& service,
                         const std::string& arg) {
        ArgumentRules own(ev, service, arg);
        for (std::size_t i = 0; i < u.callers.size(); ++i) {
            CAPTURE(i);
            const Caller& c = u.callers[i];
            Evaluator::FirstTwo withArg = ev.firstTwoMatches(service, arg, c, u);
            Evaluator::FirstTwo without = ev.firstTwoMatches(service, "", c, u);
            bool decidedAlike = withArg.first == without.first && withArg.next == without.next;
            for (std::size_t ti = 0; ti < u.targets.size(); ++ti) {
                Decision a = ev.evaluate(service, arg, c, u.targets[ti]);
                Decision b = ev.evaluate(service, "", c, u.targets[ti]);
                decidedAlike = decidedAlike && a.result == b.result && a.rule == b.rule &&
                               a.landings == b.landings && a.askList == b.askList;
            }
            if (own.matter(c)) {
                ++matter;
                differing += !decidedAlike;
                continue;
            }
            CHECK(decidedAlike);
            same += !arg.empty();
        }
    });
    // Both kinds of caller occur, and the ones that matter are often decided otherwise.
    CHECK(same > 1000);
    CHECK(matter > 1000);
    CHECK(differing > 300);
}
