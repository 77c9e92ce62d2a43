#include "output/table_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "event_fixtures.hpp"
#include "line_output_text.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/event_writer.hpp"

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

TEST(DisplayWidth, WideCharactersTakeTwoColumnsCombiningNone) {
    EXPECT_EQ(display_width("abc"), 3U);
    EXPECT_EQ(display_width("漢字"), 4U);
    EXPECT_EQ(display_width("e\u0301"), 1U);    // e + COMBINING ACUTE ACCENT
    EXPECT_EQ(display_width("a\u200bb"), 2U);   // ZERO WIDTH SPACE
    EXPECT_EQ(fit_to_width("漢字x", 3), "漢");  // half a wide character does not fit
    EXPECT_EQ(fit_to_width("ae\u0301z", 2), "ae\u0301");
}

// A CJK title must not wrap onto a second line: cut by columns, not characters.
TEST(TableFormat, CutByDisplayWidthWithWideAndZeroWidthCharacters) {
    std::string title;
    for (int i = 0; i < 100; ++i) title += "漢";
    for (const auto& argv : {std::vector<std::string>{"python3", title},
                             std::vector<std::string>{"python3", std::string(40, 'x') + "e\u0301e\u0301" + title}}) {
        const auto narrow = format_table_row(fixtures::sample_event(argv), TableLayout{TimeFormat::none, 100});
        EXPECT_LE(display_width(narrow), 100U) << narrow;
        EXPECT_GE(display_width(narrow), 99U) << narrow;  // a wide character may leave one column free
        EXPECT_EQ(narrow.substr(narrow.size() - 3), "…");
    }
}

TEST(TableFormat, AsciiMarksWhereTheLocaleIsNotUtf8) {
    auto event = fixtures::sample_event({"python3", std::string(200, 'x')});
    event.ancestry = {{10, "sh", {"sh"}, false}};
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.utf8 = false;
    const auto row = format_table_row(event, layout);
    EXPECT_NE(row.find(" <- sh"), std::string::npos) << row;
    EXPECT_EQ(row.find("\xe2"), std::string::npos) << row;
    layout.max_width = 80;
    const auto narrow = format_table_row(event, layout);
    EXPECT_EQ(narrow.size(), 80U);
    EXPECT_EQ(narrow.substr(77), "...");
}

