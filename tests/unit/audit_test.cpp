// bulkhead audit on deployed systems: the shipped corpus with a reviewed set of findings,
// and each of Qubes' silent gaps on a small policy directory that shows it and one that
// does not.
#include "audit_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using namespace bulkhead;

namespace {

const char* kInventory = R"(dom0|AdminVM|black|-|-|-|-|-|False|False
fedora|TemplateVM|black|-|-|-|-|-|False|False
sys-net|AppVM|red|fedora|-|10.137.0.5|-|-|False|True
sys-firewall|AppVM|green|fedora|sys-net|10.137.0.6|-|-|False|True
work|AppVM|blue|fedora|sys-firewall|10.137.0.12|work|-|False|False
vault|AppVM|black|fedora|-|-|-|-|False|False
untrusted|AppVM|red|fedora|sys-firewall|10.137.0.20|-|-|False|False
)";

using test::Audit;
using test::audit;

// A policy.d directory with one file, and the inventory above.
Audit auditPolicy(const std::string& policy, const std::string& inventory = kInventory) {
    test::TempDir tmp;
    tmp.write("policy.d/30-user.policy", policy);
    fs::path inv = tmp.write("inventory.txt", inventory);
    return audit({"--policy-dir", (tmp.path() / "policy.d").string(), "--inventory", inv.string(),
                  "--legacy-dir", (tmp.path() / "none").string()});
}

} // namespace

TEST_CASE("the shipped corpus: the reviewed findings") {
    fs::path c = test::sourceDir() / ".." / "shared" / "corpus";
    if (!fs::exists(c / "qubes-inventory.txt")) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    Audit a = audit({"--policy-dir", (c / "qubes-policy/policy.d").string(), "--legacy-dir",
                     (c / "qubes-policy/legacy").string(), "--inventory",
                     (c / "qubes-inventory.txt").string()});
    INFO(a.r.err);
    CHECK(a.r.exitCode == 1);
    CHECK(a.r.out.find("14 qubes, 97 rules from 12 files") != std::string::npos);
    // work-email's netvm is sys-net, which holds the uplink (corpus README: on purpose).
    CHECK(a.has("BH1302 qubes-inventory.txt:15"));
    // 90-default-video-companion.policy:14 `qvc.Webcam * @anyvm sys-usb ask`: this system
    // has no sys-usb, so Qubes never matches the line (qubes-formats.md §1.9).
    CHECK(a.has("BH1301 90-default-video-companion.policy:14"));
    CHECK(a.count("BH1301") == 1);
    // Integrity: anon-whonix (red) may ask dom0 for its screen (qvc.ScreenShare, ask) and
    // paste into any qube (qubes.ClipboardPaste @anyvm @anyvm ask): both are real paths
    // that need only a user's yes. Confidentiality mirrors the clipboard path.
    CHECK(a.r.err.find("assertion violated: anon-whonix => dom0") != std::string::npos);
    CHECK(a.r.err.find("90-default-video-companion.policy:9:1: note: hop 1: anon-whonix => "
                       "dom0 [rpc, ask") != std::string::npos);
    CHECK(a.r.err.find("assertion violated: anon-whonix => work") != std::string::npos);
    CHECK(a.r.err.find("assertion violated: work => anon-whonix (confidentiality") !=
          std::string::npos);
    CHECK(a.count("BH1001") == 7);
    // 85-admin-backup-restore.policy names @tag:backup-restore-* qubes no qube carries here:
    // its lines never match (BH1103), like 80-whonix's lines for absent tags.
    CHECK(a.has("BH1103 85-admin-backup-restore.policy:5"));
    CHECK(a.has("BH1103 80-whonix.policy:6"));
    // The shipped UpdatesProxy redirects land past catch-all denies only: not reported.
    CHECK(a.count("BH1304") == 0);
    CHECK(a.count("BH1303") == 0);
    CHECK(a.count("BH1305") == 0);
}

TEST_CASE("a rule naming a qube the system does not have never matches") {
    Audit bad = auditPolicy("qubes.Filecopy * work vualt allow\n"
                            "qubes.Filecopy * work web-dm allow\n");
    CHECK(bad.has("BH1301 30-user.policy:1"));
    CHECK(bad.has("BH1301 30-user.policy:2"));
    CHECK(bad.r.err.find("'web-dm', which cannot exist") != std::string::npos);
    Audit good = auditPolicy("qubes.Filecopy * work vault ask\n");
    CHECK(good.count("BH1301") == 0);
}

TEST_CASE("a qube straight on the uplink net qube") {
    std::string inv = kInventory;
    inv += "mail|AppVM|blue|fedora|sys-net|10.137.0.13|-|-|False|False\n";
    Audit bad = auditPolicy("", inv);
    CHECK(bad.has("BH1302 inventory.txt:8"));
    CHECK(bad.count("BH1302") == 1); // sys-firewall provides network itself; work is behind it
    Audit good = auditPolicy("");
    CHECK(good.count("BH1302") == 0);
}

