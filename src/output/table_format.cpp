#include "output/table_format.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <ctime>
#include <iterator>
#include <span>

#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

struct ColumnName {
    std::string_view name;
    TableColumn column;
};

// Every name --columns takes, aliases after the name they stand for.
constexpr ColumnName kColumnNames[] = {
    {"time", TableColumn::time},        {"pid", TableColumn::pid},
    {"ppid", TableColumn::ppid},        {"parent", TableColumn::parent},
    {"user", TableColumn::user},        {"uid", TableColumn::uid},
    {"comm", TableColumn::comm},        {"cmdline", TableColumn::cmdline},
    {"args", TableColumn::cmdline},     {"command", TableColumn::command},
    {"proto", TableColumn::protocol},   {"dst", TableColumn::destination},
    {"dest", TableColumn::destination}, {"destination", TableColumn::destination},
    {"port", TableColumn::port},        {"result", TableColumn::result},
    {"latency", TableColumn::latency},  {"request", TableColumn::request},
    {"cgroup", TableColumn::cgroup},    {"container", TableColumn::container},
    {"unit", TableColumn::unit},        {"exe", TableColumn::exe},
    {"ns_pid", TableColumn::ns_pid},
};

// How a column is laid out: its header, its width (the last column has
// none: it runs to the end of the row), and whether its text may run long
// (command lines, paths, names: cut to the width, ending in the marker,
// when another column follows; the others are padded, never cut).
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

}  // namespace

std::string format_request(const HttpRequestEvent& request, bool utf8) {
    std::string text = escape_for_terminal(request.method) + " " + escape_for_terminal(request.path);
    if (request.path_truncated) text += utf8 ? "…" : "...";
    const auto imds = classify_imds(request);
    if (imds != ImdsVersion::none) text += fmt::format(" ({})", imds_version_name(imds));
    return text;
}

namespace {

void append_latency(std::string& out, std::uint64_t nanoseconds) {
    auto to = std::back_inserter(out);
    if (nanoseconds < 1'000'000) {
        fmt::format_to(to, "{}us", nanoseconds / 1000);
    } else if (nanoseconds < 1'000'000'000) {
        fmt::format_to(to, "{:.1f}ms", static_cast<double>(nanoseconds) / 1e6);
    } else {
        fmt::format_to(to, "{:.2f}s", static_cast<double>(nanoseconds) / 1e9);
    }
}

void append_result(std::string& out, const ConnectOutcome& outcome) {
    if ((outcome.result == ConnectResult::failed || outcome.result == ConnectResult::error) && outcome.error != 0) {
        out += errno_name(outcome.error);
    } else {
        out += result_name(outcome.result);
    }
}

}  // namespace

std::string format_latency(std::uint64_t nanoseconds) {
    std::string text;
    append_latency(text, nanoseconds);
    return text;
}

std::string format_result(const ConnectOutcome& outcome) {
    std::string text;
    append_result(text, outcome);
    return text;
}

namespace {

// The default columns without an allocation per row: at most nine.
struct DefaultColumns {
    std::array<TableColumn, 9> columns{};
    std::size_t count = 0;

    void add(TableColumn column) { columns[count++] = column; }
};

// `request_column`: the layout's, or true for a request or query row.
DefaultColumns default_columns(const TableLayout& layout, bool request_column) {
    DefaultColumns set;
    if (layout.time != TimeFormat::none) set.add(TableColumn::time);
    set.add(TableColumn::pid);
    set.add(TableColumn::user);
    if (layout.protocol_column) set.add(TableColumn::protocol);
    set.add(TableColumn::destination);
    if (layout.outcome_columns) {
        set.add(TableColumn::result);
        set.add(TableColumn::latency);
    }
    if (request_column) set.add(TableColumn::request);
    set.add(TableColumn::command);
    return set;
}

std::span<const TableColumn> columns_of(const TableLayout& layout, bool request_column, DefaultColumns& defaults) {
    if (!layout.columns.empty()) return layout.columns;
    defaults = default_columns(layout, request_column);
    return {defaults.columns.data(), defaults.count};
}

}  // namespace

std::vector<TableColumn> default_table_columns(const TableLayout& layout) {
    const auto set = default_columns(layout, layout.request_column);
    return {set.columns.begin(), set.columns.begin() + static_cast<std::ptrdiff_t>(set.count)};
}

std::optional<TableColumn> table_column_named(std::string_view name) {
    for (const auto& entry : kColumnNames) {
        if (entry.name == name) return entry.column;
    }
    return std::nullopt;
}

std::string_view table_column_name(TableColumn column) {
    for (const auto& entry : kColumnNames) {
        if (entry.column == column) return entry.name;
    }
    return "?";
}

std::string table_column_names() {
    std::string names;
    for (const auto& entry : kColumnNames) {
        if (!names.empty()) names += ", ";
        names += entry.name;
    }
    return names;
}

