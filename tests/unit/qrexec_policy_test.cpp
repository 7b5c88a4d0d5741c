// The qrexec policy.d importer against Qubes' own shipped policy (shared corpus) and against
// tiny policies that trigger each of Qubes' parser errors (qubes-formats.md §1.10).
#include "test_support.h"

#include "bulkhead/compiler/qrexec_policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

// The copy of a stock dom0's policy; BULKHEAD_QUBES_CORPUS overrides where it lives.
fs::path corpusDir() {
    if (const char* env = std::getenv("BULKHEAD_QUBES_CORPUS"))
        return env;
    return test::sourceDir().parent_path() / "shared" / "corpus" / "qubes-policy";
}

QrexecPolicyLoad loadCorpus(const std::string& legacyDir) {
    QrexecPolicyOptions options;
    options.policyDirs = {(corpusDir() / "policy.d").string()};
    options.legacyDir = legacyDir;
    return loadQrexecPolicy(options);
}

QrexecPolicyLoad parse(const std::string& text) {
    QrexecTextOptions options;
    options.file = "t.policy";
    return parseQrexecPolicyText(text, options);
}

// The one error a one-line policy gives, as Qubes logs it.
std::string errorOf(const std::string& text) {
    QrexecPolicyLoad load = parse(text);
    if (load.errors.size() != 1)
        return "expected one error, got " + std::to_string(load.errors.size());
    CHECK(load.rules.empty());
    CHECK(load.refused());
    return load.errors[0].render();
}

std::vector<std::string> rendered(const QrexecPolicyLoad& load) {
    std::vector<std::string> out;
    for (const QrexecError& e : load.errors)
        out.push_back(e.render());
    return out;
}

QrexecPolicyLoad loadDirs(const std::vector<fs::path>& dirs, const fs::path& legacy = {}) {
    QrexecPolicyOptions options;
    options.policyDirs.clear();
    for (const fs::path& d : dirs)
        options.policyDirs.push_back(d.string());
    options.legacyDir = legacy.empty() ? "/nonexistent-legacy" : legacy.string();
    return loadQrexecPolicy(options);
}

QrexecToken name(const std::string& value) {
    return {QrexecTokenKind::Name, value};
}
QrexecToken keyword(QrexecTokenKind kind, const std::string& value = "") {
    return {kind, value};
}

} // namespace

TEST_CASE("qubes' shipped policy loads without an error: 12 files, 97 rules") {
    REQUIRE(fs::is_directory(corpusDir()));
    std::string legacy = (corpusDir() / "legacy").string();
    QrexecPolicyLoad load = loadCorpus(legacy);
    CHECK(rendered(load).empty());
    CHECK_FALSE(load.refused());
    CHECK(load.files.size() == 12);
    CHECK(load.rules.size() == 97);
    std::string dir = (corpusDir() / "policy.d").string();
    CHECK(load.files.front() == dir + "/30-user-gpg2.policy");
    CHECK(load.files.back() == dir + "/91-admin-default-deny.policy");
    CHECK(std::is_sorted(load.files.begin(), load.files.end()));
    // README and include/ are not policy files.
    for (const std::string& f : load.files)
        CHECK(f.ends_with(".policy"));

    // Every shipped !include-service target is comments only, so they add no rule.
    auto services = std::count_if(load.directives.begin(), load.directives.end(), [](auto& d) {
        return d.kind == QrexecDirectiveKind::IncludeService && d.followed;
    });
    CHECK(services == 97 + 9);
    CHECK(std::none_of(load.rules.begin(), load.rules.end(),
                       [](const QrexecRule& r) { return !r.via.empty() && r.line != 1; }));
}

TEST_CASE("the legacy files come in through 35-compat.policy, sorted by service") {
    std::string legacy = (corpusDir() / "legacy").string();
    QrexecPolicyLoad load = loadCorpus(legacy);
    REQUIRE(load.rules.size() == 97);
    std::string compat = (corpusDir() / "policy.d" / "35-compat.policy").string();
    const char* order[] = {"qubes.Gpg", "qubes.GpgImportKey", "qubes.InputKeyboard",
                           "qubes.InputMouse", "qubes.InputTablet"};
    for (std::size_t k = 0; k < 5; ++k) {
        const QrexecRule& r = load.rules[k];
        CAPTURE(k);
        CHECK(r.service == order[k]);
        CHECK_FALSE(r.argument);
        CHECK(r.source == keyword(QrexecTokenKind::AnyVm));
        CHECK(r.target == keyword(QrexecTokenKind::AnyVm));
        // The same file, whether or not the corpus path goes through a symlink.
        CHECK(fs::equivalent(r.file, legacy + "/" + order[k]));
        CHECK(r.line == 1);
        REQUIRE(r.via.size() == 1);
        CHECK(r.via[0].directive == QrexecDirectiveKind::Compat40);
        CHECK(r.via[0].file == compat);
        CHECK(r.via[0].line == 16);
        CHECK_FALSE(r.compatImplicitDeny); // no '+' file: generic ones fall through
    }
    // `$anyvm  $anyvm  ask` converted.
    CHECK(load.rules[0].action == QrexecAction::Ask);
    CHECK(formatQrexecRule(load.rules[0]) == "qubes.Gpg\t*\t@anyvm\t@anyvm\task");
    CHECK(load.rules[2].action == QrexecAction::Deny);
    // Whonix's rules follow (80-whonix.policy).
    CHECK(load.rules[5].service == "sdwdate-gui.Connect");
}