TEST_CASE("an allow from any qube to many, without a fixed target") {
    Audit bad = auditPolicy("qubes.Filecopy * @anyvm @anyvm allow\n");
    CHECK(bad.has("BH1303 30-user.policy:1"));
    Audit good = auditPolicy("qubes.Filecopy * @anyvm @anyvm ask\n"
                             "qubes.GetDate * @anyvm @anyvm allow target=sys-net\n");
    CHECK(good.count("BH1303") == 0);
}

TEST_CASE("a target= redirect to a qube another line denies by name") {
    Audit bad = auditPolicy("qubes.Gpg * @anyvm vault deny\n"
                            "qubes.Gpg * untrusted @default allow target=vault\n");
    CHECK(bad.has("BH1304 30-user.policy:2"));
    CHECK(bad.r.err.find("30-user.policy:1:1: note: refused here") != std::string::npos);
    // The path it opens is an escape: untrusted (red) reaches vault (black).
    CHECK(bad.r.err.find("assertion violated: untrusted => vault") != std::string::npos);
    Audit good = auditPolicy("qubes.Gpg * @anyvm vault deny\n"
                             "qubes.Gpg * work @default allow target=sys-firewall\n"
                             "qubes.Gpg * @anyvm @anyvm deny\n");
    CHECK(good.count("BH1304") == 0);
}

TEST_CASE("a *, tag or type target that includes dom0") {
    std::string inv = kInventory;
    inv.replace(inv.find("dom0|AdminVM|black|-|-|-|-|"), 27, "dom0|AdminVM|black|-|-|-|admin|");
    Audit bad = auditPolicy("qubes.GetDate * work * allow\n"
                            "qubes.Notify * work @tag:admin ask\n"
                            "qubes.Info * work @type:AdminVM allow\n",
                            inv);
    CHECK(bad.has("BH1305 30-user.policy:1"));
    CHECK(bad.has("BH1305 30-user.policy:2"));
    CHECK(bad.has("BH1305 30-user.policy:3"));
    Audit good = auditPolicy("qubes.GetDate * work @anyvm allow\n"
                             "qubes.Notify * work @tag:admin ask\n");
    CHECK(good.count("BH1305") == 0); // dom0 does not carry the tag in this inventory
}

TEST_CASE("every Qubes parse error is shown with its file and line, and nothing is audited") {
    test::TempDir tmp;
    tmp.write("policy.d/30-a.policy", "qubes.Gpg * work\n"                 // wrong number of fields
                                      "qubes.Gpg * work vault ALLOW\n");   // invalid action
    tmp.write("policy.d/40-b.policy", "qubes.Gpg+x * work vault allow\n"); // '+' in service
    fs::path inv = tmp.write("inventory.txt", kInventory);
    Audit a = audit({"--policy-dir", (tmp.path() / "policy.d").string(), "--inventory",
                     inv.string(), "--legacy-dir", (tmp.path() / "none").string()});
    CHECK(a.r.exitCode == 2);
    CHECK(a.has("BH1007 30-a.policy:1"));
    CHECK(a.has("BH1007 30-a.policy:2"));
    CHECK(a.has("BH1007 40-b.policy:1"));
    CHECK(a.r.err.find("wrong number of fields") != std::string::npos);
    CHECK(a.count("BH1001") == 0);
}

TEST_CASE("an unreadable inventory is bad input with its line") {
    Audit a = auditPolicy("", "work|AppVM|blue\n");
    CHECK(a.r.exitCode == 2);
    CHECK(a.has("BH0111 inventory.txt:1"));
    Audit label =
        auditPolicy("", std::string(kInventory) + "odd|AppVM|pink|fedora|-|-|-|-|False|False\n");
    CHECK(label.r.exitCode == 2);
    CHECK(label.r.err.find("'pink' is not a Qubes label") != std::string::npos);
}

TEST_CASE("the system info alone is enough for the qrexec findings") {
    fs::path c = test::sourceDir() / ".." / "shared" / "corpus";
    if (!fs::exists(c / "qubes-system-info.json")) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    Audit a = audit({"--policy-dir", (c / "qubes-policy/policy.d").string(), "--legacy-dir",
                     (c / "qubes-policy/legacy").string(), "--system-info",
                     (c / "qubes-system-info.json").string(), "--format", "json"});
    CHECK(a.r.exitCode == 1);
    CHECK(a.r.out.find("\"command\": \"audit\"") != std::string::npos);
    CHECK(a.r.out.find("\"code\": \"BH1301\"") != std::string::npos);
    // Without netvms the uplink finding cannot be made.
    CHECK(a.r.out.find("\"code\": \"BH1302\"") == std::string::npos);
}

using test::inventoryOf;

