// The table formatter as it was before rows were written in place into a
// reused buffer (a string per cell, fmt, one glyph loop under the C.UTF-8
// locale for every width), kept verbatim but for names as the reference the
// differential unit test and the table row fuzzer compare the formatter
// with, byte for byte. It takes the column table (headers, widths,
// alignment) from the formatter: what it checks is how rows are written.
// Since then it learned what the formatter learned: to keep escapes whole,
// the port when a cell is cut and a request's first word and end, and not
// to cut cells without fit_cells (--wide).
#pragma once

#include <locale.h>

#include <cwchar>
#include <string>
#include <string_view>
#include <vector>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "output/escape.hpp"
#include "output/output_options.hpp"
#include "output/table_format.hpp"
#include "output/time_format.hpp"
#include "output/utf8.hpp"
#include "util/net_address.hpp"

namespace connsnoop::reference {

// Display width glyph by glyph, every character through glibc's wcwidth.
struct Glyph {
    std::size_t bytes;
    std::size_t columns;
};

inline locale_t utf8_locale() {
    static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return kUtf8;
}

inline Glyph next_glyph(std::string_view text, std::size_t pos) {
    const auto decoded = decode_utf8(text, pos);
    if (decoded.code_point < 0x7F) return {decoded.length, 1};
    if (decoded.code_point == kInvalidUtf8) return {decoded.length, 1};
    const locale_t previous = uselocale(utf8_locale());
    const int columns = ::wcwidth(static_cast<wchar_t>(decoded.code_point));
    uselocale(previous);
    return {decoded.length, columns < 0 ? 1U : static_cast<std::size_t>(columns)};
}

inline std::size_t display_width(std::string_view text) {
    std::size_t columns = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto glyph = next_glyph(text, pos);
        columns += glyph.columns;
        pos += glyph.bytes;
    }
    return columns;
}

inline std::string_view fit_to_width(std::string_view text, std::size_t columns) {
    std::size_t used = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto glyph = next_glyph(text, pos);
        if (used + glyph.columns > columns) break;
        used += glyph.columns;
        pos += glyph.bytes;
    }
    if (pos == text.size()) return text;
    // An escape that the cut would split goes whole: \xNN and \DDD are four
    // bytes, \\ and \. (and any other) two.
    std::size_t escape = 0;
    while (escape < pos) {
        if (text[escape] != '\\') {
            ++escape;
            continue;
        }
        const char next = escape + 1 < text.size() ? text[escape + 1] : '\0';
        const std::size_t length = escape + 1 >= text.size() ? 1 : next == 'x' || (next >= '0' && next <= '9') ? 4 : 2;
        if (escape + length > pos) return text.substr(0, escape);
        escape += length;
    }
    return text.substr(0, pos);
}

inline std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
inline std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

inline std::string cut_to_width(std::string row, const TableLayout& layout) {
    if (!layout.max_width || display_width(row) <= *layout.max_width) return row;
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    const std::size_t keep = *layout.max_width > marker_columns ? *layout.max_width - marker_columns : 0;
    std::string cut(fit_to_width(row, keep));
    cut += marker;
    return cut;
}

// A cell and what a cut keeps: the bytes at its end, or (keeps_end) its
// first word and as much of its end as fits.
struct Cell {
    std::string text;
    std::size_t kept = 0;
    bool keeps_end = false;
};

// `text` in the units a cut keeps or leaves whole: an escape (\xNN, \DDD,
// \\, \.) or a UTF-8 character, each with the zero-width characters after it.
inline std::vector<std::string> cut_units(std::string_view text) {
    std::vector<std::string> units;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto lead = static_cast<unsigned char>(text[pos]);
        std::size_t length = 1;
        if (lead == '\\' && pos + 1 < text.size()) {
            const char next = text[pos + 1];
            length = next == 'x' || (next >= '0' && next <= '9') ? 4 : 2;
        } else if (lead >= 0xF0) {
            length = 4;
        } else if (lead >= 0xE0) {
            length = 3;
        } else if (lead >= 0xC0) {
            length = 2;
        }
        std::string unit(text.substr(pos, std::min(length, text.size() - pos)));
        pos += unit.size();
        if (!units.empty() && display_width(unit) == 0) {
            units.back() += unit;
        } else {
            units.push_back(std::move(unit));
        }
    }
    return units;
}

