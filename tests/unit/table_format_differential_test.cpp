// The table formatter against the reference (table_format_reference.hpp:
// the row writer as it was before it wrote in place). Random hostile events
// (control bytes, invalid and cut UTF-8, bidi controls, wide and zero-width
// characters, empty arguments) under every layout must come out byte for
// byte the same.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "event_fixtures.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/table_format.hpp"
#include "table_format_reference.hpp"

namespace connsnoop {
namespace {

// Pieces of text a process can put in its title, its arguments or its names.
const std::vector<std::string> kFragments = {
    "",
    "curl",
    "-s",
    "http://169.254.169.254/latest/meta-data/",
    " ",
    "a b",
    "\\",
    "\\x1b",
    "\x1b[2J",
    "\r\n",
    "\t",
    std::string(1, '\0'),
    "\x7f",
    "\xc2\x9b",          // C1 CSI
    "\xc2\x85",          // NEL
    "\xe2\x80\xae",      // RIGHT-TO-LEFT OVERRIDE
    "\xe2\x81\xa6",      // LEFT-TO-RIGHT ISOLATE
    "\xe2\x80\xa8",      // LINE SEPARATOR
    "\xe2\x80\x8f",      // RLM
    "\xff",              // never UTF-8
    "\xc3",              // a sequence cut short
    "\xe6\xbc",          // a wide character cut short
    "\xf0\x9f\x98",      // an emoji cut short
    "\x80\x80",          // stray continuation bytes
    "\xc0\xaf",          // overlong '/'
    "\xed\xa0\x80",      // a surrogate
    "\xf4\x90\x80\x80",  // above U+10FFFF
    "漢字",
    "漢",
    "e\xcc\x81",         // e + COMBINING ACUTE ACCENT
    "\xcc\x81",          // a combining mark alone
    "\xe2\x80\x8b",      // ZERO WIDTH SPACE
    "\xf0\x9f\x98\x80",  // an emoji
    "żółw",
    "\xef\xbf\xbd",              // REPLACEMENT CHARACTER
    "\xe3\x80\x80",              // IDEOGRAPHIC SPACE (wide)
    "\xf3\xa0\x80\x81",          // a tag character
    "\xe0\xb8\x81\xe0\xb8\xb1",  // Thai with a zero-width vowel
    std::string(37, 'x'),
    std::string(200, 'y'),
};

class HostileText {
public:
    explicit HostileText(std::uint32_t seed) : random_(seed) {}

    std::size_t below(std::size_t bound) { return std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_); }
    bool one_in(std::size_t n) { return below(n) == 0; }

    std::string text(std::size_t max_pieces) {
        std::string text;
        const std::size_t pieces = below(max_pieces + 1);
        for (std::size_t i = 0; i < pieces; ++i) {
            if (one_in(4)) {
                text += static_cast<char>(below(256));  // any byte at all
            } else {
                text += kFragments[below(kFragments.size())];
            }
        }
        return text;
    }