namespace {

// Every row is written straight into the caller's buffer (the output's
// line buffer): each cell is appended where it goes, then measured, padded
// or cut in place, so no string is made per cell or per row.

void append_number(std::string& out, std::uint64_t value) {
    std::array<char, 20> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
    out.append(digits.data(), end);
}

// HH:MM:SS in the local time zone: localtime_r once a second, not once a row.
void append_local_time(std::string& out, std::chrono::system_clock::time_point time) {
    thread_local bool cached = false;
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached_text;
    const std::time_t second = std::chrono::system_clock::to_time_t(time);
    if (!cached || second != cached_second) {
        cached_text = format_local_time(time);
        cached_second = second;
        cached = true;
    }
    out += cached_text;
}

// "1.2.3.4:80" or "[fd00::1]:80", as format_endpoint writes them.
void append_endpoint(std::string& out, const IpAddress& address, std::uint16_t port) {
    if (address.family == AddressFamily::ipv4) {
        for (std::size_t i = 0; i < 4; ++i) {
            if (i != 0) out += '.';
            append_number(out, address.bytes[i]);
        }
    } else {
        std::array<char, INET6_ADDRSTRLEN> text{};
        inet_ntop(AF_INET6, address.bytes.data(), text.data(), text.size());
        out += '[';
        out += text.data();
        out += ']';
    }
    out += ':';
    append_number(out, port);
}

// An empty cell shows "-".
void dash_if_empty(std::string& out, std::size_t cell_start) {
    if (out.size() == cell_start) out += '-';
}

void append_escaped_or_dash(std::string& out, std::string_view text) {
    const std::size_t cell_start = out.size();
    append_escaped_for_terminal(out, text);
    dash_if_empty(out, cell_start);
}

// The command line, escaped, marked where the capture was cut: the
// arguments joined as join_arguments joins them (a space before each one
// once the line is not empty), or comm in brackets when argv is unknown.
// Escaping each argument alone equals escaping the joined line: a space
// ends any UTF-8 sequence an argument leaves open.
void append_command_line(std::string& out, const ConnectEvent& event, const TableLayout& layout) {
    if (event.argv.empty()) {
        out += '[';
        append_escaped_for_terminal(out, event.comm);
        out += ']';
    } else {
        bool started = false;
        for (const auto& argument : event.argv) {
            if (started) out += ' ';
            append_escaped_for_terminal(out, argument);
            started = started || !argument.empty();
        }
    }
    if (event.argv_truncated) out += cut_marker(layout);
}

// The default last column: the command line, where it runs, then who
// started it: names only, JSON has the full lines.
void append_command(std::string& out, const ConnectEvent& event, const TableLayout& layout) {
    append_command_line(out, event, layout);
    if (!event.container_id.empty()) {
        out += "  [container ";
        out += std::string_view(event.container_id).substr(0, 12);
        out += ']';
    } else if (!event.unit.empty()) {
        out += "  [";
        append_escaped_for_terminal(out, event.unit);
        out += ']';
    }
    for (const auto& ancestor : event.ancestry) {
        out += parent_marker(layout);
        append_escaped_for_terminal(out, ancestor.comm);
    }
}

void append_cell(std::string& out, TableColumn column, const ConnectEvent& event, const TableLayout& layout,
                 std::string_view request, bool is_request) {
    switch (column) {
        case TableColumn::time:
            if (layout.time == TimeFormat::iso) {
                append_iso8601_utc(out, event.wall_time);
            } else {
                append_local_time(out, event.wall_time);
            }
            return;
        case TableColumn::pid:
            return append_number(out, event.pid);
        case TableColumn::ppid:
            return append_number(out, event.ppid);
        case TableColumn::parent:
            if (event.ancestry.empty()) {
                out += '-';
            } else {
                append_escaped_or_dash(out, event.ancestry.front().comm);
            }
            return;
        case TableColumn::user:
            return append_escaped_for_terminal(out, event.user);
        case TableColumn::uid:
            return append_number(out, event.uid);
        case TableColumn::comm:
            return append_escaped_or_dash(out, event.comm);
        case TableColumn::cmdline:
            return append_command_line(out, event, layout);
        case TableColumn::command:
            return append_command(out, event, layout);
        case TableColumn::protocol:
            out += protocol_name(event.protocol);
            return;
        case TableColumn::destination:
            return append_endpoint(out, event.destination, event.destination_port);
        case TableColumn::port:
            return append_number(out, event.destination_port);
        case TableColumn::result:
            if (is_request) {
                out += '-';
            } else {
                append_result(out, event.outcome.value_or(ConnectOutcome{}));
            }
            return;
        case TableColumn::latency:
            if (is_request || !event.outcome || !event.outcome->latency_ns) {
                out += '-';
            } else {
                append_latency(out, *event.outcome->latency_ns);
            }
            return;
        case TableColumn::request:
            out += request;
            return;
        case TableColumn::cgroup:
            return append_escaped_or_dash(out, event.cgroup_path);
        case TableColumn::container: {
            const std::size_t cell_start = out.size();
            out += std::string_view(event.container_id).substr(0, 12);
            return dash_if_empty(out, cell_start);
        }
        case TableColumn::unit:
            return append_escaped_or_dash(out, event.unit);
        case TableColumn::exe:
            return append_escaped_or_dash(out, event.exe);
        case TableColumn::ns_pid:
            return append_number(out, event.ns_pid);
    }
    out += '-';
}

std::string_view text_from(const std::string& out, std::size_t start) { return std::string_view(out).substr(start); }

// A row of `columns` at the end of `out`, each cell written by
// `append_cell(column)`: one space between columns, each cell padded (by
// display width) to its column's width, free text cut to that width (ending
// in the marker) where another column follows; the last cell padded only if
// it is right-aligned (a number stays under its header, no trailing blanks).
// Then the whole row is cut to `max_width` when that is set.
template <typename AppendCell>
void append_row(std::string& out, std::span<const TableColumn> columns, const TableLayout& layout,
                std::optional<std::size_t> max_width, AppendCell&& append_cell_of) {
    const std::size_t row_start = out.size();
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto spec = column_spec(columns[i], layout);
        const bool last = i + 1 == columns.size();
        const std::size_t cell_start = out.size();
        append_cell_of(columns[i]);
        if (last && !spec.right_aligned) break;  // neither cut nor padded
        std::size_t width = display_width(text_from(out, cell_start));
        if (!last && spec.free_text && width > spec.width) {
            const auto kept = fit_to_width(text_from(out, cell_start), spec.width - marker_columns);
            out.resize(cell_start + kept.size());
            out += marker;
            width = display_width(text_from(out, cell_start));
        }
        const std::size_t padding = width >= spec.width ? 0 : spec.width - width;
        if (spec.right_aligned) {  // the cell moves right, blanks before it
            const std::size_t cell_size = out.size() - cell_start;
            out.resize(out.size() + padding);
            std::memmove(out.data() + cell_start + padding, out.data() + cell_start, cell_size);
            std::memset(out.data() + cell_start, ' ', padding);
        } else {
            out.append(padding, ' ');
        }
        if (!last) out += ' ';
    }
    // By terminal columns, not characters: a wide (CJK) title takes two a character.
    if (max_width && display_width(text_from(out, row_start)) > *max_width) {
        const std::size_t keep = *max_width > marker_columns ? *max_width - marker_columns : 0;
        const auto kept = fit_to_width(text_from(out, row_start), keep);
        out.resize(row_start + kept.size());
        out += marker;
    }
}

