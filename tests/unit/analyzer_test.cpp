// The analyzer on small hand-built policies: one test per Qubes corner case of
// docs/semantics.md and research/qubes-formats.md §1.4-1.8. Each test states whether an
// assertion is violated (BH1001 with the expected hops) or holds (Z3 certificate checked).
#include "test_support.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

// Every body below starts at line 6 (test_support.h). No qube has network, so a qube's
// only outgoing edges are the ones a test adds.
const std::string& kHead = test::kSmallPolicyHead;

// A netvm and two of its clients, for network tests.
const std::string kNet = R"(netvm sys-net { template tpl; trust low; }
qube w { template tpl; trust mid; netvm sys-net; }
qube v { template tpl; trust mid; netvm sys-net; }
)";

test::Checked check(const std::string& body) {
    test::Checked r = test::checkText(kHead + body);
    INFO(r.rendered);
    REQUIRE(r.frontEndErrors == 0);
    REQUIRE(r.policy);
    return r;
}

std::vector<Diagnostic> all(const test::Checked& r, DiagCode code) {
    std::vector<Diagnostic> out;
    std::copy_if(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(out),
                 [&](const Diagnostic& d) { return d.code == code; });
    return out;
}

// The hops of a violation as "from => to [kind...]", without the detail after the bracket.
std::vector<std::string> hops(const Diagnostic& d) {
    std::vector<std::string> out;
    for (const DiagNote& n : d.notes) {
        if (!n.message.starts_with("hop "))
            continue;
        std::size_t colon = n.message.find(": ");
        std::size_t close = n.message.find(']');
        REQUIRE(colon != std::string::npos);
        REQUIRE(close != std::string::npos);
        out.push_back(n.message.substr(colon + 2, close - colon - 1));
    }
    return out;
}

// The one assertion of the policy is violated, by exactly these hops.
void violatedBy(const test::Checked& r, const std::vector<std::string>& expected) {
    INFO(r.rendered);
    std::vector<Diagnostic> v = all(r, DiagCode::AssertionViolated);
    REQUIRE(v.size() == 1);
    CHECK(r.analysis.assertionsViolated == 1);
    CHECK(r.analysis.assertionsHeld == 0);
    CHECK(hops(v.front()) == expected);
}

// Every assertion of the policy (n of them, all no-path) holds, each with its certificate.
void allHold(const test::Checked& r, std::size_t n) {
    INFO(r.rendered);
    CHECK_FALSE(r.has(DiagCode::AssertionViolated));
    CHECK_FALSE(r.has(DiagCode::CouldNotProve));
    CHECK(r.analysis.assertionsViolated == 0);
    CHECK(r.analysis.assertionsHeld == n);
    CHECK(r.analysis.certificatesChecked == n);
}

const char* kAsk = "ask: needs a user's yes";

} // namespace

// ---------------------------------------------------------------- targets and dom0

TEST_CASE("@anyvm as a target never reaches dom0") {
    allHold(check("rpc my.Svc a -> @anyvm allow;\n"
                  "assert no path from a to dom0;\n"
                  "assert no path from a to @adminvm;\n"),
            2);
}

TEST_CASE("* as a target reaches dom0") {
    violatedBy(check("rpc my.Svc a -> * allow;\n"
                     "assert no path from a to dom0;\n"),
               {"a => dom0 [rpc]"});
}

TEST_CASE("@type:AdminVM as a target reaches dom0; @tag does not, dom0 has no tags") {
    violatedBy(check("rpc my.Svc a -> @type:AdminVM allow;\n"
                     "assert no path from a to dom0;\n"),
               {"a => dom0 [rpc]"});

    test::Checked tag = check("qube c { template tpl; trust high; tags x; }\n"
                              "rpc my.Svc a -> @tag:x allow;\n"
                              "assert no path from a to dom0;\n" // line 8: holds
                              "assert no path from a to c;\n");  // line 9: violated
    INFO(tag.rendered);
    CHECK(tag.analysis.assertionsHeld == 1);
    CHECK(tag.analysis.certificatesChecked == 1);
    std::vector<Diagnostic> v = all(tag, DiagCode::AssertionViolated);
    REQUIRE(v.size() == 1);
    CHECK(v.front().range.begin.line == 9);
    CHECK(hops(v.front()) == std::vector<std::string>{"a => c [rpc]"});
}