    ConnectEvent event() {
        ConnectEvent event = fixtures::sample_event({});
        const std::size_t arguments = below(7);
        for (std::size_t i = 0; i < arguments; ++i) event.argv.push_back(text(4));
        event.argv_truncated = one_in(3);
        event.comm = text(2);
        event.user = text(2);
        event.unit = one_in(2) ? text(3) : "";
        event.exe = text(3);
        event.cgroup_path = text(3);
        if (one_in(3)) event.container_id = one_in(2) ? std::string(64, 'c') : text(3);
        const std::size_t ancestors = below(4);
        Ancestry::Levels levels;
        for (std::size_t i = 0; i < ancestors; ++i) {
            levels.push_back({static_cast<std::uint32_t>(below(100000)), text(2), {}, one_in(2)});
        }
        event.ancestry = Ancestry(std::move(levels));
        event.pid = static_cast<std::uint32_t>(random_());
        event.ppid = static_cast<std::uint32_t>(below(100));
        event.uid = static_cast<std::uint32_t>(random_());
        event.ns_pid = static_cast<std::uint32_t>(below(5000000));
        event.protocol = one_in(2) ? Protocol::tcp : Protocol::udp;
        event.destination.family = one_in(3) ? AddressFamily::ipv6 : AddressFamily::ipv4;
        event.destination.bytes = {};
        const std::size_t address_bytes = event.destination.family == AddressFamily::ipv4 ? 4 : 16;
        for (std::size_t i = 0; i < address_bytes; ++i) {
            event.destination.bytes[i] = one_in(3) ? 0 : static_cast<std::uint8_t>(below(256));
        }
        event.destination_port = static_cast<std::uint16_t>(below(65536));
        // From 1970 to 2255: system_clock's nanoseconds hold no later time.
        event.wall_time = std::chrono::system_clock::time_point(
            std::chrono::microseconds(static_cast<std::int64_t>(random_() % 9'000'000'000'000'000ULL)));
        if (!one_in(3)) {
            const auto result = static_cast<ConnectResult>(below(kConnectResultCount));
            std::optional<std::uint64_t> latency;
            if (!one_in(4)) latency = random_() % 10'000'000'000ULL;
            event.outcome = ConnectOutcome{result, one_in(2) ? static_cast<int>(below(140)) : 0, latency};
        }
        return event;
    }

    TableLayout layout() {
        TableLayout layout;
        layout.time = static_cast<TimeFormat>(below(3));
        constexpr std::size_t kWidths[] = {0, 1, 2, 3, 5, 20, 40, 79, 80, 100, 132, 200};
        if (!one_in(3)) layout.max_width = kWidths[below(std::size(kWidths))];
        layout.outcome_columns = one_in(2);
        layout.request_column = one_in(3);
        layout.utf8 = !one_in(3);
        layout.protocol_column = one_in(3);
        layout.fit_cells = !one_in(4);  // --wide
        if (one_in(2)) {
            const std::size_t count = 1 + below(8);
            for (std::size_t i = 0; i < count; ++i) {
                layout.columns.push_back(
                    static_cast<TableColumn>(below(static_cast<std::size_t>(TableColumn::ns_pid) + 1)));
            }
        }
        return layout;
    }

private:
    std::mt19937_64 random_;
};

TEST(TableFormatDifferential, DisplayWidthAndFitMatchTheGlyphLoop) {
    HostileText hostile(1);
    for (int i = 0; i < 20000; ++i) {
        // Escaped text as the table measures it, and raw text too.
        const std::string raw = hostile.text(6);
        for (const std::string& text : {raw, escape_for_terminal(raw)}) {
            ASSERT_EQ(display_width(text), reference::display_width(text)) << testing::PrintToString(text);
            for (const std::size_t columns : {0UL, 1UL, 2UL, 7UL, 8UL, 9UL, 16UL, 37UL, 38UL, 100UL}) {
                ASSERT_EQ(fit_to_width(text, columns), reference::fit_to_width(text, columns))
                    << testing::PrintToString(text) << " in " << columns;
            }
        }
    }
}

TEST(TableFormatDifferential, RowsMatchTheReferenceByteForByte) {
    HostileText hostile(2);
    for (int i = 0; i < 20000; ++i) {
        const auto event = hostile.event();
        const auto layout = hostile.layout();
        ASSERT_EQ(format_table_row(event, layout), reference::format_table_row(event, layout))
            << "event " << i << ", argv " << testing::PrintToString(event.argv);
        ASSERT_EQ(format_table_header(layout), reference::format_table_header(layout)) << "event " << i;

        DnsQueryEvent query;
        query.sender = event;
        query.qtype = static_cast<std::uint16_t>(hostile.below(300));
        query.name = "example.com";
        ASSERT_EQ(format_dns_row(query, layout), reference::format_dns_row(query, layout)) << "event " << i;

        HttpRequestEvent request;
        request.connection = event;
        request.method = hostile.text(1);
        request.path = hostile.one_in(2) ? "/latest/meta-data/" + hostile.text(2) : hostile.text(3);
        request.path_truncated = hostile.one_in(3);
        ASSERT_EQ(format_http_row(request, layout), reference::format_http_row(request, layout)) << "event " << i;
    }
}

// LATENCY is written with std::to_chars, the reference with fmt: the same
// digits also where the value is a tie at the precision shown (1.25ms,
// 1.125s), at each unit's edges and at the largest latency.
TEST(TableFormatDifferential, LatencyDigitsMatchAtTiesAndEdges) {
    TableLayout layout{TimeFormat::none, std::nullopt, true};
    layout.columns = {TableColumn::latency, TableColumn::result};
    auto event = fixtures::sample_event();
    std::vector<std::uint64_t> latencies = {0,
                                            999,
                                            1000,
                                            999'999,
                                            1'000'000,
                                            1'050'000,
                                            1'150'000,
                                            1'250'000,
                                            1'350'000,
                                            12'345'678,
                                            999'949'999,
                                            999'950'000,
                                            999'999'999,
                                            1'000'000'000,
                                            1'005'000'000,
                                            1'125'000'000,
                                            1'375'000'000,
                                            3'015'000'000,
                                            std::numeric_limits<std::uint64_t>::max()};
    std::mt19937_64 random(5);
    for (int i = 0; i < 20000; ++i) latencies.push_back(random() >> (random() % 64));
    for (const auto latency : latencies) {
        event.outcome = ConnectOutcome{ConnectResult::established, 0, latency};
        ASSERT_EQ(format_table_row(event, layout), reference::format_table_row(event, layout)) << latency;
    }
}

// The command cell is kept rendered for the last few processes, with what
// it was rendered from: a row that differs from the one before in any one
// of those fields (or only in its ancestry chain) is rendered anew.
TEST(TableFormatDifferential, KeptCommandCellsFollowEveryField) {
    HostileText hostile(4);
    for (int round = 0; round < 200; ++round) {
        auto base = hostile.event();
        base.argv = {"python3", hostile.text(2), "--region", hostile.text(1)};
        const auto layout = hostile.layout();
        const std::vector<std::function<void(ConnectEvent&, TableLayout&)>> changes = {
            [](ConnectEvent&, TableLayout& l) { l.utf8 = !l.utf8; },
            [](ConnectEvent& e, TableLayout&) { e.argv_truncated = !e.argv_truncated; },
            [](ConnectEvent& e, TableLayout&) { e.argv[0] = "python4"; },
            [](ConnectEvent& e, TableLayout&) { e.argv[3] += "x"; },
            [](ConnectEvent& e, TableLayout&) { e.argv.pop_back(); },
            [](ConnectEvent& e, TableLayout&) { e.argv.clear(); },
            [](ConnectEvent& e, TableLayout&) {
                e.argv.clear();
                e.comm += "y";
            },
            [](ConnectEvent& e, TableLayout&) { e.comm += "y"; },
            [](ConnectEvent& e, TableLayout&) { e.container_id = "0123456789abcdef"; },
            [](ConnectEvent& e, TableLayout&) { e.unit += "z.service"; },
            [](ConnectEvent& e, TableLayout&) { e.ancestry = Ancestry(e.ancestry.levels()); },
            [](ConnectEvent& e, TableLayout&) {
                e.ancestry = {{1, "init", {}, false}};
            },
            [](ConnectEvent& e, TableLayout&) { e.ancestry.clear(); },
        };
        ASSERT_EQ(format_table_row(base, layout), reference::format_table_row(base, layout));
        for (std::size_t i = 0; i < changes.size(); ++i) {
            auto event = base;
            auto changed_layout = layout;
            changes[i](event, changed_layout);
            ASSERT_EQ(format_table_row(event, changed_layout), reference::format_table_row(event, changed_layout))
                << "round " << round << ", change " << i;
            ASSERT_EQ(format_table_row(base, layout), reference::format_table_row(base, layout))
                << "round " << round << ", after change " << i;
        }
    }
}

// The writer appends rows to a buffer that already holds lines: a row is
// measured and cut from its own start, never from the buffer's.
TEST(TableFormatDifferential, AppendedRowsDoNotDependOnWhatPrecedesThem) {
    HostileText hostile(3);
    std::string buffer;
    for (int i = 0; i < 2000; ++i) {
        const auto event = hostile.event();
        const auto layout = hostile.layout();
        const std::size_t start = buffer.size();
        append_table_row(buffer, event, layout);
        ASSERT_EQ(buffer.substr(start), reference::format_table_row(event, layout)) << "event " << i;
        buffer += hostile.text(2);  // whatever the previous line ended in
    }
}

}  // namespace
}  // namespace connsnoop
