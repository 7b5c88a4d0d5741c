#pragma once
// IPv4 and IPv6 prefixes as the model stores them.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulkhead {

struct IpPrefix {
    enum class Family : std::uint8_t { V4, V6 };
    Family family = Family::V4;
    std::array<std::uint8_t, 16> bytes{}; // V4 uses the first 4
    std::uint8_t length = 0;

    std::uint8_t maxLength() const { return family == Family::V4 ? 32 : 128; }
    bool isHost() const { return length == maxLength(); }
    bool contains(const IpPrefix& other) const;
    IpPrefix masked() const; // host bits cleared
    std::string str() const; // canonical text: 10.0.0.0/8, 2001:db8::/32, 10.137.0.10
    auto operator<=>(const IpPrefix&) const = default;
};

struct AddressParse {
    std::optional<IpPrefix> prefix;
    std::string error; // why it is not an address, when prefix is empty
};

// "10.1.2.3", "10.0.0.0/8", "::/0", "fd09:24ef::a89:a". A missing length means one host.
AddressParse parseAddress(std::string_view text);

} // namespace bulkhead