// ---------------------------------------------------------------- redirects

TEST_CASE("a target= redirect bypasses an earlier deny for that target") {
    test::Checked r = check("rpc my.Svc a -> b deny;\n"
                            "rpc my.Svc a -> @default allow target=b;\n" // line 7
                            "assert no path from a to b;\n");
    violatedBy(r, {"a => b [rpc]"});
    std::vector<Diagnostic> v = all(r, DiagCode::AssertionViolated);
    REQUIRE(!v.empty());
    REQUIRE(!v.front().notes.empty());
    CHECK(v.front().notes.front().range.begin.line == 7); // the redirect decided it
}

TEST_CASE("a target= redirect bypasses a later deny for that target") {
    violatedBy(check("rpc my.Svc a -> @default allow target=b;\n"
                     "rpc my.Svc a -> b deny;\n"
                     "assert no path from a to b;\n"),
               {"a => b [rpc]"});
}

// ---------------------------------------------------------------- disposables

TEST_CASE("@dispvm resolves through the caller's default_dispvm, denied without one") {
    test::Checked r = check("dispvm-template dvm { template tpl; trust mid; }\n"
                            "qube a2 { template tpl; trust low; default_dispvm dvm; }\n"
                            "rpc my.Svc a, a2 -> @dispvm allow;\n"
                            "assert no path from a2 to @dispvm:dvm;\n"  // line 9: violated
                            "assert no path from a to @dispvm:dvm;\n"); // line 10: holds
    INFO(r.rendered);
    CHECK(r.analysis.assertionsHeld == 1);
    CHECK(r.analysis.certificatesChecked == 1);
    std::vector<Diagnostic> v = all(r, DiagCode::AssertionViolated);
    REQUIRE(v.size() == 1);
    CHECK(v.front().range.begin.line == 9);
    CHECK(hops(v.front()) == std::vector<std::string>{"a2 => @dispvm:dvm [rpc]"});
}

TEST_CASE("@dispvm:X as a source never matches: the rule creates no edge") {
    const std::string dvm = "dispvm-template dvm { template tpl; trust mid; }\n";
    test::Checked none = check(dvm + "assert no path from @dispvm:dvm to b;\n");
    test::Checked r = check(dvm + "rpc my.Svc @dispvm:dvm -> b allow;\n"
                                  "assert no path from @dispvm:dvm to b;\n");
    allHold(r, 1);
    CHECK(r.has(DiagCode::SourceNeverMatches));
    CHECK(r.analysis.edges == none.analysis.edges);

    // What does match a disposable caller: its type (or its template's tags).
    violatedBy(check(dvm + "rpc my.Svc @type:DispVM -> b allow;\n"
                           "assert no path from @dispvm:dvm to b;\n"),
               {"@dispvm:dvm => b [rpc]"});
}

// ---------------------------------------------------------------- ask

TEST_CASE("ask gives an edge that needs a user's yes") {
    violatedBy(check("rpc my.Svc a -> b ask;\n"
                     "assert no path from a to b;\n"),
               {"a => b [rpc, " + std::string(kAsk) + "]"});
}

TEST_CASE("ask offers every target of Qubes' ask list, beyond the target called") {
    // A direct call to @dispvm:dvm (and to @dispvm, which is dvm for u) is denied. But the
    // ask list of any other call keeps '@dispvm' (the deny removes '@dispvm:dvm' only) and
    // Qubes expands it to u's default_dispvm afterwards: the user may pick a disposable.
    test::Checked r = check("dispvm-template dvm { template tpl; trust high; }\n"
                            "qube u { template tpl; trust low; default_dispvm dvm; }\n"
                            "rpc my.Svc u -> @dispvm:dvm deny;\n"
                            "rpc my.Svc u -> @anyvm ask;\n" // line 9
                            "assert no path from u to @dispvm:dvm;\n");
    violatedBy(r, {"u => @dispvm:dvm [rpc, " + std::string(kAsk) + "]"});
    std::vector<Diagnostic> v = all(r, DiagCode::AssertionViolated);
    REQUIRE(!v.empty());
    REQUIRE(!v.front().notes.empty());
    CHECK(v.front().notes.front().range.begin.line == 9);

    // @anyvm offers every qube but dom0 and the caller, templates included.
    violatedBy(check("rpc my.Svc a -> @anyvm ask;\n"
                     "assert no path from a to tpl;\n"),
               {"a => tpl [rpc, " + std::string(kAsk) + "]"});
}

