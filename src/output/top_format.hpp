// Pure formatting for `top` and --alert: the columns of the live view and of
// the summary blocks (fitted to a width), the detail and help screens, the
// JSON interval and alert records.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aggregate/group_key.hpp"
#include "aggregate/rate_alerts.hpp"
#include "aggregate/talker_table.hpp"

namespace connsnoop {

// One refresh of `top`: what the view draws and a summary block or an
// interval record carries.
struct IntervalReport {
    std::chrono::system_clock::time_point time;
    double interval_seconds = 1;
    GroupBy group_by = GroupBy::command;
    SortColumn sort = SortColumn::rate_1s;
    bool reversed = false;               // the sort order backwards (lowest first)
    bool outcomes = false;               // outcomes are traced: FAILED, MEAN and P99 are shown
    std::uint64_t events = 0;            // attempts seen since the start
    std::uint64_t lost = 0;              // dropped in the kernel since the start
    std::size_t groups = 0;              // live groups (rows may be fewer)
    std::uint64_t groups_dropped = 0;    // evicted to bound memory: their counts are gone
    std::optional<double> alert_rate;    // --alert
    std::size_t alerts_firing = 0;       // groups (of the --by grouping) above it now
    std::vector<TalkerRow> rows;         // sorted, cut to --rows
    std::vector<bool> alerting;          // per row: its alert is firing
    bool final = false;                  // the last report of the run, after the last events
    std::optional<TalkerDetail> detail;  // the group the view's detail screen shows
};

enum class TopColumn { rate_1s, rate_10s, rate_60s, total, failed, mean, p99, last, key, destination };

struct PlacedColumn {
    TopColumn column;
    std::size_t width;
    bool short_title = false;  // "10S" instead of "RATE10S" once narrowed
};

// Which columns are shown, in order, and how wide; the command line comes
// last and takes what is left.
struct TopLayout {
    GroupBy group_by = GroupBy::command;
    SortColumn sort = SortColumn::rate_1s;
    std::vector<PlacedColumn> columns;
    std::optional<std::size_t> width;  // the whole line; nullopt: nothing is cut (a pipe)
};

// The command line keeps at least this many columns when the terminal allows.
inline constexpr std::size_t kMinCommandWidth = 35;

// Fits the columns to `width`: numbers narrow first, then the least useful
// ones go (60 s rate, mean, 10 s rate, last seen, p99, total), never the 1 s
// rate or the sort column; only then are the key and destination cut.
// nullopt: every column at full width, nothing cut. FAILED, MEAN and P99
// appear only when report.outcomes.
TopLayout layout_top_columns(const IntervalReport& report, std::optional<std::size_t> width);

// The column titles; the sort column is marked with '*'.
std::string format_top_header(const TopLayout& layout);
// One row; untrusted text escaped. `alerting` marks the row with "!".
std::string format_top_row(const TopLayout& layout, const TalkerRow& row, bool alerting);
// The line above the column header: time, grouping, totals, loss.
std::string format_report_status(const IntervalReport& report);
// A summary block: status, header, rows, then an empty line. `width`: cut to
// a terminal's width (the ranking left on screen when the view ends).
std::vector<std::string> format_report_block(const IntervalReport& report,
                                             std::optional<std::size_t> width = std::nullopt);

// The detail screen of one group, wrapped to `width` columns, escaped.
std::vector<std::string> format_detail_lines(const TalkerDetail& detail, GroupBy group_by,
                                             std::chrono::system_clock::time_point now, bool outcomes,
                                             std::size_t width);
// The help screen: every key of the view.
std::vector<std::string> format_help_lines();

nlohmann::ordered_json report_to_json(const IntervalReport& report);

struct AlertNotice {
    std::chrono::system_clock::time_point time;
    GroupBy group_by = GroupBy::command;
    double threshold = 0;
    AlertTransition transition;
};
// "22:51:44 ALERT firing command 'curl ...' 812.0 attempts/s (above 100/s)"
std::string format_alert_line(const AlertNotice& notice);
// The same for the view's notice line, the rate first so that a narrow
// terminal still shows it: "22:51:44 ALERT firing at 812.0/s (above 100.0/s): command curl ..."
std::string format_alert_notice(const AlertNotice& notice);
nlohmann::ordered_json alert_to_json(const AlertNotice& notice);

}  // namespace connsnoop
