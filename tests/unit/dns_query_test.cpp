// The user-space half of --dns: the wire-format name turned into escaped
// text, type and class names, the record's decoding, its table row.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "collect/dns_query_event.hpp"
#include "collect/record_decoder.hpp"
#include "output/table_format.hpp"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {
namespace {

std::string text_of(const std::vector<std::uint8_t>& wire) { return dns_name_text(wire); }

TEST(DnsName, LabelsJoinedByDotsWithoutTheRootsDot) {
    EXPECT_EQ(text_of({7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}), "example.com");
    EXPECT_EQ(text_of({0}), ".");
    EXPECT_EQ(text_of({}), ".");
    EXPECT_EQ(text_of({1, '_', 4, 'l', 'd', 'a', 'p', 0}), "_.ldap");
}

TEST(DnsName, HostileBytesAreEscapedAsZoneFilesWriteThem) {
    // ESC, a dot and a backslash inside labels, NUL, space, DEL, UTF-8
    EXPECT_EQ(text_of({4, 0x1b, '[', '2', 'J', 3, 'b', '.', 'c', 2, '\\', 'x', 0}), R"(\027[2J.b\.c.\\x)");
    EXPECT_EQ(text_of({5, 'a', 0, ' ', 0x7f, 'z', 2, 0xc3, 0xa9, 0}), R"(a\000\032\127z.\195\169)");
    // Only printable ASCII comes out, whatever went in.
    std::vector<std::uint8_t> every_byte = {63};
    for (int byte = 0; byte < 63; ++byte) every_byte.push_back(static_cast<std::uint8_t>(byte * 4 + 1));
    for (const char c : text_of(every_byte)) EXPECT_TRUE(c > ' ' && c < 0x7f) << static_cast<int>(c);
}

TEST(DnsName, StopsAtAPointerAReservedLabelOrTheEnd) {
    EXPECT_EQ(text_of({1, 'a', 0xc0, 0x0c}), "a");    // compression pointer: never followed
    EXPECT_EQ(text_of({1, 'a', 0x40, 'b', 0}), "a");  // reserved label type
    EXPECT_EQ(text_of({63, 'a', 'b'}), "ab");         // a label running past the end
    EXPECT_EQ(text_of({1, 'a', 0, 1, 'b', 0}), "a");  // nothing after the root label
    const std::vector<std::uint8_t> long_label = [] {
        std::vector<std::uint8_t> wire = {63};
        wire.insert(wire.end(), 63, 'x');
        wire.push_back(0);
        return wire;
    }();
    EXPECT_EQ(text_of(long_label), std::string(63, 'x'));
}

TEST(DnsName, TypeAndClassNames) {
    EXPECT_EQ(dns_type_name(1), "A");
    EXPECT_EQ(dns_type_name(28), "AAAA");
    EXPECT_EQ(dns_type_name(65), "HTTPS");
    EXPECT_EQ(dns_type_name(0), "TYPE0");
    EXPECT_EQ(dns_type_name(65280), "TYPE65280");
    EXPECT_EQ(dns_class_name(1), "IN");
    EXPECT_EQ(dns_class_name(254), "CLASS254");
}

std::vector<std::byte> dns_record_bytes(const std::vector<std::uint8_t>& name, std::uint16_t name_len,
                                        const std::string& argv) {
    cs_dns_record record{};
    record.process.kind = CS_RECORD_DNS;
    record.process.pid = 4242;
    record.process.family = CS_AF_INET;
    record.process.dport = 53;
    const std::uint8_t daddr[] = {169, 254, 169, 253};
    std::memcpy(record.process.daddr, daddr, sizeof(daddr));
    std::memcpy(record.process.comm, "resolver", 8);
    record.process.argv_len = static_cast<std::uint16_t>(argv.size());
    record.query_id = 0x1234;
    record.header_flags = 0x0100;
    record.qtype = 28;
    record.qclass = 1;
    record.question_count = 1;
    record.name_len = name_len;
    record.dns_flags = CS_DNS_NAME_COMPRESSED;
    std::memcpy(record.name, name.data(), std::min(name.size(), sizeof(record.name)));
    std::vector<std::byte> bytes(sizeof(record) + argv.size());
    std::memcpy(bytes.data(), &record, sizeof(record));
    std::memcpy(bytes.data() + sizeof(record), argv.data(), argv.size());
    return bytes;
}

TEST(DnsRecord, DecodesTheQueryAndItsSender) {
    const auto bytes = dns_record_bytes({3, 'a', 'b', 'c', 0, 'X', 'Y'}, 5, std::string("dig\0a.example", 13));
    auto record = decode_record(bytes, ClockConverter(0));
    ASSERT_TRUE(record) << record.error().message;
    const auto* query = std::get_if<DnsQueryEvent>(&*record);
    ASSERT_NE(query, nullptr);
    EXPECT_EQ(query->name, "abc");  // only name_len bytes count
    EXPECT_EQ(query->qtype, 28);
    EXPECT_EQ(query->query_id, 0x1234);
    EXPECT_TRUE(query->name_compressed);
    EXPECT_FALSE(query->name_malformed);
    EXPECT_EQ(query->sender.protocol, Protocol::udp);
    EXPECT_EQ(query->sender.pid, 4242U);
    EXPECT_EQ(query->sender.comm, "resolver");
    EXPECT_EQ(query->sender.argv, (std::vector<std::string>{"dig", "a.example"}));
    EXPECT_EQ(query->sender.destination.to_string(), "169.254.169.253");
}

TEST(DnsRecord, MalformedRecordsAreErrors) {
    EXPECT_FALSE(decode_record(dns_record_bytes({0}, CS_DNS_NAME_MAX, ""), ClockConverter(0)));
    auto short_record = dns_record_bytes({0}, 1, "");
    short_record.resize(short_record.size() - 1);
    EXPECT_FALSE(decode_record(short_record, ClockConverter(0)));
    EXPECT_TRUE(decode_record(dns_record_bytes({0}, 1, "argv"), ClockConverter(0)));
    auto claims_more_argv = dns_record_bytes({0}, 1, "argv");
    claims_more_argv.resize(claims_more_argv.size() - 2);
    EXPECT_FALSE(decode_record(claims_more_argv, ClockConverter(0)));
}

TEST(DnsRecord, TableRowShowsTypeAndEscapedName) {
    DnsQueryEvent query;
    query.sender.pid = 7;
    query.sender.user = "root";
    query.sender.protocol = Protocol::udp;
    query.sender.destination = *IpAddress::parse("169.254.169.253");
    query.sender.destination_port = 53;
    query.sender.argv = {"dig", "x"};
    query.qtype = 1;
    query.name = R"(\027[2J.example)";
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.protocol_column = true;
    const auto row = format_dns_row(query, layout);
    EXPECT_NE(row.find("udp   169.254.169.253:53"), std::string::npos) << row;
    EXPECT_NE(row.find(R"(A \027[2J.example)"), std::string::npos) << row;
    EXPECT_EQ(row.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace connsnoop
