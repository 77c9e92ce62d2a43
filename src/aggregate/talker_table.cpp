#include "aggregate/talker_table.hpp"

#include <algorithm>
#include <tuple>

namespace connsnoop {

using std::chrono::milliseconds;

std::string_view sort_column_name(SortColumn column) {
    switch (column) {
        case SortColumn::rate_1s:
            return "1s";
        case SortColumn::rate_10s:
            return "10s";
        case SortColumn::rate_60s:
            return "60s";
        case SortColumn::attempts:
            return "total";
        case SortColumn::failures:
            return "failed";
        case SortColumn::latency_p99:
            return "p99";
        case SortColumn::last_seen:
            return "last";
        case SortColumn::key:
            return "key";
    }
    return "1s";
}

SortColumn next_sort_column(SortColumn column) {
    return static_cast<SortColumn>((static_cast<std::size_t>(column) + 1) % kSortColumns);
}

void sort_rows(std::vector<TalkerRow>& rows, SortColumn column) {
    // Unknown (nullopt) failures and latencies sort below every known value.
    const auto primary = [column](const TalkerRow& row) -> double {
        switch (column) {
            case SortColumn::rate_1s:
                return row.rate_1s;
            case SortColumn::rate_10s:
                return row.rate_10s;
            case SortColumn::rate_60s:
                return row.rate_60s;
            case SortColumn::attempts:
                return static_cast<double>(row.attempts);
            case SortColumn::failures:
                return row.failures ? static_cast<double>(*row.failures) : -1.0;
            case SortColumn::latency_p99:
                return row.latency_p99 ? static_cast<double>(row.latency_p99->count()) : -1.0;
            case SortColumn::last_seen:
                return -static_cast<double>(row.idle.count());
            case SortColumn::key:
                return 0.0;
        }
        return 0.0;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const TalkerRow& a, const TalkerRow& b) {
        if (column == SortColumn::key) return a.key < b.key;
        return std::tuple(primary(b), b.rate_10s, b.attempts, a.key) <
               std::tuple(primary(a), a.rate_10s, a.attempts, b.key);
    });
}

TalkerTable::TalkerTable(MonoTime started, TalkerLimits limits) : started_(started), limits_(limits) {}

void TalkerTable::record_attempt(std::string_view key, std::string_view label, MonoTime at) {
    auto found = groups_.find(key);
    if (found == groups_.end()) {
        if (groups_.size() >= limits_.max_groups) make_room(at);
        found = groups_.emplace(std::string(key), Group{}).first;
    }
    Group& group = found->second;
    if (group.label != label) group.label = label;
    group.window.add(at);
    ++group.attempts;
    if (at > group.last_seen) group.last_seen = at;
}

bool TalkerTable::record_outcome(std::string_view key, bool failed, std::chrono::nanoseconds latency) {
    auto found = groups_.find(key);
    if (found == groups_.end()) return false;
    Group& group = found->second;
    if (!group.latencies) group.latencies = std::make_unique<LatencyHistogram>();
    group.latencies->add(latency);
    if (failed) ++group.failures;
    return true;
}

void TalkerTable::expire(MonoTime now) {
    expired_groups_ +=
        std::erase_if(groups_, [&](const auto& entry) { return now - entry.second.last_seen > limits_.idle_expiry; });
}

void TalkerTable::make_room(MonoTime now) {
    expire(now);
    if (groups_.size() < limits_.max_groups || groups_.empty()) return;
    const auto oldest = std::min_element(groups_.begin(), groups_.end(), [](const auto& a, const auto& b) {
        return a.second.last_seen < b.second.last_seen;
    });
    groups_.erase(oldest);
    ++evicted_groups_;
}

milliseconds TalkerTable::observed(MonoTime now) const {
    const auto current_bucket_start =
        MonoTime(std::chrono::floor<milliseconds>(now.time_since_epoch()) / RateWindow::kBucket * RateWindow::kBucket);
    const auto since_start = std::chrono::duration_cast<milliseconds>(current_bucket_start - started_);
    if (since_start.count() <= 0) return milliseconds(0);
    return std::min(since_start / RateWindow::kBucket * RateWindow::kBucket, RateWindow::kSpan - RateWindow::kBucket);
}

double TalkerTable::rate(const Group& group, MonoTime now, milliseconds span) const {
    // Only complete buckets count (see RateWindow); in the first seconds of a
    // run the window is as long as the run so far, so early rates are not diluted.
    const auto effective = std::min(span, observed(now));
    if (effective < RateWindow::kBucket) return 0.0;
    const double seconds = std::chrono::duration<double>(effective).count();
    return static_cast<double>(group.window.count_before(now, effective)) / seconds;
}

std::vector<TalkerRow> TalkerTable::rows(MonoTime now) const {
    std::vector<TalkerRow> rows;
    rows.reserve(groups_.size());
    for (const auto& [key, group] : groups_) {
        TalkerRow row;
        row.key = key;
        row.label = group.label;
        row.rate_1s = rate(group, now, milliseconds(1000));
        row.rate_10s = rate(group, now, milliseconds(10'000));
        row.rate_60s = rate(group, now, milliseconds(60'000));
        row.attempts = group.attempts;
        if (group.latencies) {
            row.failures = group.failures;
            row.latency_mean = group.latencies->mean();
            row.latency_p99 = group.latencies->percentile(0.99);
        }
        row.idle = std::max(now - group.last_seen, MonoClock::duration::zero());
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace connsnoop
