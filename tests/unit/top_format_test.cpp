// Formatting of the top view's rows, summary blocks, interval and alert records.
#include "output/top_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "app/alert_watch.hpp"
#include "line_output_text.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/json_format.hpp"
#include "output/line_output.hpp"

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
    row.destination = "169.254.169.254:80";
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

TalkerRow with_outcomes(TalkerRow row) {
    row.failures = 16'000;
    row.latency_mean = 1500us;
    row.latency_p99 = 3s;
    return row;
}

// The layout of `report` at `width` columns (nullopt: a pipe).
TopLayout layout_of(const IntervalReport& report, std::optional<std::size_t> width = std::nullopt) {
    return layout_top_columns(report, width);
}

std::vector<TopColumn> columns_of(const TopLayout& layout) {
    std::vector<TopColumn> columns;
    for (const auto& placed : layout.columns) columns.push_back(placed.column);
    return columns;
}

TEST(TopFormat, RowShowsRatesTotalsDestinationAndTheKey) {
    const auto report = sample_report();
    const auto layout = layout_of(report);
    const auto row = format_top_row(layout, report.rows[0], false);
    EXPECT_EQ(row, "    812.0    640.2     1234     40000   0.2s  169.254.169.254:80 curl -s http://169.254.169.254/");
    const auto header = format_top_header(layout);
    EXPECT_EQ(header, "  *RATE1S  RATE10S  RATE60S     TOTAL   LAST  DEST               COMMAND");
    EXPECT_EQ(header.find("COMMAND"), row.find("curl"));  // columns line up
    EXPECT_EQ(header.find("DEST"), row.find("169.254"));
}

TEST(TopFormat, OutcomeColumnsOnlyWhenOutcomesAreTraced) {
    auto report = sample_report();
    report.rows = {with_outcomes(sample_row())};
    EXPECT_EQ(format_top_header(layout_of(report)).find("FAILED"), std::string::npos);
    report.outcomes = true;
    report.sort = SortColumn::latency_mean;
    const auto layout = layout_of(report);
    const auto header = format_top_header(layout);
    EXPECT_NE(header.find("FAILED    *MEAN      P99"), std::string::npos) << header;
    const auto row = format_top_row(layout, report.rows[0], true);
    EXPECT_EQ(row.rfind("!", 0), 0U);
    EXPECT_NE(row.find(" 16000 "), std::string::npos) << row;
    EXPECT_NE(row.find(" 1.5ms "), std::string::npos) << row;
    EXPECT_NE(row.find(" 3000ms "), std::string::npos) << row;
    report.rows = {sample_row()};  // traced, but nothing known yet
    EXPECT_NE(format_top_row(layout_of(report), report.rows[0], false).find("       -        -        - "),
              std::string::npos);
}

TEST(TopFormat, OtherGroupingsShowTheKeyThenTheLatestCommandLine) {
    auto report = sample_report();
    report.group_by = GroupBy::pid;
    report.sort = SortColumn::key;
    report.rows = {sample_row("4321", "curl -s x")};
    const auto layout = layout_of(report);
    const auto row = format_top_row(layout, report.rows[0], false);
    EXPECT_NE(row.find("  4321 169.254.169.254:80 curl -s x"), std::string::npos) << row;
    const auto header = format_top_header(layout);
    EXPECT_NE(header.find("*PID DEST               COMMAND"), std::string::npos) << header;
    EXPECT_EQ(header.find("COMMAND"), row.find("curl"));
}

// Query names arrive as zone-file text (printable ASCII, a backslash already
// written \\): the row, the detail view and the alert show it once escaped.
TEST(TopFormat, QueryNamesAreShownAsTheyCameNotEscapedTwice) {
    auto report = sample_report();
    report.group_by = GroupBy::qname;
    report.rows = {sample_row(R"(we\\ird\032x.test)", "dig")};
    const auto row = format_top_row(layout_of(report), report.rows[0], false);
    EXPECT_NE(row.find(R"(we\\ird\032x.test)"), std::string::npos) << row;
    EXPECT_EQ(row.find(R"(we\\\\ird)"), std::string::npos) << row;
    AlertNotice notice;
    notice.group_by = GroupBy::qname;
    notice.transition.key = R"(we\\ird\032x.test)";
    notice.transition.firing = true;
    EXPECT_NE(format_alert_notice(notice).find(R"(qname we\\ird\032x.test)"), std::string::npos)
        << format_alert_notice(notice);
}

