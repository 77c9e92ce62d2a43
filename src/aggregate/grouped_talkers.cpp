#include "aggregate/grouped_talkers.hpp"

namespace connsnoop {

GroupedTalkers::GroupedTalkers(const std::vector<GroupBy>& groupings, MonoTime started, TalkerLimits limits) {
    for (auto by : groupings) tables_.try_emplace(by, started, limits);
}

void GroupedTalkers::record_attempt(const ConnectEvent& event) {
    const std::string cmdline = command_line(event);
    const MonoTime at = mono_time_from_ns(event.monotonic_ns);
    for (auto& [by, table] : tables_) {
        if (!groups_connections(by)) continue;
        // The label is the latest command line, unless the key already is one.
        table.record_attempt(group_key(event, cmdline, by), by == GroupBy::command ? std::string_view() : cmdline, at,
                             &event);
    }
}

void GroupedTalkers::record_outcome(const ConnectEvent& attempt, bool failed, std::chrono::nanoseconds latency) {
    const std::string cmdline = command_line(attempt);
    // The result is known about `latency` after the attempt.
    const MonoTime at =
        mono_time_from_ns(attempt.monotonic_ns) + std::chrono::duration_cast<MonoClock::duration>(latency);
    for (auto& [by, table] : tables_) {
        if (groups_connections(by))
            table.record_outcome(group_key(attempt, cmdline, by), failed, latency, attempt.outcome, at);
    }
}

void GroupedTalkers::record_request(const HttpRequestEvent& request) {
    const std::string cmdline = command_line(request.connection);
    const MonoTime at = mono_time_from_ns(request.connection.monotonic_ns);
    for (auto& [by, table] : tables_) {
        if (is_request_grouping(by))
            table.record_attempt(request_group_key(request, by), cmdline, at, &request.connection);
    }
}

void GroupedTalkers::record_query(const DnsQueryEvent& query) {
    const std::string cmdline = command_line(query.sender);
    const MonoTime at = mono_time_from_ns(query.sender.monotonic_ns);
    for (auto& [by, table] : tables_) {
        // the name as dns_name_text wrote it: printable ASCII, escapes included
        if (is_query_grouping(by)) table.record_attempt(query.name, cmdline, at, &query.sender);
    }
}

void GroupedTalkers::expire(MonoTime now) {
    for (auto& [by, table] : tables_) table.expire(now);
}

}  // namespace connsnoop
