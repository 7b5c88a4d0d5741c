#pragma once
// Files compiled into the library by backends/cmake/embed_files.cmake.
#include <cstddef>

namespace bulkhead::backends::kernel {

struct EmbeddedFile {
    const char* name;
    const char* data; // not NUL-terminated
    std::size_t size;
};

// backends/qubes-nft/*.nft, in the order CMakeLists.txt lists them.
extern const EmbeddedFile qubesNftFiles[];
extern const std::size_t qubesNftFiles_count;

} // namespace bulkhead::backends::kernel
