// bulkhead-bench-gen: writes a synthetic but valid Bulkhead policy of any size for the
// benchmark (DESIGN §9, docs/performance.md). Deterministic: the same arguments give
// byte-identical output on every machine (mt19937's output is fixed by the standard; the
// distributions of <random> are not, so every draw goes through below() and chance()).
//
// The shape follows a real workstation scaled up: trust levels, a few templates, net and
// firewall qubes, dispvm-templates, app qubes spread over trust levels, departments (tags)
// and netvms; flows to named networks and between qubes, some denies; rpc rules mixing
// literal qubes, @tag:, @type:, @anyvm, @dispvm, @dispvm:X, redirects, ask/allow/deny; and a
// few assertions and requirements, some of which the policy violates (as real ones do).
// Above 4 MiB the qubes, flows and rules go into FILE.part-K.bh files that FILE.bh imports.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

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

struct Options {
    std::size_t qubes = 100;
    std::size_t flows = 0;    // 0: 10 per qube
    std::size_t rpcRules = 0; // 0: 10 per qube
    std::uint32_t seed = 1;
    std::string out;
};

const std::vector<std::string> kLevels = {"untrusted", "low", "personal", "work", "secret"};

struct AppQube {
    std::string name;
    std::size_t level = 0;
    std::size_t dept = 0;
    bool networked = false;
};

class Generator {
public:
    explicit Generator(const Options& o) : o_(o), rng_(o.seed) {}

