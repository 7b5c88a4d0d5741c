// The benchmark's synthetic policy (generator.h). Deterministic: the same options give
// byte-identical output on every machine (mt19937's output is fixed by the standard; the
// distributions of <random> are not, so every draw goes through below() and chance()).
//
// The shape follows a real workstation scaled up: trust levels, a few templates, net and
// firewall qubes, dispvm-templates, app qubes spread over trust levels, departments (tags)
// and netvms; flows to named networks and between qubes, some denies; rpc rules mixing
// literal qubes, @tag:, @type:, @anyvm, @dispvm, @dispvm:X, redirects, ask/allow/deny; and a
// few assertions and requirements, some of which the policy violates (as real ones do).
// The sound mode keeps that shape but draws only what check accepts (generator.h); without
// it every draw is the same as it always was, so the default output never changes.
#include "generator.h"

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

namespace bench {
namespace {

class Rng {
public:
    explicit Rng(std::uint32_t seed) : gen_(seed) {}
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(gen_()) % n; }
    bool chance(std::uint32_t percent) { return gen_() % 100U < percent; }
    template <class T> const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

private:
    std::mt19937 gen_;
};

const std::vector<std::string> kLevels = {"untrusted", "low", "personal", "work", "secret"};
// The labels the trust line gives each level (and "vault" = black), for the inventory.
const std::vector<std::string> kLabels = {"red", "orange", "yellow", "blue", "purple"};

struct AppQube {
    std::string name;
    std::size_t level = 0;
    std::size_t dept = 0;
    bool networked = false;
    bool hasDispvm = false;
};

class Generator {
public:
    explicit Generator(const Options& o) : o_(o), rng_(o.seed) {}

    // The policy in sections, in order: header, qubes, flows, rpc rules, checks.
    Generated run() {
        Generated g;
        auto cut = [&] {
            g.sections.push_back(out_.str());
            out_.str("");
        };
        sizes();
        header();
        cut();
        qubes();
        cut();
        flows();
        cut();
        rpcRules();
        cut();
        checks();
        cut();
        g.qubes = std::move(records_);
        g.rules = std::move(rules_);
        return g;
    }

private:
    void sizes() {
        std::size_t n = o_.qubes;
        templates_ = std::max<std::size_t>(2, n / 100);
        netvms_ = std::max<std::size_t>(1, n / 250);
        dvms_ = std::max<std::size_t>(2, n / 50);
        disposables_ = std::max<std::size_t>(1, n / 100);
        vaults_ = std::max<std::size_t>(1, n / 200);
        depts_ = std::max<std::size_t>(3, n / 40);
        networks_ = std::max<std::size_t>(4, n / 20);
        services_ = 20 + n / 100;
        // templates (+ the vaults' own), sys-net + sys-firewall per netvm, sys-usb, sys-vpn
        std::size_t fixed = templates_ + 1 + 2 * netvms_ + 2 + dvms_ + disposables_ + vaults_;
        apps_ = n > fixed + 4 ? n - fixed : 4;
    }

    std::string firewall(std::size_t k) const { return "sys-firewall-" + std::to_string(k); }
    std::string dvm(std::size_t k) const { return "dvm-" + std::to_string(k); }
    std::string dept(std::size_t k) const { return "dept-" + std::to_string(k); }
    std::string rpcService(std::size_t k) const {
        static const std::vector<std::string> qubes = {
            "qubes.Filecopy", "qubes.OpenInVM",       "qubes.OpenURL",    "qubes.Gpg",
            "qubes.VMShell",  "qubes.ClipboardPaste", "qubes.StartApp",   "qubes.GetDate",
            "qubes.USB",      "qubes.GetImageRGBA",   "qubes.PdfConvert", "qubes.UpdatesProxy"};
        if (k < qubes.size())
            return qubes[k];
        return "bench.Service" + std::to_string(k - qubes.size());
    }

    std::string nextIp() {
        std::size_t k = ipCount_++;
        return "10.137." + std::to_string(k / 250) + "." + std::to_string(k % 250 + 2);
    }

