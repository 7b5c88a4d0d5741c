// The kernel check's inputs (backends/kernel_check.h): Qubes' base tables as embedded.
#include "test_support.h"

#include "bulkhead/backends/kernel_check.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace bulkhead;
using namespace bulkhead::backends;

TEST_CASE("Qubes' base tables are embedded, in boot order, byte for byte") {
    std::vector<NftInput> base = qubesBaseTables();
    REQUIRE(base.size() == 3);
    CHECK(base[0].logicalName == "qubes/qubes-antispoof.nft");
    CHECK(base[1].logicalName == "qubes/qubes-ipv4.nft");
    CHECK(base[2].logicalName == "qubes/qubes-ipv6.nft");
    for (const NftInput& in : base) {
        std::ifstream file(test::sourceDir() / "backends" / "qubes-nft" /
                           in.logicalName.substr(std::string("qubes/").size()));
        std::stringstream text;
        text << file.rdbuf();
        CHECK(in.text == text.str());
    }
}