// A connect row (request "-") or a request row (no result of its own).
void append_process_row(std::string& out, const ConnectEvent& event, const TableLayout& layout,
                        std::string_view request, bool is_request) {
    DefaultColumns defaults;
    append_row(out, columns_of(layout, layout.request_column || is_request, defaults), layout, layout.max_width,
               [&](TableColumn column) { append_cell(out, column, event, layout, request, is_request); });
}

}  // namespace

std::string format_table_header(const TableLayout& layout) {
    std::string header;
    DefaultColumns defaults;
    // Only rows are cut to layout.max_width, not the header.
    append_row(header, columns_of(layout, layout.request_column, defaults), layout, std::nullopt,
               [&](TableColumn column) { header += column_spec(column, layout).header; });
    return header;
}

void append_table_row(std::string& out, const ConnectEvent& event, const TableLayout& layout) {
    append_process_row(out, event, layout, "-", false);
}

// Room for a typical row at once, not a reallocation every few cells.
constexpr std::size_t kTypicalRowBytes = 256;

std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    std::string row;
    row.reserve(kTypicalRowBytes);
    append_table_row(row, event, layout);
    return row;
}

void append_dns_row(std::string& out, const DnsQueryEvent& query, const TableLayout& layout) {
    // The name is escaped already (dns_name_text: printable ASCII only, a
    // backslash written \\); escaping it again would double its backslashes.
    append_process_row(out, query.sender, layout, dns_type_name(query.qtype) + " " + query.name, true);
}

std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout) {
    std::string row;
    row.reserve(kTypicalRowBytes);
    append_dns_row(row, query, layout);
    return row;
}

void append_http_row(std::string& out, const HttpRequestEvent& request, const TableLayout& layout) {
    append_process_row(out, request.connection, layout, format_request(request, layout.utf8), true);
}

std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout) {
    std::string row;
    row.reserve(kTypicalRowBytes);
    append_http_row(row, request, layout);
    return row;
}

}  // namespace connsnoop
