#include "output/top_format.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <type_traits>

#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

// Columns of the key for each grouping; the command line is always last.
int key_width(GroupBy group_by) {
    switch (group_by) {
        case GroupBy::command:
            return 0;
        case GroupBy::pid:
            return 7;
        case GroupBy::comm:
            return 15;
        case GroupBy::user:
            return 10;
        case GroupBy::cgroup:
            return 32;  // a cgroup v2 path (or its ID once gone)
        case GroupBy::container:
            return 12;  // a short container ID
        case GroupBy::unit:
            return 24;
        case GroupBy::path:
            return 40;  // request paths; a longer one pushes the command right
        case GroupBy::imds:
            return 12;  // imdsv2-token
    }
    return 0;
}

std::string key_title(GroupBy group_by) {
    std::string title(group_by_name(group_by));
    for (auto& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return title;
}

std::string rate_text(double rate) { return rate >= 1000 ? fmt::format("{:.0f}", rate) : fmt::format("{:.1f}", rate); }

std::string latency_text(const std::optional<std::chrono::nanoseconds>& latency) {
    if (!latency) return "-";
    const double ms = std::chrono::duration<double, std::milli>(*latency).count();
    return ms >= 100 ? fmt::format("{:.0f}ms", ms) : fmt::format("{:.1f}ms", ms);
}

std::string idle_text(std::chrono::nanoseconds idle) {
    const double seconds = std::chrono::duration<double>(idle).count();
    return seconds < 100 ? fmt::format("{:.1f}s", seconds) : fmt::format("{:.0f}s", seconds);
}

std::optional<double> milliseconds(const std::optional<std::chrono::nanoseconds>& latency) {
    if (!latency) return std::nullopt;
    return std::chrono::duration<double, std::milli>(*latency).count();
}

// Rates and times in JSON carry 3 decimals: 45.556, not 45.55555555555556.
double rounded(double value) { return std::round(value * 1000) / 1000; }

template <typename T>
nlohmann::ordered_json optional_json(const std::optional<T>& value) {
    if (!value) return nullptr;
    if constexpr (std::is_floating_point_v<T>) return rounded(*value);
    return *value;
}

// A group's key as JSON: a PID is a number, as everywhere else.
nlohmann::ordered_json key_json(GroupBy group_by, const std::string& key) {
    if (group_by == GroupBy::pid) {
        std::uint32_t pid = 0;
        const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), pid);
        if (error == std::errc{} && end == key.data() + key.size()) return pid;
    }
    return make_valid_utf8(key);
}

constexpr const char* kRowFormat = "{:1}{:>8} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8} {:>6}  ";

}  // namespace

std::string format_top_header(GroupBy group_by, SortColumn sort) {
    // The sort column is marked with '*'.
    const auto title = [sort](SortColumn column, const char* text) {
        return column == sort ? std::string("*") + text : std::string(text);
    };
    std::string header =
        fmt::format(fmt::runtime(kRowFormat), "", title(SortColumn::rate_1s, "RATE1S"),
                    title(SortColumn::rate_10s, "RATE10S"), title(SortColumn::rate_60s, "RATE60S"),
                    title(SortColumn::attempts, "TOTAL"), title(SortColumn::failures, "FAILED"), "MEAN",
                    title(SortColumn::latency_p99, "P99"), title(SortColumn::last_seen, "LAST"));
    const std::string key = sort == SortColumn::key ? "*" + key_title(group_by) : key_title(group_by);
    if (group_by != GroupBy::command) header += fmt::format("{:<{}} ", key, key_width(group_by));
    return header + (group_by == GroupBy::command ? key : std::string("COMMAND"));
}

std::string format_top_row(const TalkerRow& row, GroupBy group_by, bool alerting) {
    std::string text =
        fmt::format(fmt::runtime(kRowFormat), alerting ? "!" : "", rate_text(row.rate_1s), rate_text(row.rate_10s),
                    rate_text(row.rate_60s), row.attempts, row.failures ? std::to_string(*row.failures) : "-",
                    latency_text(row.latency_mean), latency_text(row.latency_p99), idle_text(row.idle));
    if (group_by == GroupBy::command) return text + escape_for_terminal(row.key);
    const std::string key = escape_for_terminal(row.key);
    const auto pad = static_cast<std::size_t>(key_width(group_by));
    const std::size_t shown = display_width(key);
    return text + key + std::string(shown < pad ? pad - shown : 0, ' ') + " " + escape_for_terminal(row.label);
}

