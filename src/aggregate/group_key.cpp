#include "aggregate/group_key.hpp"

#include <algorithm>

namespace connsnoop {

std::string_view group_by_name(GroupBy by) {
    switch (by) {
        case GroupBy::command:
            return "command";
        case GroupBy::pid:
            return "pid";
        case GroupBy::comm:
            return "comm";
        case GroupBy::user:
            return "user";
        case GroupBy::cgroup:
            return "cgroup";
        case GroupBy::container:
            return "container";
        case GroupBy::unit:
            return "unit";
        case GroupBy::dest:
            return "dest";
        case GroupBy::port:
            return "port";
        case GroupBy::path:
            return "path";
        case GroupBy::imds:
            return "imds";
        case GroupBy::qname:
            return "qname";
    }
    return "command";
}

std::optional<GroupBy> parse_group_by(std::string_view name) {
    for (auto by : kGroupings) {
        if (group_by_name(by) == name) return by;
    }
    for (auto by : kRequestGroupings) {
        if (group_by_name(by) == name) return by;
    }
    for (auto by : kQueryGroupings) {
        if (group_by_name(by) == name) return by;
    }
    return std::nullopt;
}

bool is_request_grouping(GroupBy by) {
    return std::find(kRequestGroupings.begin(), kRequestGroupings.end(), by) != kRequestGroupings.end();
}

bool is_query_grouping(GroupBy by) {
    return std::find(kQueryGroupings.begin(), kQueryGroupings.end(), by) != kQueryGroupings.end();
}

bool groups_connections(GroupBy by) { return !is_request_grouping(by) && !is_query_grouping(by); }

namespace {
template <std::size_t N>
GroupBy next_in(const std::array<GroupBy, N>& cycle, GroupBy by) {
    const auto* found = std::find(cycle.begin(), cycle.end(), by);
    if (found == cycle.end()) return cycle.front();
    const auto* next = found + 1;
    return next == cycle.end() ? cycle.front() : *next;
}
}  // namespace

GroupBy next_grouping(GroupBy by) {
    if (is_query_grouping(by)) return next_in(kQueryGroupings, by);
    return is_request_grouping(by) ? next_in(kRequestGroupings, by) : next_in(kGroupings, by);
}

std::string group_key(const ConnectEvent& event, std::string_view cmdline, GroupBy by) {
    switch (by) {
        case GroupBy::command:
            return std::string(cmdline);
        case GroupBy::pid:
            return std::to_string(event.pid);
        case GroupBy::comm:
            return event.comm;
        case GroupBy::user:
            return event.user.empty() ? std::to_string(event.uid) : event.user;
        // The cgroup v2 path; its ID (the directory's inode number) when the cgroup is already gone.
        case GroupBy::cgroup:
            return event.cgroup_path.empty() ? std::to_string(event.cgroup_id) : event.cgroup_path;
        // Short container ID, as docker ps shows it; "-" for processes outside containers.
        case GroupBy::container:
            return event.container_id.empty() ? "-" : event.container_id.substr(0, 12);
        case GroupBy::unit:
            return event.unit.empty() ? "-" : event.unit;
        case GroupBy::dest:
            return format_endpoint(event.destination, event.destination_port);
        case GroupBy::port:
            return std::to_string(event.destination_port);
        case GroupBy::path:
        case GroupBy::imds:
        case GroupBy::qname:
            break;  // request and query groupings: not a connection's
    }
    return std::string(cmdline);
}

std::string request_group_key(const HttpRequestEvent& request, GroupBy by) {
    if (by == GroupBy::path) return request.path;
    const auto version = classify_imds(request);
    return version == ImdsVersion::none ? "other" : std::string(imds_version_name(version));
}

}  // namespace connsnoop
