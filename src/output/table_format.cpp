#include "output/table_format.hpp"

#include <fmt/format.h>

#include "output/display_width.hpp"
#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

std::string_view cut_marker(const TableLayout& layout) { return layout.utf8 ? "…" : "..."; }
std::string_view parent_marker(const TableLayout& layout) { return layout.utf8 ? " ← " : " <- "; }

std::string time_column(const TableLayout& layout, std::chrono::system_clock::time_point time) {
    switch (layout.time) {
        case TimeFormat::local:
            return fmt::format("{:<9}", format_local_time(time));
        case TimeFormat::iso:
            return fmt::format("{:<28}", format_iso8601_utc(time));
        case TimeFormat::none:
            break;
    }
    return {};
}

// By terminal columns, not characters: a wide (CJK) title takes two a character.
std::string cut_to_width(std::string row, const TableLayout& layout) {
    if (!layout.max_width || terminal_columns(row) <= *layout.max_width) return row;
    const auto marker = cut_marker(layout);
    const std::size_t marker_columns = layout.utf8 ? 1 : marker.size();
    const std::size_t keep = *layout.max_width > marker_columns ? *layout.max_width - marker_columns : 0;
    std::string cut(fit_to_columns(row, keep));
    cut += marker;
    return cut;
}

std::string outcome_columns(const ConnectEvent& event, const TableLayout& layout) {
    if (!layout.outcome_columns) return {};
    const ConnectOutcome outcome = event.outcome.value_or(ConnectOutcome{});
    const std::string latency = outcome.latency_ns ? format_latency(*outcome.latency_ns) : "-";
    return fmt::format("{:<13} {:>8} ", format_result(outcome), latency);
}

constexpr int kRequestWidth = 44;

std::string protocol_column(const TableLayout& layout, std::string_view protocol) {
    if (!layout.protocol_column) return {};
    return fmt::format("{:<5} ", protocol);
}

std::string request_column(const TableLayout& layout, std::string_view text) {
    if (!layout.request_column) return {};
    return fmt::format("{:<{}} ", text, kRequestWidth);
}

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

std::string format_table_header(const TableLayout& layout) {
    std::string time = layout.time == TimeFormat::local ? fmt::format("{:<9}", "TIME")
                       : layout.time == TimeFormat::iso ? fmt::format("{:<28}", "TIME (UTC)")
                                                        : std::string();
    std::string outcome = layout.outcome_columns ? fmt::format("{:<13} {:>8} ", "RESULT", "LATENCY") : std::string();
    return time + fmt::format("{:>7} {:<10} {}{:<21} {}{}{}", "PID", "USER", protocol_column(layout, "PROTO"),
                              "DESTINATION", outcome, request_column(layout, "REQUEST"), "COMMAND");
}

namespace {
// A connect row (request "-") or a request row (no result of its own).
std::string process_columns(const ConnectEvent& event, const TableLayout& layout, std::string_view request,
                            bool is_request) {
    std::string command = escape_for_terminal(command_line(event));
    if (event.argv_truncated) command += cut_marker(layout);
    // Where it runs, then who started it: names only, JSON has the full lines.
    if (!event.container_id.empty()) {
        command += "  [container " + event.container_id.substr(0, 12) + "]";
    } else if (!event.unit.empty()) {
        command += "  [" + escape_for_terminal(event.unit) + "]";
    }
    for (const auto& ancestor : event.ancestry)
        command += std::string(parent_marker(layout)) + escape_for_terminal(ancestor.comm);
    std::string row = time_column(layout, event.wall_time) +
                      fmt::format("{:>7} {:<10} {}{:<21} {}{}{}", event.pid, escape_for_terminal(event.user),
                                  protocol_column(layout, protocol_name(event.protocol)),
                                  format_endpoint(event.destination, event.destination_port),
                                  is_request && layout.outcome_columns ? fmt::format("{:<13} {:>8} ", "-", "-")
                                                                       : outcome_columns(event, layout),
                                  request_column(layout, request), command);
    return cut_to_width(std::move(row), layout);
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
