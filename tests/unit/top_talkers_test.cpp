// What `top` keeps per group beyond the counts: destinations, the detail
// view's bounded facts, outcomes recorded as the session records them, and
// alerts that state the rate of a full window.
#include <gtest/gtest.h>

#include <algorithm>

#include "aggregate/group_key.hpp"
#include "aggregate/grouped_talkers.hpp"
#include "aggregate/talker_table.hpp"
#include "app/alert_watch.hpp"
#include "event_fixtures.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/top_format.hpp"

namespace connsnoop {
namespace {

using namespace std::chrono_literals;

const MonoTime kOrigin = MonoTime(std::chrono::seconds(1000));
MonoTime at(std::chrono::milliseconds offset) { return kOrigin + offset; }
std::uint64_t ns_at(std::chrono::milliseconds offset) {
    return static_cast<std::uint64_t>(at(offset).time_since_epoch().count());
}

ConnectEvent event_to(const std::string& destination, std::uint16_t port, std::uint32_t pid = 4321,
                      std::chrono::milliseconds when = 100ms) {
    auto event = fixtures::sample_event();
    event.destination = *IpAddress::parse(destination);
    event.destination_port = port;
    event.pid = pid;
    event.monotonic_ns = ns_at(when);
    return event;
}

const TalkerRow& row_of(const std::vector<TalkerRow>& rows, std::string_view key) {
    const auto found = std::find_if(rows.begin(), rows.end(), [&](const auto& row) { return row.key == key; });
    if (found == rows.end()) throw std::runtime_error("no row " + std::string(key));
    return *found;
}

TEST(TopGroupings, DestinationAndPortKeys) {
    const auto v4 = event_to("169.254.169.254", 80);
    const auto v6 = event_to("fd00:ec2::254", 80);
    EXPECT_EQ(group_key(v4, command_line(v4), GroupBy::dest), "169.254.169.254:80");
    EXPECT_EQ(group_key(v6, command_line(v6), GroupBy::dest), "[fd00:ec2::254]:80");
    EXPECT_EQ(group_key(v6, command_line(v6), GroupBy::port), "80");
    EXPECT_EQ(parse_group_by("dest"), GroupBy::dest);
    EXPECT_EQ(parse_group_by("port"), GroupBy::port);
    EXPECT_EQ(next_grouping(GroupBy::unit), GroupBy::dest);
    EXPECT_EQ(next_grouping(GroupBy::dest), GroupBy::port);

    GroupedTalkers talkers({GroupBy::dest, GroupBy::port}, kOrigin);
    talkers.record_attempt(v4);
    talkers.record_attempt(v6);
    talkers.record_attempt(v6);
    const auto by_dest = talkers.table(GroupBy::dest).rows(at(1s));
    ASSERT_EQ(by_dest.size(), 2U);
    EXPECT_EQ(row_of(by_dest, "[fd00:ec2::254]:80").attempts, 2U);
    const auto by_port = talkers.table(GroupBy::port).rows(at(1s));
    ASSERT_EQ(by_port.size(), 1U);
    EXPECT_EQ(by_port[0].destination, "[fd00:ec2::254]:80");  // the busiest of the port
    EXPECT_EQ(by_port[0].other_destinations, 1U);
}

TEST(TopDetail, KeepsWhatTheDetailViewShows) {
    GroupedTalkers talkers({GroupBy::command}, kOrigin);
    auto first = event_to("169.254.169.254", 80, 100, 100ms);
    first.ancestry = {{1200, "bash", {"bash", "-c", "a very long script"}, false}, {1, "systemd", {}, false}};
    first.container_id = std::string(64, 'c');
    first.unit = "cron.service";
    talkers.record_attempt(first);
    talkers.record_attempt(event_to("169.254.169.254", 80, 101, 200ms));
    talkers.record_attempt(event_to("10.0.0.1", 443, 100, 300ms));

    const auto detail = talkers.table(GroupBy::command).detail("curl -s http://169.254.169.254/", at(2s));
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->command_line, "curl -s http://169.254.169.254/");
    EXPECT_EQ(detail->attempts, 3U);
    EXPECT_EQ(detail->pids, (std::vector<std::uint32_t>{100, 101}));  // latest first, each once
    EXPECT_EQ(detail->user, "root");
    ASSERT_EQ(detail->destinations.size(), 2U);
    EXPECT_EQ(format_endpoint(detail->destinations[0].address, detail->destinations[0].port), "169.254.169.254:80");
    EXPECT_EQ(detail->destinations[0].attempts, 2U);
    EXPECT_EQ(detail->destinations[1].attempts, 1U);
    EXPECT_EQ(detail->first_seen_ago, 1900ms);
    EXPECT_EQ(detail->last_seen_ago, 1700ms);
    EXPECT_FALSE(detail->failures);  // no outcomes traced
    // The latest attempt had no ancestry or container: the detail follows it.
    EXPECT_TRUE(detail->container.empty());
    EXPECT_FALSE(talkers.table(GroupBy::command).detail("nobody", at(2s)));

