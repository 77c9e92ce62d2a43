// One DNS query sent to a resolver (--dns), as the kernel parsed it from the
// datagram: the header's ID and flags, and the first question's name, type
// and class. Nothing else of the payload leaves the kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "collect/connect_event.hpp"

namespace connsnoop {

struct DnsQueryEvent {
    // The sending process and the datagram's endpoints (protocol udp),
    // enriched like any connect event.
    ConnectEvent sender;
    std::uint16_t query_id = 0;
    std::uint16_t header_flags = 0;  // the DNS header's flags word (RD, opcode, ...)
    std::uint16_t qtype = 0;         // 0 when the name was malformed (no type known)
    std::uint16_t qclass = 0;
    std::uint16_t question_count = 0;
    // The first question's name in presentation form (dns_name_text): ASCII
    // letters, digits and punctuation only, whatever bytes the query held.
    std::string name;
    bool name_compressed = false;  // ended in a compression pointer: name is the labels before it
    bool name_malformed = false;   // ran past the datagram or 255 bytes: name is what was there
};

// The presentation form of a wire-format name (length-prefixed labels):
// labels joined by dots, no trailing dot, "." for the root. Untrusted bytes
// are escaped as in zone files (RFC 1035 5.1, as dig prints them): a dot or
// backslash inside a label as \. and \\, any byte outside printable ASCII
// (a space, control characters, ESC, UTF-8) as \DDD in decimal. Never fails:
// a label running past the end gives what is there; a compression pointer or
// reserved label type ends the name.
std::string dns_name_text(std::span<const std::uint8_t> wire);

// "A", "AAAA", "PTR", ...; "TYPE<n>" for others (RFC 3597).
std::string dns_type_name(std::uint16_t qtype);
// "IN", "CH", "HS", "ANY"; "CLASS<n>" for others.
std::string dns_class_name(std::uint16_t qclass);

}  // namespace connsnoop
