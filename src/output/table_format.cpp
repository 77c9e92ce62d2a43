#include "output/table_format.hpp"

#include <fmt/format.h>

#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

// By terminal columns, not characters: a wide (CJK) title takes two a character.
std::string cut_to_width(std::string row, const TableLayout& layout) {
    if (!layout.max_width || display_width(row) <= *layout.max_width) return row;
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    const std::size_t keep = *layout.max_width > marker_columns ? *layout.max_width - marker_columns : 0;
    std::string cut(fit_to_width(row, keep));
    cut += marker;
    return cut;
}

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

// The row a column set makes of its cells: one space between columns, each
// padded (by display width) to its width; the last one only if it is
// right-aligned (a number stays under its header, no trailing blanks).
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
        if (!spec.right_aligned && !last) row.append(padding, ' ');  // no trailing blanks
        if (!last) row += ' ';
    }
    return row;
}

std::string text_or_dash(std::string text) { return text.empty() ? std::string("-") : std::move(text); }

}  // namespace

std::string format_request(const HttpRequestEvent& request, bool utf8) {
    std::string text = escape_for_terminal(request.method) + " " + escape_for_terminal(request.path);
    if (request.path_truncated) text += utf8 ? "…" : "...";
    const auto imds = classify_imds(request);
    if (imds != ImdsVersion::none) text += fmt::format(" ({})", imds_version_name(imds));
    return text;
}

std::string format_latency(std::uint64_t nanoseconds) {
    if (nanoseconds < 1'000'000) return fmt::format("{}us", nanoseconds / 1000);
    if (nanoseconds < 1'000'000'000) return fmt::format("{:.1f}ms", static_cast<double>(nanoseconds) / 1e6);
    return fmt::format("{:.2f}s", static_cast<double>(nanoseconds) / 1e9);
}

std::string format_result(const ConnectOutcome& outcome) {
    if ((outcome.result == ConnectResult::failed || outcome.result == ConnectResult::error) && outcome.error != 0) {
        return errno_name(outcome.error);
    }
    return std::string(result_name(outcome.result));
}

std::vector<TableColumn> default_table_columns(const TableLayout& layout) {
    std::vector<TableColumn> columns;
    if (layout.time != TimeFormat::none) columns.push_back(TableColumn::time);
    columns.insert(columns.end(), {TableColumn::pid, TableColumn::user});
    if (layout.protocol_column) columns.push_back(TableColumn::protocol);
    columns.push_back(TableColumn::destination);
    if (layout.outcome_columns) columns.insert(columns.end(), {TableColumn::result, TableColumn::latency});
    if (layout.request_column) columns.push_back(TableColumn::request);
    columns.push_back(TableColumn::command);
    return columns;
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

const std::vector<TableColumn>& columns_of(const TableLayout& layout, std::vector<TableColumn>& defaults) {
    if (!layout.columns.empty()) return layout.columns;
    defaults = default_table_columns(layout);
    return defaults;
}

}  // namespace

std::string format_table_header(const TableLayout& layout) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<std::string> cells;
    cells.reserve(columns.size());
    for (const auto column : columns) cells.emplace_back(column_spec(column, layout).header);
    return join_cells(columns, cells, layout);
}

namespace {

// The command line, escaped, marked where the capture was cut.
std::string command_line_text(const ConnectEvent& event, const TableLayout& layout) {
    std::string command = escape_for_terminal(command_line(event));
    if (event.argv_truncated) command += cut_marker(layout);
    return command;
}

// The default last column: the command line, where it runs, then who
// started it: names only, JSON has the full lines.
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

// A connect row (request "-") or a request row (no result of its own).
std::string process_columns(const ConnectEvent& event, const TableLayout& layout, std::string_view request,
                            bool is_request) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<std::string> cells;
    cells.reserve(columns.size());
    for (const auto column : columns) cells.push_back(cell_text(column, event, layout, request, is_request));
    return cut_to_width(join_cells(columns, cells, layout), layout);
}

}  // namespace

std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    return process_columns(event, layout, "-", false);
}

std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout) {
    TableLayout query_layout = layout;
    query_layout.request_column = true;
    // The name is escaped already (dns_name_text: printable ASCII only, a
    // backslash written \\); escaping it again would double its backslashes.
    return process_columns(query.sender, query_layout, dns_type_name(query.qtype) + " " + query.name, true);
}

std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout) {
    TableLayout request_layout = layout;
    request_layout.request_column = true;
    return process_columns(request.connection, request_layout, format_request(request, layout.utf8), true);
}

}  // namespace connsnoop
