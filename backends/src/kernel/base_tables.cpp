// Qubes' base tables, as embedded at build time from backends/qubes-nft/.
#include "bulkhead/backends/kernel_check.h"

#include "kernel/embedded_files.h"

namespace bulkhead::backends {

std::vector<NftInput> qubesBaseTables() {
    std::vector<NftInput> out;
    for (std::size_t i = 0; i < kernel::qubesNftFiles_count; ++i) {
        const kernel::EmbeddedFile& f = kernel::qubesNftFiles[i];
        out.push_back({std::string("qubes/") + f.name, std::string(f.data, f.size)});
    }
    return out;
}

} // namespace bulkhead::backends
