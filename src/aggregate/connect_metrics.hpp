// Aggregation for Prometheus: connection attempts counted by a bounded label
// set, plus the tool's own health. Updated by the session thread, read by the
// metrics HTTP thread, hence the lock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "collect/connect_event.hpp"
#include "util/net_address.hpp"

namespace connsnoop {

enum class MetricsKey { comm, exe, unit, container };

struct MetricsConfig {
    MetricsKey key = MetricsKey::comm;
    // Destinations that get their own daddr label value; the rest are "other".
    std::vector<Cidr> destinations;
    std::size_t max_series = 1000;
};

struct SeriesLabels {
    std::string key;    // value of the --metrics-key attribute
    std::string daddr;  // the configured CIDR the destination falls in, or "other"
    std::string dport;
    std::string result;  // only in the results counter: established, refused, ...
    // clang-tidy 14 reads the defaulted <=> as a literal 0 comparison (fixed in 15).
    auto operator<=>(const SeriesLabels&) const = default;  // NOLINT(modernize-use-nullptr)
};

// The labels of the link-local counters (connsnoop linklocal).
struct LinklocalLabels {
    std::string key;        // value of the --metrics-key attribute; "unknown" for an unknown owner
    std::string service;    // metadata, dns, time, or a --dst / --service name
    std::string direction;  // sent, received
    std::string protocol;   // tcp, udp
    auto operator<=>(const LinklocalLabels&) const = default;  // NOLINT(modernize-use-nullptr)
};
struct LinklocalCounts {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

struct ToolHealth {
    std::uint64_t events_received = 0;
    std::uint64_t events_lost = 0;
    std::uint64_t malformed_records = 0;
    std::uint32_t programs_attached = 0;
    std::uint32_t ringbuf_bytes = 0;
    std::string hook;
    std::uint64_t output_lines_lost = 0;  // --output lines dropped (disk full)
};

struct MetricsSnapshot {
    std::string key_name;  // "comm", "exe", ...
    std::map<SeriesLabels, std::uint64_t> attempts;
    std::map<SeriesLabels, std::uint64_t> results;        // with --outcome/--failed
    std::map<SeriesLabels, std::uint64_t> imds_requests;  // with --http: `result` holds the IMDS version
    std::uint64_t folded_attempts = 0;                    // counts whose label set was over the cap
    // connsnoop linklocal: counters by label set, the budget and the last interval's host rate
    bool linklocal = false;
    std::map<LinklocalLabels, LinklocalCounts> linklocal_traffic;
    double linklocal_budget_pps = 0;
    double linklocal_sent_pps = 0;
    ToolHealth health;
    double start_time_seconds = 0;
};

class ConnectMetrics {
public:
    explicit ConnectMetrics(MetricsConfig config);

    void record_attempt(const ConnectEvent& event);
    // An attempt whose fate is known (--outcome/--failed): counted by result.
    void record_result(const ConnectEvent& event);
    // A metadata-service request (--http) by its IMDS version: imdsv1, imdsv2, imdsv2-token.
    void record_imds_request(const ConnectEvent& connection, std::string_view version);
    // Link-local traffic of one interval, added to the counters of its labels.
    void record_linklocal(const ConnectEvent& owner, bool owner_known, LinklocalLabels labels, std::uint64_t packets,
                          std::uint64_t bytes);
    // The budget line and the host's rate of packets sent in the last interval.
    void update_linklocal_rate(double budget_pps, double sent_pps);
    void update_health(const ToolHealth& health);
    [[nodiscard]] MetricsSnapshot snapshot() const;

    static const char* key_name(MetricsKey key);

private:
    [[nodiscard]] SeriesLabels labels_for(const ConnectEvent& event) const;
    void count(std::map<SeriesLabels, std::uint64_t>& series, SeriesLabels labels);

    MetricsConfig config_;
    double start_time_seconds_;
    mutable std::mutex mutex_;
    std::map<SeriesLabels, std::uint64_t> attempts_;
    std::map<SeriesLabels, std::uint64_t> results_;
    std::map<SeriesLabels, std::uint64_t> imds_requests_;
    std::uint64_t folded_attempts_ = 0;
    bool linklocal_ = false;
    std::map<LinklocalLabels, LinklocalCounts> linklocal_traffic_;
    double linklocal_budget_pps_ = 0;
    double linklocal_sent_pps_ = 0;
    ToolHealth health_;
};

}  // namespace connsnoop
