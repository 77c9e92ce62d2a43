#include "collect/dns_query_event.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace connsnoop {

std::string dns_name_text(std::span<const std::uint8_t> wire) {
    std::string text;
    std::size_t at = 0;
    while (at < wire.size()) {
        const std::uint8_t label = wire[at++];
        if (label == 0 || (label & 0xc0) != 0) break;
        if (!text.empty()) text += '.';
        const std::size_t end = std::min(wire.size(), at + label);
        for (; at < end; ++at) {
            const std::uint8_t byte = wire[at];
            if (byte == '.' || byte == '\\') {
                text += '\\';
                text += static_cast<char>(byte);
            } else if (byte <= ' ' || byte >= 0x7f) {
                const std::array<char, 4> digits = {'\\', static_cast<char>('0' + byte / 100),
                                                    static_cast<char>('0' + byte / 10 % 10),
                                                    static_cast<char>('0' + byte % 10)};
                text.append(digits.data(), digits.size());
            } else {
                text += static_cast<char>(byte);
            }
        }
    }
    return text.empty() ? "." : text;
}

std::string dns_type_name(std::uint16_t qtype) {
    static constexpr std::pair<std::uint16_t, const char*> kNames[] = {
        {1, "A"},     {2, "NS"},      {5, "CNAME"}, {6, "SOA"},    {12, "PTR"},   {13, "HINFO"}, {15, "MX"},
        {16, "TXT"},  {28, "AAAA"},   {33, "SRV"},  {35, "NAPTR"}, {41, "OPT"},   {43, "DS"},    {46, "RRSIG"},
        {47, "NSEC"}, {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {252, "AXFR"}, {255, "ANY"},  {257, "CAA"},
    };
    for (const auto& [code, name] : kNames) {
        if (code == qtype) return name;
    }
    return "TYPE" + std::to_string(qtype);
}

std::string dns_class_name(std::uint16_t qclass) {
    switch (qclass) {
        case 1:
            return "IN";
        case 3:
            return "CH";
        case 4:
            return "HS";
        case 255:
            return "ANY";
        default:
            return "CLASS" + std::to_string(qclass);
    }
}

}  // namespace connsnoop