    void header() {
        out_ << "policy \"bench-" << o_.qubes << "\";\n\n";
        out_ << "trust untrusted = red < low = orange < personal = yellow < work = blue < secret "
                "= purple < vault = black;\n\n";
        out_ << "network internet = 0.0.0.0/0, ::/0;\n";
        out_ << "network qubes-dns = 10.139.1.1, 10.139.1.2;\n";
        out_ << "network corp = 198.51.100.0/24;\n";
        for (std::size_t k = 0; k < networks_; ++k)
            out_ << "network net-" << k << " = 100." << 64 + k / 256 << "." << k % 256
                 << ".0/24;\n";
        // The sound mode's denies carve the upper half out of a network, never all of an allow.
        if (o_.sound)
            for (std::size_t k = 0; k < networks_; ++k)
                out_ << "network net-" << k << "-hi = 100." << 64 + k / 256 << "." << k % 256
                     << ".128/25;\n";
        out_ << "service https = tcp/443;\nservice http = tcp/80;\nservice dns = udp/53, "
                "tcp/53;\nservice ssh = tcp/22;\nservice mail = tcp/993, tcp/465, tcp/587;\n";
        for (std::size_t k = 0; k < 20; ++k)
            out_ << "service svc-" << k << " = tcp/" << 8000 + k
                 << (k % 5 == 1   ? " data push"
                     : k % 5 == 2 ? " data pull"
                                  : "")
                 << ";\n";
        for (std::size_t k = 12; k < services_; ++k)
            if (k % 4 == 0)
                out_ << "rpc-service " << rpcService(k) << " data "
                     << (k % 8 == 0 ? "push" : "pull") << ";\n";
        out_ << "\n";
    }

    void record(QubeRecord q) { records_.push_back(std::move(q)); }

    void qubes() {
        record({"dom0", "AdminVM", "black", "", "", "", {}, "", false, false});
        for (std::size_t k = 0; k < templates_; ++k) {
            out_ << "template tpl-" << k << " { trust vault; }\n";
            record({"tpl-" + std::to_string(k),
                    "TemplateVM",
                    "black",
                    "",
                    "",
                    "",
                    {},
                    "",
                    false,
                    false});
        }
        out_ << "template tpl-vault { trust vault; }\n";
        record({"tpl-vault", "TemplateVM", "black", "", "", "", {}, "", false, false});
        for (std::size_t k = 0; k < netvms_; ++k) {
            std::string net = "sys-net-" + std::to_string(k);
            out_ << "netvm " << net << " { template tpl-0; trust untrusted; }\n";
            record({net, "AppVM", "red", "tpl-0", "", "", {}, "", false, true});
            // A forwarder under another net qube needs an address (BH1201).
            std::string ip = o_.sound ? nextIp() : "";
            std::string tpl = "tpl-" + std::to_string(k % templates_);
            out_ << "firewall " << firewall(k) << " { template " << tpl << "; trust work; netvm "
                 << net << (ip.empty() ? "" : "; ip " + ip) << "; }\n";
            record({firewall(k), "AppVM", "blue", tpl, net, ip, {}, "", false, true});
        }
        out_ << "usbvm sys-usb { template tpl-0; trust untrusted; }\n";
        record({"sys-usb", "AppVM", "red", "tpl-0", "", "", {}, "", false, false});
        std::string vpnIp = nextIp();
        out_ << "vpn sys-vpn { template tpl-0; trust work; netvm " << firewall(0) << "; ip "
             << vpnIp << "; }\n";
        record({"sys-vpn", "AppVM", "blue", "tpl-0", firewall(0), vpnIp, {}, "", false, true});
        for (std::size_t k = 0; k < dvms_; ++k) {
            bool offline = k % 3 == 2;
            std::string tpl = "tpl-" + std::to_string(k % templates_);
            std::string net = offline ? "none" : firewall(k % netvms_);
            std::string group = "dvm-group-" + std::to_string(k % 4);
            out_ << "dispvm-template " << dvm(k) << " { template " << tpl << "; trust "
                 << kLevels[k % 3] << "; netvm " << net << "; tags " << group << "; }\n";
            record({dvm(k),
                    "AppVM",
                    kLabels[k % 3],
                    tpl,
                    offline ? "" : net,
                    "",
                    {group},
                    dvm(k),
                    true,
                    false});
        }
        for (std::size_t k = 0; k < disposables_; ++k) {
            std::size_t d = k % dvms_;
            bool offline = d % 3 == 2;
            std::string name = "disp-" + std::to_string(k);
            std::string net = offline ? "none" : firewall(d % netvms_);
            out_ << "disposable " << name << " { template " << dvm(d) << "; trust "
                 << kLevels[d % 3] << "; netvm " << net;
            std::string ip;
            if (!offline) {
                ip = nextIp();
                out_ << "; ip " << ip;
            }
            out_ << "; }\n";
            // Qubes copies the dispvm-template's tags into its disposables.
            record({name,
                    "DispVM",
                    kLabels[d % 3],
                    dvm(d),
                    offline ? "" : net,
                    ip,
                    {"dvm-group-" + std::to_string(d % 4)},
                    dvm(d),
                    false,
                    false});
        }
        for (std::size_t k = 0; k < vaults_; ++k) {
            std::string name = "vault-" + std::to_string(k);
            out_ << "qube " << name
                 << " { template tpl-vault; trust vault; netvm none; default_dispvm none; tags "
                    "protected; }\n";
            record({name, "AppVM", "black", "tpl-vault", "", "", {"protected"}, "", false, false});
        }
        for (std::size_t k = 0; k < apps_; ++k) {
            AppQube a;
            a.name = "app-" + std::to_string(k);
            a.level = rng_.below(kLevels.size());
            a.dept = rng_.below(depts_);
            a.networked = !rng_.chance(15);
            QubeRecord r{a.name, "AppVM", kLabels[a.level], "", "", "", {}, "", false, false};
            r.templ = "tpl-" + std::to_string(rng_.below(templates_));
            if (a.networked)
                r.netvm = firewall(rng_.below(netvms_));
            out_ << "qube " << a.name << " { template " << r.templ << "; trust " << kLevels[a.level]
                 << "; netvm " << (a.networked ? r.netvm : "none");
            if (a.networked) {
                r.ip = nextIp();
                out_ << "; ip " << r.ip;
            }
            if (!rng_.chance(20)) {
                r.defaultDispvm = dvm(rng_.below(dvms_));
                a.hasDispvm = true;
                out_ << "; default_dispvm " << r.defaultDispvm;
            }
            r.tags.push_back(dept(a.dept));
            if (rng_.chance(30))
                r.tags.push_back("proj-" + std::to_string(rng_.below(depts_ * 2)));
            if (a.level >= 3)
                r.tags.push_back("protected");
            out_ << "; tags ";
            for (std::size_t t = 0; t < r.tags.size(); ++t)
                out_ << (t ? ", " : "") << r.tags[t];
            out_ << "; }\n";
            record(std::move(r));
            apps_list_.push_back(a);
            if (a.networked)
                networked_.push_back(apps_list_.size() - 1);
        }
        out_ << "\n";
    }