std::string format_report_status(const IntervalReport& report) {
    std::string status = fmt::format("{} by {}, sorted by {}: {} groups, {} attempts, {} lost",
                                     format_local_time(report.time), group_by_name(report.group_by),
                                     sort_column_name(report.sort), report.groups, report.events, report.lost);
    if (report.final) status += " (final)";
    if (report.lost != 0) status += " (counts are low: events were dropped in the kernel)";
    if (report.groups_dropped != 0) status += fmt::format(", {} idle groups dropped for memory", report.groups_dropped);
    if (report.alert_rate) {
        status += fmt::format(", {} above {}/s", report.alerts_firing, rate_text(*report.alert_rate));
    }
    return status;
}

std::vector<std::string> format_report_block(const IntervalReport& report) {
    std::vector<std::string> lines{format_report_status(report), format_top_header(report.group_by, report.sort)};
    for (std::size_t i = 0; i < report.rows.size(); ++i) {
        lines.push_back(
            format_top_row(report.rows[i], report.group_by, i < report.alerting.size() && report.alerting[i]));
    }
    lines.emplace_back();
    return lines;
}

nlohmann::ordered_json report_to_json(const IntervalReport& report) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    const auto last_seen_base = report.time;
    for (std::size_t i = 0; i < report.rows.size(); ++i) {
        const auto& row = report.rows[i];
        const auto last_seen =
            last_seen_base - std::chrono::duration_cast<std::chrono::system_clock::duration>(row.idle);
        nlohmann::ordered_json record = {
            {"key", key_json(report.group_by, row.key)},
            {"command", make_valid_utf8(report.group_by == GroupBy::command ? row.key : row.label)},
            {"rate_1s", rounded(row.rate_1s)},
            {"rate_10s", rounded(row.rate_10s)},
            {"rate_60s", rounded(row.rate_60s)},
            {"attempts", row.attempts},
            {"failures", optional_json(row.failures)},
            {"latency_mean_ms", optional_json(milliseconds(row.latency_mean))},
            {"latency_p99_ms", optional_json(milliseconds(row.latency_p99))},
            {"last_seen", format_iso8601_utc(last_seen)},
        };
        if (report.alert_rate) record["alert"] = i < report.alerting.size() && report.alerting[i];
        rows.push_back(std::move(record));
    }
    nlohmann::ordered_json record = {
        {"type", "interval"},
        {"time", format_iso8601_utc(report.time)},
        {"interval_s", rounded(report.interval_seconds)},  // always a fractional number: 1.0, 0.5
        {"group_by", group_by_name(report.group_by)},
        {"sort", sort_column_name(report.sort)},
        {"events", report.events},
        {"lost", report.lost},
        {"groups", report.groups},
        {"groups_dropped", report.groups_dropped},
    };
    if (report.alert_rate) {
        record["alert_rate"] = *report.alert_rate;
        record["alerts_firing"] = report.alerts_firing;
    }
    record["final"] = report.final;
    record["rows"] = std::move(rows);
    return record;
}

std::string format_alert_line(const AlertNotice& notice) {
    const auto& alert = notice.transition;
    std::string line = fmt::format("{} ALERT {} {} {} at {} attempts/s ({} {}/s)", format_local_time(notice.time),
                                   alert.firing ? "firing" : "resolved", group_by_name(notice.group_by),
                                   escape_for_terminal(alert.key), rate_text(alert.rate),
                                   alert.firing ? "above" : "back below", rate_text(notice.threshold));
    if (notice.group_by != GroupBy::command && !alert.label.empty()) {
        line += ": " + escape_for_terminal(alert.label);
    }
    return line;
}

nlohmann::ordered_json alert_to_json(const AlertNotice& notice) {
    const auto& alert = notice.transition;
    return {
        {"type", "alert"},
        {"time", format_iso8601_utc(notice.time)},
        {"state", alert.firing ? "firing" : "resolved"},
        {"group_by", group_by_name(notice.group_by)},
        {"key", key_json(notice.group_by, alert.key)},
        {"command", make_valid_utf8(notice.group_by == GroupBy::command ? alert.key : alert.label)},
        {"rate", rounded(alert.rate)},
        {"threshold", notice.threshold},
    };
}

}  // namespace connsnoop