TEST_CASE("the qubes.UpdatesProxy rules of 90-default.policy, with their lines") {
    QrexecPolicyLoad load = loadCorpus((corpusDir() / "legacy").string());
    std::vector<const QrexecRule*> proxy;
    for (const QrexecRule& r : load.rules)
        if (r.service == "qubes.UpdatesProxy")
            proxy.push_back(&r);
    REQUIRE(proxy.size() == 4); // the commented-out line 72 is not a rule
    std::string file = (corpusDir() / "policy.d" / "90-default.policy").string();
    CHECK(proxy[0]->location() == file + ":74");
    CHECK(proxy[0]->source == keyword(QrexecTokenKind::Tag, "whonix-updatevm"));
    CHECK(proxy[0]->target == keyword(QrexecTokenKind::Default));
    CHECK(proxy[0]->action == QrexecAction::Allow);
    CHECK(proxy[0]->redirect == name("sys-whonix"));
    CHECK(proxy[1]->location() == file + ":76");
    CHECK(proxy[1]->action == QrexecAction::Deny);
    CHECK(proxy[1]->effectiveNotify());
    CHECK(proxy[2]->location() == file + ":78");
    CHECK(proxy[2]->source == keyword(QrexecTokenKind::Type, "TemplateVM"));
    CHECK(proxy[2]->redirect == name("sys-net"));
    CHECK(proxy[3]->location() == file + ":79");
    CHECK(proxy[3]->source.text() == "@anyvm");
    for (const QrexecRule* r : proxy)
        CHECK(r->via.empty());

    // whonix.SdwdateStatus + : the lone '+' is the empty argument.
    auto status = std::find_if(load.rules.begin(), load.rules.end(),
                               [](auto& r) { return r.service == "whonix.SdwdateStatus"; });
    REQUIRE(status != load.rules.end());
    CHECK(status->argument == "+");
    CHECK(status->autostart == false);
    CHECK(status->notify == false);
    CHECK(status->line == 20);
}

TEST_CASE("without the legacy directory !compat-4.0 fails the whole policy") {
    test::TempDir tmp;
    std::string missing = (tmp.path() / "qubes-rpc-policy").string();
    QrexecPolicyLoad load = loadCorpus(missing);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].line == 0);
    CHECK(load.errors[0].file == missing);
    CHECK(load.errors[0].render() == "failed to load " + missing +
                                         " file: [Errno 2] No such file or directory: '" + missing +
                                         "'");
    CHECK(load.refused());
    CHECK(load.rules.size() == 92); // the rest still read, for the report
}

TEST_CASE("rule-level errors carry Qubes' exact message and the line") {
    CHECK(errorOf("qubes.X * @anyvm @anyvm") == "t.policy:1: wrong number of fields");
    CHECK(errorOf("\n\nqubes.X") == "t.policy:3: wrong number of fields");
    CHECK(errorOf("qubes.X+y * @anyvm @anyvm allow") ==
          "t.policy:1: service 'qubes.X+y' contains invalid characters: ('+',)");
    CHECK(errorOf("q/b!c+d!e * @anyvm @anyvm allow") ==
          "t.policy:1: service 'q/b!c+d!e' contains invalid characters: ('!', '+', '/')");
    CHECK(errorOf("qubes.X +a/b @anyvm @anyvm allow") ==
          "t.policy:1: argument '+a/b' contains invalid characters: ('/',)");
    CHECK(errorOf("qubes.X arg @anyvm @anyvm allow") ==
          "t.policy:1: argument 'arg' does not start with +");
    CHECK(errorOf("* +x @anyvm @anyvm allow") ==
          "t.policy:1: only * argument allowed for * service");
    CHECK(errorOf("qubes.X * @anyvm @anyvm allow target=") ==
          "t.policy:1: invalid empty redirect token");
    CHECK(errorOf("qubes.X * @type: @anyvm allow") ==
          "t.policy:1: invalid empty @type: token: '@type:'");
    CHECK(errorOf("qubes.X * @anyvm @dispvm:@tag: allow") ==
          "t.policy:1: invalid empty @dispvm:@tag: token: '@dispvm:@tag:'");
    CHECK(errorOf("qubes.X * @default @anyvm allow") ==
          "t.policy:1: invalid source token: '@default'");
    CHECK(errorOf("qubes.X * @dispvm @anyvm allow") ==
          "t.policy:1: invalid source token: '@dispvm'");
    CHECK(errorOf("qubes.X * @anyvm @invalid deny") ==
          "t.policy:1: invalid target token: '@invalid'");
    CHECK(errorOf("qubes.X * @anyvm @tag:@x deny") ==
          "t.policy:1: invalid target token: '@tag:@x'");
    CHECK(errorOf("qubes.X * @anyvm @default allow target=@anyvm") ==
          "t.policy:1: invalid redirect token: '@anyvm'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm ask default_target=@dispvm:@tag:t") ==
          "t.policy:1: invalid redirect token: '@dispvm:@tag:t'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm ALLOW") == "t.policy:1: invalid action: ALLOW");
    CHECK(errorOf("qubes.X * @anyvm @anyvm allow,target=dom0") ==
          "t.policy:1: invalid action: allow,target=dom0");
    // No inline comments.
    CHECK(errorOf("qubes.X * @anyvm @anyvm allow # x") ==
          "t.policy:1: invalid action parameter syntax: '#'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm deny notify=no notify=yes") ==
          "t.policy:1: parameter given twice: 'notify'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm deny notify=maybe") ==
          "t.policy:1: 'notify' is 'maybe', but can be only 'yes' or 'no'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm allow autostart=YES") ==
          "t.policy:1: 'autostart' is 'YES', but can be only 'yes' or 'no'");
    CHECK(errorOf("qubes.X * @anyvm @anyvm deny target=dom0") ==
          "t.policy:1: invalid parameters for action Deny: ['target=dom0']");
    CHECK(errorOf("qubes.X * @anyvm @anyvm allow user=u default_target=dom0") ==
          "t.policy:1: invalid parameters for action Allow: ['user=u', 'default_target=dom0']");
    CHECK(errorOf("qubes.X * @anyvm @anyvm ask foo=bar") ==
          "t.policy:1: invalid parameters for action Ask: ['foo=bar']");
    CHECK(errorOf("qubes.X * @anyvm @default allow") ==
          "t.policy:1: allow action for @default rule must specify target= option");
}