TEST_CASE("an earlier deny takes its target out of Qubes' ask list") {
    // collect_targets_for_ask walks the rules backwards: the deny, walked last, removes b
    // from what @anyvm added. (tpl => b is a template edge, hence via rpc.)
    allHold(check("qube c { template tpl; trust high; }\n"
                  "rpc my.Svc a -> b deny;\n"
                  "rpc my.Svc a -> @anyvm ask;\n"
                  "assert no path from a to b via rpc;\n"),
            1);
}

TEST_CASE("ask with target= offers only the redirect (Qubes' Ask.evaluate)") {
    // qrexec/policy/parser.py Ask.evaluate: `if self.target is not None: targets_for_ask =
    // [self.target]`; collect_targets_for_ask is not consulted. Every call from a is asked
    // with b as the only choice; the later allow to c never decides a call.
    allHold(check("qube c { template tpl; trust high; }\n"
                  "rpc my.Svc a -> @anyvm ask target=b;\n"
                  "rpc my.Svc a -> c allow;\n"
                  "assert no path from a to c;\n"),
            1);
}

// ---------------------------------------------------------------- first match

TEST_CASE("first match wins: an earlier deny shadows a later allow") {
    allHold(check("rpc my.Svc a -> b deny;\n"
                  "rpc my.Svc a -> b allow;\n"
                  "assert no path from a to b;\n"),
            1);
    violatedBy(check("rpc my.Svc a -> b allow;\n"
                     "rpc my.Svc a -> b deny;\n"
                     "assert no path from a to b;\n"),
               {"a => b [rpc]"});
}

TEST_CASE("the policy's rules come before the baseline's") {
    // Baseline: qubes.Filecopy from any qube to any qube is allowed. The policy denies every
    // call to b, so b => a remains (Filecopy pushes) and nothing reaches b by rpc.
    test::Checked r = check("rpc qubes.Filecopy @anyvm -> b deny;\n"
                            "assert no path from a to b via rpc;\n"
                            "assert no path from b to a via rpc;\n");
    analyzer::AnalysisOptions options;
    analyzer::BaselineRule all;
    all.service = "qubes.Filecopy";
    all.source = "@anyvm";
    all.target = "@anyvm";
    all.action = "allow";
    options.baseline = {all};
    options.haveBaseline = true;
    DiagnosticSink sink;
    analyzer::AnalysisSummary s = analyzer::analyze(*r.policy, options, sink);
    CHECK(s.assertionsHeld == 1);
    CHECK(s.assertionsViolated == 1);
    std::vector<Diagnostic> diags = sink.sorted();
    auto v = std::find_if(diags.begin(), diags.end(), [](const Diagnostic& d) {
        return d.code == DiagCode::AssertionViolated;
    });
    REQUIRE(v != diags.end());
    CHECK(v->range.begin.line == 8);
    CHECK(hops(*v) == std::vector<std::string>{"b => a [rpc]"});
}

// ---------------------------------------------------------------- data directions

TEST_CASE("qubes.Filecopy pushes: caller => target only") {
    violatedBy(check("rpc qubes.Filecopy a -> b allow;\n"
                     "assert no path from a to b;\n"),
               {"a => b [rpc]"});
    allHold(check("rpc qubes.Filecopy a -> b allow;\n"
                  "assert no path from b to a;\n"),
            1);
}

TEST_CASE("qubes.UpdatesProxy pulls: target => caller only") {
    allHold(check("rpc qubes.UpdatesProxy a -> b allow;\n"
                  "assert no path from a to b;\n"),
            1);
    violatedBy(check("rpc qubes.UpdatesProxy a -> b allow;\n"
                     "assert no path from b to a;\n"),
               {"b => a [rpc]"});
}

TEST_CASE("an unknown service moves data both ways") {
    violatedBy(check("rpc my.Svc a -> b allow;\n"
                     "assert no path from a to b;\n"),
               {"a => b [rpc]"});
    violatedBy(check("rpc my.Svc a -> b allow;\n"
                     "assert no path from b to a;\n"),
               {"b => a [rpc]"});
}

