// IP addresses and CIDR blocks as plain values, shared by every layer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace connsnoop {

enum class AddressFamily : std::uint8_t { ipv4, ipv6 };

struct IpAddress {
    AddressFamily family = AddressFamily::ipv4;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes, the rest are 0

    // Accepts dotted IPv4 or any textual IPv6 form; nullopt otherwise.
    static std::optional<IpAddress> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] int bit_length() const { return family == AddressFamily::ipv4 ? 32 : 128; }
    bool operator==(const IpAddress&) const = default;
};

struct Cidr {
    IpAddress network;  // host bits cleared
    int prefix_len = 0;

    [[nodiscard]] bool contains(const IpAddress& address) const;
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Cidr&) const = default;
};

// "ADDR/LEN" or a bare address (a /32 or /128); nullopt when malformed.
std::optional<Cidr> parse_cidr(std::string_view text);

// Where a server listens.
struct ListenAddress {
    std::string host;        // an IPv4 or IPv6 literal; 0.0.0.0 for all
    std::uint16_t port = 0;  // 0: any free port
};

// "1.2.3.4:80" or "[fd00::1]:80"
std::string format_endpoint(const IpAddress& address, std::uint16_t port);

}  // namespace connsnoop