    std::string netService() {
        static const std::vector<std::string> named = {"https", "http", "dns", "ssh", "mail"};
        std::size_t k = rng_.below(named.size() + 20);
        if (k < named.size())
            return named[k];
        if (rng_.chance(10))
            return "tcp/" + std::to_string(9000 + rng_.below(1000));
        return "svc-" + std::to_string(k - named.size());
    }

    std::string networkObject() {
        std::size_t k = rng_.below(networks_ + 3);
        if (k == networks_)
            return "internet";
        if (k == networks_ + 1)
            return "qubes-dns";
        if (k == networks_ + 2)
            return "corp";
        return "net-" + std::to_string(k);
    }

    const AppQube& networkedApp() { return apps_list_[rng_.pick(networked_)]; }

    void flows() {
        std::size_t m = o_.flows ? o_.flows : 10 * o_.qubes;
        if (o_.sound) {
            // What the requirement in checks() asks for; no deny reaches qubes-dns.
            dnsClient_ = networkedApp().name;
            out_ << "allow " << dnsClient_ << " -> qubes-dns : dns;\n";
        }
        for (std::size_t i = o_.sound ? 1 : 0; i < m; ++i) {
            std::size_t kind = rng_.below(100);
            if (kind < 65) { // a qube to a network object
                const AppQube& a = networkedApp();
                out_ << "allow " << a.name << " -> " << networkObject() << " : " << netService();
                if (rng_.chance(30))
                    out_ << ", " << netService();
                out_ << ";\n";
            } else if (kind < 75) { // a department to a network object
                out_ << "allow @tag:" << dept(rng_.below(depts_)) << " -> " << networkObject()
                     << " : " << netService() << ";\n";
            } else if (kind < 93) { // qube to qube
                const AppQube& a = networkedApp();
                const AppQube& b = networkedApp();
                if (&a == &b) {
                    --i;
                    continue;
                }
                out_ << "allow " << a.name << " -> " << b.name << " : " << netService() << ";\n";
            } else if (o_.sound) { // a carve-out that leaves part of every allow
                std::string who =
                    kind < 98 ? networkedApp().name : "@tag:" + dept(rng_.below(depts_));
                out_ << "deny " << who << " -> net-" << rng_.below(networks_)
                     << "-hi : " << netService() << ";\n";
            } else if (kind < 98) { // carve-outs
                const AppQube& a = networkedApp();
                // Keeping a qube off the corporate network; elsewhere one service only.
                if (rng_.chance(50))
                    out_ << "deny " << a.name << " -> corp : any;\n";
                else
                    out_ << "deny " << a.name << " -> " << networkObject() << " : " << netService()
                         << ";\n";
            } else {
                out_ << "deny @tag:" << dept(rng_.below(depts_)) << " -> net-"
                     << rng_.below(networks_) << " : " << netService() << ";\n";
            }
        }
        out_ << "allow sys-vpn -> corp : udp/51820;\n\n";
    }

