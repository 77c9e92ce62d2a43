// The typed form of one connection attempt, as the collection layer hands it on.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/net_address.hpp"

namespace connsnoop {

// What identifies a process while it runs: a PID alone may be reused.
struct ProcessRef {
    std::uint32_t pid = 0;
    std::uint64_t start_boottime_ns = 0;  // 0: unknown (then any process with that PID is taken)

    bool operator==(const ProcessRef&) const = default;
};

// One level of a process's ancestry (parent, grandparent, ...).
struct AncestorProcess {
    std::uint32_t pid = 0;
    std::string comm;
    std::vector<std::string> argv;
    bool exited = false;  // gone from /proc when looked up; named from the exec map

    bool operator==(const AncestorProcess&) const = default;
};

// A process's ancestors, parent first: immutable and shared. The enricher
// renders a chain once and every event of that process holds the same copy,
// so an event costs no copy of its ancestors' argv; a cache that starts over
// never takes a chain from an event still held (the outcome join keeps them).
// Reads like a const std::vector<AncestorProcess>.
class Ancestry {
public:
    using Levels = std::vector<AncestorProcess>;

    Ancestry() = default;
    Ancestry(std::initializer_list<AncestorProcess> levels) : Ancestry(Levels(levels)) {}
    explicit Ancestry(Levels levels)
        : levels_(levels.empty() ? nullptr : std::make_shared<const Levels>(std::move(levels))) {}
    explicit Ancestry(std::shared_ptr<const Levels> levels) : levels_(std::move(levels)) {}

    [[nodiscard]] const Levels& levels() const { return levels_ ? *levels_ : kNoLevels; }
    // The chain itself (null when empty): its identity names its contents,
    // which never change, for as long as the pointer is held.
    [[nodiscard]] const std::shared_ptr<const Levels>& shared() const { return levels_; }
    operator const Levels&() const { return levels(); }  // NOLINT(google-explicit-constructor): reads as the vector
    [[nodiscard]] Levels::const_iterator begin() const { return levels().begin(); }
    [[nodiscard]] Levels::const_iterator end() const { return levels().end(); }
    [[nodiscard]] std::size_t size() const { return levels().size(); }
    [[nodiscard]] bool empty() const { return levels().empty(); }
    [[nodiscard]] const AncestorProcess& front() const { return levels().front(); }
    [[nodiscard]] const AncestorProcess& operator[](std::size_t index) const { return levels()[index]; }
    void clear() { levels_.reset(); }

    bool operator==(const Ancestry& other) const { return levels() == other.levels(); }

private:
    inline static const Levels kNoLevels{};
    std::shared_ptr<const Levels> levels_;
};

// What became of an attempt (--outcome, --failed).
enum class ConnectResult {
    established,  // SYN_SENT -> ESTABLISHED
    refused,      // an RST answered the SYN (ECONNREFUSED)
    timeout,      // no answer: the kernel gave up in SYN_SENT (ETIMEDOUT)
    reset,        // ECONNRESET while connecting
    aborted,      // its owner closed the socket while it was connecting (no error)
    error,        // another socket error, e.g. EHOSTUNREACH from an ICMP reply
    failed,       // connect() failed before any SYN left the host (errno says why)
    untracked,    // not followed: the kernel's in-flight map was full
    pending,      // still connecting when the run ended
};
inline constexpr std::size_t kConnectResultCount = 9;

// "established", "refused", ...: the names JSON and the summary use.
std::string_view result_name(ConnectResult result);
// Everything but established; untracked and pending are unknown, not failures.
bool did_not_establish(ConnectResult result);
// "ECONNREFUSED" for ECONNREFUSED; the number as text when glibc has no name.
std::string errno_name(int error);

struct ConnectOutcome {
    ConnectResult result = ConnectResult::pending;
    int error = 0;                            // errno, 0 when none
    std::optional<std::uint64_t> latency_ns;  // from SYN_SENT to the outcome; none when no SYN was sent
};

// The fate of an earlier attempt, joined to it by attempt_id. Network
// outcomes happen in softirq context, so it names no process.
struct OutcomeEvent {
    std::uint64_t monotonic_ns = 0;
    std::chrono::system_clock::time_point wall_time;
    std::uint64_t attempt_id = 0;
    ConnectOutcome outcome;
    std::uint16_t source_port = 0;  // the ephemeral port the kernel chose; 0 when unknown
};

// What the record is about: a TCP attempt, or (--udp) a process's first send
// to a UDP destination.
enum class Protocol { tcp, udp };
// "tcp", "udp"
std::string_view protocol_name(Protocol protocol);

struct ConnectEvent {
    Protocol protocol = Protocol::tcp;
    std::uint64_t monotonic_ns = 0;                   // kernel time stamp, CLOCK_MONOTONIC
    std::chrono::system_clock::time_point wall_time;  // the same instant on the wall clock
    std::uint32_t pid = 0;                            // host PID (thread group id)
    std::uint32_t tid = 0;
    std::uint32_t ppid = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t cgroup_id = 0;
    std::uint32_t netns = 0;
    std::uint32_t ns_pid = 0;             // PID inside the process's own PID namespace
    std::uint32_t pidns = 0;              // inode number of that namespace
    std::uint64_t start_boottime_ns = 0;  // the process's start (boot clock)
    std::vector<ProcessRef> parents;      // captured in the kernel: parent first
    std::string comm;                     // kernel task name, at most 15 bytes
    std::vector<std::string> argv;        // raw bytes of each argument, as the task's memory held them
    bool argv_truncated = false;          // the argv area was longer than the capture limit
    bool argv_unreadable = false;         // no argv could be read (kernel thread, memory paged out)
    std::uint32_t argv_area_len = 0;
    IpAddress source;
    std::uint16_t source_port = 0;  // 0: the kernel had not chosen the ephemeral port yet
    IpAddress destination;
    std::uint16_t destination_port = 0;

    // With outcome tracking: the kernel's id for this attempt (0: not followed),
    // and its fate once known.
    std::uint64_t attempt_id = 0;
    std::optional<ConnectOutcome> outcome;

    // Filled by the enrichment layer.
    std::string user;         // name for uid, or the number when it has none
    std::string group;        // name for gid, or the number
    std::string exe;          // executable path from /proc, empty when the process is already gone
    std::string cgroup_path;  // cgroup v2 path below the mount, empty when the cgroup is gone
    std::string container_id;
    std::string container_runtime;
    std::string pod_uid;
    std::string qos_class;
    std::string unit;   // innermost systemd unit or scope
    Ancestry ancestry;  // parent first
};

// Arguments joined by single spaces.
std::string join_arguments(const std::vector<std::string>& argv);
// The event's arguments joined; comm in brackets when argv is unknown (like ps).
std::string command_line(const ConnectEvent& event);

}  // namespace connsnoop
