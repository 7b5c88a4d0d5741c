// bulkhead-bench-import: times Qubes' policy.d loader (qrexec_policy.h) on a directory, the
// way check's baseline and audit read one: lines and bytes per second over several runs, and
// the peak RSS of the process. Figures only (bench/import.sh, docs/performance.md).
#include "bulkhead/compiler/qrexec_policy.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Size {
    std::size_t lines = 0, bytes = 0;
};

// What Qubes would read: *.policy files (the loader applies the full filter; this only
// counts the input for the rates).
Size measureInput(const std::string& dir) {
    Size s;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".policy")
            continue;
        std::ifstream f(entry.path(), std::ios::binary);
        std::string line;
        while (std::getline(f, line)) {
            ++s.lines;
            s.bytes += line.size() + 1;
        }
    }
    return s;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: bulkhead-bench-import POLICY_DIR [RUNS]\n";
        return 2;
    }
    std::string dir = argv[1];
    int runs = argc == 3 ? std::atoi(argv[2]) : 5;
    if (runs < 1 || !std::filesystem::is_directory(dir)) {
        std::cerr << "bulkhead-bench-import: need a directory and a positive run count\n";
        return 2;
    }
    Size input = measureInput(dir);
    bulkhead::QrexecPolicyOptions options;
    options.policyDirs = {dir};
    options.legacyDir = dir + "/no-legacy";
    std::vector<double> seconds, cpu;
    std::size_t rules = 0;
    for (int i = 0; i < runs; ++i) {
        // CPU time beside wall time: on a shared machine the wall time is mostly waiting.
        timespec cpuStart{}, cpuEnd{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuStart);
        auto start = std::chrono::steady_clock::now();
        bulkhead::QrexecPolicyLoad load = bulkhead::loadQrexecPolicy(options);
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuEnd);
        cpu.push_back(static_cast<double>(cpuEnd.tv_sec - cpuStart.tv_sec) +
                      static_cast<double>(cpuEnd.tv_nsec - cpuStart.tv_nsec) / 1e9);
        if (load.refused()) {
            std::cerr << "bulkhead-bench-import: Qubes would refuse this policy: "
                      << load.errors.front().render() << "\n";
            return 1;
        }
        rules = load.rules.size();
    }
    std::sort(seconds.begin(), seconds.end());
    std::sort(cpu.begin(), cpu.end());
    double median = seconds[seconds.size() / 2];
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    // One line for the script: lines bytes rules median_s min_s lines/s MB/s peak_rss_kb
    // median_cpu_s
    std::cout << input.lines << " " << input.bytes << " " << rules << " " << median << " "
              << seconds.front() << " " << static_cast<double>(input.lines) / median << " "
              << static_cast<double>(input.bytes) / median / 1e6 << " " << usage.ru_maxrss << " "
              << cpu[cpu.size() / 2] << "\n";
    return 0;
}
