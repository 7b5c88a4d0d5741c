#include "bulkhead/compiler/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace bulkhead {

bool IpPrefix::contains(const IpPrefix& other) const {
    if (family != other.family || other.length < length)
        return false;
    for (unsigned bit = 0; bit < length; ++bit) {
        unsigned byte = bit / 8, shift = 7 - bit % 8;
        if (((bytes[byte] >> shift) & 1) != ((other.bytes[byte] >> shift) & 1))
            return false;
    }
    return true;
}

IpPrefix IpPrefix::masked() const {
    IpPrefix out = *this;
    for (unsigned bit = length; bit < maxLength(); ++bit)
        out.bytes[bit / 8] = static_cast<std::uint8_t>(out.bytes[bit / 8] & ~(1u << (7 - bit % 8)));
    return out;
}

std::string IpPrefix::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    std::string out = buf;
    if (!isHost())
        out += "/" + std::to_string(length);
    return out;
}

AddressParse parseAddress(std::string_view text) {
    AddressParse out;
    std::string_view addr = text;
    std::optional<unsigned> length;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        std::string_view len = text.substr(slash + 1);
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), value);
        if (len.empty() || ec != std::errc() || ptr != len.data() + len.size()) {
            out.error = "prefix length '" + std::string(len) + "' is not a number";
            return out;
        }
        length = value;
    }
    IpPrefix p;
    std::string addrText(addr);
    if (addrText.find(':') != std::string::npos) {
        p.family = IpPrefix::Family::V6;
        if (inet_pton(AF_INET6, addrText.c_str(), p.bytes.data()) != 1) {
            out.error = "'" + addrText + "' is not an IPv6 address";
            return out;
        }
    } else {
        p.family = IpPrefix::Family::V4;
        // inet_pton accepts exactly four decimal parts without leading zeros.
        if (inet_pton(AF_INET, addrText.c_str(), p.bytes.data()) != 1) {
            out.error = "'" + addrText +
                        "' is not an IPv4 address (four numbers 0-255, no "
                        "leading zeros)";
            return out;
        }
    }
    unsigned max = p.maxLength();
    if (length && *length > max) {
        out.error =
            "prefix length " + std::to_string(*length) + " is longer than " + std::to_string(max);
        return out;
    }
    p.length = static_cast<std::uint8_t>(length.value_or(max));
    out.prefix = p;
    return out;
}

} // namespace bulkhead