TEST(TopFormat, GroupedByDestinationTheKeyIsTheDestination) {
    auto report = sample_report();
    report.group_by = GroupBy::dest;
    report.rows = {sample_row("[fd00:ec2::254]:80", "curl -g http://[fd00:ec2::254]/")};
    report.rows[0].destination = "[fd00:ec2::254]:80";
    const auto layout = layout_of(report);
    EXPECT_EQ(columns_of(layout).back(), TopColumn::key);  // no second destination column
    const auto header = format_top_header(layout);
    EXPECT_NE(header.find("  DEST               COMMAND"), std::string::npos) << header;
    EXPECT_NE(format_top_row(layout, report.rows[0], false).find("  [fd00:ec2::254]:80 curl -g"), std::string::npos);

    report.group_by = GroupBy::port;
    report.rows = {sample_row("80", "curl x")};
    report.rows[0].other_destinations = 2;  // more than one address on that port
    const auto by_port = layout_of(report);
    EXPECT_NE(format_top_row(by_port, report.rows[0], false).find("  80   169.254.169.254:80 +2 curl x"),
              std::string::npos)
        << format_top_row(by_port, report.rows[0], false);
}

TEST(TopFormat, At80ColumnsTheNumbersNarrowAndTheCommandKeeps35) {
    auto report = sample_report();
    report.rows[0].key = std::string(100, 'c');
    for (bool outcomes : {false, true}) {
        report.outcomes = outcomes;
        if (outcomes) report.rows[0] = with_outcomes(report.rows[0]);
        const auto layout = layout_of(report, 80);
        const auto row = format_top_row(layout, report.rows[0], false);
        const auto header = format_top_header(layout);
        EXPECT_EQ(display_width(row), 80U) << row;
        EXPECT_GE(display_width(row) - row.find("ccc"), 35U) << row;
        EXPECT_NE(row.find("169.254.169.254:80"), std::string::npos) << row;  // the destination is whole
        EXPECT_EQ(header.find("COMMAND"), row.find("ccc")) << header << "\n" << row;
        EXPECT_NE(header.find("*1S"), std::string::npos) << header;  // narrow titles
        EXPECT_NE(row.find("…"), std::string::npos) << row;          // the cut is marked
        if (outcomes) {
            EXPECT_EQ(columns_of(layout),
                      (std::vector<TopColumn>{TopColumn::rate_1s, TopColumn::total, TopColumn::failed, TopColumn::p99,
                                              TopColumn::destination}));
            EXPECT_NE(row.find(" 16000 "), std::string::npos) << row;
        } else {
            EXPECT_EQ(columns_of(layout),
                      (std::vector<TopColumn>{TopColumn::rate_1s, TopColumn::rate_10s, TopColumn::total,
                                              TopColumn::last, TopColumn::destination}));
            EXPECT_NE(row.find(" 40000 "), std::string::npos) << row;
        }
    }
}

TEST(TopFormat, TheSortColumnIsNeverDropped) {
    auto report = sample_report();
    report.sort = SortColumn::rate_60s;
    const auto columns = columns_of(layout_of(report, 80));
    EXPECT_NE(std::find(columns.begin(), columns.end(), TopColumn::rate_60s), columns.end());
    EXPECT_NE(format_top_header(layout_of(report, 80)).find("*60S"), std::string::npos);
}

TEST(TopFormat, WideTerminalsShowEveryColumnAtFullWidth) {
    auto report = sample_report();
    report.outcomes = true;
    report.rows[0] = with_outcomes(report.rows[0]);
    report.rows[0].key = std::string(200, 'c');
    for (std::size_t width : {132U, 160U}) {
        const auto layout = layout_of(report, width);
        EXPECT_EQ(layout.columns.size(), 9U);
        const auto header = format_top_header(layout);
        EXPECT_NE(header.find("*RATE1S  RATE10S  RATE60S     TOTAL  FAILED     MEAN      P99   LAST  DEST"),
                  std::string::npos)
            << header;
        const auto row = format_top_row(layout, report.rows[0], false);
        EXPECT_EQ(display_width(row), width);
        EXPECT_GE(display_width(row) - row.find("ccc"), 35U);
    }
}

TEST(TopFormat, NarrowNumbersStayReadable) {
    auto report = sample_report();
    report.outcomes = true;
    auto& row = report.rows[0];
    row.rate_1s = 123'456;
    row.attempts = 9'876'543'210;
    row.failures = 0;
    row.latency_p99 = 12'345ms;
    row.idle = 40'000s;
    const auto layout = layout_of(report, 100);  // every number narrowed, only RATE60S gone
    ASSERT_EQ(layout.columns.size(), 8U);
    const auto text = format_top_row(layout, row, false);
    EXPECT_NE(text.find(" 123k "), std::string::npos) << text;
    EXPECT_NE(text.find(" 9.9G "), std::string::npos) << text;
    EXPECT_NE(text.find("     0 "), std::string::npos) << text;
    EXPECT_NE(text.find(" 12.3s "), std::string::npos) << text;
    EXPECT_NE(text.find("  667m "), std::string::npos) << text;
}