    std::string app() { return rng_.pick(apps_list_).name; }

    // A dvm-group that some dispvm-template carries (the sound mode names no empty group).
    std::string dvmGroup() {
        return "dvm-group-" +
               std::to_string(rng_.below(o_.sound ? std::min<std::size_t>(4, dvms_) : 4));
    }

    std::string rpcSource() {
        std::size_t k = rng_.below(100);
        if (k < 55)
            return app();
        if (k < 75)
            return "@tag:" + dept(rng_.below(depts_));
        if (k < 82)
            return "@anyvm";
        if (k < 88)
            return rng_.chance(50) ? "@type:AppVM" : "@type:DispVM";
        if (k < 94)
            return "@tag:" + dvmGroup();
        // The sound mode's literal callers are app qubes only: no @type: or @tag: rule of
        // the same service then covers the same callers.
        return o_.sound ? app() : "disp-" + std::to_string(rng_.below(disposables_));
    }

    std::string rpcTarget() {
        std::size_t k = rng_.below(100);
        if (k < 45)
            return app();
        if (k < 60)
            return "@tag:" + dept(rng_.below(depts_));
        if (k < 70)
            return "@dispvm";
        if (k < 78)
            return "@dispvm:" + dvm(rng_.below(dvms_));
        if (k < 84)
            return "@anyvm";
        if (k < 88)
            return "@default";
        if (k < 92)
            return "@type:AppVM";
        if (k < 95)
            return "@dispvm:@tag:" + dvmGroup();
        return "@tag:protected";
    }

    RpcRecord drawRpcRule() {
        RpcRecord r;
        r.service = rpcService(rng_.below(services_));
        if (rng_.chance(5))
            r.service += "+arg" + std::to_string(rng_.below(3));
        r.source = rpcSource();
        r.target = rpcTarget();
        if (r.source == r.target && r.source.front() != '@')
            r.target = "@dispvm";
        std::size_t act = rng_.below(100);
        r.action = act < 40 ? "allow" : act < 65 ? "ask" : "deny";
        if (r.action != "deny" && rng_.chance(20)) {
            std::size_t k = rng_.below(3);
            r.params = k == 0   ? "target=@dispvm:" + dvm(rng_.below(dvms_))
                       : k == 1 ? "target=" + app()
                                : "target=@dispvm";
        } else if (r.action == "ask" && rng_.chance(20)) {
            r.params = "default_target=@dispvm";
        }
        if (r.target == "@default" && r.action == "allow" &&
            r.params.find("target=") == std::string::npos)
            r.params = "target=" + app();
        return r;
    }

    void emit(RpcRecord r) {
        out_ << "rpc " << r.service << " " << r.source << " -> " << r.target << " " << r.action
             << (r.params.empty() ? "" : " " + r.params) << ";\n";
        rules_.push_back(std::move(r));
    }

    // Which requests of its service a target token names, narrowest first; tokens of the
    // same rank never cover one another, and the @dispvm forms are one family (a
    // @dispvm:@tag: group may hold a single template, which @dispvm:X also names).
    static int targetRank(const std::string& t) {
        if (t.front() != '@')
            return 0;
        if (t.starts_with("@dispvm") || t == "@default")
            return 1;
        if (t.starts_with("@tag:"))
            return 2;
        if (t.starts_with("@type:"))
            return 3;
        return 4; // @anyvm
    }

    // The sound mode's rules never shadow one another: literal callers (app qubes, which no
    // general source covers) have at most one rule per service; general callers at most
    // one per service and target (the @dispvm forms counting as one target), in order of
    // targetRank, so a later rule always names requests no earlier rule names.
    void soundRpcRules(std::size_t count) {
        std::vector<std::pair<int, RpcRecord>> drawn;
        for (std::size_t i = 0, misses = 0; i < count && misses < 100 * count;) {
            RpcRecord r = drawRpcRule();
            std::string base = r.service.substr(0, r.service.find('+'));
            bool general = r.source.front() == '@';
            std::string target = targetRank(r.target) == 1 ? "@dispvm" : r.target;
            if (!claimed_.insert(general ? base + " -> " + target : base + " " + r.source).second) {
                ++misses;
                continue;
            }
            drawn.emplace_back(general ? targetRank(r.target) : -1, std::move(r));
            ++i;
        }
        std::stable_sort(drawn.begin(), drawn.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [rank, r] : drawn)
            emit(std::move(r));
    }

