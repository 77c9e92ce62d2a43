#include "output/table_format.hpp"

#include <fmt/format.h>

#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

namespace {

constexpr std::string_view kCutMarker = "…";

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

std::string cut_to_width(std::string row, const TableLayout& layout) {
    if (!layout.max_width || display_width(row) <= *layout.max_width) return row;
    const std::size_t keep = *layout.max_width > 0 ? *layout.max_width - 1 : 0;
    std::string cut(fit_to_width(row, keep));
    cut += kCutMarker;
    return cut;
}

}  // namespace

std::string format_table_header(const TableLayout& layout) {
    std::string time = layout.time == TimeFormat::local ? fmt::format("{:<9}", "TIME")
                       : layout.time == TimeFormat::iso ? fmt::format("{:<28}", "TIME (UTC)")
                                                        : std::string();
    return time + fmt::format("{:>7} {:<10} {:<21} {}", "PID", "USER", "DESTINATION", "COMMAND");
}

std::string format_table_row(const ConnectEvent& event, const TableLayout& layout) {
    std::string command = escape_for_terminal(command_line(event));
    if (event.argv_truncated) command += kCutMarker;
    // Where it runs, then who started it: names only, JSON has the full lines.
    if (!event.container_id.empty()) {
        command += "  [container " + event.container_id.substr(0, 12) + "]";
    } else if (!event.unit.empty()) {
        command += "  [" + escape_for_terminal(event.unit) + "]";
    }
    for (const auto& ancestor : event.ancestry) command += " ← " + escape_for_terminal(ancestor.comm);
    std::string row = time_column(layout, event.wall_time) +
                      fmt::format("{:>7} {:<10} {:<21} {}", event.pid, escape_for_terminal(event.user),
                                  format_endpoint(event.destination, event.destination_port), command);
    return cut_to_width(std::move(row), layout);
}

}  // namespace connsnoop
