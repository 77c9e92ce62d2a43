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
    }
    return "command";
}

std::optional<GroupBy> parse_group_by(std::string_view name) {
    for (auto by : kGroupings) {
        if (group_by_name(by) == name) return by;
    }
    return std::nullopt;
}

GroupBy next_grouping(GroupBy by) {
    const auto* found = std::find(kGroupings.begin(), kGroupings.end(), by);
    const auto* next = found + 1;
    return next == kGroupings.end() ? kGroupings.front() : *next;
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
        // The cgroup v2 ID, which is the inode number of its directory (find it with `find -inum`).
        case GroupBy::cgroup:
            return std::to_string(event.cgroup_id);
    }
    return std::string(cmdline);
}

}  // namespace connsnoop