TEST_CASE("rpc-service ... data overrides the direction") {
    const std::string push = "rpc-service my.Svc data push;\nrpc my.Svc a -> b allow;\n";
    violatedBy(check(push + "assert no path from a to b;\n"), {"a => b [rpc]"});
    allHold(check(push + "assert no path from b to a;\n"), 1);

    // Also over a service Qubes' knowledge base knows (Filecopy pushes by default).
    const std::string pull = "rpc-service qubes.Filecopy data pull;\n"
                             "rpc qubes.Filecopy a -> b allow;\n";
    allHold(check(pull + "assert no path from a to b;\n"), 1);
    violatedBy(check(pull + "assert no path from b to a;\n"), {"b => a [rpc]"});
}

// ---------------------------------------------------------------- kinds and via

TEST_CASE("admin services are kind admin: via rpc ignores them, via admin sees them") {
    const std::string shell = "rpc qubes.VMShell a -> b allow;\n";
    allHold(check(shell + "assert no path from a to b via rpc;\n"), 1);
    violatedBy(check(shell + "assert no path from a to b via admin;\n"), {"a => b [admin]"});
    violatedBy(check(shell + "assert no path from a to b;\n"), {"a => b [admin]"});
}

TEST_CASE("via restricts the kinds a path may use") {
    const std::string rpc = "rpc my.Svc a -> b allow;\n";
    allHold(check(rpc + "assert no path from a to b via net, template, netvm, admin;\n"), 1);
    violatedBy(check(rpc + "assert no path from a to b via rpc;\n"), {"a => b [rpc]"});
    // A template controls its qubes; with only template edges, a qube still reaches nothing.
    violatedBy(check("assert no path from tpl to a via template;\n"), {"tpl => a [template]"});
}

TEST_CASE("a template controls its qubes; nothing flows back into the template") {
    violatedBy(check("assert no path from tpl to a;\n"), {"tpl => a [template]"});
    allHold(check("assert no path from a to tpl;\n"), 1);
}

TEST_CASE("a netvm and its client reach each other") {
    violatedBy(check(kNet + "assert no path from sys-net to w;\n"), {"sys-net => w [netvm]"});
    violatedBy(check(kNet + "assert no path from w to sys-net;\n"), {"w => sys-net [netvm]"});
}

// ---------------------------------------------------------------- network flows

TEST_CASE("a network flow moves data both ways by default") {
    const std::string flow = kNet + "allow w -> v : tcp/22;\n";
    violatedBy(check(flow + "assert no path from w to v via net;\n"), {"w => v [net]"});
    violatedBy(check(flow + "assert no path from v to w via net;\n"), {"v => w [net]"});
}

TEST_CASE("a flow that names a dispvm-template covers its disposables, as its tag does") {
    // The firewalls apply the template's rules to each disposable (docs/deploy.md), so the
    // graph has the same net edges from the disposables node whether the flow names the
    // template or one of its tags.
    const std::string dvm = kNet + "dispvm-template d { template tpl; trust low; netvm sys-net; "
                                   "tags t; }\n";
    for (const char* from : {"d", "@tag:t"})
        violatedBy(check(dvm + "allow " + from +
                         " -> v : tcp/22;\nassert no path from @dispvm:d to v via net;\n"),
                   {"@dispvm:d => v [net]"});
}

TEST_CASE("a push service moves data one way") {
    const std::string flow = kNet + "service s = tcp/1 data push;\nallow w -> v : s;\n";
    violatedBy(check(flow + "assert no path from w to v via net;\n"), {"w => v [net]"});
    allHold(check(flow + "assert no path from v to w via net;\n"), 1);
}

TEST_CASE("a deny carve-out removes a flow edge only when it covers all of it") {
    const std::string flow = kNet + "network lan = 10.0.0.0/24;\n"
                                    "allow w -> lan : tcp/443;\n";
    test::Checked partial = check(flow + "deny w -> 10.0.0.7 : tcp/443;\n"
                                         "assert no path from w to lan via net;\n");
    violatedBy(partial, {"w => lan [net]"});
    std::vector<Diagnostic> v = all(partial, DiagCode::AssertionViolated);
    REQUIRE(!v.empty());
    REQUIRE(!v.front().notes.empty());
    CHECK(v.front().notes.front().message.find("tcp port 443") != std::string::npos);
    CHECK(v.front().notes.front().message.find("10.0.0.7)") == std::string::npos);

    allHold(check(flow + "deny w -> 10.0.0.0/16 : tcp;\n"
                         "assert no path from w to lan via net;\n"),
            1);
    allHold(check(flow + "deny w -> lan : any;\n"
                         "assert no path from w to lan via net;\n"),
            1);
    // A deny of other ports leaves the edge.
    violatedBy(check(flow + "deny w -> lan : tcp/80;\n"
                            "assert no path from w to lan via net;\n"),
               {"w => lan [net]"});
}

