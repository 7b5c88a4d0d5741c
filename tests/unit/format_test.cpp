// fmt: one canonical layout, idempotent, comments kept, meaning unchanged.
#include "test_support.h"

#include "bulkhead/compiler/format.h"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

std::string format(const std::string& text, std::vector<Token>* tokens = nullptr) {
    SourceManager sources;
    DiagnosticSink sink;
    FileId id = sources.add("x.bh", text);
    ParsedFile parsed = parseFile(sources, id, sink);
    REQUIRE(parsed.ok);
    if (tokens)
        *tokens = parsed.tokens;
    return formatTokens(parsed.tokens);
}

std::vector<fs::path> formattable() {
    std::vector<fs::path> files = test::examplePolicies();
    files.push_back(test::sourceDir() / "tests" / "data" / "design-sketch.bh");
    return files;
}

} // namespace

TEST_CASE("fmt is idempotent and keeps the meaning of every example") {
    std::vector<fs::path> files = formattable();
    REQUIRE(files.size() >= 5); // four examples and the sketch
    for (const fs::path& f : files) {
        CAPTURE(f.string());
        std::string original = test::readFile(f);
        std::vector<Token> before, after;
        std::string once = format(original, &before);
        std::string twice = format(once, &after);
        CHECK(once == twice);
        CHECK(sameTokens(before, after));

        test::Checked a = test::checkFiles({f.string()});
        test::Checked b = test::checkText(once);
        REQUIRE(a.policy);
        REQUIRE(b.policy);
        CHECK(model::describe(*a.policy) == model::describe(*b.policy));
    }
}

TEST_CASE("the examples in policies/ are already in canonical form") {
    for (const fs::path& f : test::examplePolicies()) {
        CAPTURE(f.string());
        std::string text = test::readFile(f);
        CHECK(format(text) == text);
    }
}

TEST_CASE("fmt lays out statements canonically") {
    std::string in = "policy   \"p\" ;\n\n\n\ntrust a=red<b = black;\n"
                     "qube   x{template t;trust a;}\n"
                     "rpc qubes.Gpg +arg x->y allow target = y notify=yes;\n"
                     "allow x -> y : tcp / 80 , 443, udp/1000 - 2000;\n";
    std::string expected = "policy \"p\";\n\ntrust a = red < b = black;\n"
                           "qube x { template t; trust a; }\n"
                           "rpc qubes.Gpg+arg x -> y allow target=y notify=yes;\n"
                           "allow x -> y : tcp/80, 443, udp/1000-2000;\n";
    CHECK(format(in) == expected);
}

TEST_CASE("fmt keeps comments where they were") {
    std::string in =
        "# header\npolicy \"p\"; # trailing\n"
        "qube x { # after brace\n  template t;   # why\n  # before trust\n trust a; }\n"
        "assert no path from a to b # mid\n  except rpc s because \"r\";\n# end\n";
    std::string out = format(in);
    CHECK(out ==
          "# header\npolicy \"p\";  # trailing\n"
          "qube x {  # after brace\n    template t;  # why\n    # before trust\n    trust a;\n}\n"
          "assert no path from a to b  # mid\n    except rpc s because \"r\";\n# end\n");
    CHECK(format(out) == out);
}

TEST_CASE("long qube blocks break into one property per line") {
    std::string in = "qube a-rather-long-qube-name { template fedora-40-xfce-minimal; trust work; "
                     "netvm sys-firewall; ip 10.137.0.99; tags alpha, beta; }\n";
    std::string out = format(in);
    CHECK(out == "qube a-rather-long-qube-name {\n    template fedora-40-xfce-minimal;\n"
                 "    trust work;\n    netvm sys-firewall;\n    ip 10.137.0.99;\n"
                 "    tags alpha, beta;\n}\n");
    CHECK(format(out) == out);
}

TEST_CASE("sameTokens tells different programs apart") {
    std::vector<Token> a, b;
    format("allow x -> y : tcp/80;\n", &a);
    format("allow x -> y : tcp/81;\n", &b);
    CHECK(!sameTokens(a, b));
    format("allow x -> y : tcp/80; # c\n", &b);
    CHECK(!sameTokens(a, b));
}

TEST_CASE("fmt is idempotent with a comment after any token") {
    std::string sketch = test::readFile(test::sourceDir() / "tests" / "data" / "design-sketch.bh");
    std::vector<Token> tokens;
    format(sketch, &tokens);
    SourceManager sources;
    FileId id = sources.add("s.bh", sketch);
    const SourceFile& file = sources.file(id);
    std::size_t tried = 0;
    for (const Token& t : tokens) {
        if (t.kind == Token::Kind::Comment)
            continue;
        // Byte offset just after the token (ASCII input: columns are bytes).
        std::size_t end = file.lineStarts[t.range.end.line - 1] + t.range.end.column;
        for (const char* insert : {" # trailing\n", "\n# own line\n"}) {
            std::string text = sketch.substr(0, end) + insert + sketch.substr(end);
            CAPTURE(text);
            std::vector<Token> before, after;
            std::string once = format(text, &before);
            std::string twice = format(once, &after);
            CHECK(once == twice);
            CHECK(sameTokens(before, after));
            ++tried;
        }
    }
    CHECK(tried > 300);
}

TEST_CASE("fmt accepts CRLF line ends and a missing final newline") {
    CHECK(format("policy \"p\";\r\ntrust a < b;\r\n# c") == "policy \"p\";\ntrust a < b;\n# c\n");
}

TEST_CASE("fmt wraps a long statement after list commas and before a waiver's reason") {
    std::string in = "assert no path from alpha-dev, beta-dev, gamma-dev, delta-dev, epsilon-dev, "
                     "zeta-dev to vault except rpc qubes.Filecopy, rpc qubes.OpenInVM, rpc "
                     "qubes.OpenURL, rpc qubes.ClipboardPaste because \"a reason long enough to "
                     "need its own line\";\n";
    std::string out = format(in);
    CHECK(out ==
          "assert no path from alpha-dev, beta-dev, gamma-dev, delta-dev, epsilon-dev, zeta-dev "
          "to vault\n"
          "    except rpc qubes.Filecopy, rpc qubes.OpenInVM, rpc qubes.OpenURL, rpc "
          "qubes.ClipboardPaste\n"
          "        because \"a reason long enough to need its own line\";\n");
    // A list that cannot fit wraps after a comma, indented under its clause.
    std::string list = "allow work -> a-very-long-network-name-one, a-very-long-network-name-two, "
                       "a-very-long-network-name-three : https;\n";
    CHECK(format(list) ==
          "allow work -> a-very-long-network-name-one, a-very-long-network-name-two,\n"
          "    a-very-long-network-name-three : https;\n");
    CHECK(format(out) == out);
}