// Where the locale is not UTF-8 the terminal is not either: there a byte
// 0x9B alone is a CSI, so the second byte of "ě" (C4 9B) followed by "2J"
// clears the screen. Every byte from 0x80 up is written as \xNN, in every
// column, with the widths those escapes take.
TEST(TableFormat, NoByteAbove0x7FWhereTheLocaleIsNotUtf8) {
    auto event =
        fixtures::sample_event({"\xc4\x9b"
                                "2J\xe4\xb8\xad",
                                "caf\xc3\xa9"});
    event.comm =
        "\xc4\x9b"
        "2J";
    event.user = "r\xc3\xb6\xc3\xb6t";
    event.ancestry = {{10,
                       "\xc2\x9b"
                       "31m",
                       {"sh"},
                       false}};
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.utf8 = false;
    layout.columns = {TableColumn::pid, TableColumn::user, TableColumn::comm, TableColumn::command};
    const auto row = format_table_row(event, layout);
    EXPECT_EQ(row,
              "   4321 r\\xc3\\xb6\\xc3\\xb6t \\xc4\\x9b2J      \\xc4\\x9b2J\\xe4\\xb8\\xad caf\\xc3\\xa9 <- "
              "\\xc2\\x9b31m");
    EXPECT_TRUE(std::none_of(row.begin(), row.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        << row;
    // In a UTF-8 locale the same printable characters are shown as they are.
    layout.utf8 = true;
    EXPECT_NE(format_table_row(event, layout).find("caf\xc3\xa9"), std::string::npos);
}

// What the table writer puts in a file for one event: header (if any) and row.
std::string written_by_table_writer(const TableLayout& layout, const ConnectEvent& event) {
    return test::line_output_text([&](LineOutput& out) {
        auto writer = make_table_writer(out, layout);
        writer->begin();
        writer->write_connect(event);
    });
}

TEST(TableWriter, NoHeaderDropsOnlyTheHeader) {
    for (const bool header : {true, false}) {
        TableLayout layout{TimeFormat::none, std::nullopt};
        layout.header = header;
        const std::string row = format_table_row(fixtures::sample_event(), layout) + "\n";
        EXPECT_EQ(written_by_table_writer(layout, fixtures::sample_event()),
                  header ? format_table_header(layout) + "\n" + row : row);
    }
}

TEST(TableColumns, ChooseWhatTheRowShowsInThatOrder) {
    auto event = fixtures::sample_event();
    event.ppid = 77;
    event.ns_pid = 12;
    event.ancestry = {{77, "bash", {"bash"}, false}, {1, "systemd", {"/sbin/init"}, false}};
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.columns = {TableColumn::pid,  TableColumn::ppid,   TableColumn::parent, TableColumn::comm,
                      TableColumn::port, TableColumn::ns_pid, TableColumn::unit,   TableColumn::cmdline};
    EXPECT_EQ(format_table_header(layout),
              "    PID    PPID PARENT          COMM             PORT  NS_PID UNIT                     CMDLINE");
    EXPECT_EQ(format_table_row(event, layout),
              "   4321      77 bash            curl               80      12 -                        "
              "curl -s http://169.254.169.254/");
    // The last column is not padded: no trailing blanks.
    layout.columns = {TableColumn::comm, TableColumn::user};
    EXPECT_EQ(format_table_row(event, layout), "curl            root");
}

// The default equals the table before --columns, whatever the flags.
TEST(TableColumns, TheDefaultSetIsTheTableWithoutColumns) {
    auto event = fixtures::sample_event();
    event.container_id = std::string(64, 'c');
    event.ancestry = {{10, "sh", {"sh"}, false}};
    event.outcome = ConnectOutcome{ConnectResult::refused, 111, 850'000};
    for (const auto time : {TimeFormat::local, TimeFormat::iso, TimeFormat::none}) {
        for (const bool outcome : {false, true}) {
            for (const bool request : {false, true}) {
                TableLayout layout{time, std::nullopt, outcome, request};
                const auto header = format_table_header(layout);
                const auto row = format_table_row(event, layout);
                layout.columns = default_table_columns(layout);
                EXPECT_EQ(format_table_header(layout), header);
                EXPECT_EQ(format_table_row(event, layout), row);
            }
        }
    }
    EXPECT_EQ(format_table_row(event, TableLayout{TimeFormat::none, std::nullopt, true}),
              "   4321 root       169.254.169.254:80    refused          850us "
              "curl -s http://169.254.169.254/  [container cccccccccccc] ← sh");
}

// A long name inside the row is cut by display width, so the columns after it
// stay where the header says.
TEST(TableColumns, LongTextInsideTheRowIsCutByDisplayWidth) {
    auto event = fixtures::sample_event();
    event.ancestry = {{77, "漢字漢字漢字漢字", {}, false}};
    event.exe = "/usr/lib/" + std::string(40, 'x') + "/curl";
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.columns = {TableColumn::parent, TableColumn::exe, TableColumn::pid};
    const auto header = format_table_header(layout);
    const auto row = format_table_row(event, layout);
    EXPECT_EQ(row.substr(0, row.find(' ')), "漢字漢字漢字漢…") << row;
    EXPECT_EQ(display_width(row), display_width(header)) << row;
    EXPECT_EQ(row.substr(row.size() - 7), "   4321");
    EXPECT_NE(row.find("/usr/lib/xxxxxxxxxxxxxxxxxxxx…"), std::string::npos) << row;
    layout.utf8 = false;
    EXPECT_NE(format_table_row(event, layout).find("/usr/lib/xxxxxxxxxxxxxxxxxx..."), std::string::npos);
}

TEST(TableColumns, NoHeaderWithColumnsWritesOnlyTheRows) {
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.header = false;
    layout.columns = {TableColumn::comm, TableColumn::destination};
    EXPECT_EQ(written_by_table_writer(layout, fixtures::sample_event()), "curl            169.254.169.254:80\n");
}

TEST(LocaleIsUtf8, FollowsLcAllThenLcCtypeThenLang) {
    const auto with = [](const char* lc_all, const char* lc_ctype, const char* lang) {
        for (auto [name, value] : {std::pair{"LC_ALL", lc_all}, {"LC_CTYPE", lc_ctype}, {"LANG", lang}}) {
            if (value)
                setenv(name, value, 1);
            else
                unsetenv(name);
        }
        return locale_is_utf8();
    };
    const std::string saved_lang = getenv("LANG") ? getenv("LANG") : "";
    EXPECT_FALSE(with("C", nullptr, "C.UTF-8"));
    EXPECT_TRUE(with(nullptr, "en_US.utf8", "C"));
    EXPECT_TRUE(with(nullptr, nullptr, "C.UTF-8"));
    EXPECT_FALSE(with(nullptr, nullptr, nullptr));
    with(nullptr, nullptr, saved_lang.empty() ? nullptr : saved_lang.c_str());
}

}  // namespace
}  // namespace connsnoop