TEST_CASE("checks run in Qubes' order, so the first problem is the one reported") {
    // service before tokens, source before target, tokens before the action, the yes/no
    // check before unknown keys, unknown keys before the redirect token.
    CHECK(errorOf("a+b * @default @bad nope") ==
          "t.policy:1: service 'a+b' contains invalid characters: ('+',)");
    CHECK(errorOf("a * @default @bad nope") == "t.policy:1: invalid source token: '@default'");
    CHECK(errorOf("a * @anyvm @bad nope") == "t.policy:1: invalid target token: '@bad'");
    CHECK(errorOf("a * @anyvm @anyvm deny autostart=maybe") ==
          "t.policy:1: 'autostart' is 'maybe', but can be only 'yes' or 'no'");
    CHECK(errorOf("a * @anyvm @anyvm deny autostart=no") ==
          "t.policy:1: invalid parameters for action Deny: ['autostart=no']");
    CHECK(errorOf("a * @anyvm @anyvm allow target=@tag:x foo=1") ==
          "t.policy:1: invalid parameters for action Allow: ['target=@tag:x', 'foo=1']");
    // A quote inside switches Python's repr to double quotes; controls are escaped.
    CHECK(errorOf("a'b * @anyvm @anyvm allow") ==
          "t.policy:1: service \"a'b\" contains invalid characters: (\"'\",)");
    CHECK(errorOf("a\x01 * @anyvm @anyvm allow") ==
          "t.policy:1: service 'a\\x01' contains invalid characters: ('\\x01',)");
    CHECK(errorOf("w\xc3\xb6rk * @anyvm @anyvm allow") ==
          "t.policy:1: service 'w\xc3\xb6rk' contains invalid characters: ('\xc3\xb6',)");
    CHECK(errorOf("\xef\xbb\xbfqubes.X * @anyvm @anyvm allow") ==
          "t.policy:1: service '\\ufeffqubes.X' contains invalid characters: ('\\ufeff',)");
}

TEST_CASE("names are literals: any word that is not '*' or '@...' is accepted") {
    QrexecPolicyLoad load = parse("a * it's w\xc3\xb6rk allow\n"
                                  "a * uuid:00000000-0000-0000-0000-000000000000 dom0 deny\n"
                                  "a * @dispvm:uuid:1234 @dispvm:@tag:t allow\n");
    REQUIRE(rendered(load).empty());
    REQUIRE(load.rules.size() == 3);
    CHECK(load.rules[0].source == name("it's"));
    CHECK(load.rules[0].target == name("w\xc3\xb6rk"));
    CHECK(load.rules[1].source.kind == QrexecTokenKind::Uuid);
    CHECK(load.rules[1].source.isDom0());
    CHECK(load.rules[1].target == name("dom0"));
    CHECK(load.rules[1].target.isDom0());
    CHECK(load.rules[2].source == keyword(QrexecTokenKind::DispVmTemplate, "uuid:1234"));
    CHECK(load.rules[2].target == keyword(QrexecTokenKind::DispVmTag, "t"));
    CHECK(load.rules[2].target.text() == "@dispvm:@tag:t");
}