// ---------------------------------------------------------------- waivers

TEST_CASE("except rpc S removes that service's edges, and only those") {
    const std::string rpc = "rpc my.Svc a -> b allow;\n";
    allHold(check(rpc + "assert no path from a to b except rpc my.Svc because \"r\";\n"), 1);
    violatedBy(check(rpc + "assert no path from a to b except rpc other.Svc because \"r\";\n"),
               {"a => b [rpc]"});
    allHold(check("rpc my.Svc+x a -> b allow;\n"
                  "assert no path from a to b except rpc my.Svc+x because \"r\";\n"),
            1);
    violatedBy(check("rpc my.Svc+x a -> b allow;\n"
                     "assert no path from a to b except rpc my.Svc+y because \"r\";\n"),
               {"a => b [rpc]"});
}

TEST_CASE("except rpc S A -> B removes only the calls from A to B") {
    const std::string rpc = "qube c { template tpl; trust high; }\n"
                            "rpc my.Svc a -> b allow;\n"
                            "rpc my.Svc c -> b allow;\n";
    allHold(check(rpc + "assert no path from a to b except rpc my.Svc a -> b because \"r\";\n"), 1);
    violatedBy(check(rpc + "assert no path from a to b except rpc my.Svc c -> b because \"r\";\n"),
               {"a => b [rpc]"});
    // The waiver names calls by who started them: b's data moving back to a (both ways)
    // is still the call a -> b.
    allHold(check(rpc + "assert no path from b to a except rpc my.Svc a -> b because \"r\";\n"), 1);
}

TEST_CASE("except net A -> B removes only that flow's edges") {
    const std::string flow = kNet + "allow w -> v : tcp/22;\n";
    allHold(check(flow + "assert no path from w to v via net except net w -> v because \"r\";\n"),
            1);
    violatedBy(
        check(flow + "assert no path from w to v via net except net v -> w because \"r\";\n"),
        {"w => v [net]"});
    // With a declared service.
    const std::string named = kNet + "service ssh = tcp/22;\nallow w -> v : ssh;\n";
    allHold(check(named + "assert no path from w to v via net "
                          "except net w -> v : ssh because \"r\";\n"),
            1);
}

TEST_CASE("except net A -> B : S with an inline service list") {
    // language.md §7: the inline item syntax is used wherever a service list is expected;
    // the waiver names exactly the flow's packets, so it must remove its edge.
    allHold(check(kNet + "allow w -> v : tcp/22;\n"
                         "assert no path from w to v via net "
                         "except net w -> v : tcp/22 because \"r\";\n"),
            1);
}

TEST_CASE("except template T removes that template's edges, and only those") {
    allHold(check("assert no path from tpl to a except template tpl because \"r\";\n"), 1);
    violatedBy(check("template tpl2 { trust high; }\n"
                     "assert no path from tpl to a except template tpl2 because \"r\";\n"),
               {"tpl => a [template]"});
}

TEST_CASE("except netvm N removes that netvm's edges, both ways, and only those") {
    allHold(check(kNet + "assert no path from sys-net to w except netvm sys-net because \"r\";\n"),
            1);
    allHold(check(kNet + "assert no path from w to sys-net except netvm sys-net because \"r\";\n"),
            1);
    violatedBy(
        check(kNet + "assert no path from w to sys-net except template tpl because \"r\";\n"),
        {"w => sys-net [netvm]"});
}

// ---------------------------------------------------------------- has no network