TEST(TopFormat, WideCharactersAreCutByTheirDisplayWidth) {
    auto report = sample_report();
    report.rows[0].key = "python3 ";
    for (int i = 0; i < 30; ++i) report.rows[0].key += "漢";  // two columns each
    const auto layout = layout_of(report, 80);
    const auto row = format_top_row(layout, report.rows[0], false);
    EXPECT_LE(display_width(row), 80U) << row;
    EXPECT_GE(display_width(row), 79U) << row;  // a wide character does not straddle the edge
    EXPECT_NE(row.find("…"), std::string::npos) << row;
}

// In a pipe or a file (no width) a key column is as wide as its longest
// key: a 32-character user name is neither cut nor pushes DEST and COMMAND
// out of line.
TEST(TopFormat, APipeBlockKeepsLongKeysWholeAndInLine) {
    auto report = sample_report();
    report.group_by = GroupBy::user;
    report.rows = {sample_row("systemd-dynamicuser-webfrontend1", "python3 fetch.py"), sample_row("root", "curl x")};
    const auto block = format_report_block(report);
    ASSERT_EQ(block.size(), 5U);
    EXPECT_EQ(block[1],
              "  *RATE1S  RATE10S  RATE60S     TOTAL   LAST  USER                             DEST               "
              "COMMAND");
    EXPECT_EQ(block[2],
              "    812.0    640.2     1234     40000   0.2s  systemd-dynamicuser-webfrontend1 169.254.169.254:80 "
              "python3 fetch.py");
    EXPECT_EQ(block[3],
              "    812.0    640.2     1234     40000   0.2s  root                             169.254.169.254:80 "
              "curl x");
}

// On a terminal a key is cut to its column, before an escape that would not fit whole.
TEST(TopFormat, ACutKeyKeepsEscapesWhole) {
    auto report = sample_report();
    report.group_by = GroupBy::user;
    report.rows = {sample_row(std::string(13, 'a') + "\x1b" + "zz", "curl x")};
    const auto row = format_top_row(layout_of(report, 200), report.rows[0], false);
    EXPECT_EQ(row, "    812.0    640.2     1234     40000   0.2s  aaaaaaaaaaaaa…   169.254.169.254:80 curl x");
}

TEST(TopFormat, UntrustedTextCannotDriveTheTerminal) {
    auto report = sample_report();
    report.group_by = GroupBy::comm;
    report.rows = {sample_row("\x1b[2J\r\nfake row", "\x1b]0;title\x07")};
    report.rows[0].destination = "\x1b[H";
    for (std::optional<std::size_t> width : {std::optional<std::size_t>{}, std::optional<std::size_t>{80}}) {
        const auto row = format_top_row(layout_of(report, width), report.rows[0], false);
        EXPECT_EQ(row.find('\x1b'), std::string::npos) << row;
        EXPECT_EQ(row.find('\n'), std::string::npos) << row;
        EXPECT_EQ(row.find('\r'), std::string::npos) << row;
        EXPECT_EQ(row.find('\x07'), std::string::npos) << row;
        EXPECT_NE(row.find("\\x1b[2J\\x0d"), std::string::npos) << row;
    }
}

TEST(TopFormat, SummaryBlockHasStatusHeaderRowsAndABlankLine) {
    auto report = sample_report();
    report.lost = 3;
    const auto block = format_report_block(report);
    ASSERT_EQ(block.size(), 4U);
    EXPECT_NE(block[0].find("by command, sorted by 1s: 1 group, 40000 attempts, 3 lost (counts are low"),
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
    // On the view's notice line the rate comes first, so a narrow terminal still shows it.
    EXPECT_NE(format_alert_notice(notice).find(" ALERT firing at 812.0/s (above 100.0/s): pid 4321: curl\\x1b[2J"),
              std::string::npos)
        << format_alert_notice(notice);
    notice.transition.firing = false;
    EXPECT_EQ(alert_to_json(notice)["state"], "resolved");
    EXPECT_NE(format_alert_line(notice).find(" ALERT resolved pid 4321 "), std::string::npos);
}

// An alert line written where the locale is not UTF-8 carries no byte above
// 0x7F (a lone 0x9B is a CSI there), as the table's rows.
TEST(TopFormat, AlertLinesAreAsciiWhereTheLocaleIsNotUtf8) {
    const auto written = [](bool utf8) {
        return test::line_output_text([&](LineOutput& out) {
            alert_line_sink(out, OutputFormat::table, utf8)(AlertNotice{kTime, GroupBy::comm, 1,
                                                                        AlertTransition{"\xc4\x9b"
                                                                                        "2J",
                                                                                        "caf\xc3\xa9 -x", 5, true}});
        });
    };
    const auto ascii = written(false);
    EXPECT_NE(ascii.find(" ALERT firing comm \\xc4\\x9b2J at 5.0 attempts/s (above 1.0/s): caf\\xc3\\xa9 -x\n"),
              std::string::npos)
        << ascii;
    EXPECT_TRUE(std::none_of(ascii.begin(), ascii.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }));
    EXPECT_NE(written(true).find("caf\xc3\xa9 -x\n"), std::string::npos);
}

}  // namespace
}  // namespace connsnoop
