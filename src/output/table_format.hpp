// Pure formatting of the human-readable table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/connect_event.hpp"
#include "collect/dns_query_event.hpp"
#include "collect/http_request_event.hpp"
#include "output/output_options.hpp"

namespace connsnoop {

// The columns shown when --columns is not given (the layout's flags choose).
std::vector<TableColumn> default_table_columns(const TableLayout& layout);
// --columns: the column a name (or alias: args, dest, destination) stands
// for; and every name, "time, pid, ..." for a message.
std::optional<TableColumn> table_column_named(std::string_view name);
std::string_view table_column_name(TableColumn column);
std::string table_column_names();

// How a column is laid out: its header, its width (the last column has
// none: it runs to the end of the row), and whether text longer than the
// width is cut to it, ending in the marker, when another column follows
// (unless TableLayout::fit_cells is off: --wide). Every text column is:
// names, paths, addresses and requests come from outside and have no
// bound. Numbers are never cut: their width holds the largest they can be.
struct TableColumnSpec {
    std::string_view header;
    std::size_t width;
    bool right_aligned;
    bool cut;
};
TableColumnSpec table_column_spec(TableColumn column, const TableLayout& layout);

std::string format_table_header(const TableLayout& layout);
// One row; every untrusted field is escaped, each cell but the last fits
// its column (unless layout.fit_cells is off), and the row is cut to
// layout.max_width columns (ending in "…") when that is set.
std::string format_table_row(const ConnectEvent& event, const TableLayout& layout);
// The same row appended to `out` (the output's line buffer), with no string
// made per row or per cell: what the table writer calls once an event.
void append_table_row(std::string& out, const ConnectEvent& event, const TableLayout& layout);

// A request row (--http): the connect columns with REQUEST filled, e.g.
// "GET /latest/meta-data/ imdsv1"; method and path escaped.
std::string format_http_row(const HttpRequestEvent& request, const TableLayout& layout);
void append_http_row(std::string& out, const HttpRequestEvent& request, const TableLayout& layout);
// The REQUEST column's text for one request.
std::string format_request(const HttpRequestEvent& request, bool utf8 = true);

// A query row (--dns): REQUEST is the type and name, e.g. "AAAA example.com".
std::string format_dns_row(const DnsQueryEvent& query, const TableLayout& layout);
void append_dns_row(std::string& out, const DnsQueryEvent& query, const TableLayout& layout);

// "850us", "12.3ms", "3.02s": a connect latency for the LATENCY column.
std::string format_latency(std::uint64_t nanoseconds);
// The RESULT column: the result's name, or the errno name where that says more
// (failed/error: "EADDRNOTAVAIL").
std::string format_result(const ConnectOutcome& outcome);

}  // namespace connsnoop
