#include "output/json_format.hpp"

#include "output/escape.hpp"
#include "output/time_format.hpp"

namespace connsnoop {

nlohmann::ordered_json connect_to_json(const ConnectEvent& event) {
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    for (const auto& argument : event.argv) argv.push_back(make_valid_utf8(argument));
    const bool ipv4 = event.destination.family == AddressFamily::ipv4;
    return {
        {"type", "connect"},
        {"time", format_iso8601_utc(event.wall_time)},
        {"pid", event.pid},
        {"tid", event.tid},
        {"ppid", event.ppid},
        {"uid", event.uid},
        {"user", make_valid_utf8(event.user)},
        {"gid", event.gid},
        {"comm", make_valid_utf8(event.comm)},
        {"cmdline", make_valid_utf8(command_line(event))},
        {"argv", std::move(argv)},
        {"argv_truncated", event.argv_truncated},
        {"family", ipv4 ? "ipv4" : "ipv6"},
        {"saddr", event.source.to_string()},
        {"sport", event.source_port},
        {"daddr", event.destination.to_string()},
        {"dport", event.destination_port},
        {"cgroup_id", event.cgroup_id},
        {"netns", event.netns},
    };
}

nlohmann::ordered_json lost_to_json(const LossReport& report) {
    return {
        {"type", "lost"},
        {"time", format_iso8601_utc(report.time)},
        {"count", report.newly_lost},
        {"total", report.total_lost},
    };
}

nlohmann::ordered_json summary_to_json(const RunSummary& summary) {
    return {
        {"type", "summary"},
        {"time", format_iso8601_utc(summary.time)},
        {"events", summary.events},
        {"lost", summary.lost},
        {"malformed", summary.malformed},
        {"duration_s", summary.duration_seconds},
        {"hook", summary.hook},
    };
}

std::string to_json_line(const nlohmann::ordered_json& record) {
    // replace: a last line of defence; every string was made valid UTF-8 above.
    return escape_json_invisibles(record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace connsnoop
