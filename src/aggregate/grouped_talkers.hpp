// One TalkerTable per grouping being watched, fed from ConnectEvents: the
// table `top` shows, and the one --alert watches, can be switched without
// losing history because every watched grouping counts every event.
#pragma once

#include <chrono>
#include <map>
#include <vector>

#include "aggregate/group_key.hpp"
#include "aggregate/talker_table.hpp"
#include "collect/connect_event.hpp"

namespace connsnoop {

class GroupedTalkers {
public:
    GroupedTalkers(const std::vector<GroupBy>& groupings, MonoTime started, TalkerLimits limits = {});

    // One connection attempt; its time is the event's kernel time stamp.
    void record_attempt(const ConnectEvent& event);
    // The outcome of a connection: `attempt` is the event of the connect()
    // whose result this is (its pid, comm, argv, user, cgroup give the group;
    // its `outcome`, when set, names the result in the detail view).
    void record_outcome(const ConnectEvent& attempt, bool failed, std::chrono::nanoseconds latency);
    // One HTTP request: counted by the request groupings (path, imds) only,
    // labelled with the command line of its latest sender.
    void record_request(const HttpRequestEvent& request);
    // One DNS query: counted by the query groupings (qname) only, labelled
    // with the command line of its latest sender.
    void record_query(const DnsQueryEvent& query);

    void expire(MonoTime now);
    // The table for a watched grouping (throws std::out_of_range otherwise).
    [[nodiscard]] const TalkerTable& table(GroupBy by) const { return tables_.at(by); }

private:
    std::map<GroupBy, TalkerTable> tables_;
};

}  // namespace connsnoop
