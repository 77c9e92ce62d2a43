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
        case SortColumn::latency_mean:
            return "mean";
        case SortColumn::latency_p99:
            return "p99";
        case SortColumn::last_seen:
            return "last";
        case SortColumn::key:
            return "key";
    }
    return "1s";
}

bool needs_outcomes(SortColumn column) {
    return column == SortColumn::failures || column == SortColumn::latency_mean || column == SortColumn::latency_p99;
}

SortColumn next_sort_column(SortColumn column, bool outcomes) {
    do {
        column = static_cast<SortColumn>((static_cast<std::size_t>(column) + 1) % kSortColumns);
    } while (!outcomes && needs_outcomes(column));
    return column;
}

void sort_rows(std::vector<TalkerRow>& rows, SortColumn column, bool reversed) {
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
            case SortColumn::latency_mean:
                return row.latency_mean ? static_cast<double>(row.latency_mean->count()) : -1.0;
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
    if (reversed) std::reverse(rows.begin(), rows.end());
}

TalkerTable::TalkerTable(MonoTime started, TalkerLimits limits) : started_(started), limits_(limits) {}

void TalkerTable::record_attempt(std::string_view key, std::string_view label, MonoTime at,
                                 const ConnectEvent* source) {
    auto found = groups_.find(key);
    if (found == groups_.end()) {
        if (groups_.size() >= limits_.max_groups) make_room(at);
        found = groups_.emplace(std::string(key), Group{}).first;
        found->second.first_seen = at;
    }
    Group& group = found->second;
    if (group.label != label) group.label = label;
    group.window.add(at);
    ++group.attempts;
    if (at > group.last_seen) group.last_seen = at;
    if (at < group.first_seen) group.first_seen = at;
    if (source != nullptr) remember(group, *source);
}

void TalkerTable::remember(Group& group, const ConnectEvent& source) {
    // PIDs: move to front; the least recent is forgotten (and counted) past the bound.
    const auto pid = std::find(group.pids.begin(), group.pids.end(), source.pid);
    if (pid != group.pids.end()) {
        std::rotate(group.pids.begin(), pid, pid + 1);
    } else {
        if (group.pids.size() == kKeptPids) {
            group.pids.pop_back();
            ++group.pids_forgotten;
        }
        group.pids.insert(group.pids.begin(), source.pid);
    }
    // Destinations: the first kKeptDestinations seen are counted each; the rest together.
    const auto destination =
        std::find_if(group.destinations.begin(), group.destinations.end(), [&](const DestinationCount& known) {
            return known.port == source.destination_port && known.address == source.destination;
        });
    if (destination != group.destinations.end()) {
        ++destination->attempts;
    } else if (group.destinations.size() < kKeptDestinations) {
        group.destinations.push_back({source.destination, source.destination_port, 1});
    } else {
        ++group.other_destination_attempts;
    }
    const std::string& user = source.user.empty() ? std::to_string(source.uid) : source.user;
    if (group.user != user) group.user = user;
    if (group.container != source.container_id) group.container = source.container_id;
    if (group.unit != source.unit) group.unit = source.unit;
    // Parents by PID and name only: their argv could be long, and the command line is the group's own.
    group.parents.clear();
    if (!source.ancestry.empty()) {
        for (const auto& parent : source.ancestry) {
            if (group.parents.size() == kKeptParents) break;
            group.parents.push_back({parent.pid, parent.comm, {}, parent.exited});
        }
    } else if (!source.parents.empty()) {  // the PIDs the kernel captured, unnamed
        for (const auto& parent : source.parents) {
            if (group.parents.size() == kKeptParents) break;
            group.parents.push_back({parent.pid, {}, {}, false});
        }
    } else if (source.ppid != 0) {
        group.parents.push_back({source.ppid, {}, {}, false});
    }
}

bool TalkerTable::record_outcome(std::string_view key, bool failed, std::chrono::nanoseconds latency,
                                 const std::optional<ConnectOutcome>& outcome, MonoTime at) {
    auto found = groups_.find(key);
    if (found == groups_.end()) return false;
    Group& group = found->second;
    if (!group.latencies) group.latencies = std::make_unique<LatencyHistogram>();
    group.latencies->add(latency);
    if (failed) ++group.failures;
    if (group.results.size() == kKeptResults) group.results.pop_front();
    Result result{at == MonoTime{} ? group.last_seen : at, failed ? ConnectResult::failed : ConnectResult::established,
                  0, latency};
    if (outcome) {
        result.result = outcome->result;
        result.error = outcome->error;
        if (!outcome->latency_ns) result.latency.reset();
    }
    group.results.push_back(result);
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
        row.age = std::max(now - group.first_seen, MonoClock::duration::zero());
        const auto busiest = std::max_element(
            group.destinations.begin(), group.destinations.end(),
            [](const DestinationCount& a, const DestinationCount& b) { return a.attempts < b.attempts; });
        if (busiest != group.destinations.end()) {
            row.destination = format_endpoint(busiest->address, busiest->port);
            row.other_destinations = group.destinations.size() - 1 + (group.other_destination_attempts != 0 ? 1 : 0);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::optional<TalkerDetail> TalkerTable::detail(std::string_view key, MonoTime now) const {
    const auto found = groups_.find(key);
    if (found == groups_.end()) return std::nullopt;
    const Group& group = found->second;
    const auto ago = [now](MonoTime at) { return std::max(now - at, MonoClock::duration::zero()); };
    TalkerDetail detail;
    detail.key = key;
    detail.command_line = group.label.empty() ? std::string(key) : group.label;
    detail.attempts = group.attempts;
    if (group.latencies) detail.failures = group.failures;
    detail.pids = group.pids;
    detail.pids_forgotten = group.pids_forgotten;
    detail.user = group.user;
    detail.parents = group.parents;
    detail.container = group.container;
    detail.unit = group.unit;
    detail.destinations = group.destinations;
    std::stable_sort(detail.destinations.begin(), detail.destinations.end(),
                     [](const DestinationCount& a, const DestinationCount& b) { return a.attempts > b.attempts; });
    detail.other_destination_attempts = group.other_destination_attempts;
    for (auto result = group.results.rbegin(); result != group.results.rend(); ++result) {
        detail.recent_results.push_back({ago(result->at), result->result, result->error, result->latency});
    }
    detail.first_seen_ago = ago(group.first_seen);
    detail.last_seen_ago = ago(group.last_seen);
    return detail;
}

}  // namespace connsnoop
