// What the kernel side is asked to capture: filters and capture limits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/net_address.hpp"

namespace connsnoop {

// Destination ports first..last, both included (one port: first == last).
struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    bool operator==(const PortRange&) const = default;
};

// Each list is "any of"; an empty list means the filter is off.
struct TraceFilters {
    std::vector<Cidr> destinations;
    std::vector<PortRange> destination_ports;
    std::vector<std::uint32_t> pids;
    std::vector<std::uint32_t> uids;
    std::vector<std::string> cgroup_paths;    // cgroup v2 directories, absolute or relative to the cgroup2 mount
    std::vector<std::string> comms;           // exact task names (at most 15 bytes each)
    std::vector<std::uint32_t> netns_inodes;  // network namespaces (inode numbers) of the sockets
    // Exclusions, in the kernel too: none of these, whatever the filters above let through.
    std::vector<Cidr> excluded_destinations;  // --not-dst
    std::vector<std::string> excluded_comms;  // --not-comm
};

inline constexpr std::size_t kMaxCgroupFilters = 8;  // CS_MAX_CGROUP_FILTERS

inline constexpr std::uint32_t kArgvCapacity = 8192;  // CS_ARGV_CAPACITY
inline constexpr std::uint32_t kDefaultRingBufferBytes = 4U << 20;
inline constexpr std::uint32_t kDefaultMaxInFlight = 16384;  // attempts followed at once
inline constexpr std::uint32_t kMaxInFlightLimit = 1U << 20;

// One link-local service whose packets `connsnoop linklocal` counts: a name
// ("metadata", "dns", "time", or the CIDR of a --dst) and its address.
struct LinklocalService {
    std::string name;
    Cidr address;
    bool operator==(const LinklocalService&) const = default;
};
inline constexpr std::size_t kMaxLinklocalServices = 64;  // CS_LINKLOCAL_MAX_SERVICES

// Which variant of the tracepoint programs to load: the probe's choice
// (tp_btf where the kernel takes it, else raw_tp), or the one named by --hook.
enum class HookChoice { automatic, tp_btf, raw_tp };

struct TracerConfig {
    TraceFilters filters;
    std::uint32_t argv_max = kArgvCapacity;  // bytes of argv captured per event
    std::uint32_t ringbuf_bytes = kDefaultRingBufferBytes;
    std::string btf_path;                     // kernel BTF file when the kernel has none in /sys/kernel/btf
    bool verbose = false;                     // show libbpf's own log
    HookChoice hook = HookChoice::automatic;  // --hook
    // Follow each attempt to its outcome and report connect() calls that fail
    // before a SYN; off, none of that code is loaded.
    bool track_outcomes = false;
    std::uint32_t max_in_flight = kDefaultMaxInFlight;  // size of the kernel's in-flight map
    // --http: parse the request heads sent on connections that pass the
    // filters and go to one of these ports; off, none of that code is loaded.
    bool http_capture = false;
    std::vector<std::uint16_t> http_ports;
    // --udp: also report each process's first send to each UDP destination;
    // --dns: each query sent to UDP port 53. Off, none of that code is loaded.
    bool udp_sends = false;
    bool dns_capture = false;
    // TCP connect attempts (sock:inet_sock_set_state); off in the linklocal
    // view, which counts packets instead.
    bool trace_connects = true;
    // connsnoop linklocal: count the packets to and from these services per
    // owning process (cgroup hooks); empty, none of that code is loaded.
    std::vector<LinklocalService> linklocal_services;
};

// (process, destination) pairs --udp remembers as reported (an LRU map in the
// kernel): past this many live pairs, the oldest is reported again when it next sends.
inline constexpr std::uint32_t kUdpReportedDestinations = 65536;

inline constexpr std::uint16_t kDefaultHttpPort = 80;

// Connections whose request heads are followed at once (an LRU map in the kernel).
inline constexpr std::uint32_t kHttpWatchedConnections = 4096;

}  // namespace connsnoop
