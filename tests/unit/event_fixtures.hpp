// Builders for unit tests: raw ring-buffer records and decoded events.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "collect/connect_event.hpp"

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop::fixtures {

// A raw record as the kernel writes it, followed by `argv_area`.
inline std::vector<std::byte> raw_connect_record(const std::string& argv_area, std::uint16_t family = CS_AF_INET,
                                                 std::uint32_t flags = 0) {
    cs_connect_record record{};
    record.kind = CS_RECORD_CONNECT;
    record.flags = flags;
    record.timestamp_ns = 5'000'000'123;
    record.cgroup_id = 4242;
    record.pid = 1234;
    record.tid = 1235;
    record.ppid = 1;
    record.uid = 1000;
    record.gid = 1001;
    record.netns = 4026531840U;
    record.family = family;
    record.sport = 0;
    record.dport = 80;
    record.argv_len = static_cast<std::uint16_t>(argv_area.size());
    record.argv_area_len = static_cast<std::uint32_t>(argv_area.size());
    record.ns_pid = 1;
    record.pidns = 4026532001U;
    record.start_boottime_ns = 123'000'000'000;
    record.ancestors[0] = {1200, 0, 120'000'000'000};
    record.ancestors[1] = {1, 0, 10'000'000};
    if (family == CS_AF_INET) {
        const std::uint8_t daddr[4] = {169, 254, 169, 254};
        const std::uint8_t saddr[4] = {10, 0, 0, 5};
        std::memcpy(record.daddr, daddr, 4);
        std::memcpy(record.saddr, saddr, 4);
    } else {
        const std::uint8_t daddr[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
        std::memcpy(record.daddr, daddr, 16);
        record.saddr[15] = 1;
    }
    std::strcpy(record.comm, "curl");
    std::vector<std::byte> bytes(sizeof(record) + argv_area.size());
    std::memcpy(bytes.data(), &record, sizeof(record));
    std::memcpy(bytes.data() + sizeof(record), argv_area.data(), argv_area.size());
    return bytes;
}

inline ConnectEvent sample_event(std::vector<std::string> argv = {"curl", "-s", "http://169.254.169.254/"}) {
    ConnectEvent event;
    event.wall_time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'905'646'123'456));
    event.pid = 4321;
    event.tid = 4322;
    event.ppid = 1;
    event.uid = 0;
    event.user = "root";
    event.gid = 0;
    event.cgroup_id = 99;
    event.netns = 4026531840U;
    event.comm = "curl";
    event.argv = std::move(argv);
    event.source = *IpAddress::parse("10.0.0.5");
    event.destination = *IpAddress::parse("169.254.169.254");
    event.destination_port = 80;
    return event;
}

}  // namespace connsnoop::fixtures