    void rpcRules() {
        std::size_t r = o_.rpcRules ? o_.rpcRules : 10 * o_.qubes;
        // The vaults and their template take no calls and make none, like a real vault.
        emit({"*", "tpl-vault", "*", "deny", ""});
        emit({"*", "@anyvm", "tpl-vault", "deny", ""});
        for (std::size_t k = 0; k < vaults_; ++k) {
            emit({"*", "vault-" + std::to_string(k), "*", "deny", ""});
            emit({"*", "@anyvm", "vault-" + std::to_string(k), "deny", ""});
        }
        emit({"qubes.UpdatesProxy", "@type:TemplateVM", "@default", "allow", "target=sys-net-0"});
        std::size_t written = 2 + 2 * vaults_ + 1;
        if (o_.sound) {
            // What the requirements in checks() ask for, decided first.
            copyFrom_ = app();
            do
                copyTo_ = app();
            while (copyTo_ == copyFrom_);
            const AppQube* opener = &rng_.pick(apps_list_);
            while (!opener->hasDispvm)
                opener = &rng_.pick(apps_list_);
            opener_ = opener->name;
            claimed_.insert("qubes.Filecopy " + copyFrom_);
            claimed_.insert("qubes.OpenInVM " + opener_);
            emit({"qubes.Filecopy", copyFrom_, copyTo_, "allow", ""});
            emit({"qubes.OpenInVM", opener_, "@dispvm", "allow", ""});
            written += 2;
            soundRpcRules(r > written ? r - written : 0);
        } else {
            for (std::size_t i = written; i < r; ++i)
                emit(drawRpcRule());
        }
        out_ << "\n";
    }

    void checks() {
        if (o_.sound) {
            soundChecks();
            return;
        }
        // Holds: the vaults are cut off from every rule, have no network and their own template.
        out_ << "assert no path from trust < vault to vault-0 via rpc, net, device;\n";
        out_ << "assert vault-0 has no network;\n";
        // Realistic failures: a networked app, and reachability through shared templates.
        out_ << "assert " << networkedApp().name << " has no network;\n";
        out_ << "assert no path from trust untrusted to @tag:protected via rpc\n"
                "    except rpc qubes.Filecopy because \"files are scanned on arrival\";\n";
        out_ << "assert no path from @tag:" << dept(0) << " to @tag:" << dept(1)
             << " via rpc, net;\n";
        // Requirements: some copied from allows (met unless a deny carves them out), one rpc.
        const AppQube& a = networkedApp();
        out_ << "require " << a.name << " -> qubes-dns : dns;\n";
        out_ << "require rpc qubes.Filecopy " << app() << " -> " << app() << ";\n";
        out_ << "require rpc qubes.OpenInVM " << app() << " -> @dispvm;\n";
    }

    // Only what holds by construction: the vaults are cut off from every rule (the first
    // lines), have no network and a template of their own; the requirements were written
    // first of their kind (flows(), rpcRules()).
    void soundChecks() {
        for (std::size_t k = 0; k < vaults_; ++k) {
            out_ << "assert no path from trust < vault to vault-" << k
                 << " via rpc, net, device;\n";
            out_ << "assert vault-" << k << " has no network;\n";
        }
        out_ << "require " << dnsClient_ << " -> qubes-dns : dns;\n";
        out_ << "require rpc qubes.Filecopy " << copyFrom_ << " -> " << copyTo_ << ";\n";
        out_ << "require rpc qubes.OpenInVM " << opener_ << " -> @dispvm;\n";
    }

    Options o_;
    Rng rng_;
    std::ostringstream out_;
    std::size_t templates_ = 0, netvms_ = 0, dvms_ = 0, disposables_ = 0, vaults_ = 0, depts_ = 0,
                networks_ = 0, services_ = 0, apps_ = 0, ipCount_ = 0;
    std::vector<AppQube> apps_list_;
    std::vector<std::size_t> networked_; // indices into apps_list_
    std::vector<QubeRecord> records_;
    std::vector<RpcRecord> rules_;
    // sound mode: the rule keys taken (soundRpcRules) and the requirements' endpoints
    std::set<std::string> claimed_;
    std::string dnsClient_, copyFrom_, copyTo_, opener_;
};

} // namespace

Generated generate(const Options& o) {
    return Generator(o).run();
}

} // namespace bench