// `cell` cut to `columns` as `how` says.
inline std::string cut_cell(const std::string& cell, const Cell& how, std::size_t columns, const TableLayout& layout) {
    const std::size_t marker_columns = layout.utf8 ? 1 : cut_marker(layout).size();
    if (how.keeps_end) {
        const std::size_t space = cell.find(' ');
        const std::string word = space == std::string::npos ? cell : cell.substr(0, space + 1);
        if (word.size() < cell.size() && display_width(word) + marker_columns < columns) {
            std::size_t room = columns - display_width(word) - marker_columns;
            const auto units = cut_units(std::string_view(cell).substr(word.size()));
            std::string end;
            for (auto unit = units.rbegin(); unit != units.rend() && display_width(*unit) <= room; ++unit) {
                room -= display_width(*unit);
                end.insert(0, *unit);
            }
            return word + std::string(cut_marker(layout)) + end;
        }
    }
    std::string kept = cell.substr(cell.size() - how.kept);
    if (display_width(kept) + marker_columns >= columns) kept.clear();
    const std::string head = cell.substr(0, cell.size() - kept.size());
    std::string cut(fit_to_width(head, columns - marker_columns - display_width(kept)));
    cut += cut_marker(layout);
    cut += kept;
    return cut;
}

inline std::string join_cells(const std::vector<TableColumn>& columns, const std::vector<Cell>& cells,
                              const TableLayout& layout) {
    std::string row;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto spec = table_column_spec(columns[i], layout);
        const bool last = i + 1 == columns.size();
        std::string cell = cells[i].text;
        if (!layout.utf8) {  // a terminal that is not UTF-8: no byte above 0x7F, each as \xNN
            std::string ascii;
            for (const char c : cell) {
                const auto byte = static_cast<unsigned char>(c);
                if (byte < 0x80) {
                    ascii += c;
                } else {
                    ascii += "\\x";
                    ascii += "0123456789abcdef"[byte >> 4];
                    ascii += "0123456789abcdef"[byte & 0xF];
                }
            }
            cell = ascii;
        }
        std::size_t width = display_width(cell);
        if (!last && spec.cut && layout.fit_cells && width > spec.width) {
            cell = cut_cell(cell, cells[i], spec.width, layout);
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

inline std::string text_or_dash(std::string text) { return text.empty() ? std::string("-") : std::move(text); }

inline const std::vector<TableColumn>& columns_of(const TableLayout& layout, std::vector<TableColumn>& defaults) {
    if (!layout.columns.empty()) return layout.columns;
    defaults = default_table_columns(layout);
    return defaults;
}

inline std::string format_table_header(const TableLayout& layout) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<Cell> cells;
    for (const auto column : columns) cells.push_back({std::string(table_column_spec(column, layout).header)});
    return join_cells(columns, cells, layout);
}

inline std::string command_line_text(const ConnectEvent& event, const TableLayout& layout) {
    std::string command = escape_for_terminal(command_line(event));
    if (event.argv_truncated) command += cut_marker(layout);
    return command;
}

inline std::string command_text(const ConnectEvent& event, const TableLayout& layout) {
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

inline std::string cell_text(TableColumn column, const ConnectEvent& event, const TableLayout& layout,
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

// What a cut keeps: the port (with the bracket of an IPv6 address).
inline std::size_t kept_bytes(TableColumn column, const std::string& text, const ConnectEvent& event) {
    if (column == TableColumn::destination) {
        return text.size() - (event.destination.family == AddressFamily::ipv6 ? text.rfind(']') : text.rfind(':'));
    }
    return 0;
}

inline std::string process_columns(const ConnectEvent& event, const TableLayout& layout, std::string_view request,
                                   bool is_request) {
    std::vector<TableColumn> defaults;
    const auto& columns = columns_of(layout, defaults);
    std::vector<Cell> cells;
    for (const auto column : columns) {
        std::string text = cell_text(column, event, layout, request, is_request);
        const std::size_t kept = kept_bytes(column, text, event);
        cells.push_back({std::move(text), kept, column == TableColumn::request});
    }
    return cut_to_width(join_cells(columns, cells, layout), layout);
}

inline std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    return process_columns(event, layout, "-", false);
}

inline std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout) {
    TableLayout query_layout = layout;
    query_layout.request_column = true;
    return process_columns(query.sender, query_layout, dns_type_name(query.qtype) + " " + query.name, true);
}

inline std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout) {
    TableLayout request_layout = layout;
    request_layout.request_column = true;
    return process_columns(request.connection, request_layout, format_request(request, layout.utf8), true);
}

}  // namespace connsnoop::reference