TEST_CASE("each token is accepted only in its columns") {
    struct Case {
        const char* text;
        bool source, target, redirect, intended;
    };
    const Case cases[] = {
        {"work", true, true, true, true},        {"*", true, true, false, false},
        {"@adminvm", true, true, true, true},    {"@anyvm", true, true, false, false},
        {"@default", false, true, false, true},  {"@dispvm", false, true, true, true},
        {"@dispvm:dvm", true, true, true, true}, {"@dispvm:@tag:t", true, true, false, false},
        {"@tag:t", true, true, false, false},    {"@type:AppVM", true, true, false, false},
        {"@uuid:x", false, false, false, false}, {"@", false, false, false, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(parseQrexecToken(c.text, QrexecColumn::Source).token.has_value() == c.source);
        CHECK(parseQrexecToken(c.text, QrexecColumn::Target).token.has_value() == c.target);
        CHECK(parseQrexecToken(c.text, QrexecColumn::Redirect).token.has_value() == c.redirect);
        CHECK(parseQrexecToken(c.text, QrexecColumn::IntendedTarget).token.has_value() ==
              c.intended);
        if (auto t = parseQrexecToken(c.text, QrexecColumn::Target).token)
            CHECK(t->text() == c.text);
    }
    CHECK(parseQrexecToken("@anyvm", QrexecColumn::IntendedTarget).error ==
          "invalid intendedtarget token: '@anyvm'");
    CHECK(parseQrexecToken("*", QrexecColumn::Redirect).error == "invalid redirect token: '*'");
    CHECK(parseQrexecToken("@dispvm:", QrexecColumn::Redirect).error ==
          "invalid empty @dispvm: token: '@dispvm:'");
    CHECK(parseQrexecToken("@dispvm:@tag:", QrexecColumn::Redirect).error ==
          "invalid redirect token: '@dispvm:@tag:'");
}

TEST_CASE("arguments, parameters and their defaults") {
    QrexecPolicyLoad load = parse("a + @anyvm @anyvm allow\n"
                                  "a +a+b @anyvm @anyvm deny notify=no\n"
                                  "a * @anyvm @anyvm ask default_target=@dispvm autostart=no "
                                  "user= notify=yes target=@dispvm:dvm\n"
                                  "a * @anyvm @default ask\n"
                                  "a * @anyvm @default allow target=dom0 user=x=y\n");
    REQUIRE(rendered(load).empty());
    REQUIRE(load.rules.size() == 5);
    const auto& r = load.rules;
    CHECK(r[0].argument == "+");
    CHECK_FALSE(r[0].effectiveNotify());
    CHECK(r[0].effectiveAutostart());
    CHECK(r[1].argument == "+a+b");
    CHECK(r[1].notify == false);
    CHECK_FALSE(r[1].effectiveNotify());
    CHECK_FALSE(r[2].argument);
    CHECK(r[2].defaultTarget == keyword(QrexecTokenKind::DispVm));
    CHECK(r[2].redirect == keyword(QrexecTokenKind::DispVmTemplate, "dvm"));
    CHECK(r[2].autostart == false);
    CHECK(r[2].notify == true);
    CHECK(r[2].user == ""); // empty means the default user, and is accepted
    CHECK(formatQrexecRule(r[2]) == "a\t*\t@anyvm\t@anyvm\task target=@dispvm:dvm "
                                    "default_target=@dispvm user= notify=yes autostart=no");
    CHECK(r[3].action == QrexecAction::Ask); // ask on @default needs no target=
    CHECK(r[4].redirect == name("dom0"));
    CHECK(r[4].redirect->isDom0());
    CHECK(r[4].user == "x=y"); // split on the first '='
    for (std::size_t k = 0; k < r.size(); ++k)
        CHECK(r[k].line == k + 1);
}

TEST_CASE("lines: Python's strip, split and universal newlines") {
    // "\r\n", "\r" and "\n" each end a line; tabs, vertical tabs and Unicode spaces split.
    QrexecPolicyLoad load = parse("# c\r\n\r  \ta\t*\v@anyvm\xc2\xa0@anyvm\xe3\x80\x80"
                                  "allow   \r\n\x0c\n  # indented comment\nb * @anyvm @anyvm");
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].render() == "t.policy:6: wrong number of fields");
    REQUIRE(load.rules.size() == 1);
    CHECK(load.rules[0].line == 3);
    CHECK(load.rules[0].service == "a");
    CHECK(load.rules[0].action == QrexecAction::Allow);
}

TEST_CASE("bytes that are not UTF-8 fail the policy after the lines before them") {
    QrexecPolicyLoad load = parse("a * @anyvm @anyvm allow\nb * \xff @anyvm allow\n");
    CHECK(load.rules.size() == 1);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].render() == "t.policy:2: UnicodeDecodeError: 'utf-8' codec can't "
                                     "decode byte 0xff: invalid start byte");
    CHECK(parse("a \xed\xa0\x80").errors.at(0).message ==
          "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xed: invalid continuation byte");
    CHECK(parse("a \xe2\x82").errors.at(0).message ==
          "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe2: unexpected end of data");
}

