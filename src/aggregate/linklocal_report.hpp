// Aggregation for `connsnoop linklocal`: one interval of link-local traffic
// grouped (--by pid|comm|command|user|cgroup|container|unit), with the
// host's total against the budget, and the --alert that names who spent it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aggregate/group_key.hpp"
#include "collect/dns_query_event.hpp"
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

// --by qname: the DNS queries sent to the services in an interval under
// one query name (each query is one datagram: one packet of the budget).
struct LinklocalQueryRow {
    std::string qname;  // zone-file escaped printable ASCII (dns_name_text)
    std::uint64_t queries = 0;
    std::uint32_t processes = 0;  // distinct senders
    // Queries per service, by service index: only services that got some.
    std::vector<std::pair<std::uint16_t, std::uint64_t>> services;
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
    std::vector<LinklocalRow> rows;  // most packets sent first; none --by qname
    // --by qname: the interval's queries to the services, most first.
    std::vector<LinklocalQueryRow> queries;
    std::uint64_t query_total = 0;
    LinklocalFlow sent;  // the host, this interval
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

// --by qname: counts the DNS queries sent to the services between two
// intervals, by query name. Queries to other resolvers spend no budget and
// are left out.
class LinklocalQueryCounter {
public:
    explicit LinklocalQueryCounter(std::vector<LinklocalService> services) : services_(std::move(services)) {}
    // True when the query went to one of the services (and was counted).
    bool record(const DnsQueryEvent& query);
    // The interval's rows, most queries first (then by name); starts anew.
    std::vector<LinklocalQueryRow> take();

private:
    struct Count {
        std::uint64_t queries = 0;
        std::set<std::uint32_t> senders;
        std::map<std::uint16_t, std::uint64_t> by_service;
    };
    std::vector<LinklocalService> services_;
    std::map<std::string, Count> counts_;
};

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