    GroupedTalkers single({GroupBy::command}, kOrigin);
    single.record_attempt(first);
    const auto with_parents = single.table(GroupBy::command).detail(command_line(first), at(1s));
    ASSERT_EQ(with_parents->parents.size(), 2U);
    EXPECT_EQ(with_parents->parents[0].pid, 1200U);
    EXPECT_EQ(with_parents->parents[0].comm, "bash");
    EXPECT_TRUE(with_parents->parents[0].argv.empty());  // not kept: bounded memory
    EXPECT_EQ(with_parents->container, std::string(64, 'c'));
    EXPECT_EQ(with_parents->unit, "cron.service");
}

TEST(TopDetail, WhatAGroupKeepsIsBounded) {
    TalkerTable table(kOrigin);
    for (std::uint32_t i = 0; i < 100; ++i) {
        auto event = event_to("10.0.0." + std::to_string(i), 80, 1000 + i);
        table.record_attempt("busy", "", at(100ms), &event);
        table.record_outcome("busy", true, 1ms, ConnectOutcome{ConnectResult::refused, 111, 1'000'000}, at(100ms));
    }
    const auto detail = table.detail("busy", at(1s));
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->pids.size(), TalkerTable::kKeptPids);
    EXPECT_EQ(detail->pids.front(), 1099U);
    EXPECT_EQ(detail->pids_forgotten, 100 - TalkerTable::kKeptPids);
    EXPECT_EQ(detail->destinations.size(), TalkerTable::kKeptDestinations);
    EXPECT_EQ(detail->other_destination_attempts, 100 - TalkerTable::kKeptDestinations);
    EXPECT_EQ(detail->recent_results.size(), TalkerTable::kKeptResults);
    EXPECT_EQ(detail->failures, 100U);
    EXPECT_EQ(table.rows(at(1s)).at(0).other_destinations, TalkerTable::kKeptDestinations);  // 7 kept + the rest
}

// The session records an outcome with the joined attempt (its `outcome` set),
// as OutcomeJoiner hands it on.
TEST(TopOutcomes, RecordedOutcomesFillFailedMeanP99AndTheRecentResults) {
    GroupedTalkers talkers({GroupBy::command, GroupBy::pid}, kOrigin);
    auto refused = event_to("169.254.169.254", 81, 4321, 100ms);
    refused.argv = {"python3", "refuse.py"};
    auto fine = event_to("169.254.169.254", 80, 4400, 150ms);
    for (int i = 0; i < 4; ++i) {
        talkers.record_attempt(refused);
        refused.outcome = ConnectOutcome{ConnectResult::refused, 111, 200'000};
        talkers.record_outcome(refused, did_not_establish(refused.outcome->result), 200us);
        refused.outcome.reset();
    }
    talkers.record_attempt(fine);
    fine.outcome = ConnectOutcome{ConnectResult::established, 0, 5'000'000};
    talkers.record_outcome(fine, false, 5ms);

    auto rows = talkers.table(GroupBy::command).rows(at(1s));
    const auto& failing = row_of(rows, "python3 refuse.py");
    EXPECT_EQ(failing.failures, 4U);
    EXPECT_EQ(failing.latency_mean, 200us);
    EXPECT_EQ(failing.latency_p99, 200us);
    EXPECT_EQ(row_of(rows, "curl -s http://169.254.169.254/").failures, 0U);

    sort_rows(rows, SortColumn::failures);
    EXPECT_EQ(rows.front().key, "python3 refuse.py");
    sort_rows(rows, SortColumn::latency_mean);
    EXPECT_EQ(rows.front().key, "curl -s http://169.254.169.254/");
    sort_rows(rows, SortColumn::latency_mean, true);  // r: reversed
    EXPECT_EQ(rows.front().key, "python3 refuse.py");

    const auto detail = talkers.table(GroupBy::pid).detail("4321", at(1s));
    ASSERT_TRUE(detail);
    ASSERT_EQ(detail->recent_results.size(), 4U);
    EXPECT_EQ(detail->recent_results[0].result, ConnectResult::refused);
    EXPECT_EQ(detail->recent_results[0].error, 111);
    EXPECT_EQ(detail->recent_results[0].latency, 200us);

    // And the screen shows them.
    IntervalReport report;
    report.outcomes = true;
    report.rows = talkers.table(GroupBy::command).rows(at(1s));
    sort_rows(report.rows, SortColumn::failures);
    const auto layout = layout_top_columns(report, 80);
    EXPECT_NE(format_top_header(layout).find("FAIL"), std::string::npos);
    EXPECT_NE(format_top_row(layout, report.rows[0], false).find(" 4 "), std::string::npos);
    const auto lines = format_detail_lines(*detail, GroupBy::pid, std::chrono::system_clock::now(), true, 80);
    const auto refused_line = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
        return line.find("refused") != std::string::npos && line.find("ECONNREFUSED") != std::string::npos &&
               line.find("0.2ms") != std::string::npos;
    });
    EXPECT_NE(refused_line, lines.end());
}