TEST_CASE("directive errors") {
    CHECK(errorOf("!include") == "t.policy:1: invalid number of params");
    CHECK(errorOf("!include a b") == "t.policy:1: invalid number of params");
    CHECK(errorOf("!include-dir") == "t.policy:1: invalid number of params");
    CHECK(errorOf("!include-service a * ") == "t.policy:1: invalid number of params");
    CHECK(errorOf("!compat-4.0 now") == "t.policy:1: invalid number of params");
    CHECK(errorOf("!foo x") == "t.policy:1: invalid directive");
    CHECK(errorOf("! include x") == "t.policy:1: invalid directive");
    CHECK(errorOf("!include-service a+b * x") ==
          "t.policy:1: service 'a+b' contains invalid characters: ('+',)");
    CHECK(errorOf("!include-service * +x x") ==
          "t.policy:1: only * argument allowed for * service");

    // Without a policy directory the directives are checked but not followed.
    QrexecPolicyLoad load = parse("!include include/x\n!compat-4.0\n");
    CHECK(rendered(load).empty());
    REQUIRE(load.directives.size() == 2);
    CHECK(load.directives[0].path == "include/x");
    CHECK_FALSE(load.directives[0].followed);
    CHECK(load.directives[1].kind == QrexecDirectiveKind::Compat40);

    test::TempDir tmp;
    tmp.write("policy.d/include/dir/README", "");
    std::string d = (tmp.path() / "policy.d").string();
    QrexecTextOptions options;
    options.file = d + "/50-x.policy";
    options.policyDir = d;
    load = parseQrexecPolicyText("!include include/missing\n"
                                 "!include include/dir\n"
                                 "!include-dir include/dir/README\n"
                                 "!include-service a * include/nope\n",
                                 options);
    CHECK(rendered(load) == std::vector<std::string>{
                                options.file + ":1: not a file: " + d + "/include/missing",
                                options.file + ":2: not a file: " + d + "/include/dir",
                                options.file + ":3: not a directory: " + d + "/include/dir/README",
                                options.file + ":4: not a file: " + d + "/include/nope",
                            });
}

TEST_CASE("file filter: only visible *.policy regular files, and names must be lowercase") {
    test::TempDir tmp;
    tmp.write("d/README", "not a policy\n");
    tmp.write("d/.hidden.policy", "garbage\n");
    tmp.write("d/50-x.policy.rpmsave", "garbage\n");
    tmp.write("d/50-x.Policy", "garbage\n");
    tmp.write("d/sub.policy/30-a.policy", "garbage\n");
    tmp.write("d/50-x.policy", "a * @anyvm @anyvm allow\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "d"});
    CHECK(rendered(load).empty());
    CHECK(load.files == std::vector<std::string>{(tmp.path() / "d" / "50-x.policy").string()});
    CHECK(load.rules.size() == 1);

    // One bad name fails everything, with no position.
    tmp.write("d/30-User.policy", "a * @anyvm @anyvm deny\n");
    load = loadDirs({tmp.path() / "d"});
    std::string bad = (tmp.path() / "d" / "30-User.policy").string();
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].line == 0);
    CHECK(load.errors[0].render() == "invalid filename: " + bad);
    CHECK(load.refused());
}

