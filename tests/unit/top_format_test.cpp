// Formatting of the top view's rows, summary blocks, interval and alert records.
#include "output/top_format.hpp"

#include <gtest/gtest.h>

#include "output/json_format.hpp"

namespace connsnoop {
namespace {

using namespace std::chrono_literals;

const auto kTime = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'905'646'123'456));

TalkerRow sample_row(std::string key = "curl -s http://169.254.169.254/", std::string label = "") {
    TalkerRow row;
    row.key = std::move(key);
    row.label = std::move(label);
    row.rate_1s = 812;
    row.rate_10s = 640.25;
    row.rate_60s = 1234.5;
    row.attempts = 40'000;
    row.idle = 250ms;
    return row;
}

IntervalReport sample_report() {
    IntervalReport report;
    report.time = kTime;
    report.events = 40'000;
    report.groups = 1;
    report.rows = {sample_row()};
    return report;
}

TEST(TopFormat, RowShowsRatesTotalsUnknownOutcomesAndTheKey) {
    const auto row = format_top_row(sample_row(), GroupBy::command, false);
    EXPECT_EQ(
        row, "    812.0    640.2     1234     40000       -        -        -   0.2s  curl -s http://169.254.169.254/");
    const auto header = format_top_header(GroupBy::command, SortColumn::rate_1s);
    EXPECT_EQ(header, "  *RATE1S  RATE10S  RATE60S     TOTAL  FAILED     MEAN      P99   LAST  COMMAND");
    EXPECT_EQ(header.find("COMMAND"), row.find("curl"));  // columns line up
}

TEST(TopFormat, KnownOutcomesShowFailuresAndLatencies) {
    auto with_outcomes = sample_row();
    with_outcomes.failures = 16'000;
    with_outcomes.latency_mean = 1500us;
    with_outcomes.latency_p99 = 3s;
    const auto row = format_top_row(with_outcomes, GroupBy::command, true);
    EXPECT_EQ(row.rfind("!", 0), 0U);
    EXPECT_NE(row.find(" 16000 "), std::string::npos) << row;
    EXPECT_NE(row.find(" 1.5ms "), std::string::npos) << row;
    EXPECT_NE(row.find(" 3000ms "), std::string::npos) << row;
}

TEST(TopFormat, OtherGroupingsShowTheKeyThenTheLatestCommandLine) {
    const auto row = format_top_row(sample_row("4321", "curl -s x"), GroupBy::pid, false);
    EXPECT_NE(row.find("  4321    curl -s x"), std::string::npos) << row;
    const auto header = format_top_header(GroupBy::pid, SortColumn::key);
    EXPECT_NE(header.find("*PID    COMMAND"), std::string::npos) << header;
    EXPECT_EQ(header.find("COMMAND"), row.find("curl"));
}

TEST(TopFormat, UntrustedTextCannotDriveTheTerminal) {
    const auto row = format_top_row(sample_row("\x1b[2J\r\nfake row", "\x1b]0;title\x07"), GroupBy::comm, false);
    EXPECT_EQ(row.find('\x1b'), std::string::npos) << row;
    EXPECT_EQ(row.find('\n'), std::string::npos) << row;
    EXPECT_NE(row.find("\\x1b[2J\\x0d\\x0afake row"), std::string::npos) << row;
}

TEST(TopFormat, SummaryBlockHasStatusHeaderRowsAndABlankLine) {
    auto report = sample_report();
    report.lost = 3;
    const auto block = format_report_block(report);
    ASSERT_EQ(block.size(), 4U);
    EXPECT_NE(block[0].find("by command, sorted by 1s: 1 groups, 40000 attempts, 3 lost (counts are low"),
              std::string::npos)
        << block[0];
    EXPECT_NE(block[1].find("RATE1S"), std::string::npos);
    EXPECT_NE(block[2].find("curl -s"), std::string::npos);
    EXPECT_EQ(block[3], "");
}

TEST(TopFormat, IntervalRecordCarriesRowsInOrderWithNullForUnknownOutcomes) {
    auto report = sample_report();
    report.alert_rate = 100;
    report.alerts_firing = 1;
    report.alerting = {true};
    const auto record = report_to_json(report);
    EXPECT_EQ(record["type"], "interval");
    EXPECT_EQ(record["time"], "2026-11-28T22:40:46.123456Z");
    EXPECT_EQ(record["group_by"], "command");
    EXPECT_EQ(record["events"], 40000);
    EXPECT_EQ(record["alert_rate"], 100.0);
    EXPECT_EQ(record["final"], false);
    ASSERT_EQ(record["rows"].size(), 1U);
    const auto& row = record["rows"][0];
    EXPECT_EQ(row["key"], "curl -s http://169.254.169.254/");
    EXPECT_EQ(row["command"], row["key"]);
    EXPECT_EQ(row["rate_1s"], 812.0);
    EXPECT_EQ(row["attempts"], 40000);
    EXPECT_TRUE(row["failures"].is_null());
    EXPECT_TRUE(row["latency_p99_ms"].is_null());
    EXPECT_EQ(row["last_seen"], "2026-11-28T22:40:45.873456Z");
    EXPECT_EQ(row["alert"], true);
}

TEST(TopFormat, JsonNumbersHaveOneTypeAndThreeDecimals) {
    auto report = sample_report();
    report.rows[0].rate_1s = 45.55555555555556;
    report.interval_seconds = 2;
    const auto line = to_json_line(report_to_json(report));
    EXPECT_NE(line.find(R"("rate_1s":45.556,)"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("interval_s":2.0,)"), std::string::npos) << line;
    report.group_by = GroupBy::pid;
    report.rows[0].key = "1430";
    EXPECT_NE(to_json_line(report_to_json(report)).find(R"("key":1430,)"), std::string::npos);
}

TEST(TopFormat, AlertLineAndRecord) {
    AlertNotice notice{kTime, GroupBy::pid, 100, AlertTransition{"4321", "curl\x1b[2J", 812, true}};
    const auto line = format_alert_line(notice);
    EXPECT_NE(line.find(" ALERT firing pid 4321 at 812.0 attempts/s (above 100.0/s): curl\\x1b[2J"), std::string::npos)
        << line;
    const auto record = alert_to_json(notice);
    EXPECT_EQ(record["type"], "alert");
    EXPECT_EQ(record["state"], "firing");
    EXPECT_EQ(record["key"], 4321) << "a PID is a number, as everywhere else";
    EXPECT_EQ(record["command"], "curl\x1b[2J");  // JSON escapes control characters itself
    EXPECT_EQ(record["rate"], 812.0);
    notice.transition.firing = false;
    EXPECT_EQ(alert_to_json(notice)["state"], "resolved");
    EXPECT_NE(format_alert_line(notice).find(" ALERT resolved pid 4321 "), std::string::npos);
}

}  // namespace
}  // namespace connsnoop
