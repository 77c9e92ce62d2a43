// Aggregation layer: connection attempts (and, once known, their outcomes)
// per group, with rates over the last 1, 10 and 60 s. Pure and clock-free:
// every call that needs the time is given it. Memory is bounded: groups
// idle longer than the expiry go, and past max_groups the least recently
// seen group makes room (both counted, never silent).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aggregate/clock.hpp"
#include "aggregate/latency_histogram.hpp"
#include "aggregate/rate_window.hpp"

namespace connsnoop {

struct TalkerLimits {
    std::chrono::seconds idle_expiry{90};  // longer than the 60 s window, so a row fades to 0/s first
    std::size_t max_groups = 4096;         // ~2.5 KB each, ~10 MB at most
};

struct TalkerRow {
    std::string key;    // raw text; escape before showing
    std::string label;  // the latest command line of the group (raw); empty when grouping by command
    double rate_1s = 0, rate_10s = 0, rate_60s = 0;  // attempts per second
    std::uint64_t attempts = 0;
    // Known only once outcome events feed record_outcome(); nullopt shows as "-".
    std::optional<std::uint64_t> failures;
    std::optional<std::chrono::nanoseconds> latency_mean, latency_p99;
    std::chrono::nanoseconds idle{0};  // since the last attempt
};

enum class SortColumn { rate_1s, rate_10s, rate_60s, attempts, failures, latency_p99, last_seen, key };
inline constexpr std::size_t kSortColumns = 8;
std::string_view sort_column_name(SortColumn column);
SortColumn next_sort_column(SortColumn column);
// Highest first (most recent for last_seen, A-Z for key); ties by 10 s rate, total, then key.
void sort_rows(std::vector<TalkerRow>& rows, SortColumn column);

class TalkerTable {
public:
    explicit TalkerTable(MonoTime started, TalkerLimits limits = {});

    void record_attempt(std::string_view key, std::string_view label, MonoTime at);
    // An attempt's result. Returns false when the group is unknown (expired
    // or evicted since the attempt); the outcome is then not counted.
    bool record_outcome(std::string_view key, bool failed, std::chrono::nanoseconds latency);

    // Drops groups idle longer than the expiry.
    void expire(MonoTime now);
    // Every group, unsorted.
    [[nodiscard]] std::vector<TalkerRow> rows(MonoTime now) const;

    // How much time the rates can cover at `now` (complete buckets since the start, at most a minute).
    [[nodiscard]] std::chrono::milliseconds observed(MonoTime now) const;

    [[nodiscard]] std::size_t group_count() const { return groups_.size(); }
    [[nodiscard]] std::uint64_t expired_groups() const { return expired_groups_; }
    [[nodiscard]] std::uint64_t evicted_groups() const { return evicted_groups_; }

private:
    struct Group {
        std::string label;
        RateWindow window;
        std::uint64_t attempts = 0;
        std::uint64_t failures = 0;
        MonoTime last_seen;
        std::unique_ptr<LatencyHistogram> latencies;  // allocated with the first outcome
    };
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    };

    [[nodiscard]] double rate(const Group& group, MonoTime now, std::chrono::milliseconds span) const;
    void make_room(MonoTime now);

    MonoTime started_;
    TalkerLimits limits_;
    std::unordered_map<std::string, Group, KeyHash, std::equal_to<>> groups_;
    std::uint64_t expired_groups_ = 0;
    std::uint64_t evicted_groups_ = 0;
};

}  // namespace connsnoop