TEST_CASE("drift: the compiled workstation deployed, one line edited, exactly that reported") {
    fs::path c = test::sourceDir() / ".." / "shared" / "corpus" / "qubes-policy";
    if (!fs::exists(c / "policy.d")) {
        MESSAGE("SKIPPED: ../shared/corpus is not beside the checkout");
        return;
    }
    fs::path ws = test::sourceDir() / "policies" / "workstation.bh";
    test::Checked model = test::checkFiles({ws.string()});
    REQUIRE(model.policy);
    test::TempDir tmp;
    REQUIRE(
        test::runCli({"compile", "--no-baseline", ws.string(), "-o", (tmp.path() / "out").string()})
            .exitCode == 0);
    // dom0's policy.d: Qubes' shipped files and the compiled one, as deploy.md says.
    fs::create_directories(tmp.path() / "policy.d");
    for (const auto& e : fs::recursive_directory_iterator(c / "policy.d")) {
        fs::path rel = fs::relative(e.path(), c / "policy.d");
        if (e.is_directory())
            fs::create_directories(tmp.path() / "policy.d" / rel);
        else
            fs::copy_file(e.path(), tmp.path() / "policy.d" / rel);
    }
    fs::path compiled = tmp.path() / "policy.d" / "30-bulkhead.policy";
    fs::copy_file(tmp.path() / "out/dom0/etc/qubes/policy.d/30-bulkhead.policy", compiled);
    fs::path inv = tmp.write("qubes.txt", inventoryOf(*model.policy));
    std::vector<std::string> args{"--policy-dir", (tmp.path() / "policy.d").string(),
                                  "--legacy-dir", (c / "legacy").string(),
                                  "--inventory",  inv.string(),
                                  "--intent",     ws.string()};

    Audit same = audit(args);
    INFO(same.r.err);
    CHECK(same.count("BH1306") == 0);

    // Someone relaxes vault's split-GPG line from allow to ask... no: from ask to allow.
    std::string text = test::readFile(compiled);
    std::string from = "qubes.Gpg\t*\twork-email\tvault\task";
    std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    std::uint32_t line = static_cast<std::uint32_t>(
        std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1);
    text.replace(at, from.size(), "qubes.Gpg\t*\twork-email\tvault\tallow");
    fs::remove(compiled);
    tmp.write("policy.d/30-bulkhead.policy", text);

    Audit edited = audit(args);
    INFO(edited.r.err);
    CHECK(edited.count("BH1306") >= 1);
    // Every difference is at the edited line, with the policy's line as the note.
    CHECK(edited.count("BH1306") ==
          edited.findings.count("BH1306 30-bulkhead.policy:" + std::to_string(line)));
    CHECK(edited.r.err.find("drift: qubes.Gpg from work-email to vault is allow vault here, "
                            "the policy says ask vault") != std::string::npos);
}

TEST_CASE("a @dispvm: source never matches") {
    Audit bad = auditPolicy("qubes.Filecopy * @dispvm:@tag:builders work allow\n");
    CHECK(bad.has("BH0810 30-user.policy:1"));
    Audit good = auditPolicy("qubes.Filecopy * @type:DispVM work ask\n");
    CHECK(good.count("BH0810") == 0);
}

TEST_CASE("a label order file replaces Qubes' default chain") {
    test::TempDir tmp;
    tmp.write("policy.d/30-user.policy", "qubes.Filecopy * untrusted work allow\n");
    fs::path inv = tmp.write("inventory.txt", kInventory);
    std::vector<std::string> base{"--policy-dir", (tmp.path() / "policy.d").string(),
                                  "--inventory",  inv.string(),
                                  "--legacy-dir", (tmp.path() / "none").string()};
    // By default red is the lowest label: a file from untrusted into work (blue) leaks
    // nothing of higher trust.
    Audit byDefault = audit(base);
    CHECK(byDefault.r.err.find("untrusted => work (confidentiality") == std::string::npos);

    // Here red is trusted above blue: the same file carries red data down into blue.
    fs::path order =
        tmp.write("labels.txt", "# our own order\nblue < red < black\ngreen < black\n");
    std::vector<std::string> withOrder = base;
    withOrder.insert(withOrder.end(), {"--labels", order.string()});
    Audit reordered = audit(withOrder);
    INFO(reordered.r.err);
    CHECK(reordered.r.exitCode != 2);
    CHECK(reordered.r.err.find("assertion violated: untrusted => work (confidentiality") !=
          std::string::npos);

    fs::path bad = tmp.write("bad.txt", "red < pink\n");
    std::vector<std::string> withBad = base;
    withBad.insert(withBad.end(), {"--labels", bad.string()});
    Audit unknown = audit(withBad);
    CHECK(unknown.r.exitCode == 2);
    CHECK(unknown.has("BH0111 bad.txt:1"));

    fs::path cycle = tmp.write("cycle.txt", "red < blue\nblue < red\n");
    std::vector<std::string> withCycle = base;
    withCycle.insert(withCycle.end(), {"--labels", cycle.string()});
    Audit cyclic = audit(withCycle);
    CHECK(cyclic.r.exitCode == 2);
    CHECK(cyclic.r.err.find("cycle") != std::string::npos);
}
