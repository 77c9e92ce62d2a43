#include "output/table_format.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "event_fixtures.hpp"
#include "line_output_text.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/event_writer.hpp"
#include "util/net_address.hpp"

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

// Escaped text is cut before an escape that does not fit whole: \xNN,
// \\ (whose second backslash opens nothing), a zone-file \DDD and \.
TEST(DisplayWidth, FitKeepsEscapesWhole) {
    EXPECT_EQ(fit_to_width("ab\\x1bc", 4), "ab");
    EXPECT_EQ(fit_to_width("ab\\x1bc", 6), "ab\\x1b");
    EXPECT_EQ(fit_to_width("a\\\\x41", 2), "a");
    EXPECT_EQ(fit_to_width("a\\\\x41", 4), "a\\\\x");  // x41 is text after an escaped backslash
    EXPECT_EQ(fit_to_width("a\\046b", 3), "a");
    EXPECT_EQ(fit_to_width("a\\.b", 2), "a");
    EXPECT_EQ(fit_to_width("漢\\xff", 4), "漢");
    EXPECT_EQ(fit_to_width("ab\\", 2), "ab");
}

// The same rules from the other end: a suffix never starts inside an escape,
// a UTF-8 sequence or on a zero-width character.
TEST(DisplayWidth, FitFromTheEndKeepsEscapesAndCharactersWhole) {
    EXPECT_EQ(fit_end_to_width("abc", 5), "abc");
    EXPECT_EQ(fit_end_to_width("abcdef", 3), "def");
    EXPECT_EQ(fit_end_to_width("a\\x1bcd", 4), "cd");
    EXPECT_EQ(fit_end_to_width("a\\x1bcd", 6), "\\x1bcd");
    EXPECT_EQ(fit_end_to_width("a\\\\x41", 4), "x41");  // x41 is text after an escaped backslash
    EXPECT_EQ(fit_end_to_width("a\\\\x41", 5), "\\\\x41");
    EXPECT_EQ(fit_end_to_width("a\\046b", 2), "b");
    EXPECT_EQ(fit_end_to_width("ab漢", 3), "b漢");
    EXPECT_EQ(fit_end_to_width("a漢b", 2), "b");       // the wide character would straddle: one column short
    EXPECT_EQ(fit_end_to_width("xe\u0301f", 1), "f");  // not the accent without its e
    EXPECT_EQ(fit_end_to_width("xe\u0301f", 2), "e\u0301f");
    EXPECT_EQ(fit_end_to_width("a\\xff\u0301b", 3), "b");  // nor after the escape it follows
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
    // The user's escapes are wider than USER: cut before the escape that would not fit whole.
    EXPECT_EQ(row,
              "   4321 r\\xc3...   \\xc4\\x9b2J      \\xc4\\x9b2J\\xe4\\xb8\\xad caf\\xc3\\xa9 <- "
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

// Every cell but the last fits its column, so a long value from outside
// (a 32-character DynamicUser or LDAP name, a request path, an IPv6
// address) cannot push the columns after it right and wrap the row.
TEST(TableCells, LongUserNameIsCut) {
    auto event = fixtures::sample_event();
    event.user = "systemd-dynamicuser-webfrontend1";  // 32 characters
    TableLayout layout{TimeFormat::none, std::nullopt};
    EXPECT_EQ(format_table_row(event, layout),
              "   4321 systemd-d… 169.254.169.254:80    curl -s http://169.254.169.254/");
    layout.utf8 = false;
    EXPECT_EQ(format_table_row(event, layout),
              "   4321 systemd... 169.254.169.254:80    curl -s http://169.254.169.254/");
}

// A cut address keeps its port: the address is cut, then "]:port".
TEST(TableCells, LongIpv6DestinationKeepsItsPort) {
    auto event = fixtures::sample_event();
    event.destination = *IpAddress::parse("2001:db8:85a3:1234:5678:8a2e:370:7334");
    event.destination_port = 443;
    TableLayout layout{TimeFormat::none, std::nullopt};
    EXPECT_EQ(format_table_row(event, layout),
              "   4321 root       [2001:db8:85a3:…]:443 curl -s http://169.254.169.254/");
    layout.utf8 = false;
    EXPECT_EQ(format_table_row(event, layout),
              "   4321 root       [2001:db8:85a...]:443 curl -s http://169.254.169.254/");
    // The longest IPv4 endpoint fits whole.
    event.destination = *IpAddress::parse("255.255.255.255");
    event.destination_port = 65535;
    EXPECT_EQ(format_table_row(event, layout),
              "   4321 root       255.255.255.255:65535 curl -s http://169.254.169.254/");
}

// A long request keeps its method and its end, IMDS version included: the
// path's last segments tell requests apart, /latest/meta-data/ does not. A
// DNS name keeps its type and its last labels.
TEST(TableCells, LongRequestKeepsItsMethodAndItsEnd) {
    HttpRequestEvent request;
    request.connection = fixtures::sample_event();
    request.method = "GET";
    request.path = "/latest/meta-data/iam/security-credentials/";
    request.version = "HTTP/1.1";
    TableLayout layout{TimeFormat::none, std::nullopt, false, true};
    EXPECT_EQ(format_http_row(request, layout),
              "   4321 root       169.254.169.254:80    GET …data/iam/security-credentials/ (imdsv1) "
              "curl -s http://169.254.169.254/");
    request.path = "/latest/meta-data/iam/security-credentials/web-frontend";
    EXPECT_EQ(format_http_row(request, layout),
              "   4321 root       169.254.169.254:80    GET …urity-credentials/web-frontend (imdsv1) "
              "curl -s http://169.254.169.254/");
    request.headers = kHttpHeaderImdsToken;
    request.path = "/latest/dynamic/instance-identity/document";
    EXPECT_EQ(format_http_row(request, layout),
              "   4321 root       169.254.169.254:80    GET …mic/instance-identity/document (imdsv2) "
              "curl -s http://169.254.169.254/");
    request.path = "/index.html/" + std::string(60, 'p') + "/end";  // no IMDS version
    EXPECT_EQ(format_http_row(request, layout),
              "   4321 root       169.254.169.254:80    GET …ppppppppppppppppppppppppppppppppppp/end "
              "curl -s http://169.254.169.254/");

    DnsQueryEvent query;
    query.sender = fixtures::sample_event();
    query.qtype = 28;
    query.name = "a-very-long-service-name.eu-west-1.compute.internal";
    EXPECT_EQ(format_dns_row(query, layout),
              "   4321 root       169.254.169.254:80    AAAA …ervice-name.eu-west-1.compute.internal "
              "curl -s http://169.254.169.254/");
}

// The text columns when another follows: each cut within its width, before
// an escape (\x1b) that would not fit whole, never through it.
TEST(TableCells, EveryTextColumnIsCutWithoutSplittingAnEscape) {
    // `width` - 3 letters, then an escape: the cut lands inside it.
    const auto text_for = [](std::size_t width) { return std::string(width - 3, 'a') + "\x1bzz"; };
    auto event = fixtures::sample_event({text_for(40)});
    event.ancestry = {{77, text_for(15), {}, false}};
    event.comm = text_for(15);
    event.user = text_for(10);
    event.cgroup_path = text_for(30);
    event.unit = text_for(24);
    event.exe = text_for(30);
    const std::pair<TableColumn, std::string> expected[] = {
        {TableColumn::parent, "aaaaaaaaaaaa…  "},
        {TableColumn::comm, "aaaaaaaaaaaa…  "},
        {TableColumn::user, "aaaaaaa…  "},
        {TableColumn::cmdline, std::string(37, 'a') + "…  "},
        {TableColumn::command, std::string(37, 'a') + "…  "},
        {TableColumn::cgroup, std::string(27, 'a') + "…  "},
        {TableColumn::unit, std::string(21, 'a') + "…  "},
        {TableColumn::exe, std::string(27, 'a') + "…  "},
    };
    for (const auto& [column, cell] : expected) {
        TableLayout layout{TimeFormat::none, std::nullopt};
        layout.columns = {column, TableColumn::pid};
        EXPECT_EQ(format_table_row(event, layout), cell + "    4321") << table_column_name(column);
    }
}

// RESULT holds the longest errno name cut, LATENCY the slowest SYN retries.
TEST(TableCells, ResultAndLatencyFitTheirColumns) {
    auto event = fixtures::sample_event();
    TableLayout layout{TimeFormat::none, std::nullopt, true};
    layout.columns = {TableColumn::result, TableColumn::latency, TableColumn::pid};
    event.outcome = ConnectOutcome{ConnectResult::failed, 93, std::nullopt};  // EPROTONOSUPPORT
    EXPECT_EQ(format_table_row(event, layout), "EPROTONOSUPP…        -    4321");
    event.outcome = ConnectOutcome{ConnectResult::timeout, 110, 14'400'000'000'000};  // 4 hours
    EXPECT_EQ(format_table_row(event, layout), "timeout         14400s    4321");
    event.outcome = ConnectOutcome{ConnectResult::timeout, 110, 9'999'990'000'000};
    EXPECT_EQ(format_table_row(event, layout), "timeout       9999.99s    4321");
}

// Numbers are never cut: their columns hold the largest each can be.
TEST(TableCells, NumberColumnsHoldTheirLargestValues) {
    auto event = fixtures::sample_event();
    event.pid = 4194304;  // PID_MAX_LIMIT
    event.ppid = 4194304;
    event.ns_pid = 4194304;
    event.uid = 4294967294;  // (uid_t)-2: the largest valid
    event.destination_port = 65535;
    TableLayout layout{TimeFormat::none, std::nullopt};
    layout.columns = {TableColumn::pid, TableColumn::ppid, TableColumn::ns_pid,
                      TableColumn::uid, TableColumn::port, TableColumn::user};
    EXPECT_EQ(format_table_header(layout), "    PID    PPID  NS_PID        UID  PORT USER");
    EXPECT_EQ(format_table_row(event, layout), "4194304 4194304 4194304 4294967294 65535 root");
}

// --wide: nothing is cut, neither a cell nor the row; short cells are still padded.
TEST(TableCells, WideCutsNothing) {
    HttpRequestEvent request;
    request.connection = fixtures::sample_event({"python3", std::string(100, 'x')});
    request.connection.user = "systemd-dynamicuser-webfrontend1";
    request.connection.destination = *IpAddress::parse("2001:db8:85a3:1234:5678:8a2e:370:7334");
    request.method = "GET";
    request.path = "/latest/meta-data/iam/security-credentials/web-frontend-role-with-a-long-name";
    TableLayout layout{TimeFormat::none, std::nullopt, false, true};
    layout.fit_cells = false;
    EXPECT_EQ(format_http_row(request, layout),
              "   4321 systemd-dynamicuser-webfrontend1 [2001:db8:85a3:1234:5678:8a2e:370:7334]:80 "
              "GET /latest/meta-data/iam/security-credentials/web-frontend-role-with-a-long-name (imdsv1) "
              "python3 " +
                  std::string(100, 'x'));
    EXPECT_EQ(format_table_row(fixtures::sample_event(), layout),
              "   4321 root       169.254.169.254:80    -                                            "
              "curl -s http://169.254.169.254/");
}

// The row cut to the terminal width keeps escapes whole too.
TEST(TableCells, TerminalWidthCutKeepsEscapesWhole) {
    const auto event = fixtures::sample_event({"python3", "\x1b" + std::string(100, 'x')});
    // "   4321 root       169.254.169.254:80    python3 " is 49 columns: the escape \x1b would end at 53.
    EXPECT_EQ(format_table_row(event, TableLayout{TimeFormat::none, 51}),
              "   4321 root       169.254.169.254:80    python3 …");
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
