// The kernel check: fork, unshare a network namespace in the child, load there, report back
// over a pipe as JSON, exit. The namespace has no other user, so it dies with the child.
#include "bulkhead/backends/kernel_check.h"

#include "kernel/nft_context.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulkhead::backends {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double millisecondsSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string errnoText(const char* what, int err) {
    return std::string(what) + ": " + std::strerror(err);
}

// ---- the child ------------------------------------------------------------------------------

bool writeWholeFile(const char* path, const std::string& text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
}

ino_t currentNetns() {
    struct stat st {};
    return stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

// Enters a network namespace of our own. Returns the mode, or None with the reason.
KernelCheckMode enterNamespace(bool forceUser, std::string& reason) {
    std::string rootFailure;
    if (!forceUser) {
        if (unshare(CLONE_NEWNET) == 0)
            return KernelCheckMode::RootNetns;
        // Any failure, not only EPERM, is worth the unprivileged attempt; both reasons are
        // reported if that fails too.
        rootFailure = errnoText("unshare(CLONE_NEWNET)", errno);
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
        std::string userFailure = errnoText("unshare(CLONE_NEWUSER|CLONE_NEWNET)", errno);
        reason = rootFailure.empty() ? userFailure : rootFailure + "; " + userFailure;
        return KernelCheckMode::None;
    }
    // Map ourselves to root inside, as `unshare -Ur` does. An unprivileged process must deny
    // setgroups before it may write a gid map.
    bool mapped = writeWholeFile("/proc/self/setgroups", "deny") &&
                  writeWholeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
                  writeWholeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    if (!mapped) {
        reason = errnoText("writing the user namespace's uid/gid maps", errno);
        return KernelCheckMode::None;
    }
    return KernelCheckMode::UserNetns;
}

bool tooLong(const kernel::NftRun& run) {
    return !run.ok && run.errors.find(std::strerror(EMSGSIZE)) != std::string::npos;
}

bool beginsWithWord(std::string_view statement, std::string_view word) {
    std::size_t i = statement.find_first_not_of(" \t\r");
    return i != std::string_view::npos && statement.compare(i, word.size(), word) == 0 &&
           (i + word.size() == statement.size() || statement[i + word.size()] == ' ' ||
            statement[i + word.size()] == '\t');
}

// The text nft loads for statements [first, last): the statements at their original line
// numbers (earlier lines are left blank), so errors point into the caller's file.
std::string chunkText(const std::vector<NftStatement>& statements, std::size_t first,
                      std::size_t last) {
    std::string text;
    std::size_t line = 1;
    for (std::size_t i = first; i < last; ++i) {
        const NftStatement& s = statements[i];
        if (s.firstLine > line) {
            text.append(s.firstLine - line, '\n');
            line = s.firstLine;
        }
        text.append(s.text);
        line += static_cast<std::size_t>(std::count(s.text.begin(), s.text.end(), '\n'));
        if (!s.text.empty() && s.text.back() != '\n') {
            text.push_back('\n');
            ++line;
        }
    }
    return text;
}

class ChunkLoader {
public:
    ChunkLoader(const NftInput& input, const std::vector<NftStatement>& statements)
        : input_(input), statements_(statements) {}

    // Loads statements [first, last) in chunks of at most `bytes` bytes; a chunk the kernel
    // refuses as too long is split again at half the size. Returns false at the first error.
    bool load(std::size_t first, std::size_t last, std::size_t bytes, NftLoadReport& report) {
        std::size_t i = first;
        while (i < last) {
            std::size_t end = i;
            std::size_t size = 0;
            do {
                size += statements_[end].text.size();
                ++end;
            } while (end < last && size + statements_[end].text.size() <= bytes);

            kernel::NftContext nft;
            kernel::NftRun run = nft.run(chunkText(statements_, i, end), input_.logicalName);
            if (run.ok) {
                ++report.chunks;
            } else if (tooLong(run) && end - i > 1) {
                if (!load(i, end, std::max<std::size_t>(size / 2, 1), report))
                    return false;
            } else {
                report.errors = run.errors;
                if (tooLong(run))
                    report.errors +=
                        input_.logicalName + ":" + std::to_string(statements_[i].firstLine) +
                        ": note: this one statement is larger than an unprivileged netlink "
                        "socket may send (net.core.wmem_default); split it into smaller "
                        "`add element` batches\n";
                return false;
            }
            i = end;
        }
        return true;
    }

private:
    const NftInput& input_;
    const std::vector<NftStatement>& statements_;
};

// Loads one input as one transaction; in a user namespace, falls back to chunks when the
// batch is larger than the socket may send.
NftLoadReport loadInput(const NftInput& input, KernelCheckMode& mode,
                        const KernelCheckOptions& options) {
    Clock::time_point start = Clock::now();
    NftLoadReport report;
    report.logicalName = input.logicalName;
    kernel::NftRun run;
    {
        kernel::NftContext nft;
        run = nft.run(input.text, input.logicalName);
    }
    report.ok = run.ok;
    report.errors = run.errors;
    if (tooLong(run) && mode != KernelCheckMode::RootNetns) {
        // The failed batch was not committed (a batch is atomic), so the retry starts clean.
        std::vector<NftStatement> statements = splitTopLevelStatements(input.text);
        auto scoped = std::find_if(statements.begin(), statements.end(), [](const auto& s) {
            return beginsWithWord(s.text, "define") || beginsWithWord(s.text, "redefine") ||
                   beginsWithWord(s.text, "undefine") || beginsWithWord(s.text, "include");
        });
        if (scoped != statements.end()) {
            report.errors += input.logicalName + ":" + std::to_string(scoped->firstLine) +
                             ": note: not retried in chunks: `define` and `include` do not "
                             "survive splitting the file\n";
        } else {
            report.chunks = 0;
            report.errors.clear();
            report.ok = ChunkLoader(input, statements)
                            .load(0, statements.size(),
                                  std::max<std::size_t>(options.chunkBytes, 1), report);
            mode = KernelCheckMode::UserNetnsChunked;
        }
    }
    report.milliseconds = millisecondsSince(start);
    return report;
}

json reportJson(const NftLoadReport& r) {
    return {{"name", r.logicalName},
            {"ok", r.ok},
            {"chunks", r.chunks},
            {"errors", r.errors},
            {"ms", r.milliseconds}};
}

json runChild(const std::vector<NftInput>& baseTables, const std::vector<NftInput>& rulesets,
              const KernelCheckOptions& options) {
    json result = {{"status", "failed"}, {"mode", 0}, {"reason", ""}, {"loads", json::array()}};
    ino_t hostNetns = currentNetns();
    std::string reason;
    KernelCheckMode mode = enterNamespace(options.forceUserNamespace, reason);
    if (mode == KernelCheckMode::None) {
        result["status"] = "namespaceUnavailable";
        result["reason"] = reason;
        return result;
    }
    // Belt and braces: never load anything unless we really are in a different namespace.
    if (hostNetns == 0 || currentNetns() == hostNetns) {
        result["reason"] = "unshare succeeded but the network namespace did not change";
        return result;
    }
    result["status"] = "loaded";
    for (const std::vector<NftInput>* inputs : {&baseTables, &rulesets}) {
        for (const NftInput& input : *inputs) {
            NftLoadReport report = loadInput(input, mode, options);
            result["loads"].push_back(reportJson(report));
            if (!report.ok) {
                result["status"] = "rejected";
                break;
            }
        }
        if (result["status"] != "loaded")
            break;
    }
    result["mode"] = static_cast<int>(mode);
    if (result["status"] == "loaded" && options.listRuleset) {
        kernel::NftContext nft(kernel::NftContext::Options{
            .json = true, .numeric = options.numericListing, .dryRun = false});
        kernel::NftRun list = nft.command("list ruleset");
        if (!list.ok) {
            result["status"] = "failed";
            result["reason"] = "nft -j list ruleset failed: " + list.errors;
        } else {
            result["ruleset"] = std::move(list.output);
        }
    }
    return result;
}

bool writeAll(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void childMain(int fd, const std::vector<NftInput>& baseTables,
                            const std::vector<NftInput>& rulesets,
                            const KernelCheckOptions& options) {
    signal(SIGPIPE, SIG_IGN);
    // Nothing the library prints may land in the caller's stdout (which may be a report).
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
    }
    int code = 0;
    try {
        std::string message = runChild(baseTables, rulesets, options).dump();
        code = writeAll(fd, message) ? 0 : 2;
    } catch (const std::exception& e) {
        json failed = {{"status", "failed"},
                       {"mode", 0},
                       {"reason", std::string("kernel check child: ") + e.what()},
                       {"loads", json::array()}};
        code = writeAll(fd, failed.dump()) ? 1 : 2;
    } catch (...) {
        code = 3;
    }
    // _exit: no atexit handlers, no stdio flushes of the parent's buffers, no destructors.
    _exit(code);
}

// ---- the parent -----------------------------------------------------------------------------

std::string describeExit(int status) {
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + strsignal(WTERMSIG(status));
    return "ended oddly";
}

KernelCheckResult::Status statusFromText(const std::string& s) {
    if (s == "loaded")
        return KernelCheckResult::Status::Loaded;
    if (s == "rejected")
        return KernelCheckResult::Status::Rejected;
    if (s == "namespaceUnavailable")
        return KernelCheckResult::Status::NamespaceUnavailable;
    return KernelCheckResult::Status::Failed;
}

void fillFromJson(const json& j, KernelCheckResult& result) {
    result.status = statusFromText(j.at("status").get<std::string>());
    if (j.at("mode").is_number_integer()) {
        int mode = j.at("mode").get<int>();
        if (mode >= 0 && mode <= static_cast<int>(KernelCheckMode::UserNetnsChunked))
            result.mode = static_cast<KernelCheckMode>(mode);
    }
    result.reason = j.at("reason").get<std::string>();
    for (const json& l : j.at("loads")) {
        NftLoadReport r;
        r.logicalName = l.at("name").get<std::string>();
        r.ok = l.at("ok").get<bool>();
        r.chunks = l.at("chunks").get<std::size_t>();
        r.errors = l.at("errors").get<std::string>();
        r.milliseconds = l.at("ms").get<double>();
        result.loads.push_back(std::move(r));
    }
    if (j.contains("ruleset"))
        result.rulesetJson = j.at("ruleset").get<std::string>();
}

} // namespace

