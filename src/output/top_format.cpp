#include "output/top_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "output/count_text.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

constexpr std::string_view kCutMarker = "…";

std::string key_title(GroupBy group_by) {
    std::string title(group_by_name(group_by));
    for (auto& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return title;
}

// The first candidate that fits `width`; the last (the shortest) otherwise.
std::string first_fitting(std::initializer_list<std::string> candidates, std::size_t width) {
    for (const auto& candidate : candidates) {
        if (candidate.size() <= width) return candidate;
    }
    return *(candidates.end() - 1);
}

// `value` in thousands, millions, ... ("123k", "9.9G"), as precise as `width` allows.
std::string scaled(double value, std::size_t width) {
    double factor = 1;
    const char* suffix = "";
    for (const auto& [step, name] :
         {std::pair{1e3, "k"}, std::pair{1e6, "M"}, std::pair{1e9, "G"}, std::pair{1e12, "T"}, std::pair{1e15, "P"}}) {
        if (value < step) break;
        factor = step;
        suffix = name;
    }
    return first_fitting(
        {fmt::format("{:.1f}{}", value / factor, suffix), fmt::format("{:.0f}{}", value / factor, suffix)}, width);
}

std::string rate_text(double rate, std::size_t width = 9) {
    std::string whole = fmt::format("{:.0f}", rate);
    if (rate < 1000) {
        std::string tenths = fmt::format("{:.1f}", rate);
        if (tenths.size() <= width) return tenths;
    }
    if (whole.size() <= width) return whole;
    return scaled(rate, width);
}

std::string count_text(std::uint64_t count, std::size_t width) {
    std::string text = std::to_string(count);
    if (text.size() <= width) return text;
    return scaled(static_cast<double>(count), width);
}

std::string latency_text(const std::optional<std::chrono::nanoseconds>& latency, std::size_t width = 9) {
    if (!latency) return "-";
    const double ms = std::chrono::duration<double, std::milli>(*latency).count();
    if (ms < 100) return first_fitting({fmt::format("{:.1f}ms", ms), fmt::format("{:.0f}ms", ms)}, width);
    if (ms < 1000) return first_fitting({fmt::format("{:.0f}ms", ms), fmt::format("{:.1f}s", ms / 1000)}, width);
    return first_fitting({fmt::format("{:.0f}ms", ms), fmt::format("{:.1f}s", ms / 1000),
                          fmt::format("{:.0f}s", ms / 1000), fmt::format("{:.0f}m", ms / 60'000)},
                         width);
}

std::string idle_text(std::chrono::nanoseconds idle, std::size_t width = 9) {
    const double seconds = std::chrono::duration<double>(idle).count();
    if (seconds < 100) return first_fitting({fmt::format("{:.1f}s", seconds), fmt::format("{:.0f}s", seconds)}, width);
    return first_fitting({fmt::format("{:.0f}s", seconds), fmt::format("{:.0f}m", seconds / 60),
                          fmt::format("{:.0f}h", seconds / 3600), fmt::format("{:.0f}d", seconds / 86'400)},
                         width);
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

// A group's key as JSON: a PID or a port is a number, as everywhere else.
nlohmann::ordered_json key_json(GroupBy group_by, const std::string& key) {
    if (group_by == GroupBy::pid || group_by == GroupBy::port) {
        std::uint32_t number = 0;
        const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), number);
        if (error == std::errc{} && end == key.data() + key.size()) return number;
    }
    return make_valid_utf8(key);
}

// A numeric column: its titles, full and narrow widths, and when it goes
// (drop_order 1 first; 0: never).
struct NumericColumn {
    TopColumn column;
    const char* title;
    const char* short_title;
    std::size_t width;
    std::size_t narrow_width;
    int drop_order;
    SortColumn sort;
    bool needs_outcomes;
};
constexpr std::size_t kNarrowWidth = 5;
constexpr std::array<NumericColumn, 8> kNumericColumns = {{
    {TopColumn::rate_1s, "RATE1S", "1S", 8, kNarrowWidth, 0, SortColumn::rate_1s, false},
    {TopColumn::rate_10s, "RATE10S", "10S", 8, kNarrowWidth, 3, SortColumn::rate_10s, false},
    {TopColumn::rate_60s, "RATE60S", "60S", 8, kNarrowWidth, 1, SortColumn::rate_60s, false},
    {TopColumn::total, "TOTAL", "TOT", 9, kNarrowWidth, 6, SortColumn::attempts, false},
    {TopColumn::failed, "FAILED", "FAIL", 7, kNarrowWidth, 7, SortColumn::failures, true},
    {TopColumn::mean, "MEAN", "MEAN", 8, kNarrowWidth, 2, SortColumn::latency_mean, true},
    {TopColumn::p99, "P99", "P99", 8, kNarrowWidth, 5, SortColumn::latency_p99, true},
    {TopColumn::last, "LAST", "LAST", 6, kNarrowWidth, 4, SortColumn::last_seen, false},
}};

const NumericColumn* numeric_column(TopColumn column) {
    for (const auto& spec : kNumericColumns) {
        if (spec.column == column) return &spec;
    }
    return nullptr;
}

// The widest a key may get before it is cut, and whether it may be cut at
// all (a PID or a port cut short would name another one).
struct KeyLimits {
    std::size_t widest;
    bool cuttable;
};
KeyLimits key_limits(GroupBy group_by) {
    switch (group_by) {
        case GroupBy::command:
            return {0, true};
        case GroupBy::pid:
            return {7, false};
        case GroupBy::comm:
            return {15, true};
        case GroupBy::user:
            return {16, true};
        case GroupBy::cgroup:
            return {40, true};  // a cgroup v2 path (or its ID once gone)
        case GroupBy::container:
            return {12, false};  // a short container ID
        case GroupBy::unit:
            return {32, true};
        case GroupBy::dest:
            return {47, true};  // "[IPv6]:port"
        case GroupBy::port:
            return {5, false};
        case GroupBy::path:
            return {40, true};
        case GroupBy::imds:
            return {12, false};  // imdsv2-token
        case GroupBy::qname:
            return {40, true};
    }
    return {0, true};
}
constexpr std::size_t kNarrowText = 12;  // a key or destination is cut no shorter than this

// A group's key as the terminal shows it. Query names come escaped already
// (zone-file text, printable ASCII): escaping them again would double their
// backslashes.
std::string key_text(GroupBy group_by, const std::string& key) {
    return group_by == GroupBy::qname ? key : escape_for_terminal(key);
}

bool shows_key_column(GroupBy group_by) { return group_by != GroupBy::command; }
bool shows_destination_column(GroupBy group_by) { return group_by != GroupBy::dest; }

std::string destination_text(const TalkerRow& row) {
    if (row.destination.empty()) return "-";
    if (row.other_destinations == 0) return escape_for_terminal(row.destination);
    return escape_for_terminal(row.destination) + fmt::format(" +{}", row.other_destinations);
}

std::string numeric_text(TopColumn column, const TalkerRow& row, std::size_t width) {
    switch (column) {
        case TopColumn::rate_1s:
            return rate_text(row.rate_1s, width);
        case TopColumn::rate_10s:
            return rate_text(row.rate_10s, width);
        case TopColumn::rate_60s:
            return rate_text(row.rate_60s, width);
        case TopColumn::total:
            return count_text(row.attempts, width);
        case TopColumn::failed:
            return row.failures ? count_text(*row.failures, width) : "-";
        case TopColumn::mean:
            return latency_text(row.latency_mean, width);
        case TopColumn::p99:
            return latency_text(row.latency_p99, width);
        case TopColumn::last:
            return idle_text(row.idle, width);
        case TopColumn::key:
        case TopColumn::destination:
            break;
    }
    return {};
}

// Escaped `text` in exactly `width` columns: padded, or cut with a marker.
std::string fit_column(const std::string& text, std::size_t width) {
    const std::size_t shown = display_width(text);
    if (shown <= width) return text + std::string(width - shown, ' ');
    std::string cut(fit_to_width(text, width == 0 ? 0 : width - 1));
    cut += kCutMarker;
    return cut + std::string(width - display_width(cut), ' ');
}

std::string right_aligned(const std::string& text, std::size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string marked(const std::string& title, bool sorted) { return sorted ? "*" + title : title; }

// The command line, cut to what is left of the line.
std::string command_text(const std::string& escaped, const TopLayout& layout, std::size_t used) {
    if (!layout.width) return escaped;
    const std::size_t left = *layout.width > used ? *layout.width - used : 0;
    if (display_width(escaped) <= left) return escaped;
    std::string cut(fit_to_width(escaped, left == 0 ? 0 : left - 1));
    if (left != 0) cut += kCutMarker;
    return cut;
}

std::size_t layout_width(const TopLayout& layout) {
    std::size_t used = 1;  // the alert mark
    std::size_t numbers = 0;
    for (const auto& placed : layout.columns) {
        if (numeric_column(placed.column) != nullptr) {
            used += placed.width + (numbers++ == 0 ? 0 : 1);
        } else {
            used += placed.width + 1;
        }
    }
    return used + 2;  // two spaces before the text columns
}

std::string format_line(const TopLayout& layout, const std::string& mark,
                        const std::function<std::string(const PlacedColumn&)>& cell, const std::string& command) {
    std::string line = mark;
    bool first = true;
    for (const auto& placed : layout.columns) {
        if (numeric_column(placed.column) == nullptr) continue;
        if (!first) line += ' ';
        first = false;
        line += right_aligned(cell(placed), placed.width);
    }
    line += "  ";
    for (const auto& placed : layout.columns) {
        if (numeric_column(placed.column) != nullptr) continue;
        const std::string text = cell(placed);
        line += (layout.width
                     ? fit_column(text, placed.width)
                     : text + std::string(placed.width > display_width(text) ? placed.width - display_width(text) : 0,
                                          ' ')) +
                ' ';
    }
    return line + command_text(command, layout, layout_width(layout));
}

}  // namespace

TopLayout layout_top_columns(const IntervalReport& report, std::optional<std::size_t> width) {
    TopLayout layout;
    layout.group_by = report.group_by;
    layout.sort = report.sort;
    layout.width = width;
    for (const auto& spec : kNumericColumns) {
        if (spec.needs_outcomes && !report.outcomes) continue;
        layout.columns.push_back({spec.column, spec.width, false});
    }
    // Text columns as wide as their widest value (and title); on a terminal
    // within limits, in a pipe or a file whole, so that nothing is cut and a
    // long key (a 32-character user, a cgroup path) pushes no column right.
    std::size_t key_width = 0;
    std::size_t key_narrow = 0;
    if (shows_key_column(report.group_by)) {
        const auto limits = key_limits(report.group_by);
        key_width = key_title(report.group_by).size() + (report.sort == SortColumn::key ? 1 : 0);
        for (const auto& row : report.rows)
            key_width = std::max(key_width, display_width(key_text(report.group_by, row.key)));
        if (width) key_width = std::min(key_width, std::max(limits.widest, key_title(report.group_by).size() + 1));
        key_narrow = limits.cuttable ? std::min(key_width, kNarrowText) : key_width;
        layout.columns.push_back({TopColumn::key, key_width, false});
    }
    std::size_t destination_width = 0;
    if (shows_destination_column(report.group_by)) {
        destination_width = std::string_view("DEST").size();
        for (const auto& row : report.rows) {
            destination_width = std::max(destination_width, display_width(destination_text(row)));
        }
        if (width) destination_width = std::min<std::size_t>(destination_width, 47 + 4);
        layout.columns.push_back({TopColumn::destination, destination_width, false});
    }
    if (!width) return layout;

    const auto fits = [&] { return layout_width(layout) + kMinCommandWidth <= *width; };
    if (fits()) return layout;
    // 1. Numbers narrow.
    for (auto& placed : layout.columns) {
        if (const auto* spec = numeric_column(placed.column)) {
            placed.width = spec->narrow_width;
            placed.short_title = true;
        }
    }
    // 2. The least useful numbers go; never the 1 s rate or the sort column.
    for (int order = 1; !fits() && order <= 7; ++order) {
        std::erase_if(layout.columns, [&](const PlacedColumn& placed) {
            const auto* spec = numeric_column(placed.column);
            return spec != nullptr && spec->drop_order == order && spec->sort != report.sort;
        });
    }
    // 3. The key and the destination are cut.
    for (auto& placed : layout.columns) {
        if (fits()) break;
        const std::size_t narrow =
            placed.column == TopColumn::key ? key_narrow : std::min(destination_width, kNarrowText);
        if (placed.column == TopColumn::key || placed.column == TopColumn::destination) {
            const std::size_t over = layout_width(layout) + kMinCommandWidth - *width;
            placed.width = std::max(narrow, placed.width > over ? placed.width - over : 0);
        }
    }
    return layout;
}

std::string format_top_header(const TopLayout& layout) {
    const auto title = [&](const PlacedColumn& placed) -> std::string {
        if (placed.column == TopColumn::key) return marked(key_title(layout.group_by), layout.sort == SortColumn::key);
        if (placed.column == TopColumn::destination) return "DEST";
        const auto* spec = numeric_column(placed.column);
        return marked(placed.short_title ? spec->short_title : spec->title, layout.sort == spec->sort);
    };
    const bool command_is_key = !shows_key_column(layout.group_by);
    return format_line(layout, " ", title, marked("COMMAND", command_is_key && layout.sort == SortColumn::key));
}

std::string format_top_row(const TopLayout& layout, const TalkerRow& row, bool alerting) {
    const auto cell = [&](const PlacedColumn& placed) -> std::string {
        if (placed.column == TopColumn::key) return key_text(layout.group_by, row.key);
        if (placed.column == TopColumn::destination) return destination_text(row);
        return numeric_text(placed.column, row, placed.width);
    };
    const std::string& command = shows_key_column(layout.group_by) ? row.label : row.key;
    return format_line(layout, alerting ? "!" : " ", cell, escape_for_terminal(command));
}

std::string format_report_status(const IntervalReport& report) {
    std::string status =
        fmt::format("{} by {}, sorted by {}{}: {}, {}, {} lost", format_local_time(report.time),
                    group_by_name(report.group_by), sort_column_name(report.sort), report.reversed ? " (reversed)" : "",
                    count_of(report.groups, "group"), count_of(report.events, "attempt"), report.lost);
    if (report.final) status += " (final)";
    if (report.lost != 0) status += " (counts are low: events were dropped in the kernel)";
    if (report.groups_dropped != 0) {
        status += fmt::format(", {} dropped for memory", count_of(report.groups_dropped, "idle group"));
    }
    if (report.alert_rate) {
        status += fmt::format(", {} above {}/s", report.alerts_firing, rate_text(*report.alert_rate));
    }
    return status;
}

std::vector<std::string> format_report_block(const IntervalReport& report, std::optional<std::size_t> width) {
    const TopLayout layout = layout_top_columns(report, width);
    std::vector<std::string> lines{format_report_status(report), format_top_header(layout)};
    if (width) lines[0] = std::string(fit_to_width(lines[0], *width));
    for (std::size_t i = 0; i < report.rows.size(); ++i) {
        lines.push_back(format_top_row(layout, report.rows[i], i < report.alerting.size() && report.alerting[i]));
    }
    lines.emplace_back();
    return lines;
}

namespace {

// Escaped text wrapped to `width` columns, each line after the first indented.
void append_wrapped(std::vector<std::string>& lines, const std::string& escaped, std::size_t width,
                    const std::string& indent) {
    std::string_view rest = escaped;
    std::string prefix;
    do {
        const std::size_t room = width > prefix.size() ? width - prefix.size() : 1;
        std::string_view piece = fit_to_width(rest, room);
        if (piece.empty()) piece = rest.substr(0, 1);  // never stuck on a character wider than the room
        // Break after a space when there is one in the second half of the line.
        if (piece.size() < rest.size()) {
            const auto space = piece.rfind(' ');
            if (space != std::string_view::npos && space >= piece.size() / 2) piece = piece.substr(0, space + 1);
        }
        lines.push_back(prefix + std::string(piece));
        rest.remove_prefix(piece.size());
        prefix = indent;
    } while (!rest.empty());
}

std::string seen_text(std::chrono::system_clock::time_point now, std::chrono::nanoseconds ago) {
    const auto at = now - std::chrono::duration_cast<std::chrono::system_clock::duration>(ago);
    return fmt::format("{} ({} ago)", format_local_time(at), idle_text(ago));
}

}  // namespace

std::vector<std::string> format_detail_lines(const TalkerDetail& detail, GroupBy group_by,
                                             std::chrono::system_clock::time_point now, bool outcomes,
                                             std::size_t width) {
    std::vector<std::string> lines;
    const auto add = [&](const std::string& escaped) { append_wrapped(lines, escaped, width, "    "); };
    add(fmt::format("{} {}", group_by_name(group_by), key_text(group_by, detail.key)));
    lines.emplace_back();
    add("Command line: " + escape_for_terminal(detail.command_line));
    std::string counts = fmt::format("Attempts: {}", detail.attempts);
    if (outcomes) counts += fmt::format("   Failed: {}", detail.failures ? std::to_string(*detail.failures) : "-");
    add(counts);
    add("First seen: " + seen_text(now, detail.first_seen_ago) +
        "   Last seen: " + seen_text(now, detail.last_seen_ago));

    std::string pids = "PIDs seen (latest first):";
    for (auto pid : detail.pids) pids += fmt::format(" {}", pid);
    if (detail.pids.empty()) pids += " -";
    if (detail.pids_forgotten != 0) pids += fmt::format(" (and {} earlier)", detail.pids_forgotten);
    add(pids);
    add("User: " + (detail.user.empty() ? std::string("-") : escape_for_terminal(detail.user)));
    std::string parents = "Parents:";
    for (std::size_t i = 0; i < detail.parents.size(); ++i) {
        const auto& parent = detail.parents[i];
        parents += fmt::format("{} {}", i == 0 ? "" : " <", parent.pid);
        if (!parent.comm.empty()) parents += " " + escape_for_terminal(parent.comm);
        if (parent.exited) parents += " (exited)";
    }
    if (detail.parents.empty()) parents += " -";
    add(parents);
    add("Container: " + (detail.container.empty() ? std::string("-") : escape_for_terminal(detail.container)) +
        "   Unit: " + (detail.unit.empty() ? std::string("-") : escape_for_terminal(detail.unit)));

    lines.emplace_back();
    lines.emplace_back("Destinations (attempts):");
    for (const auto& destination : detail.destinations) {
        add(fmt::format("  {:>9}  {}", destination.attempts, format_endpoint(destination.address, destination.port)));
    }
    if (detail.other_destination_attempts != 0) {
        add(fmt::format("  {:>9}  other destinations", detail.other_destination_attempts));
    }
    if (detail.destinations.empty()) lines.emplace_back("  -");

    lines.emplace_back();
    if (!outcomes) {
        lines.emplace_back("Recent results: not traced (run with --outcome)");
    } else {
        lines.emplace_back("Recent results (newest first):");
        for (const auto& result : detail.recent_results) {
            std::string text = fmt::format("  {}  {:<11}", seen_text(now, result.ago), result_name(result.result));
            if (result.error != 0) text += " " + errno_name(result.error);
            if (result.latency) text += " " + latency_text(result.latency);
            add(text);
        }
        if (detail.recent_results.empty()) lines.emplace_back("  none yet");
    }
    return lines;
}

std::vector<std::string> format_help_lines() {
    return {
        "Keys",
        "",
        "  Up, Down          move the selection",
        "  PgUp, PgDn        move a page",
        "  Home, End         first row, last row",
        "  Enter             details of the selected row (Esc or Enter: back)",
        "  /                 filter rows by a substring (Enter: apply, Esc: clear)",
        "  s                 next sort column (marked *)",
        "  r                 reverse the sort",
        "  g                 next grouping (every grouping is counted all along)",
        "  p                 pause / resume the view (counting goes on)",
        "  ?                 this help (any key: back)",
        "  q                 quit, leaving the last ranking on the terminal",
        "  Ctrl-L            redraw",
    };
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
            {"destination",
             row.destination.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(row.destination)},
            {"other_destinations", row.other_destinations},
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
                                   key_text(notice.group_by, alert.key), rate_text(alert.rate),
                                   alert.firing ? "above" : "back below", rate_text(notice.threshold));
    if (notice.group_by != GroupBy::command && !alert.label.empty()) {
        line += ": " + escape_for_terminal(alert.label);
    }
    return line;
}

std::string format_alert_notice(const AlertNotice& notice) {
    const auto& alert = notice.transition;
    std::string line =
        fmt::format("{} ALERT {} at {}/s ({} {}/s): {} {}", format_local_time(notice.time),
                    alert.firing ? "firing" : "resolved", rate_text(alert.rate), alert.firing ? "above" : "back below",
                    rate_text(notice.threshold), group_by_name(notice.group_by), key_text(notice.group_by, alert.key));
    if (notice.group_by != GroupBy::command && !alert.label.empty()) line += ": " + escape_for_terminal(alert.label);
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