TEST_CASE("two directories merge by basename, the first wins, then all sort by name") {
    test::TempDir tmp;
    tmp.write("run/50-a.policy", "run * @anyvm @anyvm allow\n");
    tmp.write("etc/50-a.policy", "etc * @anyvm @anyvm allow\n");
    tmp.write("etc/10-b.policy", "b * @anyvm @anyvm allow\n");
    tmp.write("etc/10_b.policy", "u * @anyvm @anyvm allow\n");
    tmp.write("etc/10.b.policy", "p * @anyvm @anyvm allow\n");
    tmp.write("run/9-c.policy", "c * @anyvm @anyvm allow\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "run", tmp.path() / "etc"});
    CHECK(rendered(load).empty());
    std::string run = (tmp.path() / "run").string(), etc = (tmp.path() / "etc").string();
    // Byte order: '-' < '.' < digits < '_'.
    CHECK(load.files == std::vector<std::string>{etc + "/10-b.policy", etc + "/10.b.policy",
                                                 etc + "/10_b.policy", run + "/50-a.policy",
                                                 run + "/9-c.policy"});
    std::vector<std::string> services;
    for (const QrexecRule& r : load.rules)
        services.push_back(r.service);
    CHECK(services == std::vector<std::string>{"b", "p", "u", "run", "c"});

    // A missing directory is an OSError to Qubes: the policy fails.
    load = loadDirs({tmp.path() / "nope", tmp.path() / "etc"});
    REQUIRE_FALSE(load.errors.empty());
    CHECK(load.errors[0].message.starts_with("failed to load " + (tmp.path() / "nope").string() +
                                             " file: [Errno 2] No such file or directory"));
}

TEST_CASE("!include, !include-dir and !include-service expand in place") {
    test::TempDir tmp;
    std::string d = (tmp.path() / "policy.d").string();
    tmp.write("policy.d/50-main.policy", "first * @anyvm @anyvm allow\n"
                                         "!include include/one\n"
                                         "!include-dir include/many\n"
                                         "!include-service admin.vm.List * include/admin-local-ro\n"
                                         "last * @anyvm @anyvm deny\n");
    tmp.write("policy.d/include/one", "one * @anyvm @anyvm allow\n");
    tmp.write("policy.d/include/many/20-b.policy", "many-b * @anyvm @anyvm allow\n");
    tmp.write("policy.d/include/many/10-a.policy", "many-a * @anyvm @anyvm allow\n");
    tmp.write("policy.d/include/many/README", "ignored\n");
    // Old syntax; nested paths are relative to policy.d, not to the including file.
    tmp.write("policy.d/include/admin-local-ro", "!include include/admin-local-rwx\n"
                                                 "$tag:mgmt $adminvm allow,target=$adminvm\n");
    tmp.write("policy.d/include/admin-local-rwx", "# comment\n"
                                                  "@tag:mgmt @anyvm ask,default_target=$dispvm\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "policy.d"});
    CHECK(rendered(load).empty());
    std::vector<std::string> services;
    for (const QrexecRule& r : load.rules)
        services.push_back(r.service);
    CHECK(services == std::vector<std::string>{"first", "one", "many-a", "many-b", "admin.vm.List",
                                               "admin.vm.List", "last"});
    std::string main = d + "/50-main.policy";
    const QrexecRule& one = load.rules[1];
    CHECK(one.location() == d + "/include/one:1");
    REQUIRE(one.via.size() == 1);
    CHECK(one.via[0].directive == QrexecDirectiveKind::Include);
    CHECK(one.via[0].file == main);
    CHECK(one.via[0].line == 2);
    CHECK(load.rules[2].location() == d + "/include/many/10-a.policy:1");
    CHECK(load.rules[2].via.at(0).directive == QrexecDirectiveKind::IncludeDir);

    // The admin rule that came through !include-service, then the nested !include.
    const QrexecRule& rwx = load.rules[4];
    CHECK(rwx.service == "admin.vm.List");
    CHECK_FALSE(rwx.argument);
    CHECK(rwx.source == keyword(QrexecTokenKind::Tag, "mgmt"));
    CHECK(rwx.action == QrexecAction::Ask);
    CHECK(rwx.defaultTarget == keyword(QrexecTokenKind::DispVm));
    CHECK(rwx.location() == d + "/include/admin-local-rwx:2");
    REQUIRE(rwx.via.size() == 2);
    CHECK(rwx.via[0].directive == QrexecDirectiveKind::IncludeService);
    CHECK(rwx.via[0].line == 4);
    CHECK(rwx.via[1].directive == QrexecDirectiveKind::Include);
    CHECK(rwx.via[1].file == d + "/include/admin-local-ro");
    CHECK(rwx.via[1].line == 1);
    const QrexecRule& ro = load.rules[5];
    CHECK(ro.target == keyword(QrexecTokenKind::AdminVm));
    CHECK(ro.redirect == keyword(QrexecTokenKind::AdminVm));
    CHECK(ro.line == 2);
    CHECK(load.rules[6].location() == main + ":5");
}

TEST_CASE("old-syntax files: errors and the directives they may hold") {
    test::TempDir tmp;
    std::string d = (tmp.path() / "policy.d").string();
    tmp.write("policy.d/50-main.policy", "!include-service a +x include/old\n");
    tmp.write("policy.d/include/old", "@anyvm\n"
                                      "@anyvm @anyvm\n"
                                      "!compat-4.0\n"
                                      "$include:\n"
                                      "@anyvm @anyvm allow,bogus\n"
                                      "@anyvm dom0 deny\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "policy.d"});
    std::string old = d + "/include/old";
    CHECK(rendered(load) == std::vector<std::string>{
                                old + ":1: wrong number of fields",
                                old + ":2: wrong number of fields",
                                // Not "!compat-4.0 is not recursive": old syntax knows only
                                // !include, so Qubes never reaches that message.
                                old + ":3: invalid directive",
                                old + ":4: invalid number of params",
                                old + ":5: invalid action parameter syntax: 'bogus'",
                            });
    REQUIRE(load.rules.size() == 1);
    CHECK(load.rules[0].service == "a");
    CHECK(load.rules[0].argument == "+x");
    CHECK(load.rules[0].target == name("dom0"));
}

TEST_CASE("!compat-4.0: order, skipped names and the implicit denies") {
    test::TempDir tmp;
    tmp.write("policy.d/35-compat.policy", "before * @anyvm @anyvm allow\n!compat-4.0\n");
    tmp.write("policy.d/90-after.policy", "after * @anyvm @anyvm allow\n");
    tmp.write("legacy/test.B", "$anyvm $anyvm ask\n");
    tmp.write("legacy/test.A", "# generic\nsrc $anyvm allow\n");
    tmp.write("legacy/test.A+arg", "src2 $dispvm allow\n");
    tmp.write("legacy/test.A+", "src3 $anyvm deny\n");
    tmp.write("legacy/.test.C", "garbage\n");
    tmp.write("legacy/test.C.swp", "garbage\n");
    tmp.write("legacy/test.C.rpmnew", "garbage\n");
    tmp.write("legacy/test C", "garbage\n");
    tmp.write("legacy/dir/test.D", "garbage\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "policy.d"}, tmp.path() / "legacy");
    CHECK(rendered(load).empty());
    std::vector<std::string> lines;
    for (const QrexecRule& r : load.rules)
        lines.push_back(formatQrexecRule(r) + " @" + std::to_string(r.line));
    CHECK(lines == std::vector<std::string>{
                       "before\t*\t@anyvm\t@anyvm\tallow @1",
                       "test.A\t+\tsrc3\t@anyvm\tdeny @1",
                       "test.A\t+\t@anyvm\t@anyvm\tdeny @0",
                       "test.A\t+\t@anyvm\t@adminvm\tdeny @0",
                       "test.A\t+arg\tsrc2\t@dispvm\tallow @1",
                       "test.A\t+arg\t@anyvm\t@anyvm\tdeny @0",
                       "test.A\t+arg\t@anyvm\t@adminvm\tdeny @0",
                       "test.A\t*\tsrc\t@anyvm\tallow @2",
                       "test.B\t*\t@anyvm\t@anyvm\task @1",
                       "after\t*\t@anyvm\t@anyvm\tallow @1",
                   });
    const QrexecRule& deny = load.rules[2];
    CHECK(deny.compatImplicitDeny);
    CHECK(deny.file == (tmp.path() / "legacy" / "test.A+").string());
    CHECK(deny.via.at(0).directive == QrexecDirectiveKind::Compat40);
    CHECK(deny.via.at(0).line == 2);
    CHECK_FALSE(load.rules[1].compatImplicitDeny);
}

TEST_CASE("include loops and deep nesting are reported, not followed forever") {
    test::TempDir tmp;
    std::string d = (tmp.path() / "policy.d").string();
    tmp.write("policy.d/50-self.policy", "a * @anyvm @anyvm allow\n!include 50-self.policy\n");
    QrexecPolicyLoad load = loadDirs({tmp.path() / "policy.d"});
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].file == d + "/50-self.policy");
    CHECK(load.errors[0].line == 2);
    CHECK(load.errors[0].message.starts_with("include loop: " + d +
                                             "/50-self.policy is already being read"));
    CHECK(load.errors[0].message.find("RecursionError") != std::string::npos);
    CHECK(load.rules.size() == 1);

    test::TempDir two;
    two.write("p/10-a.policy", "!include-dir inc\n");
    two.write("p/inc/x.policy", "!include inc/y\n");
    two.write("p/inc/y", "!include-dir inc\n");
    load = loadDirs({two.path() / "p"});
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].render().starts_with((two.path() / "p" / "inc" / "y").string() +
                                              ":1: include loop: "));

    // A chain deeper than the limit, loop or not.
    test::TempDir deep;
    deep.write("p/10-a.policy", "!include c1\n");
    for (int k = 1; k <= 5; ++k)
        deep.write("p/c" + std::to_string(k), "!include c" + std::to_string(k + 1) + "\n");
    deep.write("p/c6", "x * @anyvm @anyvm allow\n");
    QrexecPolicyOptions options;
    options.policyDirs = {(deep.path() / "p").string()};
    options.maxIncludeDepth = 4;
    load = loadQrexecPolicy(options);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].line == 1);
    CHECK(load.errors[0].file == (deep.path() / "p" / "c3").string());
    CHECK(load.errors[0].message.starts_with("includes nested deeper than 4 levels"));
    options.maxIncludeDepth = 64;
    load = loadQrexecPolicy(options);
    CHECK(rendered(load).empty());
    CHECK(load.rules.size() == 1);
}

