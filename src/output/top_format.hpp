// Pure formatting for `top` and --alert: the rows of the live view and of
// the summary blocks, the JSON interval and alert records.
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
    std::uint64_t events = 0;          // attempts seen since the start
    std::uint64_t lost = 0;            // dropped in the kernel since the start
    std::size_t groups = 0;            // live groups (rows may be fewer)
    std::uint64_t groups_dropped = 0;  // evicted to bound memory: their counts are gone
    std::optional<double> alert_rate;  // --alert
    std::size_t alerts_firing = 0;     // groups (of the --by grouping) above it now
    std::vector<TalkerRow> rows;       // sorted, cut to --rows
    std::vector<bool> alerting;        // per row: its alert is firing
    bool final = false;                // the last report of the run, after the last events
};

// "  RATE1S  RATE10S ..." with the key column named after the grouping.
std::string format_top_header(GroupBy group_by, SortColumn sort);
// One row; untrusted text escaped. `alerting` marks the row with "!".
std::string format_top_row(const TalkerRow& row, GroupBy group_by, bool alerting);
// The line above the column header: time, grouping, totals, loss.
std::string format_report_status(const IntervalReport& report);
// A summary block for a pipe: status, header, rows, then an empty line.
std::vector<std::string> format_report_block(const IntervalReport& report);

nlohmann::ordered_json report_to_json(const IntervalReport& report);

struct AlertNotice {
    std::chrono::system_clock::time_point time;
    GroupBy group_by = GroupBy::command;
    double threshold = 0;
    AlertTransition transition;
};
// "22:51:44 ALERT firing command 'curl ...' 812.0 attempts/s (above 100/s)"
std::string format_alert_line(const AlertNotice& notice);
nlohmann::ordered_json alert_to_json(const AlertNotice& notice);

}  // namespace connsnoop
