// Parsers for option values. Each error names the option and the bad value.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aggregate/group_key.hpp"
#include "aggregate/talker_table.hpp"
#include "collect/trace_config.hpp"
#include "output/output_options.hpp"
#include "util/net_address.hpp"
#include "util/result.hpp"

namespace connsnoop {

Result<Cidr> parse_destination(std::string_view text, std::string_view option = "--dst");
Result<std::uint16_t> parse_port(std::string_view text, std::string_view option = "--port");
Result<PortRange> parse_port_range(std::string_view text);  // 443 or 8000-8999
Result<std::uint32_t> parse_pid(std::string_view text);
Result<std::uint32_t> parse_uid(std::string_view text);  // a number or a user name
Result<std::string> parse_comm(std::string_view text, std::string_view option = "--comm");
// --netns: an inode number, or the name of a namespace `ip netns` made (a
// file in `netns_dir`), resolved to the inode of that file.
Result<std::uint32_t> parse_netns(std::string_view text, const std::string& netns_dir = "/run/netns");
Result<std::uint64_t> parse_count(std::string_view text);
Result<std::chrono::milliseconds> parse_duration(std::string_view text);  // 10, 1.5, 30s, 5m, 1h, 1h30m
Result<std::uint32_t> parse_ringbuf_size(std::string_view text);          // 4096, 64K, 8M: a power of two
Result<std::uint32_t> parse_argv_max(std::string_view text);
Result<ListenAddress> parse_listen_address(std::string_view text);  // ADDR:PORT, [ADDR6]:PORT or :PORT
Result<std::size_t> parse_max_series(std::string_view text);
Result<int> parse_ancestry_depth(std::string_view text);
// --ancestry: N, short, or N,short (full: the default detail, said aloud).
struct AncestryChoice {
    std::optional<int> depth;  // unset: the default depth
    AncestorDetail detail = AncestorDetail::full;
};
Result<AncestryChoice> parse_ancestry(std::string_view text);       // 0 to 16
Result<std::string> parse_container_prefix(std::string_view text);  // 1 to 64 hex digits
Result<std::string> parse_unit_name(std::string_view text);         // "web" -> "web.service", as systemctl reads it
Result<std::uint32_t> parse_max_in_flight(std::string_view text);   // 1 .. kMaxInFlightLimit

// top and --alert
Result<std::chrono::milliseconds> parse_interval(std::string_view text);  // like --duration, at least 0.1 s
Result<double> parse_alert_rate(std::string_view text);                   // attempts per second, > 0
Result<std::size_t> parse_rows(std::string_view text);                    // 0: all
Result<GroupBy> parse_grouping(std::string_view text);                    // command, pid, comm, user, cgroup
Result<SortColumn> parse_sort_column(std::string_view text);              // 1s, 10s, 60s, total, ...

}  // namespace connsnoop
