#include "output/table_format.hpp"

#include <gtest/gtest.h>

#include "event_fixtures.hpp"
#include "output/escape.hpp"

namespace connsnoop {
namespace {

TEST(TableFormat, HeaderAndRowAlign) {
    const TableLayout layout{TimeFormat::none, std::nullopt};
    EXPECT_EQ(format_table_header(layout), "    PID USER       DESTINATION           COMMAND");
    EXPECT_EQ(format_table_row(fixtures::sample_event(), layout),
              "   4321 root       169.254.169.254:80    curl -s http://169.254.169.254/");
}

TEST(TableFormat, IsoTimeColumn) {
    const TableLayout layout{TimeFormat::iso, std::nullopt};
    EXPECT_EQ(format_table_row(fixtures::sample_event(), layout).substr(0, 28), "2026-11-28T22:40:46.123456Z ");
}

TEST(TableFormat, HostileTitleIsEscaped) {
    const TableLayout layout{TimeFormat::none, std::nullopt};
    const auto row = format_table_row(fixtures::sample_event({"\x1b[2Jinnocent\r\nforged-line"}), layout);
    EXPECT_EQ(row.find('\x1b'), std::string::npos);
    EXPECT_EQ(row.find('\n'), std::string::npos);
    EXPECT_NE(row.find("\\x1b[2Jinnocent\\x0d\\x0aforged-line"), std::string::npos) << row;
}

TEST(TableFormat, CutToTerminalWidthOnlyWhenAsked) {
    const auto event = fixtures::sample_event({"python3", std::string(200, 'x')});
    const auto wide = format_table_row(event, TableLayout{TimeFormat::none, std::nullopt});
    EXPECT_GT(wide.size(), 200U);
    const auto narrow = format_table_row(event, TableLayout{TimeFormat::none, 80});
    EXPECT_EQ(display_width(narrow), 80U);
    EXPECT_EQ(narrow.substr(narrow.size() - 3), "…");
}

TEST(TableFormat, TruncatedCaptureIsMarked) {
    auto event = fixtures::sample_event({"python3", "abc"});
    event.argv_truncated = true;
    const auto row = format_table_row(event, TableLayout{TimeFormat::none, std::nullopt});
    EXPECT_EQ(row.substr(row.size() - std::string("abc…").size()), "abc…");
}

TEST(TableFormat, WorkloadAndAncestryFollowTheCommand) {
    auto event = fixtures::sample_event({"curl", "x"});
    event.container_id = std::string(64, 'c');
    event.ancestry = {{10, "python3", {"python3", "fetch.py"}, false}, {9, "\x1bsh", {"sh"}, true}};
    const auto row = format_table_row(event, TableLayout{TimeFormat::none, std::nullopt});
    EXPECT_NE(row.find("curl x  [container cccccccccccc] ← python3 ← \\x1bsh"), std::string::npos) << row;
    event.container_id.clear();
    event.unit = "nginx.service";
    event.ancestry.clear();
    EXPECT_NE(format_table_row(event, TableLayout{TimeFormat::none, std::nullopt}).find("curl x  [nginx.service]"),
              std::string::npos);
}

TEST(TableFormat, Ipv6DestinationIsBracketed) {
    auto event = fixtures::sample_event();
    event.destination = *IpAddress::parse("fd00:ec2::254");
    const auto row = format_table_row(event, TableLayout{TimeFormat::none, std::nullopt});
    EXPECT_NE(row.find("[fd00:ec2::254]:80"), std::string::npos);
}

}  // namespace
}  // namespace connsnoop
