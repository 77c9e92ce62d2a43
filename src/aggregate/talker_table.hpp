// Aggregation layer: connection attempts (and, once known, their outcomes)
// per group, with rates over the last 1, 10 and 60 s. Pure and clock-free:
// every call that needs the time is given it. Memory is bounded: groups
// idle longer than the expiry go, and past max_groups the least recently
// seen group makes room (both counted, never silent).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aggregate/clock.hpp"
#include "aggregate/latency_histogram.hpp"
#include "aggregate/rate_window.hpp"
#include "collect/connect_event.hpp"

namespace connsnoop {

struct TalkerLimits {
    std::chrono::seconds idle_expiry{90};  // longer than the 60 s window, so a row fades to 0/s first
    std::size_t max_groups = 4096;         // ~3.2 KB each, ~13 MB at most
};

struct TalkerRow {
    std::string key;    // raw text; escape before showing
    std::string label;  // the latest command line of the group (raw); empty when grouping by command
    double rate_1s = 0, rate_10s = 0, rate_60s = 0;  // attempts per second
    std::uint64_t attempts = 0;
    // Known only once outcome events feed record_outcome(); nullopt shows as "-".
    std::optional<std::uint64_t> failures;
    std::optional<std::chrono::nanoseconds> latency_mean, latency_p99;
    std::chrono::nanoseconds idle{0};    // since the last attempt
    std::chrono::nanoseconds age{0};     // since the first attempt
    std::string destination;             // "addr:port" the group connected to most; empty when unknown
    std::size_t other_destinations = 0;  // further destinations seen (at least this many)
};

// One destination of a group and its attempts.
struct DestinationCount {
    IpAddress address;
    std::uint16_t port = 0;
    std::uint64_t attempts = 0;
};

// One known outcome of a group's attempts.
struct RecentResult {
    std::chrono::nanoseconds ago{0};  // before the time the detail was taken
    ConnectResult result = ConnectResult::established;
    int error = 0;
    std::optional<std::chrono::nanoseconds> latency;
};

// What the detail view shows of one group. Everything is bounded: the latest
// PIDs, the busiest destinations, the latest results (see TalkerTable).
struct TalkerDetail {
    std::string key;
    std::string command_line;  // the latest, in full (raw)
    std::uint64_t attempts = 0;
    std::optional<std::uint64_t> failures;
    std::vector<std::uint32_t> pids;   // latest first
    std::uint64_t pids_forgotten = 0;  // earlier PIDs no longer kept
    std::string user;
    std::vector<AncestorProcess> parents;  // of the latest attempt, parent first (argv not kept)
    std::string container;
    std::string unit;
    std::vector<DestinationCount> destinations;    // most attempts first
    std::uint64_t other_destination_attempts = 0;  // to destinations beyond those kept
    std::vector<RecentResult> recent_results;      // newest first
    std::chrono::nanoseconds first_seen_ago{0};
    std::chrono::nanoseconds last_seen_ago{0};
};

enum class SortColumn { rate_1s, rate_10s, rate_60s, attempts, failures, latency_mean, latency_p99, last_seen, key };
inline constexpr std::size_t kSortColumns = 9;
std::string_view sort_column_name(SortColumn column);
// FAILED, MEAN and P99 are known only with outcomes: without them they are skipped.
bool needs_outcomes(SortColumn column);
SortColumn next_sort_column(SortColumn column, bool outcomes = true);
// Highest first (most recent for last_seen, A-Z for key); ties by 10 s rate,
// total, then key. `reversed`: the same order, backwards.
void sort_rows(std::vector<TalkerRow>& rows, SortColumn column, bool reversed = false);

class TalkerTable {
public:
    explicit TalkerTable(MonoTime started, TalkerLimits limits = {});

    // `source`, when given, feeds the detail view (PIDs, user, parents,
    // container, unit, destination).
    void record_attempt(std::string_view key, std::string_view label, MonoTime at,
                        const ConnectEvent* source = nullptr);
    // An attempt's result. Returns false when the group is unknown (expired
    // or evicted since the attempt); the outcome is then not counted.
    // `outcome` (when known) and `at` go to the detail view's recent results.
    bool record_outcome(std::string_view key, bool failed, std::chrono::nanoseconds latency,
                        const std::optional<ConnectOutcome>& outcome = std::nullopt, MonoTime at = {});

    // Drops groups idle longer than the expiry.
    void expire(MonoTime now);
    // Every group, unsorted.
    [[nodiscard]] std::vector<TalkerRow> rows(MonoTime now) const;
    // One group in detail; nullopt when it is unknown (expired, evicted).
    [[nodiscard]] std::optional<TalkerDetail> detail(std::string_view key, MonoTime now) const;

    // How much time the rates can cover at `now` (complete buckets since the start, at most a minute).
    [[nodiscard]] std::chrono::milliseconds observed(MonoTime now) const;

    [[nodiscard]] std::size_t group_count() const { return groups_.size(); }
    [[nodiscard]] std::uint64_t expired_groups() const { return expired_groups_; }
    [[nodiscard]] std::uint64_t evicted_groups() const { return evicted_groups_; }

    // Bounds of what a group keeps for the detail view (about 700 bytes).
    static constexpr std::size_t kKeptPids = 16;
    static constexpr std::size_t kKeptDestinations = 8;
    static constexpr std::size_t kKeptResults = 8;
    static constexpr std::size_t kKeptParents = 4;

private:
    struct Result {
        MonoTime at;
        ConnectResult result;
        int error;
        std::optional<std::chrono::nanoseconds> latency;
    };
    struct Group {
        std::string label;
        RateWindow window;
        std::uint64_t attempts = 0;
        std::uint64_t failures = 0;
        MonoTime first_seen;
        MonoTime last_seen;
        std::unique_ptr<LatencyHistogram> latencies;  // allocated with the first outcome
        // For the detail view, from the latest attempt that had a source event.
        std::vector<std::uint32_t> pids;  // latest first, at most kKeptPids
        std::uint64_t pids_forgotten = 0;
        std::string user, container, unit;
        std::vector<AncestorProcess> parents;
        std::vector<DestinationCount> destinations;  // at most kKeptDestinations
        std::uint64_t other_destination_attempts = 0;
        std::deque<Result> results;  // oldest first, at most kKeptResults
    };
    static void remember(Group& group, const ConnectEvent& source);
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