TEST_CASE("has no network: violated by a netvm, by providing network, or by a flow") {
    test::Checked client = check(kNet + "assert w has no network;\n");
    CHECK(client.has(DiagCode::HasNetwork));
    CHECK(client.analysis.assertionsViolated == 1);

    test::Checked provider = check(kNet + "assert sys-net has no network;\n");
    CHECK(provider.has(DiagCode::HasNetwork));
    CHECK(provider.analysis.assertionsViolated == 1);

    // A flow by tag names a qube without a netvm.
    test::Checked flow = check("network internet = 0.0.0.0/0;\n"
                               "qube c { template tpl; trust low; tags x; }\n"
                               "allow @tag:x -> internet : tcp/443;\n"
                               "assert c has no network;\n");
    std::vector<Diagnostic> v = all(flow, DiagCode::HasNetwork);
    REQUIRE(v.size() == 1);
    CHECK(v.front().message.find("a network flow reaches c") != std::string::npos);

    test::Checked holds = check(kNet + "assert a, b has no network;\n");
    CHECK_FALSE(holds.has(DiagCode::HasNetwork));
    CHECK(holds.analysis.assertionsHeld == 1);
    CHECK(holds.analysis.assertionsViolated == 0);
}

TEST_CASE("has no network: disposables have their dispvm-template's netvm") {
    // semantics.md: the disposables of X share X's netvm (the graph gives @dispvm:dvm the
    // netvm edges of sys-net). `assert @dispvm:dvm has no network` must not hold.
    test::Checked r =
        check(kNet + "dispvm-template dvm { template tpl; trust mid; netvm sys-net; }\n"
                     "assert @dispvm:dvm has no network;\n");
    INFO(r.rendered);
    CHECK(r.has(DiagCode::HasNetwork));
    CHECK(r.analysis.assertionsHeld == 0);
}

// ---------------------------------------------------------------- requirements

TEST_CASE("require A -> B : S is met, and unmet when a deny carves out part of it") {
    const std::string flow = kNet + "network lan = 10.0.0.0/24;\n"
                                    "allow w -> lan : tcp/443;\n"
                                    "require w -> lan : tcp/443;\n";
    test::Checked met = check(flow);
    CHECK(met.analysis.requirementsMet == 1);
    CHECK(met.analysis.requirementsUnmet == 0);
    CHECK_FALSE(met.has(DiagCode::RequirementUnmet));

    test::Checked unmet = check(flow + "deny w -> 10.0.0.7 : tcp/443;\n");
    CHECK(unmet.analysis.requirementsMet == 0);
    CHECK(unmet.analysis.requirementsUnmet == 1);
    std::vector<Diagnostic> d = all(unmet, DiagCode::RequirementUnmet);
    REQUIRE(d.size() == 1);
    CHECK(d.front().message.find("tcp port 443 from w to lan (10.0.0.7)") != std::string::npos);

    // Wider than what is allowed: unmet.
    test::Checked wider = check(kNet + "network lan = 10.0.0.0/24;\n"
                                       "allow w -> lan : tcp/443;\n"
                                       "require w -> lan : tcp/443, tcp/80;\n");
    CHECK(wider.analysis.requirementsUnmet == 1);
}

TEST_CASE("require rpc S A -> B is met by allow or ask, unmet by deny or no rule") {
    test::Checked allow = check("rpc my.Svc a -> b allow;\nrequire rpc my.Svc a -> b;\n");
    CHECK(allow.analysis.requirementsMet == 1);
    CHECK(allow.analysis.requirementsUnmet == 0);

    test::Checked ask = check("rpc my.Svc a -> b ask;\nrequire rpc my.Svc a -> b;\n");
    CHECK(ask.analysis.requirementsMet == 1);

    test::Checked deny = check("rpc my.Svc a -> b deny;\n" // line 6
                               "rpc my.Svc a -> b allow;\n"
                               "require rpc my.Svc a -> b;\n");
    CHECK(deny.analysis.requirementsUnmet == 1);
    std::vector<Diagnostic> d = all(deny, DiagCode::RequirementUnmet);
    REQUIRE(d.size() == 1);
    REQUIRE(d.front().notes.size() == 1);
    CHECK(d.front().notes.front().range.begin.line == 6);

    test::Checked none = check("require rpc my.Svc a -> b;\n");
    CHECK(none.analysis.requirementsUnmet == 1);
    CHECK(none.has(DiagCode::RequirementUnmet));
}

// ---------------------------------------------------------------- dom0