const char* kernelCheckModeName(KernelCheckMode mode) {
    switch (mode) {
    case KernelCheckMode::None:
        return "none";
    case KernelCheckMode::RootNetns:
        return "root netns";
    case KernelCheckMode::UserNetns:
        return "user netns";
    case KernelCheckMode::UserNetnsChunked:
        return "user netns, chunked";
    }
    return "none";
}

std::string KernelCheckResult::errors() const {
    std::string out;
    for (const NftLoadReport& l : loads)
        if (!l.ok)
            out += l.errors;
    return out;
}

KernelCheckResult checkInThrowAwayNamespace(const std::vector<NftInput>& baseTables,
                                            const std::vector<NftInput>& rulesets,
                                            const KernelCheckOptions& options) {
    Clock::time_point start = Clock::now();
    Clock::time_point deadline = start + options.timeout;
    KernelCheckResult result;
    auto fail = [&](std::string why) {
        result.status = KernelCheckResult::Status::Failed;
        result.reason = std::move(why);
        result.milliseconds = millisecondsSince(start);
        return result;
    };

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return fail(errnoText("pipe2", errno));
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return fail(errnoText("fork", err));
    }
    if (pid == 0) {
        close(fds[0]);
        childMain(fds[1], baseTables, rulesets, options);
    }
    close(fds[1]);

    std::string message;
    bool timedOut = false;
    std::string readError;
    char buffer[65536];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            timedOut = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1'000'000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            readError = errnoText("poll", errno);
            break;
        }
        if (ready == 0)
            continue;
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            readError = errnoText("read", errno);
            break;
        }
        if (n == 0)
            break;
        message.append(buffer, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    if (timedOut || !readError.empty())
        kill(pid, SIGKILL); // the namespace goes with it
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timedOut)
        return fail("the kernel check took longer than " + std::to_string(options.timeout.count()) +
                    " ms and was stopped");
    if (!readError.empty())
        return fail("reading the kernel check's result: " + readError);

    try {
        fillFromJson(json::parse(message), result);
    } catch (const std::exception&) {
        result.loads.clear();
        return fail("the kernel check's child " + describeExit(status) + " without a result");
    }
    result.milliseconds = millisecondsSince(start);
    return result;
}

} // namespace bulkhead::backends
