#include "util/net_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace connsnoop {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string terminated(text);
    IpAddress address;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
        address.family = AddressFamily::ipv4;
        return address;
    }
    if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
    address.family = AddressFamily::ipv6;
    return address;
}

std::string IpAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == AddressFamily::ipv4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text));
    return text;
}

namespace {
IpAddress masked(IpAddress address, int prefix_len) {
    for (int bit = prefix_len; bit < address.bit_length(); ++bit) {
        address.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
    }
    return address;
}
}  // namespace

bool Cidr::contains(const IpAddress& address) const {
    return address.family == network.family && masked(address, prefix_len) == network;
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix_len); }

std::optional<Cidr> parse_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    int prefix_len = address->bit_length();
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto* end = digits.data() + digits.size();
        if (digits.empty() || digits.size() > 3) return std::nullopt;
        auto [ptr, ec] = std::from_chars(digits.data(), end, prefix_len);
        if (ec != std::errc{} || ptr != end || prefix_len < 0 || prefix_len > address->bit_length()) {
            return std::nullopt;
        }
    }
    return Cidr{masked(*address, prefix_len), prefix_len};
}

std::string format_endpoint(const IpAddress& address, std::uint16_t port) {
    if (address.family == AddressFamily::ipv6) return "[" + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ":" + std::to_string(port);
}

}  // namespace connsnoop
