#include "kernel/nft_context.h"

#include <nftables/libnftables.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace bulkhead::backends::kernel {

namespace {

// A memory-backed file: nothing to clean up on disk, even if the process is killed.
class MemFile {
public:
    MemFile() : fd_(memfd_create("bulkhead-nft", MFD_CLOEXEC)) {}
    ~MemFile() {
        if (fd_ >= 0)
            close(fd_);
    }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;

    // Returns an empty string on success, else why it failed.
    std::string write(std::string_view text) const {
        if (fd_ < 0)
            return std::string("memfd_create: ") + std::strerror(errno);
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return std::string("write to memfd: ") + std::strerror(errno);
            done += static_cast<std::size_t>(n);
        }
        return {};
    }
    std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

private:
    int fd_;
};

} // namespace

NftContext::NftContext(Options options) : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (!ctx_)
        return;
    nft_ctx_buffer_output(ctx_);
    nft_ctx_buffer_error(ctx_);
    if (options.json)
        nft_ctx_output_set_flags(ctx_, nft_ctx_output_get_flags(ctx_) | NFT_CTX_OUTPUT_JSON);
    if (options.numeric)
        nft_ctx_output_set_flags(ctx_, nft_ctx_output_get_flags(ctx_) | NFT_CTX_OUTPUT_NUMERIC_ALL);
    nft_ctx_set_dry_run(ctx_, options.dryRun);
}

NftContext::~NftContext() {
    if (ctx_)
        nft_ctx_free(ctx_);
}

NftRun NftContext::collect(int rc) {
    NftRun run;
    run.ok = rc == 0;
    if (const char* out = nft_ctx_get_output_buffer(ctx_))
        run.output = out;
    if (const char* err = nft_ctx_get_error_buffer(ctx_))
        run.errors = err;
    return run;
}

NftRun NftContext::run(std::string_view text, std::string_view logicalName) {
    if (!ctx_)
        return {false, "", "nft_ctx_new failed\n"};
    MemFile file;
    if (std::string why = file.write(text); !why.empty())
        return {false, "", why + "\n"};
    std::string path = file.path();
    NftRun result = collect(nft_run_cmd_from_filename(ctx_, path.c_str()));
    result.errors = renameFileInMessages(result.errors, path, logicalName);
    return result;
}

NftRun NftContext::command(const std::string& text) {
    if (!ctx_)
        return {false, "", "nft_ctx_new failed\n"};
    return collect(nft_run_cmd_from_buffer(ctx_, text.c_str()));
}

std::string renameFileInMessages(std::string_view messages, std::string_view path,
                                 std::string_view logicalName) {
    std::string needle = std::string(path) + ":";
    std::string out;
    out.reserve(messages.size());
    std::size_t i = 0;
    while (i < messages.size()) {
        bool atWordStart = i == 0 || messages[i - 1] == '\n' || messages[i - 1] == ' ';
        if (atWordStart && messages.compare(i, needle.size(), needle) == 0) {
            out.append(logicalName);
            out.push_back(':');
            i += needle.size();
        } else {
            out.push_back(messages[i++]);
        }
    }
    return out;
}

} // namespace bulkhead::backends::kernel