TEST_CASE("a dom0 service Qubes' design assumes safe: a note, and no edge into dom0") {
    test::Checked none = check("assert no path from a to dom0;\n");
    test::Checked r = check("rpc qubes.FeaturesRequest @anyvm -> dom0 allow;\n"
                            "assert no path from a to dom0;\n");
    allHold(r, 1);
    CHECK(r.has(DiagCode::DesignAssumption));
    CHECK(r.analysis.assumptions.size() == 1);
    CHECK(r.analysis.edges == none.analysis.edges);
    CHECK_FALSE(none.has(DiagCode::DesignAssumption));
    // A note only: the policy is clean.
    for (const Diagnostic& d : r.diagnostics)
        CHECK(d.severity == Severity::Note);

    // Any other service into dom0 is an edge like any other.
    violatedBy(check("rpc my.Svc a -> dom0 allow;\n"
                     "assert no path from a to dom0;\n"),
               {"a => dom0 [rpc]"});
}

TEST_CASE("a path into dom0 reaches every qube") {
    test::Checked r = check("qube c { template tpl; trust high; }\n"
                            "rpc qubes.Filecopy a -> dom0 allow;\n"
                            "assert no path from a to b;\n"
                            "assert no path from a to c;\n"
                            "assert no path from a to tpl;\n");
    INFO(r.rendered);
    std::vector<Diagnostic> v = all(r, DiagCode::AssertionViolated);
    REQUIRE(v.size() == 3);
    CHECK(r.analysis.assertionsHeld == 0);
    CHECK(hops(v[0]) == std::vector<std::string>{"a => dom0 [rpc]", "dom0 => b [admin]"});
    CHECK(hops(v[1]) == std::vector<std::string>{"a => dom0 [rpc]", "dom0 => c [admin]"});
    CHECK(hops(v[2]) == std::vector<std::string>{"a => dom0 [rpc]", "dom0 => tpl [admin]"});
}

// ---------------------------------------------------------------- prover budget

TEST_CASE("with a tiny budget Z3 gives up, and BH1005 says nothing is claimed") {
    test::Checked r = check(kNet + "network lan = 10.0.0.0/24;\n"
                                   "allow w -> lan : tcp/443;\n"
                                   "deny w -> 10.0.0.7 : tcp/443;\n"
                                   "assert no path from w to lan;\n");
    analyzer::AnalysisOptions options;
    options.rlimit = 1;
    DiagnosticSink sink;
    analyzer::AnalysisSummary s = analyzer::analyze(*r.policy, options, sink);
    std::vector<Diagnostic> diags = sink.sorted();
    CHECK(std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
        return d.code == DiagCode::CouldNotProve && d.severity == Severity::Error;
    }));
    CHECK(s.assertionsHeld == 0);
    CHECK(s.assertionsViolated == 0);
}

// ---------------------------------------------------------------- the baseline on the CLI

TEST_CASE("check --baseline: a file name Qubes refuses is BH1007, exit 2") {
    test::TempDir policy;
    fs::path p = policy.write("p.bh", kHead);
    test::TempDir baseline;
    baseline.write("30-User.policy", "qubes.Filecopy * @anyvm @anyvm ask\n");
    test::CliResult r = test::runCli({"check", "--baseline", baseline.path().string(), p.string()});
    INFO(r.err);
    CHECK(r.exitCode == 2);
    CHECK(r.err.find("error[BH1007]") != std::string::npos);
}

TEST_CASE("check --baseline with Qubes' shipped policy from the shared corpus") {
    fs::path corpus = test::sourceDir() / ".." / "shared" / "corpus" / "qubes-policy";
    if (!fs::is_directory(corpus / "policy.d")) {
        MESSAGE("shared corpus not found at " << corpus.string() << ": skipped");
        return;
    }
    test::TempDir dir;
    fs::path p = dir.write("p.bh", kHead);
    test::CliResult r =
        test::runCli({"check", "--baseline", (corpus / "policy.d").string(), "--baseline-legacy",
                      (corpus / "legacy").string(), p.string()});
    INFO(r.out);
    INFO(r.err);
    CHECK(r.err.find("BH1004") == std::string::npos);
    CHECK(r.out.find("baseline: ") != std::string::npos);
    CHECK(r.out.find("(97 rules)") != std::string::npos);
}