TEST_CASE("errors are listed in the order Qubes meets them; loading goes on") {
    QrexecPolicyLoad load = parse("a * @anyvm @anyvm allow\n"
                                  "bad\n"
                                  "b * @anyvm @anyvm deny\n"
                                  "!nope\n");
    CHECK(rendered(load) == std::vector<std::string>{"t.policy:2: wrong number of fields",
                                                     "t.policy:4: invalid directive"});
    CHECK(load.rules.size() == 2);
    CHECK(load.refused());
}

namespace {

// Everything a load yields, one line per item, so two loads compare as text.
std::vector<std::string> describeLoad(const QrexecPolicyLoad& load) {
    std::vector<std::string> out;
    for (const QrexecRule& r : load.rules) {
        std::string line = "rule " + r.location() + " " + formatQrexecRule(r);
        for (const QrexecInclusion& v : r.via)
            line += " via " + std::string(qrexecDirectiveName(v.directive)) + "@" + v.file + ":" +
                    std::to_string(v.line);
        out.push_back(line + (r.compatImplicitDeny ? " implicit" : ""));
    }
    for (const QrexecError& e : load.errors)
        out.push_back("error " + e.render());
    for (const std::string& f : load.files)
        out.push_back("file " + f);
    for (const QrexecDirectiveUse& d : load.directives)
        out.push_back("directive " + std::string(qrexecDirectiveName(d.kind)) + " " + d.file + ":" +
                      std::to_string(d.line) + " " + d.path + (d.followed ? " followed" : ""));
    return out;
}

// The regular files under root, as an in-memory tree with the same absolute paths.
QrexecFileTree treeOf(const fs::path& root) {
    QrexecFileTree tree;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file())
            tree[e.path().string()] = test::readFile(e.path());
    return tree;
}

