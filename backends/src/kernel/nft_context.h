#pragma once
// A thin owner of libnftables' `struct nft_ctx`: output and errors are always buffered, and
// every call returns {ok, output, errors} as nftables' own Python binding does.
#include <string>
#include <string_view>

struct nft_ctx;

namespace bulkhead::backends::kernel {

struct NftRun {
    bool ok = false;
    std::string output;
    std::string errors;
};

class NftContext {
public:
    struct Options {
        bool json = false;    // output as JSON (NFT_CTX_OUTPUT_JSON)
        bool numeric = false; // protocols, ICMP types, ct states as numbers (nft -n)
        bool dryRun = false;  // nft -c: the kernel still validates the batch, then aborts it
    };
    NftContext() : NftContext(Options{}) {}
    explicit NftContext(Options options);
    ~NftContext();
    NftContext(const NftContext&) = delete;
    NftContext& operator=(const NftContext&) = delete;

    // Runs a whole nftables file. The text goes through a memfd and
    // nft_run_cmd_from_filename, because libnftables 1.0.6 reports no line numbers (and quotes
    // the wrong line) for a buffer; the memfd's path is then replaced by logicalName in the
    // error text, so errors read `logicalName:line:col-col: Error: ...`.
    NftRun run(std::string_view text, std::string_view logicalName);

    // Runs a short command (`list ruleset`) from a buffer, where line numbers do not matter.
    NftRun command(const std::string& text);

    bool valid() const { return ctx_ != nullptr; }

private:
    NftRun collect(int rc);
    struct nft_ctx* ctx_ = nullptr;
};

// Replaces every `path:` at the start of a line, or after a space, with `logicalName:`.
std::string renameFileInMessages(std::string_view messages, std::string_view path,
                                 std::string_view logicalName);

} // namespace bulkhead::backends::kernel
