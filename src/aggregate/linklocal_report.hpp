// Aggregation for `connsnoop linklocal`: one interval of link-local traffic
// grouped (--by pid|comm|command|user|cgroup|container|unit), with the
// host's total against the budget, and the --alert that names who spent it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aggregate/group_key.hpp"
#include "collect/linklocal_counters.hpp"
#include "collect/trace_config.hpp"

namespace connsnoop {

// EC2's allowance per network interface for traffic to its link-local services.
inline constexpr double kDefaultLinklocalBudgetPps = 1024;
// The row of owners the kernel could not name (sockets older than connsnoop).
inline constexpr std::string_view kUnknownOwnerKey = "(unknown)";

struct LinklocalFlow {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    LinklocalFlow& operator+=(const LinklocalFlow& other) {
        packets += other.packets;
        bytes += other.bytes;
        return *this;
    }
    bool operator==(const LinklocalFlow&) const = default;
};

// A group's traffic with one service over one protocol, both ways.
struct LinklocalServiceFlow {
    std::uint16_t service = 0;
    LinklocalProtocol protocol = LinklocalProtocol::udp;
    LinklocalFlow sent;
    LinklocalFlow received;
};

struct LinklocalRow {
    std::string key;       // the group, raw (unescaped)
    ConnectEvent process;  // the first owner seen in the group: its identity fields
    bool owner_known = true;
    std::uint32_t processes = 0;                 // distinct owners in the group
    std::vector<LinklocalServiceFlow> services;  // by service, then protocol
    LinklocalFlow sent;
    LinklocalFlow received;
};

// --alert PCT: the host's sent packets crossed PCT% of the budget (or fell
// back under it). `spenders` are the groups, largest first, that alone sent
// more than the alert line: the fewest that explain the crossing.
struct LinklocalAlert {
    bool firing = false;
    double threshold_pps = 0;
    double total_pps = 0;
    std::vector<std::string> spenders;  // raw keys
};

struct LinklocalReport {
    std::chrono::system_clock::time_point time;
    double interval_seconds = 0;
    GroupBy group_by = GroupBy::pid;
    double budget_pps = kDefaultLinklocalBudgetPps;
    std::vector<LinklocalService> services;
    std::vector<LinklocalRow> rows;  // most packets sent first
    LinklocalFlow sent;              // the host, this interval
    LinklocalFlow received;
    std::uint64_t uncounted_packets = 0;
    std::optional<double> alert_percent;  // --alert
    bool alert_firing = false;
    bool final = false;

    [[nodiscard]] double rate(std::uint64_t count) const {
        return interval_seconds > 0 ? static_cast<double>(count) / interval_seconds : 0;
    }
};

// The report of one sample; rows sorted by packets sent, then received, then key.
LinklocalReport build_linklocal_report(const LinklocalSample& sample, GroupBy group_by,
                                       const std::vector<LinklocalService>& services, double budget_pps);

// Follows the host total against --alert's line; a notice on each crossing.
class LinklocalAlertWatch {
public:
    explicit LinklocalAlertWatch(double percent) : percent_(percent) {}
    // The notice when this report starts or ends a crossing; marks the report.
    std::optional<LinklocalAlert> check(LinklocalReport& report);
    [[nodiscard]] double percent() const { return percent_; }

private:
    double percent_;
    bool firing_ = false;
};

}  // namespace connsnoop