TEST(TopOutcomes, SortColumnsNeedingOutcomesAreSkippedWithout) {
    SortColumn column = SortColumn::attempts;
    column = next_sort_column(column, false);
    EXPECT_EQ(column, SortColumn::last_seen);
    column = SortColumn::attempts;
    column = next_sort_column(column, true);
    EXPECT_EQ(column, SortColumn::failures);
    EXPECT_EQ(next_sort_column(SortColumn::failures), SortColumn::latency_mean);
    EXPECT_EQ(sort_column_name(SortColumn::latency_mean), "mean");
}

// A process that starts at 95 attempts/s while --alert 30 watches: the alert
// states its rate over a full second, not the 31/s the window held when the
// rate first crossed 30.
TEST(TopAlerts, StateTheRateOfAFullWindow) {
    TalkerTable table(kOrigin);
    table.record_attempt("idle", "", at(0ms));  // the run is well under way
    std::vector<AlertNotice> notices;
    AlertWatch watch(30, GroupBy::command, [&](const AlertNotice& notice) { notices.push_back(notice); });
    const auto start = 5000ms;
    int made = 0;
    for (auto now = start; now < start + 3000ms; now += 10ms) {
        // 95/s: an attempt roughly every 10.5 ms.
        while (made < static_cast<int>((now - start).count() * 95 / 1000)) {
            table.record_attempt("hammer", "", at(now));
            ++made;
        }
        watch.check(table, at(now));
    }
    ASSERT_EQ(notices.size(), 1U);
    EXPECT_TRUE(notices[0].transition.firing);
    EXPECT_EQ(notices[0].transition.key, "hammer");
    EXPECT_GE(notices[0].transition.rate, 90.0);
    EXPECT_LE(notices[0].transition.rate, 100.0);
    EXPECT_NE(format_alert_line(notices[0]).find(" at 9"), std::string::npos) << format_alert_line(notices[0]);
}

TEST(TopHelp, ListsEveryKey) {
    std::string help;
    for (const auto& line : format_help_lines()) help += line + "\n";
    for (const char* key :
         {"Up, Down", "PgUp, PgDn", "Home, End", "Enter", "/", " s ", " r ", " g ", " p ", " ? ", " q "}) {
        EXPECT_NE(help.find(key), std::string::npos) << key;
    }
}

TEST(TopDetailLines, WrapLongCommandLinesAndEscapeThem) {
    TalkerDetail detail;
    detail.key = "4321";
    detail.command_line = "perl -e " + std::string(150, 'x') + "\x1b[H";
    detail.pids = {4321};
    detail.destinations = {{*IpAddress::parse("fd00:ec2::254"), 80, 7}};
    const auto lines = format_detail_lines(detail, GroupBy::pid, std::chrono::system_clock::now(), false, 80);
    std::string text;
    for (const auto& line : lines) {
        EXPECT_LE(display_width(line), 80U) << line;
        EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
        text += line + "\n";
    }
    EXPECT_NE(text.find("\\x1b[H"), std::string::npos) << text;  // the whole command line, wrapped
    EXPECT_NE(text.find("PIDs seen (latest first): 4321"), std::string::npos) << text;
    EXPECT_NE(text.find("7  [fd00:ec2::254]:80"), std::string::npos) << text;
    EXPECT_NE(text.find("not traced (run with --outcome)"), std::string::npos) << text;
}

}  // namespace
}  // namespace connsnoop
