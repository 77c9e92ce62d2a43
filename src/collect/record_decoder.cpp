#include "collect/record_decoder.hpp"

#include <cstring>
#include <ctime>
#include <type_traits>

extern "C" {
#include "connsnoop_abi.h"
}

namespace connsnoop {

// The ABI header is compiled by clang for BPF and by g++ here: pin the layout.
static_assert(std::is_standard_layout_v<cs_connect_record>);
static_assert(sizeof(cs_connect_record) == 112, "cs_connect_record layout changed: update both sides");
static_assert(offsetof(cs_connect_record, timestamp_ns) == 8);
static_assert(offsetof(cs_connect_record, saddr) == 60);
static_assert(offsetof(cs_connect_record, comm) == 92);

namespace {
std::int64_t read_clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

IpAddress address_from(std::uint16_t family, const std::uint8_t (&bytes)[16]) {
    IpAddress address;
    address.family = family == CS_AF_INET6 ? AddressFamily::ipv6 : AddressFamily::ipv4;
    const std::size_t length = address.family == AddressFamily::ipv4 ? 4 : 16;
    std::memcpy(address.bytes.data(), bytes, length);
    return address;
}
}  // namespace

ClockConverter ClockConverter::from_system_clocks() {
    // Bracket the realtime read between two monotonic reads to halve the error.
    const auto before = read_clock_ns(CLOCK_MONOTONIC);
    const auto realtime = read_clock_ns(CLOCK_REALTIME);
    const auto after = read_clock_ns(CLOCK_MONOTONIC);
    return ClockConverter(realtime - (before + (after - before) / 2));
}

std::chrono::system_clock::time_point ClockConverter::to_wall(std::uint64_t monotonic_ns) const {
    // Unsigned, so a corrupt stamp wraps instead of overflowing (undefined behaviour; found by fuzzing).
    const auto since_epoch =
        std::chrono::nanoseconds(static_cast<std::int64_t>(monotonic_ns + static_cast<std::uint64_t>(offset_ns_)));
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

std::vector<std::string> split_argv(std::string_view area, bool rewritten) {
    if (rewritten) area = area.substr(0, area.find('\0'));
    while (!area.empty() && area.back() == '\0') area.remove_suffix(1);
    std::vector<std::string> argv;
    if (area.empty()) return argv;
    std::size_t start = 0;
    while (true) {
        const auto nul = area.find('\0', start);
        argv.emplace_back(area.substr(start, nul - start));
        if (nul == std::string_view::npos) break;
        start = nul + 1;
    }
    return argv;
}

std::string command_line(const ConnectEvent& event) {
    if (event.argv.empty()) return "[" + event.comm + "]";
    std::string line;
    for (const auto& argument : event.argv) {
        if (!line.empty()) line += ' ';
        line += argument;
    }
    return line;
}

Result<ConnectEvent> decode_connect_record(std::span<const std::byte> bytes, const ClockConverter& clock) {
    cs_connect_record record{};
    if (bytes.size() < sizeof(record)) {
        return Error{"short connect record: " + std::to_string(bytes.size()) + " bytes", "", 0};
    }
    std::memcpy(&record, bytes.data(), sizeof(record));
    if (record.kind != CS_RECORD_CONNECT) {
        return Error{"unexpected record kind " + std::to_string(record.kind), "", 0};
    }
    if (record.argv_len > bytes.size() - sizeof(record)) {
        return Error{"connect record claims " + std::to_string(record.argv_len) + " argv bytes but carries " +
                         std::to_string(bytes.size() - sizeof(record)),
                     "", 0};
    }
    if (record.family != CS_AF_INET && record.family != CS_AF_INET6) {
        return Error{"connect record with unknown address family " + std::to_string(record.family), "", 0};
    }

    ConnectEvent event;
    event.monotonic_ns = record.timestamp_ns;
    event.wall_time = clock.to_wall(record.timestamp_ns);
    event.pid = record.pid;
    event.tid = record.tid;
    event.ppid = record.ppid;
    event.uid = record.uid;
    event.gid = record.gid;
    event.cgroup_id = record.cgroup_id;
    event.netns = record.netns;
    event.comm.assign(record.comm, strnlen(record.comm, sizeof(record.comm)));
    const auto* argv_bytes = reinterpret_cast<const char*>(bytes.data() + sizeof(record));
    event.argv = split_argv(std::string_view(argv_bytes, record.argv_len), (record.flags & CS_ARGV_REWRITTEN) != 0);
    event.argv_truncated = (record.flags & CS_ARGV_TRUNCATED) != 0;
    event.argv_unreadable = (record.flags & CS_ARGV_UNREADABLE) != 0;
    event.argv_area_len = record.argv_area_len;
    event.source = address_from(record.family, record.saddr);
    event.source_port = record.sport;
    event.destination = address_from(record.family, record.daddr);
    event.destination_port = record.dport;
    return event;
}

}  // namespace connsnoop