    // The policy in sections, in order: header, qubes, flows, rpc rules, checks.
    std::vector<std::string> run() {
        std::vector<std::string> sections;
        auto cut = [&] {
            sections.push_back(out_.str());
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
        return sections;
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

    void qubes() {
        for (std::size_t k = 0; k < templates_; ++k)
            out_ << "template tpl-" << k << " { trust vault; }\n";
        out_ << "template tpl-vault { trust vault; }\n";
        for (std::size_t k = 0; k < netvms_; ++k) {
            out_ << "netvm sys-net-" << k << " { template tpl-0; trust untrusted; }\n";
            out_ << "firewall " << firewall(k) << " { template tpl-" << k % templates_
                 << "; trust work; netvm sys-net-" << k << "; }\n";
        }
        out_ << "usbvm sys-usb { template tpl-0; trust untrusted; }\n";
        out_ << "vpn sys-vpn { template tpl-0; trust work; netvm " << firewall(0) << "; ip "
             << nextIp() << "; }\n";
        for (std::size_t k = 0; k < dvms_; ++k) {
            bool offline = k % 3 == 2;
            out_ << "dispvm-template " << dvm(k) << " { template tpl-" << k % templates_
                 << "; trust " << kLevels[k % 3] << "; netvm "
                 << (offline ? "none" : firewall(k % netvms_)) << "; tags dvm-group-" << k % 4
                 << "; }\n";
        }
        for (std::size_t k = 0; k < disposables_; ++k) {
            std::size_t d = k % dvms_;
            bool offline = d % 3 == 2;
            out_ << "disposable disp-" << k << " { template " << dvm(d) << "; trust "
                 << kLevels[d % 3] << "; netvm " << (offline ? "none" : firewall(d % netvms_));
            if (!offline)
                out_ << "; ip " << nextIp();
            out_ << "; }\n";
        }
        for (std::size_t k = 0; k < vaults_; ++k)
            out_ << "qube vault-" << k
                 << " { template tpl-vault; trust vault; netvm none; default_dispvm none; tags "
                    "protected; }\n";
        for (std::size_t k = 0; k < apps_; ++k) {
            AppQube a;
            a.name = "app-" + std::to_string(k);
            a.level = rng_.below(kLevels.size());
            a.dept = rng_.below(depts_);
            a.networked = !rng_.chance(15);
            out_ << "qube " << a.name << " { template tpl-" << rng_.below(templates_) << "; trust "
                 << kLevels[a.level] << "; netvm "
                 << (a.networked ? firewall(rng_.below(netvms_)) : "none");
            if (a.networked)
                out_ << "; ip " << nextIp();
            if (!rng_.chance(20))
                out_ << "; default_dispvm " << dvm(rng_.below(dvms_));
            out_ << "; tags " << dept(a.dept);
            if (rng_.chance(30))
                out_ << ", proj-" << rng_.below(depts_ * 2);
            if (a.level >= 3)
                out_ << ", protected";
            out_ << "; }\n";
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
        for (std::size_t i = 0; i < m; ++i) {
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
            return "@tag:dvm-group-" + std::to_string(rng_.below(4));
        return "disp-" + std::to_string(rng_.below(disposables_));
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
            return "@dispvm:@tag:dvm-group-" + std::to_string(rng_.below(4));
        return "@tag:protected";
    }

    void rpcRule() {
        std::string service = rpcService(rng_.below(services_));
        if (rng_.chance(5))
            service += "+arg" + std::to_string(rng_.below(3));
        std::string from = rpcSource(), to = rpcTarget();
        if (from == to && from.front() != '@')
            to = "@dispvm";
        std::size_t act = rng_.below(100);
        std::string action = act < 40 ? "allow" : act < 65 ? "ask" : "deny";
        std::string params;
        if (action != "deny" && rng_.chance(20)) {
            std::size_t r = rng_.below(3);
            params = r == 0   ? " target=@dispvm:" + dvm(rng_.below(dvms_))
                     : r == 1 ? " target=" + app()
                              : " target=@dispvm";
        } else if (action == "ask" && rng_.chance(20)) {
            params = " default_target=@dispvm";
        }
        if (to == "@default" && action == "allow" && params.find("target=") == std::string::npos)
            params = " target=" + app();
        out_ << "rpc " << service << " " << from << " -> " << to << " " << action << params
             << ";\n";
    }

    void rpcRules() {
        std::size_t r = o_.rpcRules ? o_.rpcRules : 10 * o_.qubes;
        // The vaults and their template take no calls and make none, like a real vault.
        out_ << "rpc * tpl-vault -> * deny;\n";
        out_ << "rpc * @anyvm -> tpl-vault deny;\n";
        for (std::size_t k = 0; k < vaults_; ++k) {
            out_ << "rpc * vault-" << k << " -> * deny;\n";
            out_ << "rpc * @anyvm -> vault-" << k << " deny;\n";
        }
        out_ << "rpc qubes.UpdatesProxy @type:TemplateVM -> @default allow target=sys-net-0;\n";
        std::size_t written = 2 + 2 * vaults_ + 1;
        for (std::size_t i = written; i < r; ++i)
            rpcRule();
        out_ << "\n";
    }

    void checks() {
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

    Options o_;
    Rng rng_;
    std::ostringstream out_;
    std::size_t templates_ = 0, netvms_ = 0, dvms_ = 0, disposables_ = 0, vaults_ = 0, depts_ = 0,
                networks_ = 0, services_ = 0, apps_ = 0, ipCount_ = 0;
    std::vector<AppQube> apps_list_;
    std::vector<std::size_t> networked_; // indices into apps_list_
};

constexpr std::size_t kPartBytes = 4u << 20;

// Text cut at line ends into pieces of at most kPartBytes.
std::vector<std::string> chunks(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = std::min(text.size(), at + kPartBytes);
        if (end < text.size())
            end = text.rfind('\n', end - 1) + 1;
        out.push_back(text.substr(at, end - at));
        at = end;
    }
    return out;
}

int usage(const char* why) {
    std::cerr << "bulkhead-bench-gen: " << why
              << "\nusage: bulkhead-bench-gen --qubes N [--flows M] [--rpc-rules R] [--seed S] "
                 "-o FILE.bh\n  defaults: M = 10 N, R = 10 N, S = 1\n";
    return 2;
}

bool number(const char* text, std::size_t& out) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (!*text || *end || v == 0 || v > 10'000'000)
        return false;
    out = static_cast<std::size_t>(v);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    bool haveQubes = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc)
            return usage(("missing value after " + arg).c_str());
        const char* value = argv[++i];
        std::size_t n = 0;
        if (arg == "-o") {
            o.out = value;
            continue;
        }
        if (!number(value, n))
            return usage(("not a positive number: " + std::string(value)).c_str());
        if (arg == "--qubes") {
            o.qubes = n;
            haveQubes = true;
        } else if (arg == "--flows") {
            o.flows = n;
        } else if (arg == "--rpc-rules") {
            o.rpcRules = n;
        } else if (arg == "--seed") {
            o.seed = static_cast<std::uint32_t>(n);
        } else {
            return usage(("unknown option " + arg).c_str());
        }
    }
    if (!haveQubes || o.out.empty())
        return usage("--qubes and -o are required");
    if (o.qubes < 20)
        return usage("--qubes must be at least 20");
    std::vector<std::string> sections = Generator(o).run();
    std::size_t total = 0;
    for (const std::string& part : sections)
        total += part.size();
    std::vector<std::pair<std::string, std::string>> files; // path, text
    if (total <= kPartBytes) {
        std::string text;
        for (const std::string& part : sections)
            text += part;
        files.emplace_back(o.out, text);
    } else {
        // Bulkhead reads at most 8 MiB per file: the qubes, flows and rules go into parts the
        // root imports in order (imports load first, in order, so rule order is kept).
        std::string stem = o.out.ends_with(".bh") ? o.out.substr(0, o.out.size() - 3) : o.out;
        std::string base = stem.substr(stem.rfind('/') + 1);
        std::string root = sections.front();
        std::size_t k = 0;
        for (std::size_t i = 1; i + 1 < sections.size(); ++i)
            for (const std::string& chunk : chunks(sections[i])) {
                std::string name = base + ".part-" + std::to_string(++k) + ".bh";
                files.emplace_back(stem + ".part-" + std::to_string(k) + ".bh", chunk);
                root += "import \"" + name + "\";\n";
            }
        files.emplace(files.begin(), o.out, root + "\n" + sections.back());
    }
    for (const auto& [path, text] : files) {
        std::ofstream f(path, std::ios::binary);
        f << text;
        f.close();
        if (!f) {
            std::cerr << "bulkhead-bench-gen: cannot write " << path << "\n";
            return 1;
        }
    }
    return 0;
}
