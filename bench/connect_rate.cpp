// bulkhead-bench-connect: new TCP connections per second, for the kernel benchmark
// (bench/kernel/run_kernel.py). Opens one connection after another, round robin over the
// probes, each from its own source address, until SECONDS have passed: socket, bind,
// connect, close. A closed port answers the SYN with a RST, so every attempt is one new
// connection through the firewall's rules and back (ECONNREFUSED); an attempt the firewall
// rejects ends with EHOSTUNREACH (or, dropped, after a second). Prints: attempts refused
// connected unreachable other rate cpu_seconds. The CPU time (user + sys of this process)
// holds most of the packets' path too, since veth delivers in the sender's context: on a
// busy machine attempts / cpu_seconds says more than the wall-clock rate.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Probe {
    sockaddr_in src{}, dst{};
};

bool parseProbe(const std::string& text, Probe& p) {
    // SRC:DST:PORT
    std::size_t a = text.find(':'), b = text.rfind(':');
    if (a == std::string::npos || a == b)
        return false;
    p.src.sin_family = p.dst.sin_family = AF_INET;
    int port = std::atoi(text.c_str() + b + 1);
    p.dst.sin_port = htons(static_cast<std::uint16_t>(port));
    return port > 0 && port < 65536 &&
           inet_pton(AF_INET, text.substr(0, a).c_str(), &p.src.sin_addr) == 1 &&
           inet_pton(AF_INET, text.substr(a + 1, b - a - 1).c_str(), &p.dst.sin_addr) == 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bulkhead-bench-connect SECONDS SRC:DST:PORT...\n");
        return 2;
    }
    double seconds = std::atof(argv[1]);
    std::vector<Probe> probes;
    for (int i = 2; i < argc; ++i) {
        Probe p;
        if (!parseProbe(argv[i], p)) {
            std::fprintf(stderr, "bulkhead-bench-connect: not SRC:DST:PORT: %s\n", argv[i]);
            return 2;
        }
        probes.push_back(p);
    }
    long attempts = 0, refused = 0, connected = 0, unreachable = 0, other = 0;
    auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    for (; elapsed < seconds; ++attempts) {
        const Probe& p = probes[static_cast<std::size_t>(attempts) % probes.size()];
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            std::perror("socket");
            return 1;
        }
        // A dropped SYN would block for minutes: give up after a second (counted as other).
        timeval limit{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        int rc = bind(fd, reinterpret_cast<const sockaddr*>(&p.src), sizeof p.src);
        if (rc == 0)
            rc = connect(fd, reinterpret_cast<const sockaddr*>(&p.dst), sizeof p.dst);
        int err = rc == 0 ? 0 : errno;
        close(fd);
        if (rc == 0)
            ++connected;
        else if (err == ECONNREFUSED)
            ++refused;
        else if (err == EHOSTUNREACH || err == ENETUNREACH)
            ++unreachable;
        else
            ++other;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("%ld %ld %ld %ld %ld %.0f %.3f\n", attempts, refused, connected, unreachable, other,
                static_cast<double>(attempts) / elapsed, cpu);
    return 0;
}
