// The table formatter against a reference: the row writer as it was before
// it wrote into the output buffer in place (a string per cell, fmt, one
// glyph loop under the C.UTF-8 locale for every width), kept here verbatim
// but for names. Random hostile events (control bytes, invalid and cut
// UTF-8, bidi controls, wide and zero-width characters, empty arguments)
// under every layout must come out byte for byte the same.
#include <gtest/gtest.h>
#include <locale.h>

#include <cwchar>
#include <random>
#include <string>
#include <vector>

#include "event_fixtures.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/table_format.hpp"
#include "output/time_format.hpp"
#include "output/utf8.hpp"

namespace connsnoop {
namespace {

namespace reference {

// Display width glyph by glyph, every character through glibc's wcwidth.
struct Glyph {
    std::size_t bytes;
    std::size_t columns;
};

locale_t utf8_locale() {
    static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return kUtf8;
}

Glyph next_glyph(std::string_view text, std::size_t pos) {
    const auto decoded = decode_utf8(text, pos);
    if (decoded.code_point < 0x7F) return {decoded.length, 1};
    if (decoded.code_point == kInvalidUtf8) return {decoded.length, 1};
    const locale_t previous = uselocale(utf8_locale());
    const int columns = ::wcwidth(static_cast<wchar_t>(decoded.code_point));
    uselocale(previous);
    return {decoded.length, columns < 0 ? 1U : static_cast<std::size_t>(columns)};
}

std::size_t display_width(std::string_view text) {
    std::size_t columns = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto glyph = next_glyph(text, pos);
        columns += glyph.columns;
        pos += glyph.bytes;
    }
    return columns;
}

std::string_view fit_to_width(std::string_view text, std::size_t columns) {
    std::size_t used = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto glyph = next_glyph(text, pos);
        if (used + glyph.columns > columns) break;
        used += glyph.columns;
        pos += glyph.bytes;
    }
    return text.substr(0, pos);
}

std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

std::string cut_to_width(std::string row, const TableLayout& layout) {
    if (!layout.max_width || display_width(row) <= *layout.max_width) return row;
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    const std::size_t keep = *layout.max_width > marker_columns ? *layout.max_width - marker_columns : 0;
    std::string cut(fit_to_width(row, keep));
    cut += marker;
    return cut;
}

struct ColumnSpec {
    std::string_view header;
    std::size_t width;
    bool right_aligned;
    bool free_text;
};

ColumnSpec column_spec(TableColumn column, const TableLayout& layout) {
    switch (column) {
        case TableColumn::time:
            return layout.time == TimeFormat::iso ? ColumnSpec{"TIME (UTC)", 27, false, false}
                                                  : ColumnSpec{"TIME", 8, false, false};
        case TableColumn::pid:
            return {"PID", 7, true, false};
        case TableColumn::ppid:
            return {"PPID", 7, true, false};
        case TableColumn::parent:
            return {"PARENT", 15, false, true};
        case TableColumn::user:
            return {"USER", 10, false, false};
        case TableColumn::uid:
            return {"UID", 6, true, false};
        case TableColumn::comm:
            return {"COMM", 15, false, true};
        case TableColumn::cmdline:
            return {"CMDLINE", 40, false, true};
        case TableColumn::command:
            return {"COMMAND", 40, false, true};
        case TableColumn::protocol:
            return {"PROTO", 5, false, false};
        case TableColumn::destination:
            return {"DESTINATION", 21, false, false};
        case TableColumn::port:
            return {"PORT", 5, true, false};
        case TableColumn::result:
            return {"RESULT", 13, false, false};
        case TableColumn::latency:
            return {"LATENCY", 8, true, false};
        case TableColumn::request:
            return {"REQUEST", 44, false, false};
        case TableColumn::cgroup:
            return {"CGROUP", 30, false, true};
        case TableColumn::container:
            return {"CONTAINER", 12, false, false};
        case TableColumn::unit:
            return {"UNIT", 24, false, true};
        case TableColumn::exe:
            return {"EXE", 30, false, true};
        case TableColumn::ns_pid:
            return {"NS_PID", 7, true, false};
    }
    return {"", 0, false, false};
}

std::string join_cells(const std::vector<TableColumn>& columns, const std::vector<std::string>& cells,
                       const TableLayout& layout) {
    std::string row;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto spec = column_spec(columns[i], layout);
        const bool last = i + 1 == columns.size();
        std::string cell = cells[i];
        std::size_t width = display_width(cell);
        if (!last && spec.free_text && width > spec.width) {
            const std::size_t marker_columns = layout.utf8 ? 1 : cut_marker(layout).size();
            cell = std::string(fit_to_width(cell, spec.width - marker_columns));
            cell += cut_marker(layout);
            width = display_width(cell);
        }
        const std::size_t padding = width >= spec.width ? 0 : spec.width - width;
        if (spec.right_aligned) row.append(padding, ' ');
        row += cell;
        if (!spec.right_aligned && !last) row.append(padding, ' ');
        if (!last) row += ' ';
    }
    return row;
}

std::string text_or_dash(std::string text) { return text.empty() ? std::string("-") : std::move(text); }

const std::vector<TableColumn>& columns_of(const TableLayout& layout, std::vector<TableColumn>& defaults) {
    if (!layout.columns.empty()) return layout.columns;
    defaults = default_table_columns(layout);
    return defaults;
}