// Loads dirs (with legacy) from the disk and from a copy in memory; they must agree.
// Returns the description, one line per rule, error, file and directive.
std::string checkSameInMemory(const fs::path& root, const std::vector<std::string>& dirs,
                              const std::string& legacy) {
    QrexecPolicyOptions options;
    options.policyDirs = dirs;
    options.legacyDir = legacy;
    QrexecPolicyLoad disk = loadQrexecPolicy(options);
    QrexecFileTree tree = treeOf(root);
    options.files = &tree;
    QrexecPolicyLoad memory = loadQrexecPolicy(options);
    CHECK(describeLoad(memory) == describeLoad(disk));
    std::string all;
    for (const std::string& line : describeLoad(disk))
        all += line + "\n";
    return all;
}

} // namespace

TEST_CASE("an in-memory tree loads exactly as the same files on disk") {
    SUBCASE("Qubes' shipped policy with its legacy directory") {
        fs::path corpus = fs::canonical(corpusDir());
        std::string full = checkSameInMemory(corpus, {(corpus / "policy.d").string()},
                                             (corpus / "legacy").string());
        CHECK(full.find("rule " + (corpus / "legacy").string()) != std::string::npos);
        // A missing legacy directory fails !compat-4.0 with the same OSError text.
        std::string none =
            checkSameInMemory(corpus, {(corpus / "policy.d").string()}, (corpus / "none").string());
        CHECK(none.find("[Errno 2] No such file or directory") != std::string::npos);
    }
    SUBCASE("includes, include loops, bad names and missing files") {
        test::TempDir tmp;
        fs::path root = fs::canonical(tmp.path());
        tmp.write("run/10-a.policy", "a * @anyvm @anyvm allow\n!include include/one\n");
        tmp.write("etc/10-a.policy", "shadowed * @anyvm @anyvm allow\n");
        tmp.write("etc/20-b.policy", "!include-dir include/many\n"
                                     "!include-service admin.vm.List * include/old\n"
                                     "!include include/../include/one\n"
                                     "!include missing\n"
                                     "!include-dir 20-b.policy\n"
                                     "!include-dir include/many/10-x.policy\n"
                                     "!compat-4.0\n");
        tmp.write("etc/include/one", "one * @anyvm @anyvm deny\n");
        tmp.write("etc/include/many/10-x.policy", "x * @anyvm @anyvm allow\n!include-dir ..\n");
        tmp.write("etc/include/many/README", "skipped\n");
        tmp.write("etc/include/many/sub/30-z.policy", "a directory, not read\n");
        tmp.write("etc/include/old", "$tag:mgmt $adminvm allow,target=$adminvm\n"
                                     "!include include/old\n");
        tmp.write("etc/30-Bad.policy", "makes the whole policy fail\n");
        tmp.write("etc/.hidden.policy", "skipped\n");
        tmp.write("legacy/qubes.Gpg", "@anyvm @anyvm ask\n");
        tmp.write("legacy/qubes.Gpg+work", "work vault allow\n");
        tmp.write("legacy/qubes.Gpg.rpmsave", "skipped\n");
        std::string all = checkSameInMemory(
            root, {(root / "run").string(), (root / "etc").string()}, (root / "legacy").string());
        // The tree reaches every kind of outcome, so agreeing is not agreeing on nothing.
        for (const char* expected :
             {"invalid filename", "include loop", "not a file", "not a directory",
              "rule " /* via !include-dir */, " via !include-service@", "implicit"})
            CHECK_MESSAGE(all.find(expected) != std::string::npos, expected);
        // A relative include given to the text parser follows into the tree too.
        QrexecFileTree tree = treeOf(root);
        QrexecTextOptions text;
        text.file = (root / "etc" / "90-text.policy").string();
        text.policyDir = (root / "etc").string();
        text.files = &tree;
        QrexecPolicyLoad load = parseQrexecPolicyText("!include include/one\n", text);
        CHECK(rendered(load).empty());
        REQUIRE(load.rules.size() == 1);
        CHECK(load.rules[0].location() == (root / "etc" / "include" / "one").string() + ":1");
    }
}