std::string format_table_header(const TableLayout& layout) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<std::string> cells;
    for (const auto column : columns) cells.emplace_back(column_spec(column, layout).header);
    return join_cells(columns, cells, layout);
}

std::string command_line_text(const ConnectEvent& event, const TableLayout& layout) {
    std::string command = escape_for_terminal(command_line(event));
    if (event.argv_truncated) command += cut_marker(layout);
    return command;
}

std::string command_text(const ConnectEvent& event, const TableLayout& layout) {
    std::string command = command_line_text(event, layout);
    if (!event.container_id.empty()) {
        command += "  [container " + event.container_id.substr(0, 12) + "]";
    } else if (!event.unit.empty()) {
        command += "  [" + escape_for_terminal(event.unit) + "]";
    }
    for (const auto& ancestor : event.ancestry)
        command += std::string(parent_marker(layout)) + escape_for_terminal(ancestor.comm);
    return command;
}

std::string cell_text(TableColumn column, const ConnectEvent& event, const TableLayout& layout,
                      std::string_view request, bool is_request) {
    switch (column) {
        case TableColumn::time:
            return layout.time == TimeFormat::iso ? format_iso8601_utc(event.wall_time)
                                                  : format_local_time(event.wall_time);
        case TableColumn::pid:
            return std::to_string(event.pid);
        case TableColumn::ppid:
            return std::to_string(event.ppid);
        case TableColumn::parent:
            return event.ancestry.empty() ? "-" : text_or_dash(escape_for_terminal(event.ancestry.front().comm));
        case TableColumn::user:
            return escape_for_terminal(event.user);
        case TableColumn::uid:
            return std::to_string(event.uid);
        case TableColumn::comm:
            return text_or_dash(escape_for_terminal(event.comm));
        case TableColumn::cmdline:
            return command_line_text(event, layout);
        case TableColumn::command:
            return command_text(event, layout);
        case TableColumn::protocol:
            return std::string(protocol_name(event.protocol));
        case TableColumn::destination:
            return format_endpoint(event.destination, event.destination_port);
        case TableColumn::port:
            return std::to_string(event.destination_port);
        case TableColumn::result:
            return is_request ? "-" : format_result(event.outcome.value_or(ConnectOutcome{}));
        case TableColumn::latency:
            if (is_request || !event.outcome || !event.outcome->latency_ns) return "-";
            return format_latency(*event.outcome->latency_ns);
        case TableColumn::request:
            return std::string(request);
        case TableColumn::cgroup:
            return text_or_dash(escape_for_terminal(event.cgroup_path));
        case TableColumn::container:
            return text_or_dash(event.container_id.substr(0, 12));
        case TableColumn::unit:
            return text_or_dash(escape_for_terminal(event.unit));
        case TableColumn::exe:
            return text_or_dash(escape_for_terminal(event.exe));
        case TableColumn::ns_pid:
            return std::to_string(event.ns_pid);
    }
    return "-";
}

std::string process_columns(const ConnectEvent& event, const TableLayout& layout, std::string_view request,
                            bool is_request) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<std::string> cells;
    for (const auto column : columns) cells.push_back(cell_text(column, event, layout, request, is_request));
    return cut_to_width(join_cells(columns, cells, layout), layout);
}

std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    return process_columns(event, layout, "-", false);
}

std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout) {
    TableLayout query_layout = layout;
    query_layout.request_column = true;
    return process_columns(query.sender, query_layout, dns_type_name(query.qtype) + " " + query.name, true);
}

std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout) {
    TableLayout request_layout = layout;
    request_layout.request_column = true;
    return process_columns(request.connection, request_layout, format_request(request, layout.utf8), true);
}

}  // namespace reference

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
        for (std::size_t i = 0; i < ancestors; ++i) {
            event.ancestry.push_back({static_cast<std::uint32_t>(below(100000)), text(2), {}, one_in(2)});
        }
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
        // From 1970 to past 9999 (where the ISO time takes its slow path).
        event.wall_time = std::chrono::system_clock::time_point(
            std::chrono::microseconds(static_cast<std::int64_t>(random_() % 400'000'000'000'000'000ULL)));
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

// The row writer's escaper equals escape_for_terminal, and writes nothing
// past the room it asks for (kMaxTerminalEscapedBytesPerByte a byte).
TEST(TableFormatDifferential, WrittenEscapesMatchEscapeForTerminal) {
    HostileText hostile(4);
    for (int i = 0; i < 50000; ++i) {
        std::string text = hostile.text(5);
        // Every length, and a control byte at any place in a word or its tail.
        text.resize(std::min<std::size_t>(text.size(), hostile.below(40)));
        if (hostile.one_in(4) && !text.empty()) text[hostile.below(text.size())] = '\x1b';
        const std::size_t room = kMaxTerminalEscapedBytesPerByte * text.size();
        std::string buffer(room + 16, '#');
        const char* end = write_escaped_for_terminal(buffer.data(), text);
        ASSERT_LE(end, buffer.data() + room) << testing::PrintToString(text);
        ASSERT_EQ(std::string_view(buffer.data(), static_cast<std::size_t>(end - buffer.data())),
                  escape_for_terminal(text))
            << testing::PrintToString(text);
        ASSERT_EQ(buffer.substr(room), std::string(16, '#')) << testing::PrintToString(text);
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
